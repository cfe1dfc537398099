"""Hostile requests at the account routes of the example project (``/auth/``, cookies on), on a real uvicorn.

One server per store layout: the embedded store, and MongoDB with Redis (revocations and throttle
counters in Redis). The per-address login limit is raised so the probes are not all answered by
429 (the throttle has its own tests); the per-username one stays at 5. Every request goes through
`Attacker` (no 5xx, no traceback, a JSON ``detail``) and is counted in categories ``accounts.*``;
each test then checks there was no bypass: no forged request changed the victim's account, ended
its session, created a look-alike account or told an existing username from a missing one.

Families: CSRF (missing, mismatched, malformed headers on every unsafe route), look-alike
usernames (case, fullwidth, compatibility forms, invisible and control characters, whitespace),
token reuse (spent refresh tokens, logged-out tokens, token types swapped), enumeration probes
(login and session ids), malformed bodies on every route, and hostile ``PATCH me`` bodies.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.helpers import launch_per_store_layout
from tests.e2e.server import ExampleServer
from tests.security.attack import Attacker

pytestmark = pytest.mark.server

PASSWORD = 'hostile-suite passphrase'
ROUTES = ('signup', 'login', 'refresh', 'logout', 'logout-all', 'me', 'password/change', 'sessions', 'sessions/abc')
ANSWERS = frozenset({200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429})
CSRF_REFUSED = frozenset({403})


@pytest.fixture(scope='module', params=['embedded', 'mongodb-redis'])
def accounts_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    yield from launch_per_store_layout(
        request, tmp_path_factory, 'accounts', extra_env={'LOGIN_MAX_FAILURES_PER_ADDRESS': '1000000'}
    )


@pytest.fixture(scope='module')
def hostile(accounts_server: ExampleServer) -> Iterator[Attacker]:
    with closing(Attacker(accounts_server.url, accounts_server.port)) as attacker:
        yield attacker


@dataclass
class Browser:
    """A victim logged in with cookies: what its browser holds."""

    username: str
    user_id: str
    access: str
    refresh: str
    csrf: str

    @property
    def cookie(self) -> str:
        return f'access_token={self.access}; csrftoken={self.csrf}'

    @property
    def bearer(self) -> dict[str, str]:
        return {'Authorization': f'Bearer {self.access}'}


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {
        value.split('=', 1)[0]: value.split(';', 1)[0].split('=', 1)[1]
        for value in response.headers.get_list('set-cookie')
    }


def browser_login(server: ExampleServer, prefix: str = 'victim') -> Browser:
    username = f'{prefix}{uuid.uuid4().hex[:10]}'
    with server.client() as client:
        created = client.post('/auth/signup', json={'username': username, 'password': PASSWORD})
        assert created.status_code == 201, created.text
        response = client.post('/auth/login', json={'username': username, 'password': PASSWORD})
        assert response.status_code == 200, response.text
    jar = _set_cookies(response)
    return Browser(username, created.json()['id'], jar['access_token'], jar['refresh_token'], jar['csrftoken'])


def assert_untouched(server: ExampleServer, victim: Browser) -> None:
    """The victim's session still works and its account is as it was created."""
    with server.client() as client:
        response = client.get('/auth/me', headers=victim.bearer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body['username'] == victim.username and body['email'] is None
    assert (body['is_superuser'], body['is_active'], body['is_verified']) == (False, True, False)


@pytest.fixture(scope='module')
def victim(accounts_server: ExampleServer) -> Browser:
    return browser_login(accounts_server)


# -- CSRF ----------------------------------------------------------------------------------------------

UNSAFE = (
    ('POST', '/auth/logout', None),
    ('POST', '/auth/logout-all', None),
    ('PATCH', '/auth/me', {'email': 'attacker@example.com'}),
    ('POST', '/auth/password/change', {'current_password': PASSWORD, 'new_password': 'attacker passphrase'}),
    ('DELETE', '/auth/sessions/{sid}', None),
)


def _csrf_variants(victim: Browser, other: Browser) -> list[list[tuple[str, str]]]:
    token = victim.csrf
    return [
        [],
        [('X-CSRFToken', '')],
        [('X-CSRFToken', token[:-1])],
        [('X-CSRFToken', token + 'x')],
        [('X-CSRFToken', token.upper())],
        [('X-CSRFToken', f'"{token}"')],
        [('X-CSRFToken', other.csrf)],
        [('X-CSRFToken', token), ('X-CSRFToken', token)],
        [('X-CSRFToken', token), ('X-CSRFToken', 'junk')],
        [('X-CSRF-Token', token)],
        [('CSRFToken', token)],
        [('X-XSRF-Token', token)],
    ]


def test_unsafe_routes_refuse_a_cookie_session_without_the_csrf_header(
    accounts_server: ExampleServer, hostile: Attacker, victim: Browser
) -> None:
    other = browser_login(accounts_server, 'other')
    with accounts_server.client() as client:
        sid = client.get('/auth/sessions', headers=victim.bearer).json()[0]['sid']
    cookies = (
        victim.cookie,
        f'access_token={victim.access}',
        f'access_token={victim.access}; csrftoken=',
        f'access_token={victim.access}; csrftoken={other.csrf}',
    )
    for (method, path, body), cookie, headers in itertools.product(UNSAFE, cookies, _csrf_variants(victim, other)):
        # Including the consistent pair another login's token makes: a planted cookie (a sibling subdomain)
        # holds a token bound to another session, never the victim's.
        response = hostile.http_request(
            'accounts.csrf', method, path.format(sid=sid), json=body, headers=[('Cookie', cookie), *headers]
        )
        assert response.status_code in CSRF_REFUSED, (method, path, headers, response.text)
    assert_untouched(accounts_server, victim)


@given(header=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80))
def test_random_csrf_headers_never_pass(
    accounts_server: ExampleServer, hostile: Attacker, victim: Browser, header: str
) -> None:
    if header == victim.csrf:
        return
    response = hostile.http_request(
        'accounts.csrf-random',
        'PATCH',
        '/auth/me',
        json={'email': 'x@evil.test'},
        headers={'Cookie': victim.cookie, 'X-CSRFToken': header},
    )
    assert response.status_code == 403, response.text


