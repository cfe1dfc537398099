"""Attacks a hostile page can make through its victim's browser, against a real uvicorn on every store.

- Cross-site websocket hijacking: a page on another origin opens a socket
  to us; the browser attaches the victim's cookies. A cookie-authenticated
  handshake must come from this site or a ``TRUSTED_ORIGINS`` entry.
- A planted ``csrftoken``: a sibling subdomain sets the cookie, so the
  double-submit pair is the attacker's choice; the token must be bound to
  the victim's session. And an unsafe request whose ``Origin`` is foreign
  is refused even with the right token.
- API keys in query strings reach uvicorn's access log unless masked,
  whatever spelling of the parameter name the client chose.

The app is tests/security/browser_app.py; every hostile request goes
through `Attacker` (no 5xx, no traceback, JSON details) and counts in the
suite's tally.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.security.attack import Attacker
from tests.security.browser_names import (
    QUERY_PARAM_NAMES,
    QUERY_SECRET,
    TRUSTED_FRONT_END,
)
from tests.security_objects.server import UvicornServer, serve
from tests.servers import fresh_database_url

pytestmark = pytest.mark.server

APP = 'tests.security.browser_app:app'
TIMEOUT = 10
PASSWORD = 'browser-password-1234'
UNSAFE = ('POST', 'PUT', 'PATCH', 'DELETE')
EVIL = 'https://evil.example'


@pytest.fixture(scope='module', params=['embedded', 'mongodb', 'redis'])
def browser_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    """Embedded store; MongoDB; the embedded store with revocations in Redis."""
    directory = tmp_path_factory.mktemp(f'browser_{request.param}')
    env = {'BROWSER_SECRET_KEY': secrets.token_urlsafe(40), 'BROWSER_DB_PATH': str(directory / 'db.sqlite3')}
    if request.param == 'mongodb':
        env['BROWSER_MONGODB_URL'] = fresh_database_url(request.getfixturevalue('mongodb_url'))
    if request.param == 'redis':
        env['BROWSER_REDIS_URL'] = request.getfixturevalue('redis_url')
    # At info level: the tests read the access log. The site's own origin is the server's URL.
    yield from serve(APP, directory, env, name=f'browser_{request.param}', log_level='info')


@pytest.fixture(scope='module')
def attacker(browser_server: UvicornServer) -> Iterator[Attacker]:
    with closing(Attacker(browser_server.url, browser_server.port)) as attacker:
        yield attacker


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {
        value.split('=', 1)[0]: value.split(';', 1)[0].split('=', 1)[1]
        for value in response.headers.get_list('set-cookie')
    }


@dataclass
class Victim:
    """What a logged-in browser holds, per kind of cookie credential."""

    username: str
    bearer: dict[str, str]
    jwt: dict[str, str]  # access_token, refresh_token, csrftoken (bound to the login session)
    session: dict[str, str]  # sessionid, csrftoken (bound to the session)
    key: dict[str, str]  # browser_key, csrftoken (bound to the key)

    def credentials(self, kind: str) -> tuple[str, str]:
        """(cookie credential 'name=value', its csrftoken) for `kind` in jwt, session, key."""
        if kind == 'jwt':
            return f'access_token={self.jwt["access_token"]}', self.jwt['csrftoken']
        if kind == 'session':
            return f'sessionid={self.session["sessionid"]}', self.session['csrftoken']
        return f'browser_key={self.key["browser_key"]}', self.key['csrftoken']


def log_in(server: UvicornServer, prefix: str = 'victim') -> Victim:
    username = f'{prefix}{uuid.uuid4().hex[:10]}'
    with server.client() as client:
        assert client.post('/auth/signup', json={'username': username, 'password': PASSWORD}).status_code == 201
        login = client.post('/auth/login', json={'username': username, 'password': PASSWORD})
        assert login.status_code == 200, login.text
        bearer = {'Authorization': f'Bearer {login.json()["access_token"]}'}
        session = client.post('/session/login', headers=bearer)
        assert session.status_code == 200, session.text
        key = client.post('/key-cookie/issue')
        assert key.status_code == 200, key.text
    return Victim(username, bearer, _set_cookies(login), _set_cookies(session), _set_cookies(key))


@pytest.fixture(scope='module')
def victim(browser_server: UvicornServer) -> Victim:
    return log_in(browser_server)


@pytest.fixture(scope='module')
def other(browser_server: UvicornServer) -> Victim:
    """The attacker's own account: its tokens are valid, just not the victim's."""
    return log_in(browser_server, 'attacker')


# -- 4. cross-site websocket hijacking -------------------------------------------------------------

COOKIE_SOCKETS = {
    'jwt': '/ws/jwt',
    'session': '/ws/session',
    'key': '/ws/key-cookie',
    'key-no-csrf': '/ws/key-cookie-no-csrf',
}


def _socket_cookie(victim: Victim, socket: str) -> str:
    return victim.credentials('key' if socket.startswith('key') else socket)[0]


async def _greeting(url: str, cookie: str, origin: str | None) -> dict:
    async with connect(url, origin=origin, additional_headers={'Cookie': cookie}, open_timeout=TIMEOUT) as ws:
        return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


def greet(server: UvicornServer, socket: str, cookie: str, origin: str | None) -> dict:
    return asyncio.run(_greeting(server.ws_url + COOKIE_SOCKETS[socket], cookie, origin))


def assert_refused(server: UvicornServer, socket: str, cookie: str, origin: str | None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        greet(server, socket, cookie, origin)
    assert refused.value.response.status_code == 403


def expected_greeting(victim: Victim, socket: str) -> dict:
    return {'hello': 'key-cookie-client' if socket.startswith('key') else victim.username}


@pytest.mark.parametrize('socket', COOKIE_SOCKETS)
def test_a_cookie_handshake_from_a_foreign_origin_is_refused(browser_server, victim, socket) -> None:
    assert_refused(browser_server, socket, _socket_cookie(victim, socket), EVIL)


@pytest.mark.parametrize('socket', COOKIE_SOCKETS)
def test_a_cookie_handshake_from_this_site_is_greeted(browser_server, victim, socket) -> None:
    greeting = greet(browser_server, socket, _socket_cookie(victim, socket), browser_server.url)
    assert greeting == expected_greeting(victim, socket)


@pytest.mark.parametrize('socket', COOKIE_SOCKETS)
@pytest.mark.parametrize('origin', [TRUSTED_FRONT_END, 'https://shop.partner.example'])
def test_a_cookie_handshake_from_a_trusted_origin_is_greeted(browser_server, victim, socket, origin) -> None:
    assert greet(browser_server, socket, _socket_cookie(victim, socket), origin) == expected_greeting(victim, socket)


@pytest.mark.parametrize('socket', COOKIE_SOCKETS)
def test_a_cookie_handshake_from_this_host_over_another_scheme_is_refused(browser_server, victim, socket) -> None:
    """https://127.0.0.1:port is another origin than the http:// one this server answers on."""
    assert_refused(browser_server, socket, _socket_cookie(victim, socket), f'https://127.0.0.1:{browser_server.port}')


