"""Hostile HTTP around the token: header framing, sizes, encodings, cookies, bodies, methods, paths, raw bytes.

Sent to a real uvicorn over kept-alive connections (httpx for what HTTP
allows, raw sockets for what it does not). Every answer is checked by
`Attacker` (no 5xx, no traceback, JSON detail); requests to GET /me and
GET /whoami must be refused.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.security.attack import Attacker
from tests.security.conftest import Victims

pytestmark = pytest.mark.server

OK_STATUSES_FOR_PUBLIC_ROUTES = frozenset({200, 201, 400, 401, 404, 405, 409, 413, 422, 429, 431})
header_bytes = st.binary(max_size=300).map(lambda b: b.replace(b'\r', b'').replace(b'\n', b'').replace(b'\x00', b''))


def test_two_authorization_headers_are_refused_even_when_both_are_valid(attacker: Attacker, victims: Victims) -> None:
    for first, second in (
        (victims.alice.access_token, victims.alice.access_token),
        (victims.alice.access_token, victims.bob.access_token),
        ('junk', victims.alice.access_token),
        (victims.alice.access_token, 'junk'),
    ):
        headers = [('Authorization', f'Bearer {first}'), ('Authorization', f'Bearer {second}')]
        attacker.protected('header.duplicate-authorization', 'GET', '/me', headers=headers)
        attacker.protected('header.duplicate-authorization', 'GET', '/whoami', headers=headers)


@given(value=header_bytes)
def test_arbitrary_authorization_bytes_are_refused(attacker: Attacker, value: bytes) -> None:
    attacker.raw_get_protected('header.authorization-bytes', '/me', [(b'Authorization', value)])


@given(
    scheme=st.sampled_from(['Bearer', 'bearer', 'BEARER', 'Basic', 'Token', 'JWT', '', 'Bearer:', 'Bearer,']),
    separator=st.sampled_from([' ', '  ', '\t', ' \t ', '', ',', '=']),
    suffix=st.sampled_from(['', ' ', ' extra', ',', ' Bearer x', '\t']),
)
def test_bearer_framing_variants_are_refused(
    attacker: Attacker, victims: Victims, scheme: str, separator: str, suffix: str
) -> None:
    token = victims.alice.access_token
    value = f'{scheme}{separator}{token}{suffix}'
    if scheme.lower() == 'bearer' and separator.strip() == '' and separator and suffix.strip() == '':
        return  # a well-formed "Bearer <token>" (whitespace is insignificant): legitimately accepted
    attacker.raw_get_protected('header.bearer-framing', '/me', [(b'Authorization', value.encode())])


@pytest.mark.parametrize('size', [1024, 8 * 1024, 16 * 1024, 64 * 1024, 256 * 1024])
def test_oversized_authorization_headers_are_refused(attacker: Attacker, victims: Victims, size: int) -> None:
    for filler in ('A', 'eyJ', '.'):
        value = 'Bearer ' + (filler * size)[:size]
        attacker.protected('header.oversized', 'GET', '/me', headers={'Authorization': value})
    padded = 'Bearer ' + victims.alice.access_token + 'A' * size
    attacker.protected('header.oversized', 'GET', '/me', headers={'Authorization': padded})


@pytest.mark.parametrize('count', [10, 100, 500])
def test_many_headers_do_not_break_the_server(attacker: Attacker, count: int) -> None:
    headers = [(f'X-Junk-{i}', 'x' * 100) for i in range(count)] + [('Authorization', 'Bearer a.b.c')]
    attacker.protected('header.many', 'GET', '/me', headers=headers)


@given(value=st.text(min_size=1, max_size=80))
def test_non_latin1_authorization_is_refused(attacker: Attacker, value: str) -> None:
    raw = ('Bearer ' + value).encode('utf-8')
    raw = raw.replace(b'\r', b'').replace(b'\n', b'').replace(b'\x00', b'')
    attacker.raw_get_protected('header.non-latin1', '/me', [(b'Authorization', raw)])


@given(cookie=header_bytes)
def test_arbitrary_cookie_headers_are_refused(attacker: Attacker, cookie: bytes) -> None:
    attacker.raw_get_protected('cookie.bytes', '/whoami', [(b'Cookie', cookie)])


@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    'access_token',
                    'refresh_token',
                    'Access_Token',
                    ' access_token',
                    'access_token ',
                    '',
                    '=',
                    'sessionid',
                ]
            ),
            st.sampled_from(['', '""', '"', '=', 'a.b.c', 'null', 'undefined', ';']),
            st.sampled_from([';', '; ', ';;', ',', ' ', '\t;']),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_odd_cookie_syntax_is_refused(attacker: Attacker, pairs) -> None:
    cookie = ''.join(f'{name}={value}{sep}' for name, value, sep in pairs)
    attacker.raw_get_protected('cookie.syntax', '/whoami', [(b'Cookie', cookie.encode())])


def test_a_refresh_cookie_or_a_junk_first_access_cookie_is_refused(attacker: Attacker, victims: Victims) -> None:
    token = victims.alice.access_token
    for cookie in (
        f'refresh_token={victims.alice.refresh_token}',
        f'access_token=junk; access_token={token}',
        f'access_token=; access_token={token}',
        f'access_token="{token}',
        f'access_token={token}"',
        f'access_token={victims.alice.refresh_token}',
    ):
        attacker.protected('cookie.confusion', 'GET', '/whoami', headers={'Cookie': cookie})


@given(body=st.binary(max_size=400))
def test_broken_json_bodies_to_login_are_refused(attacker: Attacker, body: bytes) -> None:
    response = attacker.http_request(
        'body.binary-login', 'POST', '/auth/login', content=body, headers={'Content-Type': 'application/json'}
    )
    assert response.status_code in (400, 401, 422, 429), response.text  # some bytes are JSON of the wrong shape


json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(['username', 'password', 'refresh_token', '$where', '$ne', 'email']) | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@given(document=json_documents)
def test_wrongly_shaped_json_to_login_gets_no_tokens(attacker: Attacker, document) -> None:
    response = attacker.http_request('body.json-login', 'POST', '/auth/login', json=document)
    assert response.status_code in (400, 401, 422, 429), response.text


@given(document=json_documents)
def test_wrongly_shaped_json_to_refresh_gets_no_tokens(attacker: Attacker, document) -> None:
    response = attacker.http_request('body.json-refresh', 'POST', '/auth/refresh', json=document)
    assert response.status_code in (400, 401, 422), response.text


@pytest.mark.parametrize('username', [{'$ne': None}, {'$gt': ''}, {'$regex': '.*'}, ['alice'], 0, None, True])
def test_operator_injection_in_login_is_a_422(attacker: Attacker, victims: Victims, username) -> None:
    response = attacker.http_request(
        'body.injection', 'POST', '/auth/login', json={'username': username, 'password': {'$ne': None}}
    )
    assert response.status_code == 422, response.text
    assert 'password' in {error['loc'][0] for error in response.json()['errors']}


@pytest.mark.parametrize('depth', [100, 1000, 5000, 100_000])
def test_deeply_nested_json_is_refused(attacker: Attacker, depth: int) -> None:
    body = b'[' * depth + b']' * depth
    response = attacker.http_request(
        'body.nested', 'POST', '/auth/login', content=body, headers={'Content-Type': 'application/json'}
    )
    assert response.status_code in (400, 413, 422), response.text  # shallow enough to parse: not an object


def test_bodies_over_the_limit_are_413(attacker: Attacker) -> None:
    body = json.dumps({'username': 'x', 'password': 'y' * (2 * 1024 * 1024)}).encode()
    response = attacker.http_request(
        'body.oversized', 'POST', '/auth/login', content=body, headers={'Content-Type': 'application/json'}
    )
    assert response.status_code == 413, response.text


@given(
    method=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&'*+-.^_`|~0123456789",
        min_size=1,
        max_size=20,
    )
)
def test_unknown_methods_never_reach_the_handler(attacker: Attacker, victims: Victims, method: str) -> None:
    if method in ('GET', 'HEAD'):
        return
    attacker.protected('method.unknown', method, '/me')
    attacker.protected(
        'method.unknown-with-token',
        method,
        '/me',
        headers={'Authorization': f'Bearer {victims.alice.access_token}'} if method not in ('GET', 'HEAD') else {},
    )


def test_head_without_a_token_is_refused(attacker: Attacker) -> None:
    response = attacker.http_request('method.head', 'HEAD', '/me')
    assert response.status_code == 401 and response.content == b''


@given(
    path=st.sampled_from(
        [
            '/me',
            '/me/',
            '//me',
            '/me//',
            '/./me',
            '/x/../me',
            '/ME',
            '/me%2f',
            '/%6de',
            '/me%00',
            '/me;x',
            '/me?x=1',
            '/users/1/',
            '/users/../me',
            '/users/%2e%2e/me',
            '/whoami',
            '/users/' + 'a' * 5000 + '/',
        ]
    ),
    junk=st.text(alphabet='abc/%.;?#&=', max_size=10),
)
def test_path_variants_of_protected_routes_are_refused(attacker: Attacker, path: str, junk: str) -> None:
    target = path + junk
    if '#' in target:
        target = target.split('#', 1)[0] or '/'
    request = f'GET {target} HTTP/1.1\r\nHost: x\r\n\r\n'.encode()
    attacker.raw_protected('path.variants', request)


RAW_REQUESTS = [
    b'GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n b.c\r\n\r\n',  # obs-fold
    b'GET /me HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer a.b.c\r\n\r\n',  # space before colon
    b'GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.b\rc\r\n\r\n',  # bare CR
    b'GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x00.\x00.\x00\r\n\r\n',  # NUL
    b'GET /me HTTP/1.1\r\nHost: x\r\nAuthorization\r\n\r\n',  # no colon
    b'GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\xfe\xfd\r\n\r\n',
    b'GET /me HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    b'GET /me HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n',
    b'GET /me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef',
    b'GET /me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
    b'GET /me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    b'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}',
    b'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n{}',
    b'GET /me HTTP/9.9\r\nHost: x\r\n\r\n',
    b'GET /me\r\n\r\n',
    b'GET  /me  HTTP/1.1\r\nHost: x\r\n\r\n',
    b'G\x00T /me HTTP/1.1\r\nHost: x\r\n\r\n',
    b'GET me HTTP/1.1\r\nHost: x\r\n\r\n',
    b'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
    b'GET http://evil/me HTTP/1.1\r\nHost: x\r\n\r\n',
    b'GET /me HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    b'GET /me HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n',
    b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + b'\x00' * 40 + b'\r\n\r\n',  # a TLS ClientHello
]


@pytest.mark.parametrize('index', range(len(RAW_REQUESTS)))
def test_malformed_raw_requests_are_refused(attacker: Attacker, index: int) -> None:
    attacker.raw.close()  # each on a new connection: a lying Content-Length would swallow the next request
    attacker.raw_protected('raw.malformed', RAW_REQUESTS[index])
    attacker.raw.close()


@given(garbage=st.binary(min_size=1, max_size=200))
def test_random_bytes_after_a_request_line_are_refused(attacker: Attacker, garbage: bytes) -> None:
    request = b'GET /me HTTP/1.1\r\nHost: x\r\n' + garbage + b'\r\n\r\n'
    attacker.raw_protected('raw.garbage-headers', request)


@given(garbage=st.binary(min_size=1, max_size=100))
def test_random_request_lines_never_error(attacker: Attacker, garbage: bytes) -> None:
    response = attacker.raw_request('raw.request-line', garbage.replace(b'\r\n\r\n', b'') + b'\r\n\r\n')
    assert response.status in OK_STATUSES_FOR_PUBLIC_ROUTES, response


@given(username=st.text(max_size=140), password=st.text(max_size=140), email=st.none() | st.text(max_size=20))
def test_hostile_signups_are_created_or_refused_never_an_error(
    attacker: Attacker, username: str, password: str, email: str | None
) -> None:
    """Any text (NUL and lone surrogates JSON-escaped, control characters, RTL marks, very long or empty
    names) is either a new user or a 400/409/422 (429 once this address got too many 409s), and the hash
    never comes back."""
    response = attacker.http_request(
        'body.signup', 'POST', '/auth/signup', json={'username': username, 'password': password, 'email': email}
    )
    assert response.status_code in (201, 400, 409, 422, 429), response.text
    if response.status_code == 201:
        assert 'password' not in response.json()