def test_the_refresh_cookie_needs_the_csrf_header_too(accounts_server: ExampleServer, hostile: Attacker) -> None:
    target = browser_login(accounts_server, 'refreshcsrf')
    cookie = f'refresh_token={target.refresh}; csrftoken={target.csrf}'
    for headers in _csrf_variants(target, target)[:9]:
        if headers == [('X-CSRFToken', target.csrf)]:
            continue
        response = hostile.http_request(
            'accounts.csrf-refresh', 'POST', '/auth/refresh', headers=[('Cookie', cookie), *headers]
        )
        assert response.status_code == 403, (headers, response.text)
    with accounts_server.client() as client:  # the refresh token was never spent
        response = client.post('/auth/refresh', json={'refresh_token': target.refresh})
    assert response.status_code == 200, response.text


def test_a_cross_site_form_post_to_login_gets_no_session_of_the_victim(
    accounts_server: ExampleServer, hostile: Attacker, victim: Browser
) -> None:
    for body in (
        f'username={victim.username}&password=guess',
        f'username={victim.username}',
        'username=&password=',
        f'username={victim.username}&password={PASSWORD}&grant_type=implicit',
    ):
        response = hostile.http_request(
            'accounts.csrf-form',
            'POST',
            '/auth/login',
            content=body.encode(),
            headers={
                'Content-Type': 'application/x-www-form-urlencoded',
                'Cookie': victim.cookie,
                'Origin': 'https://evil.test',
            },
        )
        assert response.status_code == 403, response.text  # a foreign Origin, in cookie mode
        assert 'access_token' not in response.text and not response.headers.get_list('set-cookie')


