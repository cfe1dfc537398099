"""Login abuse through a real uvicorn with two workers: what the guessing address, the owner and every worker see.

The example runs with small limits (3 failures per username from one
address, 6 per address, a 3-second window) and the default slowdown (10
failures per username within an hour, then 1 s, 2 s, 4 s ... between
failures), with the counters in the database or in Redis. Each client
logs in from its own loopback address (127.0.0.N), so the per-address
counters of different tests never meet. What a guesser gets over an hour
is measured with a manual clock in tests/test_login_slowdown.py.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from panther_like.db import open_database
from panther_like.exceptions import ConfigError
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.login_state.throttle import DatabaseThrottleStore, RedisThrottleStore
from panther_like.settings.checks import ThrottleSettings
from panther_like.settings.checks import throttle_settings as settings_from
from tests.clock import ManualClock
from tests.e2e.helpers import signup, unique_username
from tests.e2e.server import ExampleServer, launch
from tests.servers import fresh_database_url

MAX_FAILURES = 3
MAX_PER_ADDRESS = 6
WINDOW = 3
SLOW_DOWN_AFTER = ThrottleSettings().slow_down_after
_addresses = (f'127.0.{n // 250}.{n % 250 + 2}' for n in itertools.count(10))


@pytest.fixture(scope='module', params=['database', 'redis'])
def throttled_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    yield from launch(
        tmp_path_factory,
        f'throttle_{request.param}',
        redis_url=redis_url,
        workers=2,
        extra_env={
            'LOGIN_MAX_FAILURES': str(MAX_FAILURES),
            'LOGIN_MAX_FAILURES_PER_ADDRESS': str(MAX_PER_ADDRESS),
            'LOGIN_THROTTLE_WINDOW': str(WINDOW),
        },
    )


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


def assert_throttled(response: httpx.Response, most: int = WINDOW) -> int:
    assert response.status_code == 429, response.text
    assert set(response.json()) == {'detail'}
    retry_after = int(response.headers['retry-after'])
    assert 1 <= retry_after <= most
    return retry_after


def slow_down(server: ExampleServer, username: str) -> None:
    """The username's free failures, from as few addresses as the per-address limit allows."""
    for failure in range(SLOW_DOWN_AFTER):
        if failure % MAX_FAILURES == 0:
            guesser = Client(server)
        assert guesser.login(username, 'wrong').status_code == 401


# -- the address that guesses -----------------------------------------------------------------


@pytest.mark.server
def test_the_guessing_address_gets_429_for_that_username_even_with_the_right_password(
    throttled_server: ExampleServer,
) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert guesser.login(username, 'wrong').status_code == 401
    assert_throttled(guesser.login(username, password))  # a right guess teaches it nothing


@pytest.mark.server
def test_the_owner_gets_in_from_another_address_meanwhile(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert guesser.login(username, 'wrong').status_code == 401
    assert Client(throttled_server).login(username, password).status_code == 200
    assert_throttled(guesser.login(username, password))


@pytest.mark.server
def test_the_guessing_address_is_refused_by_every_worker(throttled_server: ExampleServer) -> None:
    username, _ = new_account(throttled_server)
    guesser = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        assert guesser.login(username, 'wrong').status_code == 401
    guesser.workers.clear()
    for _ in range(40):
        assert_throttled(guesser.login(username, 'wrong'))
        if guesser.workers == throttled_server.worker_pids():
            break
    assert guesser.workers == throttled_server.worker_pids()


@pytest.mark.server
def test_unknown_usernames_are_throttled_like_known_ones(throttled_server: ExampleServer) -> None:
    """Same answers for both, so the limit cannot be used to find out which usernames exist."""
    client = Client(throttled_server)
    username = unique_username('ghost')
    for _ in range(MAX_FAILURES):
        assert client.login(username, 'wrong').status_code == 401
    assert_throttled(client.login(username, 'wrong'))


@pytest.mark.server
def test_the_address_gets_its_turn_back_when_the_window_has_passed(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    client = Client(throttled_server)
    for _ in range(MAX_FAILURES):
        client.login(username, 'wrong')
    retry_after = assert_throttled(client.login(username, password))
    time.sleep(retry_after + 0.2)
    assert client.login(username, password).status_code == 200


@pytest.mark.server
def test_a_successful_login_starts_the_address_over_for_that_username(throttled_server: ExampleServer) -> None:
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
def test_concurrent_guesses_from_one_address_get_no_more_checks_than_its_limit(
    throttled_server: ExampleServer,
) -> None:
    username, _ = new_account(throttled_server)
    guesser = Client(throttled_server)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: guesser.login(username, 'wrong').status_code, range(16)))
    assert statuses.count(401) <= MAX_FAILURES, statuses
    assert set(statuses) <= {401, 429}