@pytest.mark.parametrize('socket', COOKIE_SOCKETS)
def test_a_cookie_handshake_without_origin_is_greeted(browser_server, victim, socket) -> None:
    """No Origin: not a browser, so nobody forged it on the victim's behalf."""
    assert greet(browser_server, socket, _socket_cookie(victim, socket), None) == expected_greeting(victim, socket)


def test_a_query_token_handshake_from_a_foreign_origin_is_greeted(browser_server, victim) -> None:
    """A token in the URL is not something the browser adds on its own: no hijacking to prevent."""
    url = f'{browser_server.ws_url}/ws/query?authorization={quote(victim.bearer["Authorization"][7:])}'

    async def run() -> dict:
        async with connect(url, origin=EVIL, open_timeout=TIMEOUT) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))

    assert asyncio.run(run()) == {'hello': victim.username}


# -- 6. CSRF tokens bound to the session; foreign Origins ------------------------------------------

NOTES = {'jwt': '/jwt/note', 'session': '/session/note', 'key': '/key-cookie/note'}


def note(
    server: UvicornServer, method: str, kind: str, cookie: str, token: str | None, origin: str | None = None
) -> httpx.Response:
    headers = {'Cookie': cookie}
    if token is not None:
        headers['X-CSRFToken'] = token
    if origin is not None:
        headers['Origin'] = origin
    with server.client() as client:
        return client.request(method, NOTES[kind], headers=headers)