def test_concurrent_refreshes_with_one_token_share_one_successor_and_keep_the_session(
    accounts_server: ExampleServer, hostile: Attacker
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user = browser_login(accounts_server, 'tabs')

    def refresh(_: int) -> httpx.Response:
        with accounts_server.client() as client:
            return client.post('/auth/refresh', json={'refresh_token': user.refresh})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(refresh, range(8)))
    assert [answer.status_code for answer in answers] == [200] * 8, [answer.text for answer in answers]
    pairs = {(answer.json()['access_token'], answer.json()['refresh_token']) for answer in answers}
    assert len(pairs) == 1
    ((access, successor),) = pairs
    with accounts_server.client() as client:
        assert client.get('/auth/me', headers={'Authorization': f'Bearer {access}'}).status_code == 200
        assert client.post('/auth/refresh', json={'refresh_token': successor}).status_code == 200
    # Its successor used: the spent token again is a replay, and ends the session.
    response = hostile.http_request(
        'accounts.reuse-refresh', 'POST', '/auth/refresh', json={'refresh_token': user.refresh}
    )
    assert response.status_code == 401
    with accounts_server.client() as client:
        assert client.get('/auth/me', headers={'Authorization': f'Bearer {access}'}).status_code == 401


# -- look-alike usernames ------------------------------------------------------------------------------

FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
MATH_BOLD = {
    **{chr(0x61 + i): chr(0x1D41A + i) for i in range(26)},
    **{chr(0x41 + i): chr(0x1D400 + i) for i in range(26)},
}
INVISIBLE = [
    '\u200b',
    '\u200c',
    '\u200d',
    '\u2060',
    '\ufeff',
    '\u202e',
    '\u202d',
    '\u2066',
    '\u00ad',
    '\ufe0f',
    '\u3164',
    '\u180e',
    '\u034f',
    '\x00',
    '\x07',
    '\x1b',
    '\x7f',
    '\u0085',
    '\u2028',
    '\u2029',
]
EDGES = [' ', '\t', '\u00a0', '\u2003', '\u3000', '\n']


def _same_key(name: str, choices: list[int]) -> str:
    """A spelling of `name` with the same canonical key: case, fullwidth and mathematical forms."""
    out = []
    for character, choice in zip(name, itertools.cycle(choices or [0]), strict=False):
        form = choice % 4
        if form == 1:
            character = character.swapcase()
        elif form == 2:
            character = FULLWIDTH.get(character, character)
        elif form == 3:
            character = MATH_BOLD.get(character, character)
        out.append(character)
    return ''.join(out)


@dataclass
class Lookalike:
    text: str
    same_key: bool  # True: the canonical key is the victim's; False: a character that must be refused


lookalikes = st.builds(
    lambda choices, trick, position, extra: _lookalike(choices, trick, position, extra),
    st.lists(st.integers(0, 3), min_size=1, max_size=12),
    st.sampled_from(['none', 'invisible', 'edge', 'double']),
    st.integers(0, 40),
    st.sampled_from(INVISIBLE + EDGES),
)
_VICTIM_NAME = 'lookalikevictim'


def _lookalike(choices: list[int], trick: str, position: int, extra: str) -> Lookalike:
    text = _same_key(_VICTIM_NAME, choices)
    if trick == 'invisible':
        where = position % (len(text) + 1)
        # One plain space between two letters makes a different, valid name: two of them never do.
        inserted = '  ' if extra == ' ' else extra
        return Lookalike(text[:where] + inserted + text[where:], False)
    if trick == 'edge':
        return Lookalike(extra + text if position % 2 else text + extra, False)
    if trick == 'double':
        where = 1 + position % (len(text) - 1)
        return Lookalike(text[:where] + '  ' + text[where:], False)
    return Lookalike(text, True)


