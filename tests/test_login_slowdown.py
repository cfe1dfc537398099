"""What a password guesser gets against one username, and what the owner gets meanwhile, with the defaults.

The throttle runs on a real store (the embedded database, or Redis), read
through a `ManualClock`, so an hour of guessing takes no hour: every test
moves the clock exactly as far as a client would wait. Requests are bare
ASGI scopes with the client address each test chooses; what is counted
is what matters here, not how the view answers.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from panther_like.db import open_database
from panther_like.http.request import Request
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.login_state.throttle import (
    ActionLimit,
    DatabaseThrottleStore,
    LoginThrottle,
    RedisThrottleStore,
    TooManyAttemptsAPIError,
)
from panther_like.settings.checks import ThrottleSettings
from tests.clock import ManualClock
from tests.e2e.helpers import unique_username
from tests.servers import forget_throttle_counts

HOUR = 3600
DEFAULTS = ThrottleSettings()
#: docs/security.md: with the defaults, a guesser with any number of addresses gets this many checks in an hour.
CHECKS_IN_THE_FIRST_HOUR = 133
CHECKS_IN_EACH_HOUR_AFTER = 120
#: The same for the default `ActionLimit` (password-reset and verification e-mails to one subject).
EMAILS_IN_THE_FIRST_HOUR = 26


def addresses(first: int = 1) -> Iterator[str]:
    """Fresh documentation addresses (RFC 5737), one per request: a guesser with as many as it likes."""
    return (f'198.51.{n // 250}.{n % 250 + 1}' for n in itertools.count(first))


def from_address(address: str) -> Request:
    return Request({'type': 'http', 'method': 'POST', 'path': '/auth/login', 'headers': [], 'client': (address, 1)})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=['embedded', 'redis'])
async def throttle(request: pytest.FixtureRequest, tmp_path, clock: ManualClock) -> AsyncIterator[LoginThrottle]:
    if request.param == 'redis':
        forget_throttle_counts(request.getfixturevalue('redis_url'))  # the tests count from fixed addresses
        redis = RedisConnection(request.getfixturevalue('redis_url'))
        yield LoginThrottle(DEFAULTS, RedisThrottleStore(redis, clock=clock))
        await redis.close()
        return
    database = open_database({'path': str(tmp_path / 'slowdown.sqlite3')})
    yield LoginThrottle(DEFAULTS, DatabaseThrottleStore(database, clock=clock))
    await database.close()


async def attempt(throttle: LoginThrottle, username: str, address: str, *, right: bool = False) -> int | None:
    """One login from `address`: None when the password was checked, else the Retry-After it was refused with."""
    request = from_address(address)
    try:
        await throttle.check(request, username)
    except TooManyAttemptsAPIError as refused:
        return refused.retry_after
    if right:
        await throttle.reset(request, username)
    else:
        await throttle.record_failure(request, username)
    return None


async def distributed_guesser(
    throttle: LoginThrottle, clock: ManualClock, username: str, seconds: float, supply: Iterator[str]
) -> int:
    """Guesses from a new address each time, coming back exactly when told to: how many passwords get checked."""
    end = clock.time() + seconds
    checks = 0
    while clock.time() < end:
        refused = await attempt(throttle, username, next(supply))
        if refused is None:
            checks += 1
        else:
            clock.advance(refused)
    return checks


def greedy_schedule(free: int, max_delay: int, seconds: int) -> int:
    """The count docs/security.md derives: `free` at once, then gaps of 1, 2, 4 ... s, capped at `max_delay`."""
    checks, now, gap = free, 0, 1
    while now + gap < seconds:
        now += gap
        checks += 1
        gap = min(gap * 2, max_delay)
    return checks


# -- a guesser with many addresses ------------------------------------------------------------


def test_the_documented_counts_follow_from_the_defaults() -> None:
    assert greedy_schedule(DEFAULTS.slow_down_after, DEFAULTS.max_delay, HOUR) == CHECKS_IN_THE_FIRST_HOUR
    limit = ActionLimit()
    assert greedy_schedule(limit.per_subject, limit.max_delay, HOUR) == EMAILS_IN_THE_FIRST_HOUR


async def test_a_guesser_with_endless_addresses_gets_133_checks_in_the_first_hour(throttle, clock) -> None:
    checks = await distributed_guesser(throttle, clock, unique_username('victim'), HOUR, addresses())
    assert checks == CHECKS_IN_THE_FIRST_HOUR


async def test_a_guesser_that_keeps_going_gets_120_checks_in_each_hour_after(throttle, clock) -> None:
    username, supply = unique_username('victim'), addresses()
    await distributed_guesser(throttle, clock, username, HOUR, supply)
    assert await distributed_guesser(throttle, clock, username, HOUR, supply) == CHECKS_IN_EACH_HOUR_AFTER


async def test_a_guesser_that_ignores_retry_after_gets_no_more(throttle, clock) -> None:
    username, supply, checks = unique_username('victim'), addresses(), 0
    for _ in range(HOUR // 3):
        checks += await attempt(throttle, username, next(supply)) is None
        clock.advance(3)
    assert 100 < checks <= CHECKS_IN_THE_FIRST_HOUR


async def test_the_delay_doubles_from_one_second_up_to_max_delay(throttle, clock) -> None:
    username, supply = unique_username('victim'), addresses()
    for _ in range(DEFAULTS.slow_down_after):
        assert await attempt(throttle, username, next(supply)) is None
    waits = []
    for _ in range(8):
        waits.append(await attempt(throttle, username, next(supply)))
        clock.advance(waits[-1])
        assert await attempt(throttle, username, next(supply)) is None
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]


async def test_a_quiet_hour_lifts_the_slowdown(throttle, clock) -> None:
    username, supply = unique_username('victim'), addresses()
    for _ in range(DEFAULTS.slow_down_after):
        await attempt(throttle, username, next(supply))
    assert await attempt(throttle, username, next(supply)) is not None
    clock.advance(HOUR)
    for _ in range(DEFAULTS.slow_down_after):
        assert await attempt(throttle, username, next(supply)) is None


# -- the owner ---------------------------------------------------------------------------------


async def test_the_owner_gets_in_from_another_address_after_five_wrong_guesses(throttle, clock) -> None:
    username = unique_username('victim')
    for _ in range(DEFAULTS.max_failures):
        assert await attempt(throttle, username, '203.0.113.66') is None
    assert await attempt(throttle, username, '203.0.113.66', right=True) is not None  # the guesser: refused
    assert await attempt(throttle, username, '192.0.2.10', right=True) is None  # the owner: in


async def test_one_guess_a_minute_never_keeps_the_owner_out_longer_than_max_delay(throttle, clock) -> None:
    username, supply, owner = unique_username('victim'), addresses(), addresses(5000)
    for _minute in range(60):
        assert await attempt(throttle, username, next(supply)) is None  # the guess is checked
        clock.advance(5)
        wait = await attempt(throttle, username, next(owner), right=True)
        if wait is not None:
            assert wait <= DEFAULTS.max_delay
            clock.advance(wait)
            assert await attempt(throttle, username, next(owner), right=True) is None
        clock.advance(60 - 5 - (wait or 0))


async def slow_down(throttle: LoginThrottle, username: str) -> None:
    """The free failures from many addresses: the next one from anywhere has to wait."""
    for address in itertools.islice(addresses(9000), DEFAULTS.slow_down_after):
        assert await attempt(throttle, username, address) is None


async def test_the_address_the_owner_logged_in_from_is_not_slowed(throttle, clock) -> None:
    username, home = unique_username('victim'), '192.0.2.44'
    assert await attempt(throttle, username, home, right=True) is None
    await slow_down(throttle, username)
    assert await attempt(throttle, username, '192.0.2.99', right=True) is not None  # a new address waits
    assert await attempt(throttle, username, home, right=True) is None


async def test_the_owners_address_still_has_its_own_limit(throttle, clock) -> None:
    username, home = unique_username('victim'), '192.0.2.45'
    assert await attempt(throttle, username, home, right=True) is None
    for _ in range(DEFAULTS.max_failures):
        assert await attempt(throttle, username, home) is None
    assert await attempt(throttle, username, home, right=True) is not None


async def test_an_ipv6_client_counts_as_its_whole_64_network(throttle, clock) -> None:
    username = unique_username('victim')
    for host in range(DEFAULTS.max_failures):
        assert await attempt(throttle, username, f'2001:db8:1:2::{host + 1:x}') is None
    assert await attempt(throttle, username, '2001:db8:1:2:ffff::1', right=True) is not None
    assert await attempt(throttle, username, '2001:db8:1:3::1', right=True) is None


async def test_a_known_address_is_forgotten_after_known_address_ttl(tmp_path, clock) -> None:
    database = open_database({'path': str(tmp_path / 'known.sqlite3')})
    throttle = LoginThrottle(ThrottleSettings(known_address_ttl=600), DatabaseThrottleStore(database, clock=clock))
    username, home = unique_username('victim'), '192.0.2.46'
    try:
        assert await attempt(throttle, username, home, right=True) is None
        clock.advance(601)
        await slow_down(throttle, username)
        assert await attempt(throttle, username, home, right=True) is not None
    finally:
        await database.close()


# -- every refusal is audited -----------------------------------------------------------------


async def test_every_refusal_writes_an_audit_line_naming_its_reason(throttle, clock, caplog) -> None:
    username, guesser = unique_username('victim'), '203.0.113.80'
    with caplog.at_level(logging.INFO, logger='panther_like.audit'):
        for _ in range(DEFAULTS.max_failures + 1):
            await attempt(throttle, username, guesser)  # the last: per username and address
        await slow_down(throttle, username + '-2')
        await attempt(throttle, username + '-2', '192.0.2.98')  # slowed down
        for n in range(DEFAULTS.max_failures_per_address + 1):
            await attempt(throttle, f'{username}-spray{n}', '203.0.113.81')  # the last: per address
        for _ in range(ActionLimit().per_subject_and_address + 1):
            with contextlib.suppress(TooManyAttemptsAPIError):
                await throttle.limit(from_address('203.0.113.82'), 'verify', username)
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == 'panther_like.audit']
    refusals = [(line['event'], line['reason']) for line in lines if line['event'].endswith('.throttled')]
    assert refusals == [
        ('login.throttled', 'too many failed login attempts for this username from this address'),
        ('login.throttled', 'failed login attempts for this username slowed down'),
        ('login.throttled', 'too many failed login attempts from this address'),
        ('verify.throttled', 'too many requests for this subject from this address'),
    ]
    assert all(line['retry_after'] >= 1 and line['client'] for line in lines if line['event'].endswith('.throttled'))
    assert username not in caplog.text


# -- requests that send e-mail: `limit` --------------------------------------------------------


async def mailbomber(throttle: LoginThrottle, clock: ManualClock, subject: str, seconds: float) -> int:
    end, sent, supply = clock.time() + seconds, 0, addresses()
    while clock.time() < end:
        try:
            await throttle.limit(from_address(next(supply)), 'password_reset', subject)
            sent += 1
        except TooManyAttemptsAPIError as refused:
            clock.advance(refused.retry_after)
    return sent


async def test_reset_emails_to_one_subject_are_slowed_to_26_in_the_first_hour(throttle, clock) -> None:
    assert await mailbomber(throttle, clock, unique_username('victim'), HOUR) == EMAILS_IN_THE_FIRST_HOUR


async def test_reset_requests_beyond_the_limit_per_subject_and_address_are_refused_to_that_address(
    throttle, clock
) -> None:
    limit, subject = ActionLimit(), unique_username('victim')
    for _ in range(limit.per_subject_and_address):
        await throttle.limit(from_address('203.0.113.70'), 'password_reset', subject)
    with pytest.raises(TooManyAttemptsAPIError) as refused:
        await throttle.limit(from_address('203.0.113.70'), 'password_reset', subject)
    assert refused.value.retry_after > limit.max_delay  # the address waits for its window, not the slowdown
    await throttle.limit(from_address('203.0.113.71'), 'password_reset', subject)