@pytest.mark.parametrize('kind', NOTES)
@pytest.mark.parametrize('method', UNSAFE)
def test_the_issued_csrf_token_passes(browser_server, victim, kind, method) -> None:
    credential, token = victim.credentials(kind)
    response = note(browser_server, method, kind, f'{credential}; csrftoken={token}', token)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize('kind', NOTES)
def test_a_planted_csrftoken_cookie_is_refused(browser_server, victim, kind) -> None:
    """A sibling subdomain sets csrftoken=<its value> and sends the same value in the header."""
    credential, _ = victim.credentials(kind)
    planted = secrets.token_urlsafe(32)
    response = note(browser_server, 'POST', kind, f'{credential}; csrftoken={planted}', planted)
    assert response.status_code == 403, response.text
    assert 'CSRF' in response.json()['detail']


@pytest.mark.parametrize('kind', ['jwt', 'session'])
def test_the_csrf_token_of_another_session_is_refused(browser_server, victim, other, kind) -> None:
    """The attacker's own, valid token (a consistent pair it can plant) is not the victim's."""
    credential, _ = victim.credentials(kind)
    _, token = other.credentials(kind)
    response = note(browser_server, 'POST', kind, f'{credential}; csrftoken={token}', token)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize('kind', NOTES)
@pytest.mark.parametrize('origin', [EVIL, 'null', 'https://partner.example'])
def test_an_unsafe_request_from_a_foreign_origin_is_refused_even_with_the_token(
    browser_server, victim, kind, origin
) -> None:
    credential, token = victim.credentials(kind)
    response = note(browser_server, 'POST', kind, f'{credential}; csrftoken={token}', token, origin)
    assert response.status_code == 403, response.text
    assert 'Origin' in response.json()['detail']


@pytest.mark.parametrize('kind', NOTES)
@pytest.mark.parametrize('origin', ['self', TRUSTED_FRONT_END, 'https://a.b.partner.example'])
def test_an_unsafe_request_from_this_site_or_a_trusted_origin_passes(browser_server, victim, kind, origin) -> None:
    credential, token = victim.credentials(kind)
    origin = browser_server.url if origin == 'self' else origin
    response = note(browser_server, 'DELETE', kind, f'{credential}; csrftoken={token}', token, origin)
    assert response.status_code == 200, response.text


def test_the_jwt_csrf_token_stays_the_same_across_refreshes(browser_server) -> None:
    victim = log_in(browser_server, 'refresher')
    token = victim.jwt['csrftoken']
    with browser_server.client() as client:
        refreshed = client.post(
            '/auth/refresh',
            headers={'Cookie': f'refresh_token={victim.jwt["refresh_token"]}; csrftoken={token}', 'X-CSRFToken': token},
        )
    assert refreshed.status_code == 200, refreshed.text
    cookies = _set_cookies(refreshed)
    assert cookies['csrftoken'] == token
    response = note(browser_server, 'PATCH', 'jwt', f'access_token={cookies["access_token"]}; csrftoken={token}', token)
    assert response.status_code == 200, response.text


def test_a_planted_csrftoken_cannot_spend_the_refresh_cookie(browser_server) -> None:
    victim = log_in(browser_server, 'refreshplant')
    planted = secrets.token_urlsafe(32)
    with browser_server.client() as client:
        refused = client.post(
            '/auth/refresh',
            headers={
                'Cookie': f'refresh_token={victim.jwt["refresh_token"]}; csrftoken={planted}',
                'X-CSRFToken': planted,
            },
        )
        assert refused.status_code == 403, refused.text
        # The refresh token was never spent.
        assert client.post('/auth/refresh', json={'refresh_token': victim.jwt['refresh_token']}).status_code == 200