# -- the username, from every address ---------------------------------------------------------


def guess_until_slowed(server: ExampleServer, username: str, wait: int = 4) -> list[int]:
    """Guess from new addresses, coming back when told, until new addresses must wait `wait` s; the waits told."""
    slow_down(server, username)
    told: list[int] = []
    while not told or told[-1] < wait:
        response = Client(server).login(username, 'wrong')
        if response.status_code != 401:
            told.append(assert_throttled(response, most=wait))
            if told[-1] < wait:
                time.sleep(told[-1])
    return told


@pytest.mark.server
def test_failures_from_many_addresses_make_the_next_wait_twice_as_long(throttled_server: ExampleServer) -> None:
    username, _ = new_account(throttled_server)
    assert guess_until_slowed(throttled_server, username) == [1, 2, 4]


@pytest.mark.server
def test_the_slowdown_holds_on_every_worker(throttled_server: ExampleServer) -> None:
    username, _ = new_account(throttled_server)
    guess_until_slowed(throttled_server, username)
    refused_by: set[int] = set()
    for _ in range(40):
        guesser = Client(throttled_server)
        assert_throttled(guesser.login(username, 'wrong'), most=4)
        refused_by |= guesser.workers
        if refused_by == throttled_server.worker_pids():
            break
    assert refused_by == throttled_server.worker_pids()


@pytest.mark.server
def test_the_address_the_owner_logged_in_from_is_not_slowed(throttled_server: ExampleServer) -> None:
    username, password = new_account(throttled_server)
    home = Client(throttled_server)
    assert home.login(username, password).status_code == 200
    guess_until_slowed(throttled_server, username)
    assert_throttled(Client(throttled_server).login(username, password), most=4)  # a new address waits
    assert home.login(username, password).status_code == 200


@pytest.mark.server
def test_concurrent_guesses_from_many_addresses_get_no_more_checks_than_the_free_failures(
    throttled_server: ExampleServer,
) -> None:
    username, _ = new_account(throttled_server)
    guessers = [Client(throttled_server) for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda guesser: guesser.login(username, 'wrong').status_code, guessers))
    assert statuses.count(401) <= SLOW_DOWN_AFTER, statuses
    assert set(statuses) <= {401, 429}


# -- the setting ------------------------------------------------------------------------------


def test_the_setting_defaults_when_absent() -> None:
    assert settings_from(None) == ThrottleSettings(
        max_failures=5,
        max_failures_per_address=50,
        window=300,
        slow_down_after=10,
        max_delay=30,
        known_address_ttl=30 * 24 * 3600,
    )


def test_the_setting_false_turns_throttling_off() -> None:
    assert settings_from(False) is None


def test_the_setting_accepts_timedeltas_for_durations() -> None:
    value = settings_from(
        {'window': timedelta(minutes=1), 'max_delay': timedelta(seconds=20), 'known_address_ttl': timedelta(days=7)}
    )
    assert (value.window, value.max_delay, value.known_address_ttl) == (60, 20, 7 * 24 * 3600)


