"""NUL, control characters and operator-shaped JSON at every place a client can put them, on a real uvicorn.

The example project (account routes at ``/auth/``), once per store layout: the embedded store, and
MongoDB with Redis. Every request goes through `Attacker` (no 5xx, no traceback, a JSON ``detail``)
and is counted in categories ``store.*``. Each family then checks what must not have happened: no
login succeeded, no account was made under a poisoned name, the victim's account is unchanged, and
no refusal echoed the probe.

Probes: strings holding NUL (alone, leading, trailing, in the middle of the victim's username),
control and invisible characters (C0, DEL, C1, bidi override, zero-width, line separator), and
operator-shaped values (``{"$ne": null}``, ``{"$gt": ""}``, ``{"$regex": ".*"}``, ``{"$in": [...]}``,
lists, nested dicts). Places: every field of signup, login, refresh, ``PATCH me``, password change,
forgot and reset password, e-mail verification, a path parameter, and the query strings of
authenticated and public routes.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.helpers import User, launch_per_store_layout, login
from tests.e2e.server import ExampleServer
from tests.security.attack import Attacker

pytestmark = pytest.mark.server

PASSWORD = 'store-attacks passphrase'


@pytest.fixture(scope='module', params=['embedded', 'mongodb-redis'])
def store_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    # The per-address limit is raised so the probes reach the store instead of a 429; the throttle has its own tests.
    yield from launch_per_store_layout(
        request, tmp_path_factory, 'store', extra_env={'LOGIN_MAX_FAILURES_PER_ADDRESS': '1000000'}
    )


@pytest.fixture(scope='module')
def hostile(store_server: ExampleServer) -> Iterator[Attacker]:
    with closing(Attacker(store_server.url, store_server.port)) as attacker:
        yield attacker


@pytest.fixture(scope='module')
def victim(store_server: ExampleServer) -> User:
    username = f'root{uuid.uuid4().hex[:8]}'
    with store_server.client() as client:
        created = client.post('/auth/signup', json={'username': username, 'password': PASSWORD})
        assert created.status_code == 201, created.text
        tokens = login(client, username, PASSWORD)
    return User(created.json()['id'], username, PASSWORD, tokens['access_token'], tokens['refresh_token'])


def nul_strings(name: str) -> list[str]:
    return [
        f'{name}\x00',
        f'{name}\x00pwned',
        f'\x00{name}',
        '\x00',
        f'{name[:2]}\x00{name[2:]}',
        f'{name}@example.com\x00.evil',
    ]


def control_strings(name: str) -> list[str]:
    return [
        f'{name}\x01',
        f'{name}\x1b[0m',
        f'{name}\x7f',
        f'{name}\x85',
        f'{name}\u202e',
        f'\u200b{name}',
        f'{name}\u2028',
        f'{name}\ufeff',
    ]


def operator_values(name: str) -> list[Any]:
    return [
        {'$ne': None},
        {'$gt': ''},
        {'$regex': '.*'},
        {'$in': [name]},
        {'$nin': []},
        {'$exists': True},
        {'$where': 'true'},
        [name],
        [{'$ne': None}],
        {},
        {'username': {'$ne': None}},
        {'$gt': {'$ne': 1}},
    ]


def probes(name: str) -> list[tuple[str, Any]]:
    """(family, value) pairs: the same list for every place."""
    return (
        [('nul', value) for value in nul_strings(name)]
        + [('control', value) for value in control_strings(name)]
        + [('operator', value) for value in operator_values(name)]
    )


def _no_echo(response: httpx.Response) -> None:
    assert '\\u0000' not in response.text and '\x00' not in response.text, response.text
    assert '$ne' not in response.text and '$regex' not in response.text, response.text


def assert_victim_intact(server: ExampleServer, victim: User) -> None:
    """The victim's session still works and its account is as it was created."""
    with server.client() as client:
        me = client.get('/auth/me', headers=victim.bearer)
    assert me.status_code == 200, me.text
    assert me.json()['username'] == victim.username and me.json()['email'] is None


# -- signup --------------------------------------------------------------------------------------