@pytest.fixture(scope='module')
def lookalike_victim(accounts_server: ExampleServer) -> str:
    with accounts_server.client() as client:
        response = client.post('/auth/signup', json={'username': _VICTIM_NAME, 'password': PASSWORD})
    assert response.status_code in (201, 409), response.text
    return _VICTIM_NAME


@given(lookalike=lookalikes)
def test_a_lookalike_username_never_becomes_a_second_account(
    accounts_server: ExampleServer, hostile: Attacker, lookalike_victim: str, lookalike: Lookalike
) -> None:
    signup = hostile.http_request(
        'accounts.lookalike-signup',
        'POST',
        '/auth/signup',
        json={'username': lookalike.text, 'password': 'another passphrase 1'},
    )
    assert signup.status_code == (409 if lookalike.same_key else 400), (ascii(lookalike.text), signup.text)
    login = hostile.http_request(
        'accounts.lookalike-login', 'POST', '/auth/login', json={'username': lookalike.text, 'password': PASSWORD}
    )
    if lookalike.same_key:  # the victim's own account, by another spelling of its name
        assert login.status_code in (200, 429), login.text
    else:
        assert login.status_code in (401, 429), (ascii(lookalike.text), login.text)


def test_every_refused_character_class_is_refused_alone(hostile: Attacker) -> None:
    for character in [*INVISIBLE, '\ue000', '\U000f0000', '\u0378']:
        for name in (f'ab{character}cd', f'{character}abcd', f'abcd{character}'):
            response = hostile.http_request(
                'accounts.lookalike-class',
                'POST',
                '/auth/signup',
                json={'username': name, 'password': 'another passphrase 1'},
            )
            assert response.status_code == 400, (ascii(name), response.text)
            assert 'U+' in response.json()['detail'] or 'whitespace' in response.json()['detail']


# -- token reuse ---------------------------------------------------------------------------------------


def test_spent_and_revoked_tokens_stay_refused_everywhere(accounts_server: ExampleServer, hostile: Attacker) -> None:
    for _ in range(6):
        user = browser_login(accounts_server, 'reuse')
        with accounts_server.client() as client:
            first = client.post('/auth/refresh', json={'refresh_token': user.refresh}).json()
            pair = client.post('/auth/refresh', json={'refresh_token': first['refresh_token']}).json()
        # The spent refresh token, again and again, once its successor was used: the first replay ends the session.
        for _ in range(5):
            response = hostile.http_request(
                'accounts.reuse-refresh', 'POST', '/auth/refresh', json={'refresh_token': user.refresh}
            )
            assert response.status_code == 401, response.text
        for token in (user.access, pair['access_token']):
            for method, path in (
                ('GET', '/auth/me'),
                ('GET', '/auth/sessions'),
                ('POST', '/auth/logout'),
                ('POST', '/auth/logout-all'),
                ('PATCH', '/auth/me'),
            ):
                response = hostile.http_request(
                    'accounts.reuse-access', method, path, json={}, headers={'Authorization': f'Bearer {token}'}
                )
                assert response.status_code == 401, (path, response.text)
        response = hostile.http_request(
            'accounts.reuse-refresh', 'POST', '/auth/refresh', json={'refresh_token': pair['refresh_token']}
        )
        assert response.status_code == 401


def test_token_types_swapped_are_refused(accounts_server: ExampleServer, hostile: Attacker) -> None:
    user = browser_login(accounts_server, 'swap')
    for _ in range(10):
        response = hostile.http_request(
            'accounts.token-swap', 'GET', '/auth/me', headers={'Authorization': f'Bearer {user.refresh}'}
        )
        assert response.status_code == 401
        response = hostile.http_request(
            'accounts.token-swap', 'GET', '/auth/me', headers={'Cookie': f'access_token={user.refresh}'}
        )
        assert response.status_code == 401
        response = hostile.http_request(
            'accounts.token-swap', 'POST', '/auth/refresh', json={'refresh_token': user.access}
        )
        assert response.status_code == 401
    assert_untouched(accounts_server, user)


