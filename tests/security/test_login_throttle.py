"""Login abuse: failed password checks are limited per username and per client address, across workers.

The end-to-end tests run the example with two uvicorn workers and small
limits (3 failures per username, 6 per address, a 3-second window), with
the counters in the database or in Redis. Each test logs in from its own
loopback address (127.0.0.N), so the per-address counters of different
tests never meet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from panther_like.db import open_database
from panther_like.exceptions import ConfigError
from panther_like.redis_connection import RedisConnection
from panther_like.settings import ThrottleSettings
from panther_like.settings import throttle_settings as settings_from
from panther_like.throttle import DatabaseThrottleStore, RedisThrottleStore
from tests.e2e.helpers import signup, unique_username
from tests.e2e.server import ExampleServer, launch
from tests.servers import fresh_database_url

MAX_FAILURES = 3
MAX_PER_ADDRESS = 6
WINDOW = 3
_addresses = (f'127.0.0.{n}' for n in itertools.count(10))


@pytest.fixture(scope='module', params=['database', 'redis'])
def throttled_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[ExampleServer]:
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    yield from launch(tmp_path_factory, f'throttle_{request.param}', redis_url=redis_url, workers=2, extra_env={
        'LOGIN_MAX_FAILURES': str(MAX_FAILURES), 'LOGIN_MAX_FAILURES_PER_ADDRESS': str(MAX_PER_ADDRESS),
        'LOGIN_THROTTLE_WINDOW': str(WINDOW),
    })


class Client:
    """Fresh connections (so either worker may answer) from one loopback address of this test's own."""

    def __init__(self, server: ExampleServer) -> None:
        self.server = server
        self.address = next(_addresses)
        self.workers: set[int] = set()

    def login(self, username: str, password: str) -> httpx.Response:
        transport = httpx.HTTPTransport(local_address=self.address)
        with httpx.Client(base_url=self.server.url, transport=transport, timeout=10.0) as client:
            response = client.post('/auth/login', json={'username': username, 'password': password})
            self.workers.add(self.server.serving_pid(response))
            return response


def new_account(server: ExampleServer) -> tuple[str, str]:
    with server.client() as client:
        username, password, _ = signup(client, 'throttle')
    return username, password