def test_signup_refuses_poisoned_usernames_and_emails(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    for (family, value), field in itertools.product(probes(victim.username), ('username', 'email')):
        body = {'username': f'new{uuid.uuid4().hex[:8]}', 'password': PASSWORD, field: value}
        response = hostile.http_request(f'store.signup-{field}-{family}', 'POST', '/auth/signup', json=body)
        assert response.status_code in (400, 409, 422), (field, value, response.text)
        _no_echo(response)
    assert_victim_intact(store_server, victim)


def test_a_signup_after_a_nul_signup_gets_its_own_account(store_server: ExampleServer, hostile: Attacker) -> None:
    root = f'admin{uuid.uuid4().hex[:8]}'
    for value in nul_strings(root):
        response = hostile.http_request(
            'store.signup-nul-first',
            'POST',
            '/auth/signup',
            json={'username': value, 'password': 'the attacker passphrase'},
        )
        assert response.status_code in (400, 422), response.text
    with store_server.client() as client:
        created = client.post('/auth/signup', json={'username': root, 'password': PASSWORD})
        assert created.status_code == 201, created.text
        assert (
            client.post('/auth/login', json={'username': root, 'password': 'the attacker passphrase'}).status_code
            == 401
        )


# -- login and refresh ---------------------------------------------------------------------------


def test_no_login_succeeds_with_a_poisoned_username_or_password(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    # Its own target: wrong passwords lock a username out for a while (429), which is part of what is checked.
    target = f'login{uuid.uuid4().hex[:8]}'
    with store_server.client() as client:
        assert client.post('/auth/signup', json={'username': target, 'password': PASSWORD}).status_code == 201
    for family, value in probes(target):
        for body in ({'username': value, 'password': PASSWORD}, {'username': target, 'password': value}):
            response = hostile.http_request(f'store.login-{family}', 'POST', '/auth/login', json=body)
            assert response.status_code in (400, 401, 422, 429), (body, response.text)
            assert 'access_token' not in response.text
            _no_echo(response)
    assert_victim_intact(store_server, victim)


def test_no_refresh_succeeds_with_a_poisoned_token(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    for family, value in probes(victim.refresh_token):
        response = hostile.http_request(
            f'store.refresh-{family}', 'POST', '/auth/refresh', json={'refresh_token': value}
        )
        assert response.status_code in (400, 401, 403, 422), response.text
        assert 'access_token' not in response.text


# -- the account itself --------------------------------------------------------------------------


def test_patch_me_refuses_poisoned_values(store_server: ExampleServer, hostile: Attacker, victim: User) -> None:
    for family, value in probes(victim.username):
        for body in ({'email': value}, {'username': value}):
            response = hostile.http_request(
                f'store.patch-me-{family}', 'PATCH', '/auth/me', json=body, headers=victim.bearer
            )
            assert response.status_code in (400, 409, 422), (body, response.text)
            _no_echo(response)
        if isinstance(value, str):  # as a field name: refused as not editable (the name is shown escaped)
            response = hostile.http_request(
                f'store.patch-me-key-{family}', 'PATCH', '/auth/me', json={value: 'v'}, headers=victim.bearer
            )
            assert response.status_code == 400, response.text
    assert_victim_intact(store_server, victim)


def test_password_change_refuses_poisoned_current_passwords(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    for family, value in probes(PASSWORD):
        response = hostile.http_request(
            f'store.password-change-{family}',
            'POST',
            '/auth/password/change',
            json={'current_password': value, 'new_password': 'attacker passphrase 1'},
            headers=victim.bearer,
        )
        assert response.status_code in (400, 401, 403, 422, 429), response.text
    assert_victim_intact(store_server, victim)


# -- recovery ------------------------------------------------------------------------------------


def test_forgot_password_refuses_or_ignores_poisoned_accounts(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    for (family, value), field in itertools.product(probes(victim.username), ('username', 'email')):
        response = hostile.http_request(
            f'store.forgot-{field}-{family}', 'POST', '/auth/password/forgot', json={field: value}
        )
        assert response.status_code in (202, 400, 422, 429), (field, value, response.text)
        _no_echo(response)


def test_reset_and_verify_refuse_poisoned_tokens(store_server: ExampleServer, hostile: Attacker, victim: User) -> None:
    for family, value in probes('Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg'):
        for path, body in (
            ('/auth/password/reset', {'token': value, 'new_password': 'attacker passphrase 2'}),
            ('/auth/password/reset', {'token': 'x' * 43, 'new_password': value}),
            ('/auth/verify', {'token': value}),
        ):
            response = hostile.http_request(f'store.{path.rsplit("/", 1)[1]}-{family}', 'POST', path, json=body)
            assert response.status_code in (400, 422, 429), (path, body, response.text)
    assert_victim_intact(store_server, victim)


# -- path parameters and query strings -----------------------------------------------------------


def _brackets(prefix: str, value: Any) -> list[str]:
    """`value` in the bracket spelling some frameworks turn into dicts and lists: ``username[$ne]=``."""
    if isinstance(value, dict):
        pairs = [pair for key, item in value.items() for pair in _brackets(f'{prefix}[{key}]', item)]
        return pairs or [f'{prefix}[]=']
    if isinstance(value, list):
        return [pair for item in value for pair in _brackets(f'{prefix}[]', item)] or [f'{prefix}[]=']
    return [f'{quote(prefix, safe="[]$")}={quote("" if value is None else str(value))}']


def _query_strings(victim: User) -> list[str]:
    return [
        '&'.join(_brackets('username', value) + _brackets('email', value) + _brackets('id', value))
        for _, value in probes(victim.username)
    ]


def test_query_strings_with_poisoned_values_change_nothing(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    paths = ('/auth/me', '/auth/sessions', '/whoami', '/', f'/users/{victim.id}/')
    for query, path in itertools.product(_query_strings(victim), paths):
        response = hostile.http_request('store.query-string', 'GET', f'{path}?{query}', headers=victim.bearer)
        assert response.status_code in (200, 400, 401, 422), (path, query, response.text)
        if response.status_code == 200 and path in ('/auth/me', f'/users/{victim.id}/'):
            assert response.json()['id'] == victim.id  # the query string never picks another user


def test_a_poisoned_user_id_in_the_path_finds_nobody(
    store_server: ExampleServer, hostile: Attacker, victim: User
) -> None:
    for family, value in probes(victim.id):
        if not isinstance(value, str):
            value = str(value)
        response = hostile.http_request(
            f'store.path-{family}', 'GET', f'/users/{quote(value, safe="")}/', headers=victim.bearer
        )
        assert response.status_code in (400, 404, 422), (value, response.text)
        _no_echo(response)
