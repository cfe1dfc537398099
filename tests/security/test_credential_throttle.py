"""Basic routes and signup are throttled like ``/auth/login``, through a real uvicorn with two workers.

``GET /basic/me`` checks an account's username and password (`UserBasic`,
an `HttpBasicAuth`) on every request; ``GET /basic/unthrottled`` is the
same object with ``throttle=False``. The server is the login throttle
tests' (3 failures per username from one address, 6 per address, a
3-second window; counters in the embedded store, MongoDB or Redis), and each client
has a loopback address of its own.

``POST /auth/signup`` answers a taken username with 409, which tells that
the account exists: each 409 counts against the address's limit (6 here),
then 429; a signup that creates an account is not counted.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import basic, unique_username
from tests.e2e.server import ExampleServer, launch
from tests.security.test_login_throttle import (
    MAX_FAILURES,
    MAX_PER_ADDRESS,
    WINDOW,
    Client,
    assert_throttled,
    new_account,
)

pytestmark = pytest.mark.server


@pytest.fixture(scope='module', params=['embedded', 'mongodb', 'redis'])
def throttled_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    """Counters in the embedded store, in MongoDB (users there too), or in Redis (users in the embedded store)."""
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    mongodb_url = request.getfixturevalue('mongodb_url') if request.param == 'mongodb' else None
    yield from launch(
        tmp_path_factory,
        f'basic_throttle_{request.param}',
        redis_url=redis_url,
        mongodb_url=mongodb_url,
        workers=2,
        extra_env={
            'LOGIN_MAX_FAILURES': str(MAX_FAILURES),
            'LOGIN_MAX_FAILURES_PER_ADDRESS': str(MAX_PER_ADDRESS),
            'LOGIN_THROTTLE_WINDOW': str(WINDOW),
        },
    )


def get(client: Client, path: str, username: str, password: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=client.address)
    with httpx.Client(base_url=client.server.url, transport=transport, timeout=10.0) as http:
        return http.get(path, headers=basic(username, password))


def test_wrong_basic_passwords_get_429_then_even_the_right_one_does(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        response = get(guesser, '/basic/me', username, 'wrong')
        assert response.status_code == 401, response.text
        assert response.headers['www-authenticate'].startswith('Basic')
    assert_throttled(get(guesser, '/basic/me', username, 'wrong'))
    assert_throttled(get(guesser, '/basic/me', username, password))


def test_wrong_basic_passwords_lock_the_login_route_for_that_address(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert get(guesser, '/basic/me', username, 'wrong').status_code == 401
    assert_throttled(guesser.login(username, password))


def test_wrong_logins_lock_the_basic_route_for_that_address(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert guesser.login(username, 'wrong').status_code == 401
    assert_throttled(get(guesser, '/basic/me', username, password))


def test_the_basic_username_is_counted_by_its_canonical_key(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert get(guesser, '/basic/me', username.upper(), 'wrong').status_code == 401
    assert_throttled(guesser.login(username, password))


def test_the_right_basic_password_starts_the_address_over(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    owner = Client(throttled_server)
    for _ in range(MAX_FAILURES - 1):
        assert get(owner, '/basic/me', username, 'typo').status_code == 401
    response = get(owner, '/basic/me', username, password)
    assert response.status_code == 200, response.text
    assert response.json()['username'] == username
    for _ in range(MAX_FAILURES):
        assert get(owner, '/basic/me', username, 'typo').status_code == 401


def test_the_owner_gets_in_through_basic_from_another_address_meanwhile(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        get(guesser, '/basic/me', username, 'wrong')
    assert get(Client(throttled_server), '/basic/me', username, password).status_code == 200


def test_a_basic_object_with_throttle_false_is_not_counted(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    client = Client(throttled_server)
    for _ in range(MAX_FAILURES * 3):
        assert get(client, '/basic/unthrottled', username, 'wrong').status_code == 401
    assert get(client, '/basic/unthrottled', username, password).status_code == 200
    assert client.login(username, password).status_code == 200  # nothing was counted for the login either


def signup(client: Client, username: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=client.address)
    with httpx.Client(base_url=client.server.url, transport=transport, timeout=10.0) as http:
        return http.post('/auth/signup', json={'username': username, 'password': 'a long enough passphrase'})


def test_taken_usernames_get_429_once_the_address_is_over_its_limit(throttled_server: ExampleServer) -> None:
    taken = [new_account(throttled_server)[0] for _ in range(2)]
    prober = Client(throttled_server)
    for attempt in range(MAX_PER_ADDRESS):
        response = signup(prober, taken[attempt % 2].upper())
        assert response.status_code == 409, response.text
    assert_throttled(signup(prober, taken[0]))
    assert_throttled(signup(prober, unique_username('new')))  # the address is refused, whatever it asks
    assert signup(Client(throttled_server), taken[0]).status_code == 409  # another address is not


def test_signups_that_create_an_account_are_not_counted(throttled_server: ExampleServer) -> None:
    client = Client(throttled_server)
    for _ in range(MAX_PER_ADDRESS * 2):
        response = signup(client, unique_username('fresh'))
        assert response.status_code == 201, response.text
    taken = new_account(throttled_server)[0]
    assert signup(client, taken).status_code == 409