def assert_throttled(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert set(response.json()) == {'detail'}
    retry_after = int(response.headers['retry-after'])
    assert 1 <= retry_after <= WINDOW
    return retry_after


@pytest.mark.server
def test_failures_beyond_the_limit_per_username_get_429_with_retry_after(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    client = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert client.login(username, 'wrong').status_code == 401
    assert_throttled(client.login(username, password))  # even the right password: no check is made


@pytest.mark.server
def test_the_username_limit_holds_on_every_worker(throttled_server: ExampleServer) -> None:
    username, _ = new_account(throttled_server)
    failing = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert failing.login(username, 'wrong').status_code == 401
    refused = Client(throttled_server)
    for _ in range(40):
        assert_throttled(refused.login(username, 'wrong'))
        if refused.workers == throttled_server.worker_pids():
            break
    assert refused.workers == throttled_server.worker_pids()


@pytest.mark.server
def test_the_username_limit_is_shared_by_every_address(throttled_server: ExampleServer) -> None:
    username, _ = new_account(throttled_server)
    for _ in range(MAX_FAILURES):
        assert Client(throttled_server).login(username, 'wrong').status_code == 401
    assert_throttled(Client(throttled_server).login(username, 'wrong'))


@pytest.mark.server
def test_unknown_usernames_are_throttled_like_known_ones(throttled_server: ExampleServer) -> None:
    """Same answers for both, so the limit cannot be used to find out which usernames exist."""
    client = Client(throttled_server)
    username = unique_username('ghost')
    for _ in range(MAX_FAILURES):
        assert client.login(username, 'wrong').status_code == 401
    assert_throttled(client.login(username, 'wrong'))


@pytest.mark.server
def test_the_limit_lifts_when_the_window_has_passed(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    client = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        client.login(username, 'wrong')
    retry_after = assert_throttled(client.login(username, password))
    time.sleep(retry_after + 0.2)
    assert client.login(username, password).status_code == 200


@pytest.mark.server
def test_a_successful_login_starts_the_username_count_over(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    client = Client(throttled_server)
    for _ in range(MAX_FAILURES - 1):
        assert client.login(username, 'wrong').status_code == 401
    assert client.login(username, password).status_code == 200
    for _ in range(MAX_FAILURES):
        assert client.login(username, 'wrong').status_code == 401


@pytest.mark.server
def test_failures_per_address_are_limited_across_usernames(throttled_server: ExampleServer) -> None:
    client = Client(throttled_server)
    for _ in range(MAX_PER_ADDRESS):
        assert client.login(unique_username('spray'), 'wrong').status_code == 401
    assert_throttled(client.login(unique_username('spray'), 'wrong'))
    assert Client(throttled_server).login(unique_username('spray'), 'wrong').status_code == 401  # other address


@pytest.mark.server
def test_concurrent_guesses_get_no_more_checks_than_the_limit(throttled_server: ExampleServer) -> None:
    username, _ = new_account(throttled_server)
    clients = [Client(throttled_server) for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda c: c.login(username, 'wrong').status_code, clients))
    assert statuses.count(401) <= MAX_FAILURES, statuses
    assert set(statuses) <= {401, 429}


# -- the setting ------------------------------------------------------------------------------


def test_the_setting_defaults_when_absent() -> None:
    assert settings_from(None) == ThrottleSettings(max_failures=5, max_failures_per_address=50, window=300)


def test_the_setting_false_turns_throttling_off() -> None:
    assert settings_from(False) is None


def test_the_setting_accepts_a_timedelta_window() -> None:
    assert settings_from({'window': timedelta(minutes=1)}).window == 60


@pytest.mark.parametrize('value', [{'max_failures': 0}, {'max_failures': -1}, {'window': '300'},
                                   {'max_failures_per_address': True}, {'window': timedelta(seconds=0.5)},
                                   {'max_failure': 5}, 'strict', 5])
def test_a_wrong_setting_is_a_config_error_naming_it(value) -> None:
    with pytest.raises(ConfigError, match='LOGIN_THROTTLE'):
        settings_from(value)


def test_a_misspelled_setting_name_is_a_config_error() -> None:
    from panther_like import config
    from tests.settings import settings_module

    with pytest.raises(ConfigError, match="did you mean 'LOGIN_THROTTLE'"):
        config.load(settings_module(LOGIN_THROTLE={'max_failures': 3}))


# -- the stores -------------------------------------------------------------------------------


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
async def store(request: pytest.FixtureRequest, tmp_path):
    if request.param == 'redis':
        redis = RedisConnection(request.getfixturevalue('redis_url'))
        yield RedisThrottleStore(redis)
        await redis.close()
        return
    if request.param == 'embedded':
        database = open_database({'path': str(tmp_path / 'store.sqlite3')})
    else:
        database = open_database({'url': fresh_database_url(request.getfixturevalue('mongodb_url'))})
    yield DatabaseThrottleStore(database)
    await database.close()


async def test_a_store_counts_hits_per_key(store) -> None:
    key = unique_username('k')
    assert (await store.hit(key, 60))[0] == 1
    assert (await store.hit(key, 60))[0] == 2
    assert (await store.hit(unique_username('other'), 60))[0] == 1


async def test_a_store_forgets_an_undone_hit(store) -> None:
    key = unique_username('k')
    await store.hit(key, 60)
    _, receipt = await store.hit(key, 60)
    await store.undo(key, receipt)
    assert (await store.hit(key, 60))[0] == 2


async def test_a_store_forgets_hits_after_the_window(store) -> None:
    key = unique_username('k')
    await store.hit(key, 1)
    await store.hit(key, 1)
    await asyncio.sleep(1.3)
    assert (await store.hit(key, 1))[0] == 1


async def test_a_store_clear_forgets_every_hit(store) -> None:
    key = unique_username('k')
    await store.hit(key, 60)
    await store.clear(key)
    assert (await store.hit(key, 60))[0] == 1


async def test_a_store_retry_after_is_within_the_window(store) -> None:
    key = unique_username('k')
    for _ in range(3):
        await store.hit(key, 30)
    assert 1 <= await store.retry_after(key, 3) <= 30
