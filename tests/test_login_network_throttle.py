"""An IPv6 client's /48 is counted too: moving across its 65,536 /64s buys no fresh budget.

Real throttle stores (the embedded database, Redis), a `ManualClock`, bare ASGI scopes with the client
address each test chooses, as in tests/test_login_slowdown.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator

import pytest

from panther_like.db import open_database
from panther_like.http.request import Request
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.login_state.throttle import (
    DatabaseThrottleStore,
    LoginThrottle,
    RedisThrottleStore,
    TooManyAttemptsAPIError,
)
from panther_like.settings.checks import ThrottleSettings, throttle_settings
from tests.clock import ManualClock
from tests.servers import forget_throttle_counts

PER_NETWORK = 12
SETTINGS = ThrottleSettings(max_failures_per_network=PER_NETWORK)


def from_address(address: str) -> Request:
    return Request({'type': 'http', 'method': 'POST', 'path': '/auth/login', 'headers': [], 'client': (address, 1)})


def subnets_of(prefix48: str):
    """A fresh /64 of the /48 `prefix48` (``2001:db8:1``) per request."""
    return (f'{prefix48}:{n:x}::1' for n in itertools.count(1))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=['embedded', 'redis'])
async def store(request: pytest.FixtureRequest, tmp_path, clock: ManualClock) -> AsyncIterator:
    if request.param == 'redis':
        forget_throttle_counts(request.getfixturevalue('redis_url'))  # the tests count from fixed addresses
        redis = RedisConnection(request.getfixturevalue('redis_url'))
        yield RedisThrottleStore(redis, clock=clock), redis
        await redis.close()
        return
    database = open_database({'path': str(tmp_path / 'network.sqlite3')})
    yield DatabaseThrottleStore(database, clock=clock), database
    await database.close()


@pytest.fixture
def throttle(store) -> LoginThrottle:
    return LoginThrottle(SETTINGS, store[0])


def network() -> str:
    """A /48 of the documentation range no other test uses (the Redis is shared)."""
    return f'2001:db8:{uuid.uuid4().int % 0xFFFF:x}'


async def fail(throttle: LoginThrottle, address: str) -> int | None:
    """A failed login for a fresh username from `address`: None, or the Retry-After it was refused with."""
    request = from_address(address)
    username = f'user-{uuid.uuid4().hex[:10]}'
    try:
        await throttle.check(request, username)
    except TooManyAttemptsAPIError as refused:
        return refused.retry_after
    await throttle.record_failure(request, username)
    return None


async def test_failures_from_many_64s_of_one_48_are_limited_together(throttle):
    addresses = subnets_of(network())
    outcomes = [await fail(throttle, next(addresses)) for _ in range(PER_NETWORK + 1)]
    assert outcomes[:PER_NETWORK] == [None] * PER_NETWORK
    assert outcomes[-1] is not None and 0 < outcomes[-1] <= SETTINGS.window


async def test_another_48_is_not_held_back_by_a_busy_one(throttle):
    busy = subnets_of(network())
    for _ in range(PER_NETWORK):
        await fail(throttle, next(busy))
    assert await fail(throttle, next(busy)) is not None
    assert await fail(throttle, next(subnets_of(network()))) is None


async def test_the_network_starts_over_once_its_window_has_passed(throttle, clock):
    addresses = subnets_of(network())
    for _ in range(PER_NETWORK):
        await fail(throttle, next(addresses))
    clock.advance(SETTINGS.window + 1)
    assert await fail(throttle, next(addresses)) is None


async def test_ipv4_clients_have_no_network_counter(throttle):
    for n in range(PER_NETWORK + 1):
        assert await fail(throttle, f'203.0.113.{n + 1}') is None


async def test_a_login_through_redis_is_one_round_trip_for_every_counter(redis_url: str, clock: ManualClock):
    connection = RedisConnection(redis_url)
    throttle = LoginThrottle(SETTINGS, RedisThrottleStore(connection, clock=clock))
    for address in ('203.0.113.9', f'{network()}:1::1'):
        before = connection.operations
        await throttle.check(from_address(address), f'user-{uuid.uuid4().hex[:10]}')
        assert connection.operations - before == 1
    await connection.close()


def test_the_network_limit_defaults_to_four_addresses_worth_when_the_address_limit_is_raised():
    assert throttle_settings({}).max_failures_per_network == 200
    assert throttle_settings({'max_failures_per_address': 100}).max_failures_per_network == 400
    assert throttle_settings({'max_failures_per_network': 7}).max_failures_per_network == 7