def test_the_setting_known_address_ttl_0_remembers_no_address() -> None:
    assert settings_from({'known_address_ttl': 0}).known_address_ttl == 0


@pytest.mark.parametrize(
    'value',
    [
        {'max_failures': 0},
        {'max_failures': -1},
        {'window': '300'},
        {'max_failures_per_address': True},
        {'window': timedelta(seconds=0.5)},
        {'slow_down_after': 0},
        {'max_delay': 0},
        {'max_delay': 3601},
        {'known_address_ttl': -1},
        {'known_address_ttl': None},
        {'max_failure': 5},
        'strict',
        5,
    ],
)
def test_a_wrong_setting_is_a_config_error_naming_it(value) -> None:
    with pytest.raises(ConfigError, match='LOGIN_THROTTLE'):
        settings_from(value)


def test_a_misspelled_setting_name_is_a_config_error() -> None:
    from panther_like.settings import config
    from tests.settings import settings_module

    with pytest.raises(ConfigError, match="did you mean 'LOGIN_THROTTLE'"):
        config.load(settings_module(LOGIN_THROTLE={'max_failures': 3}))


# -- the stores -------------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
async def store(request: pytest.FixtureRequest, tmp_path, clock: ManualClock):
    if request.param == 'redis':
        redis = RedisConnection(request.getfixturevalue('redis_url'))
        yield RedisThrottleStore(redis, clock=clock)
        await redis.close()
        return
    if request.param == 'embedded':
        database = open_database({'path': str(tmp_path / 'store.sqlite3')})
    else:
        database = open_database({'url': fresh_database_url(request.getfixturevalue('mongodb_url'))})
    yield DatabaseThrottleStore(database, clock=clock)
    await database.close()


async def test_a_store_counts_hits_per_key(store) -> None:
    key = unique_username('k')
    assert (await store.hit(key, 60)).count == 1
    assert (await store.hit(key, 60)).count == 2
    assert (await store.hit(unique_username('other'), 60)).count == 1


async def test_a_store_tells_when_the_latest_other_hit_was(store, clock) -> None:
    key = unique_username('k')
    first = await store.hit(key, 60)
    assert first.latest_other is None
    clock.advance(7)
    second = await store.hit(key, 60)
    assert second.latest_other == first.at and second.at == first.at + 7


async def test_a_store_forgets_an_undone_hit(store) -> None:
    key = unique_username('k')
    await store.hit(key, 60)
    receipt = (await store.hit(key, 60)).receipt
    await store.undo(key, receipt)
    assert (await store.hit(key, 60)).count == 2


async def test_a_store_forgets_hits_once_they_leave_the_window(store, clock) -> None:
    key = unique_username('k')
    await store.hit(key, 10)
    clock.advance(6)
    await store.hit(key, 10)
    clock.advance(4)
    assert (await store.hit(key, 10)).count == 2  # the first has left; the second is 4 s old


async def test_a_store_clear_forgets_every_hit(store) -> None:
    key = unique_username('k')
    await store.hit(key, 60)
    await store.clear(key)
    assert (await store.hit(key, 60)).count == 1


async def test_a_store_retry_after_is_when_the_oldest_hit_over_the_limit_leaves(store, clock) -> None:
    key = unique_username('k')
    for _ in range(3):
        await store.hit(key, 30)
        clock.advance(5)
    # Hits at 0, 5 and 10 s; it is now 15 s. The first leaves at 30 s; for fewer than two, the second must (35 s).
    assert await store.retry_after(key, 3, 30) == 15
    assert await store.retry_after(key, 2, 30) == 20


async def test_a_store_remembers_a_key_until_its_ttl(store) -> None:
    key = unique_username('k')
    assert not await store.remembers(key)
    await store.remember(key, 60)
    await store.remember(key, 60)  # again: renewed, not an error
    assert await store.remembers(key)
