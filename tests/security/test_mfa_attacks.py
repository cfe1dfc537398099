"""Attacks on second factors and step-up: brute force, replays, misused mfa_tokens, stale sessions, junk.

Against the hostile server (a real uvicorn running the example app). The
codes are computed with pyotp from the secrets the enrolments return. The
attacker of this file sends from addresses of its own (127.0.4.N) and each
victim's legitimate requests from another (127.0.5.N), so the login
throttle these attacks run into stops neither the other files' controls
nor these victims' own logins (but for the victim a brute force targets).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import httpx
import jwt
import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.server import ExampleServer
from tests.security.attack import Attacker

pytestmark = pytest.mark.server

_addresses = (f'127.0.5.{n}' for n in itertools.count(1))
_attacker_addresses = (f'127.0.4.{n}' for n in itertools.count(1))
STEP_UP_ROUTES = (('POST', '/auth/mfa/totp'), ('POST', '/auth/mfa/recovery-codes'), ('DELETE', '/auth/mfa/totp'))


@dataclass
class Enrolled:
    """A user with a confirmed TOTP factor, its own client, and a fresh session."""

    username: str
    password: str
    totp: pyotp.TOTP
    recovery_codes: list[str]
    access_token: str
    client: httpx.Client

    @property
    def bearer(self) -> dict[str, str]:
        return {'Authorization': f'Bearer {self.access_token}'}

    def mfa_token(self) -> str:
        response = self.client.post('/auth/login', json={'username': self.username, 'password': self.password})
        assert response.status_code == 401 and response.json()['mfa_required'] is True, response.text
        return response.json()['mfa_token']


def _client(server: ExampleServer, address: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=address), timeout=15.0)


def enrol(server: ExampleServer) -> Enrolled:
    """Sign up, log in, set TOTP up and confirm it with the code of the previous time step.

    The previous step leaves the current and the next one for the controls, so no test waits for a new step.
    """
    client = _client(server, next(_addresses))
    username, password = f'mfa_{uuid.uuid4().hex[:12]}', f'pw-{uuid.uuid4().hex}'
    assert client.post('/auth/signup', json={'username': username, 'password': password}).status_code == 201
    tokens = client.post('/auth/login', json={'username': username, 'password': password}).json()
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    begun = client.post('/auth/mfa/totp', headers=bearer)
    assert begun.status_code == 200, begun.text
    totp = pyotp.TOTP(begun.json()['secret'])
    confirmed = client.post('/auth/mfa/totp/confirm', json={'code': totp.at(time.time() - 30)}, headers=bearer)
    assert confirmed.status_code == 200, confirmed.text
    return Enrolled(username, password, totp, confirmed.json()['recovery_codes'], tokens['access_token'], client)


@pytest.fixture(scope='module')
def mfa_attacker(hostile_server: ExampleServer) -> Iterator[Attacker]:
    with closing(Attacker(hostile_server.url, hostile_server.port)) as attacker:
        attacker.http.close()
        attacker.http = _client(hostile_server, next(_attacker_addresses))
        yield attacker


@pytest.fixture(scope='module')
def alice(hostile_server: ExampleServer) -> Iterator[Enrolled]:
    user = enrol(hostile_server)
    with closing(user.client):
        yield user


@pytest.fixture(scope='module')
def bob(hostile_server: ExampleServer) -> Iterator[Enrolled]:
    user = enrol(hostile_server)
    with closing(user.client):
        yield user


@pytest.fixture(scope='module')
def brute_force_target(hostile_server: ExampleServer) -> Iterator[Enrolled]:
    user = enrol(hostile_server)
    with closing(user.client):
        yield user


def session_claims(token: str) -> dict:
    return jwt.decode(token, options={'verify_signature': False})


# -- brute force and replays -------------------------------------------------------------------------


@given(code=st.from_regex(r'[0-9]{6}', fullmatch=True))
def test_guessed_codes_never_log_in(mfa_attacker: Attacker, brute_force_target: Enrolled, code: str) -> None:
    """The attacker knows the password; the throttle stops the guessing long before a code could be found."""
    token = _MFA_TOKENS.setdefault('brute', brute_force_target.mfa_token())
    response = mfa_attacker.http_request(
        'mfa: guessed code', 'POST', '/auth/login/mfa', json={'mfa_token': token, 'code': code}
    )
    assert response.status_code in (401, 429), response.text


_MFA_TOKENS: dict[str, str] = {}


def test_the_brute_force_was_throttled(mfa_attacker: Attacker, brute_force_target: Enrolled) -> None:
    token = _MFA_TOKENS.get('brute') or brute_force_target.mfa_token()
    code = brute_force_target.totp.now()
    response = mfa_attacker.http_request(
        'mfa: right code after guesses', 'POST', '/auth/login/mfa', json={'mfa_token': token, 'code': code}
    )
    assert response.status_code == 429


@given(code=st.from_regex(r'[0-9]{6}', fullmatch=True))
def test_guessed_codes_never_remove_a_factor(mfa_attacker: Attacker, bob: Enrolled, code: str) -> None:
    """A stolen fresh access token is no way to try every code: removal is throttled like a login."""
    response = mfa_attacker.http_request(
        'mfa: guessed code to remove the factor', 'DELETE', '/auth/mfa/totp', json={'code': code}, headers=bob.bearer
    )
    assert response.status_code in (400, 429), response.text


def test_a_replayed_code_is_refused(mfa_attacker: Attacker, alice: Enrolled) -> None:
    code = alice.totp.now()
    first = alice.client.post('/auth/login/mfa', json={'mfa_token': alice.mfa_token(), 'code': code})
    assert first.status_code == 200, first.text
    again = mfa_attacker.http_request(
        'mfa: replayed code', 'POST', '/auth/login/mfa', json={'mfa_token': alice.mfa_token(), 'code': code}
    )
    assert again.status_code == 401


def test_a_spent_mfa_token_is_refused(mfa_attacker: Attacker, alice: Enrolled) -> None:
    token = alice.mfa_token()
    used = alice.client.post('/auth/login/mfa', json={'mfa_token': token, 'recovery_code': alice.recovery_codes.pop()})
    assert used.status_code == 200, used.text
    again = mfa_attacker.http_request(
        'mfa: spent mfa_token',
        'POST',
        '/auth/login/mfa',
        json={'mfa_token': token, 'recovery_code': alice.recovery_codes[0]},
    )
    assert again.status_code == 401


def test_a_used_recovery_code_is_refused(mfa_attacker: Attacker, alice: Enrolled) -> None:
    code = alice.recovery_codes.pop()
    assert (
        alice.client.post('/auth/login/mfa', json={'mfa_token': alice.mfa_token(), 'recovery_code': code}).status_code
        == 200
    )
    again = mfa_attacker.http_request(
        'mfa: reused recovery code',
        'POST',
        '/auth/login/mfa',
        json={'mfa_token': alice.mfa_token(), 'recovery_code': code},
    )
    assert again.status_code == 401


# -- misused mfa_tokens ---------------------------------------------------------------------------------


def test_an_mfa_token_does_not_take_another_users_code(mfa_attacker: Attacker, alice: Enrolled, bob: Enrolled) -> None:
    for token, code in ((alice.mfa_token(), bob.totp.now()), (bob.mfa_token(), alice.recovery_codes[0])):
        field = 'code' if len(code) == 6 else 'recovery_code'
        response = mfa_attacker.http_request(
            'mfa: mfa_token swapped between users', 'POST', '/auth/login/mfa', json={'mfa_token': token, field: code}
        )
        assert response.status_code in (401, 429)  # 429: bob's name is throttled from here by the guesses above


@given(token=st.one_of(st.from_regex(r'[A-Za-z0-9_-]{43}', fullmatch=True), st.text(max_size=200)))
def test_forged_mfa_tokens_are_refused(mfa_attacker: Attacker, token: str) -> None:
    response = mfa_attacker.http_request(
        'mfa: forged mfa_token', 'POST', '/auth/login/mfa', json={'mfa_token': token, 'code': '123456'}
    )
    assert response.status_code in (401, 422)


@pytest.mark.parametrize('path', ['/auth/me', '/auth/mfa', '/auth/sessions', '/whoami'])
def test_an_mfa_token_is_never_an_access_token(mfa_attacker: Attacker, alice: Enrolled, path: str) -> None:
    token = alice.mfa_token()
    mfa_attacker.protected('mfa: mfa_token as bearer', 'GET', path, headers={'Authorization': f'Bearer {token}'})
    mfa_attacker.protected('mfa: mfa_token as cookie', 'GET', path, headers={'Cookie': f'access_token={token}'})


# -- step-up bypasses -----------------------------------------------------------------------------------


STALE_AUTH_TIMES = st.one_of(
    st.none(),
    st.integers(max_value=int(time.time()) - 301),
    st.sampled_from(['now', str(int(time.time())), [int(time.time())], {'t': 1}, True, 1e400, float('nan')]),
)


@given(auth_time=STALE_AUTH_TIMES, route=st.sampled_from(STEP_UP_ROUTES))
def test_a_stale_or_forged_auth_time_never_passes_step_up(
    mfa_attacker: Attacker, alice: Enrolled, secret_key: str, auth_time: object, route: tuple[str, str]
) -> None:
    """Even signed with the server's own key, on a live session: an old ``auth_time`` is not a recent login."""
    claims = session_claims(alice.access_token)
    claims.pop('auth_time')
    if auth_time is not None:
        claims['auth_time'] = auth_time
    try:
        token = jwt.encode(claims, secret_key, algorithm='HS256')
    except (TypeError, ValueError):  # a value JSON cannot hold
        return
    method, path = route
    response = mfa_attacker.http_request(
        'mfa: stale step-up', method, path, json={'code': '000000'}, headers={'Authorization': f'Bearer {token}'}
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize('method, path', STEP_UP_ROUTES)
def test_a_fresh_token_signed_with_another_key_never_passes_step_up(
    mfa_attacker: Attacker, alice: Enrolled, method: str, path: str
) -> None:
    claims = {**session_claims(alice.access_token), 'auth_time': int(time.time())}
    token = jwt.encode(claims, 'not-the-server-key-' + 'x' * 32, algorithm='HS256')
    mfa_attacker.protected('mfa: forged fresh token', method, path, headers={'Authorization': f'Bearer {token}'})


@given(password=st.text(min_size=1, max_size=100))
def test_guessed_passwords_never_reauthenticate(mfa_attacker: Attacker, bob: Enrolled, password: str) -> None:
    response = mfa_attacker.http_request(
        'mfa: guessed reauthentication password',
        'POST',
        '/auth/reauthenticate',
        json={'password': password},
        headers=bob.bearer,
    )
    assert response.status_code in (401, 429), response.text


# -- junk ---------------------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        'mfa_token': JSON,
        'code': JSON,
        'recovery_code': JSON,
        'password': JSON,
    },
)
ROUTES = st.sampled_from(
    [
        ('POST', '/auth/login/mfa'),
        ('POST', '/auth/reauthenticate'),
        ('POST', '/auth/mfa/totp/confirm'),
        ('DELETE', '/auth/mfa/totp'),
        ('POST', '/auth/mfa/recovery-codes'),
        ('GET', '/auth/mfa'),
    ]
)


@given(route=ROUTES, body=st.one_of(FIELDS, JSON), authenticated=st.booleans())
def test_junk_bodies_never_break_the_mfa_routes(
    mfa_attacker: Attacker, bob: Enrolled, route: tuple[str, str], body: object, authenticated: bool
) -> None:
    method, path = route
    headers = bob.bearer if authenticated else {}
    response = mfa_attacker.http_request('mfa: junk body', method, path, json=body, headers=headers)
    assert response.status_code in (200, 400, 401, 422, 429), response.text
    if response.status_code == 200:  # the routes that need no body: never a bypass
        assert authenticated and path in ('/auth/mfa', '/auth/mfa/recovery-codes'), (path, body)


@given(raw=st.binary(max_size=300), route=ROUTES)
def test_junk_bytes_never_break_the_mfa_routes(mfa_attacker: Attacker, raw: bytes, route: tuple[str, str]) -> None:
    method, path = route
    response = mfa_attacker.http_request(
        'mfa: junk bytes', method, path, content=raw, headers={'Content-Type': 'application/json'}
    )
    assert response.status_code in (400, 401, 422, 429), response.text