def test_tokens_of_a_logged_out_browser_session_are_refused(accounts_server: ExampleServer, hostile: Attacker) -> None:
    user = browser_login(accounts_server, 'loggedout')
    with accounts_server.client() as client:
        out = client.post('/auth/logout', headers={'Cookie': user.cookie, 'X-CSRFToken': user.csrf})
    assert out.status_code == 200
    for _ in range(10):
        assert (
            hostile.http_request(
                'accounts.reuse-cookie', 'GET', '/auth/me', headers={'Cookie': user.cookie}
            ).status_code
            == 401
        )
        assert (
            hostile.http_request(
                'accounts.reuse-cookie',
                'POST',
                '/auth/refresh',
                headers={
                    'Cookie': f'refresh_token={user.refresh}; csrftoken={user.csrf}',
                    'X-CSRFToken': user.csrf,
                },
            ).status_code
            == 401
        )


# -- enumeration probes -------------------------------------------------------------------------------


@given(suffix=st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789', min_size=6, max_size=12))
def test_login_tells_no_existing_username_from_a_missing_one(
    accounts_server: ExampleServer, hostile: Attacker, victim: Browser, suffix: str
) -> None:
    existing = hostile.http_request(
        'accounts.enumerate-login',
        'POST',
        '/auth/login',
        json={'username': victim.username, 'password': f'wrong-{suffix}'},
    )
    missing = hostile.http_request(
        'accounts.enumerate-login',
        'POST',
        '/auth/login',
        json={'username': f'nobody-{suffix}', 'password': f'wrong-{suffix}'},
    )
    assert existing.status_code in (401, 429) and missing.status_code in (401, 429)
    if existing.status_code == missing.status_code == 401:
        assert existing.content == missing.content


def test_throttling_answers_an_existing_and_a_missing_username_alike(
    accounts_server: ExampleServer, hostile: Attacker
) -> None:
    real = browser_login(accounts_server, 'throttled')
    answers = {}
    for username in (real.username, f'ghost{uuid.uuid4().hex[:10]}'):
        statuses = [
            hostile.http_request(
                'accounts.enumerate-throttle', 'POST', '/auth/login', json={'username': username, 'password': 'wrong'}
            ).status_code
            for _ in range(8)
        ]
        answers[username] = statuses
    real_statuses, ghost_statuses = answers.values()
    assert real_statuses == ghost_statuses == [401] * 5 + [429] * 3


@given(
    sid=st.text(alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', min_size=1, max_size=120)
)
def test_session_ids_cannot_be_probed(
    accounts_server: ExampleServer, hostile: Attacker, victim: Browser, sid: str
) -> None:
    response = hostile.http_request('accounts.enumerate-sid', 'DELETE', f'/auth/sessions/{sid}', headers=victim.bearer)
    assert response.status_code == 404 and response.json() == {'detail': 'Session not found'}


def test_another_users_session_id_is_a_404_and_stays_alive(accounts_server: ExampleServer, hostile: Attacker) -> None:
    attacker_user, target = browser_login(accounts_server, 'prober'), browser_login(accounts_server, 'target')
    with accounts_server.client() as client:
        sid = client.get('/auth/sessions', headers=target.bearer).json()[0]['sid']
    for _ in range(10):
        response = hostile.http_request(
            'accounts.enumerate-sid', 'DELETE', f'/auth/sessions/{sid}', headers=attacker_user.bearer
        )
        assert response.json() == {'detail': 'Session not found'}
    assert_untouched(accounts_server, target)


# -- malformed bodies, hostile profile updates ---------------------------------------------------------

json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    'username',
                    'password',
                    'refresh_token',
                    'current_password',
                    'new_password',
                    'email',
                    'is_superuser',
                    'scope',
                    'grant_type',
                    '$where',
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@given(
    route=st.sampled_from(ROUTES),
    method=st.sampled_from(['POST', 'PATCH', 'DELETE', 'GET']),
    document=json_documents,
    authenticated=st.booleans(),
)
def test_any_json_at_any_account_route_is_answered_never_an_error(
    hostile: Attacker, victim: Browser, route: str, method: str, document, authenticated: bool
) -> None:
    if (authenticated and route in ('logout', 'logout-all', 'password/change')) or route.startswith('sessions/'):
        authenticated = False  # keep the victim's session alive for the other tests
    headers = victim.bearer if authenticated else {}
    response = hostile.http_request('accounts.json', method, f'/auth/{route}', json=document, headers=headers)
    assert response.status_code in ANSWERS, response.text


@given(
    route=st.sampled_from(ROUTES),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(['application/json', 'application/x-www-form-urlencoded', 'text/plain', '']),
)
def test_any_bytes_at_any_account_route_are_answered_never_an_error(
    hostile: Attacker, route: str, body: bytes, content_type: str
) -> None:
    response = hostile.http_request(
        'accounts.bytes',
        'POST',
        f'/auth/{route}',
        content=body,
        headers={'Content-Type': content_type} if content_type else {},
    )
    assert response.status_code in ANSWERS, response.text


@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                'is_superuser',
                'is_active',
                'is_verified',
                'password',
                'id',
                'username_key',
                'date_created',
                'last_login',
                '__class__',
                'model_config',
                'email',
                'username',
                '',
            ]
        )
        | st.text(max_size=10),
        json_documents,
        min_size=1,
        max_size=4,
    )
)
def test_hostile_profile_updates_never_touch_a_flag(
    accounts_server: ExampleServer, hostile: Attacker, fields: dict
) -> None:
    target = _profile_target(accounts_server)
    response = hostile.http_request('accounts.patch-me', 'PATCH', '/auth/me', json=fields, headers=target.bearer)
    # 202: a new address waits for its confirmation; 401: changing it needs a recent authentication.
    assert response.status_code in (200, 202, 400, 401, 409, 422, 429), response.text
    if response.status_code == 401:
        assert response.json()['reauthentication_required'] is True and 'email' in fields
    if response.status_code in (200, 202):
        assert set(fields) <= {'email', 'username'}
    body = json.loads(response.content) if response.status_code in (200, 202) else None
    if body is not None:
        assert (body['is_superuser'], body['is_active'], body['is_verified']) == (False, True, False)