# -- 7. API keys in query strings and the access log -----------------------------------------------

ISSUE_FORMS = ('apikey', 'api-key', 'X-API-Key', 'access%5Ftoken')


def _log_after(server: UvicornServer, marker: str) -> str:
    """The server's log once the line of the request carrying `marker` has been written."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        log = server.log()
        if marker in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f'{marker!r} never reached the log')


@pytest.mark.parametrize('form', ISSUE_FORMS)
def test_a_query_string_api_key_never_reaches_the_access_log(browser_server, form) -> None:
    secret = f'LEAK{uuid.uuid4().hex}'
    marker = uuid.uuid4().hex
    route = 'access_token' if form == 'access%5Ftoken' else form
    with browser_server.client() as client:
        client.get(f'/query/{route}?{form}={secret}&marker={marker}')
    log = _log_after(browser_server, marker)
    assert secret not in log
    assert f'{form}=***' in log


def test_the_configured_param_name_of_an_api_key_query_is_masked(browser_server) -> None:
    secret, marker = f'LEAK{uuid.uuid4().hex}', uuid.uuid4().hex
    with browser_server.client() as client:
        assert client.get(f'/query/zq_credential?zq_credential={QUERY_SECRET}').status_code == 200
        client.get(f'/query/zq_credential?ZQ%5Fcredential={secret}&marker={marker}')
    log = _log_after(browser_server, marker)
    assert secret not in log and QUERY_SECRET not in log


# -- the hostile suite's share ---------------------------------------------------------------------


def _foreign_origins(port: int) -> list[bytes]:
    here = f'127.0.0.1:{port}'
    return [
        origin.encode('latin-1')
        for origin in (
            EVIL,
            'null',
            '',
            ' ',
            f'https://{here}',
            f'ws://{here}',
            f'http://{here}.evil.example',
            f'http://evil.example/{here}',
            f'http://evil.example?{here}',
            f'http://evil.example#{here}',
            f'http://evil@{here}',
            f'http://{here}@evil.example',
            'http://127.0.0.1',
            f'http://127.0.0.1:{port + 1}',
            f'http://localhost:{port}',
            f'http://[::1]:{port}',
            'https://partner.example',
            'https://evilpartner.example',
            'https://x.partner.example:8443',
            'http://x.partner.example',
            'https://app.trusted.example.evil.example',
            'https://app.trusted.example:444',
            'http://app.trusted.example',
            'file://',
            'chrome-extension://abcdef',
            'https://' + 'a' * 3000,
            f'http://{here}:80',
            'https://app.trusted.example/',
            f'HTTP://EVIL.EXAMPLE:{port}',
            '\xff\xfe',
            'https://xn--80ak6aa92e.com',
            f'http://{here} http://evil.example',
        )
    ]


def test_forged_origins_never_open_a_cookie_socket(browser_server, attacker, victim) -> None:
    """Every cookie socket, every foreign Origin (and two Origin headers): refused during the handshake."""
    origins = _foreign_origins(browser_server.port)
    good = browser_server.url.encode()
    for socket, origin in itertools.product(COOKIE_SOCKETS, origins):
        cookie = _socket_cookie(victim, socket).encode()
        status = attacker.websocket_handshake(
            'browser.ws-origin', COOKIE_SOCKETS[socket].encode(), [(b'Origin', origin), (b'Cookie', cookie)]
        )
        assert status == 403, (socket, origin)
    for socket, (first, second) in itertools.product(COOKIE_SOCKETS, [(good, EVIL.encode()), (EVIL.encode(), good)]):
        status = attacker.websocket_handshake(
            'browser.ws-origin',
            COOKIE_SOCKETS[socket].encode(),
            [(b'Origin', first), (b'Origin', second), (b'Cookie', _socket_cookie(victim, socket).encode())],
        )
        assert status in (400, 403), (socket, first, second)  # the websockets library refuses a repeated Origin
    # Control: the same raw handshake from this site opens.
    for socket in COOKIE_SOCKETS:
        status = attacker.websocket_handshake(
            'control.ws-origin',
            COOKIE_SOCKETS[socket].encode(),
            [(b'Origin', good), (b'Cookie', _socket_cookie(victim, socket).encode())],
        )
        assert status == 101, socket


def _planted_tokens(victim: Victim, other: Victim, kind: str) -> list[str]:
    token = victim.credentials(kind)[1]
    return [
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(32)[:43],
        'a' * 43,
        token[:-1],
        token + 'A',
        token.upper(),
        token.lower(),
        token[::-1],
        f'"{token}"',
        other.credentials(kind)[1],
        *(other.credentials(k)[1] for k in NOTES if k != kind),  # a real token bound to something else
        victim.credentials('session' if kind == 'jwt' else 'jwt')[1],
    ]


def test_planted_csrf_tokens_never_pass(browser_server, attacker, victim, other) -> None:
    """The attacker controls csrftoken and X-CSRFToken (equal, as double submit wants); never the victim's token."""
    for kind, method in itertools.product(NOTES, UNSAFE):
        credential, token = victim.credentials(kind)
        for planted in _planted_tokens(victim, other, kind):
            if planted == token:
                continue
            response = attacker.http_request(
                'browser.csrf-planted',
                method,
                NOTES[kind],
                headers=[('Cookie', f'{credential}; csrftoken={planted}'), ('X-CSRFToken', planted)],
            )
            assert response.status_code == 403, (kind, method, planted, response.text)
        # The planted cookie with the victim's header (what a page that read the old cookie sends).
        response = attacker.http_request(
            'browser.csrf-planted',
            method,
            NOTES[kind],
            headers=[('Cookie', f'{credential}; csrftoken={secrets.token_urlsafe(32)}'), ('X-CSRFToken', token)],
        )
        assert response.status_code == 403, (kind, method, response.text)