_profile_targets: dict[int, Browser] = {}


def _profile_target(server: ExampleServer) -> Browser:
    """One account per server whose profile the hostile updates may change (its name too)."""
    if server.port not in _profile_targets:
        _profile_targets[server.port] = browser_login(server, 'profile')
    return _profile_targets[server.port]


def test_oversized_fields_are_422_on_every_route_that_takes_them(
    accounts_server: ExampleServer, hostile: Attacker, victim: Browser
) -> None:
    huge = 'x' * 5000
    fresh = browser_login(accounts_server, 'oversize')  # password/change needs a recent login
    for route, body in (
        ('signup', {'username': huge, 'password': PASSWORD}),
        ('signup', {'username': 'oversize', 'password': huge}),
        ('login', {'username': huge, 'password': PASSWORD}),
        ('refresh', {'refresh_token': huge * 2}),
        ('password/change', {'current_password': huge, 'new_password': PASSWORD}),
    ):
        response = hostile.http_request('accounts.oversized', 'POST', f'/auth/{route}', json=body, headers=fresh.bearer)
        assert response.status_code == 422, (route, response.text)
        assert response.json()['errors'][0]['type'] == 'string_too_long', (route, response.text)
    response = hostile.http_request(
        'accounts.oversized', 'PATCH', '/auth/me', json={'email': None, 'x' * 300: 1}, headers=victim.bearer
    )
    assert response.status_code == 400