def test_foreign_origins_never_pass_an_unsafe_cookie_request(browser_server, attacker, victim) -> None:
    origins = [o for o in _foreign_origins(browser_server.port) if o.strip() and o.isascii()]
    for kind, method, origin in itertools.product(NOTES, UNSAFE, origins):
        credential, token = victim.credentials(kind)
        response = attacker.http_request(
            'browser.csrf-origin',
            method,
            NOTES[kind],
            headers=[
                ('Cookie', f'{credential}; csrftoken={token}'),
                ('X-CSRFToken', token),
                ('Origin', origin.decode()),
            ],
        )
        assert response.status_code == 403, (kind, method, origin, response.text)


def _name_spellings(name: str) -> list[str]:
    """Ways a client may spell a query parameter name; all decode to a credential name."""
    encoded_all = ''.join(f'%{byte:02X}' for byte in name.encode())
    return sorted(
        {
            name,
            name.upper(),
            name.lower(),
            encoded_all,
            encoded_all.lower(),
            name.replace('_', '%5F'),
            name.replace('-', '%2D'),
            name.replace('-', '+'),
            name.replace('-', '%20'),
            name.replace('_', '-'),
            name.replace('-', '_'),
        }
    )


def test_query_string_keys_in_every_spelling_stay_out_of_the_log(browser_server, attacker) -> None:
    names = [*QUERY_PARAM_NAMES, 'authorization', 'access_token', 'refresh_token', 'token', 'api_key', 'password']
    secrets_sent = []
    for name in names:
        for spelling in _name_spellings(name):
            for where in ('/query/apikey', '/ws/query', '/nope'):
                secret = f'LEAK{uuid.uuid4().hex}'
                secrets_sent.append(secret)
                attacker.http_request('browser.apikey-log', 'GET', f'{where}?x=1&{spelling}={secret}&y=2')
    marker = uuid.uuid4().hex
    attacker.http_request('control.apikey-log', 'GET', f'/query/apikey?marker={marker}')
    log = _log_after(browser_server, marker)
    leaked = [secret for secret in secrets_sent if secret in log]
    assert not leaked, f'{len(leaked)} of {len(secrets_sent)} keys in the log'
    assert len(secrets_sent) >= 150
