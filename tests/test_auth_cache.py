"""The per-worker authentication caches never accept what a fresh check would refuse.

"Another worker" is a second app on the same store: exactly what a second
uvicorn worker process is. Both apps read a `ManualClock`, so "the next
look at the change feed" is a step of the clock, not a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from panther_like import Panther
from panther_like.exceptions import AuthenticationAPIError, ConfigError, StoreUnavailableError
from panther_like.login_state.change_feed import CHANGES_COLLECTION, RETENTION
from panther_like.testing import TestClient
from tests import forge
from tests.clock import ManualClock
from tests.settings import settings_module

KEY = 'c' * 32 + '0123456789abcdefghijklmnopqrstuv'
LOOK_INTERVAL = 0.5  # AUTH_CACHE['revocation_ttl'] default


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def build(tmp_path, clock):
    def build(key: str = KEY, **settings) -> Panther:
        settings.setdefault('DATABASE', {'path': str(tmp_path / 'cache.sqlite3')})
        return Panther(settings_module(SECRET_KEY=key, **settings), urls={}, clock=clock)

    return build


@pytest.fixture
async def app(build):
    app = build()
    async with TestClient(app):
        yield app


@pytest.fixture
async def other_worker(build, app):
    other = build()
    async with TestClient(other):
        yield other


@pytest.fixture
async def user(app):
    return await app.config.user_model.insert_one(username='ann', password='pw-123456')


async def test_a_verified_token_is_served_from_the_cache(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    assert token in app.tokens.cache.verified


async def test_a_token_that_expires_while_cached_is_refused(build, clock):
    app = build(JWTConfig={'life_time': 60})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        await app.tokens.authenticate(token)
        clock.advance(61)
        with pytest.raises(AuthenticationAPIError, match='expired'):
            await app.tokens.authenticate(token)


async def test_a_tampered_copy_of_a_cached_token_is_verified_and_refused(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    with pytest.raises(AuthenticationAPIError, match='signature'):
        await app.tokens.authenticate(forge.tampered(token, user_id='0' * 24))


async def test_a_logout_in_this_worker_is_honoured_at_once(app, user):
    token = (await user.login())['access_token']
    authenticated = await app.tokens.authenticate(token)
    await authenticated.logout()
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)


async def test_a_logout_in_another_worker_is_honoured_at_the_next_look(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.tokens.authenticate(token)).logout()
    clock.advance(LOOK_INTERVAL)
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)


async def test_between_looks_a_cached_session_is_not_asked_about_again(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.tokens.authenticate(token)).logout()
    clock.advance(LOOK_INTERVAL / 2)
    assert (await app.tokens.authenticate(token)).id == user.id  # the bound, not a leak: next look is due


async def test_a_user_deactivated_in_another_worker_is_refused_at_the_next_look(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.config.user_model.find_one(id=user.id)).update(is_active=False)
    clock.advance(LOOK_INTERVAL)
    with pytest.raises(AuthenticationAPIError, match='disabled'):
        await app.tokens.authenticate(token)


async def test_a_user_deleted_in_another_worker_is_refused_at_the_next_look(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.config.user_model.find_one(id=user.id)).delete()
    clock.advance(LOOK_INTERVAL)
    with pytest.raises(AuthenticationAPIError, match='User not found'):
        await app.tokens.authenticate(token)


async def test_a_user_renamed_in_another_worker_is_seen_at_the_next_look(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.config.user_model.find_one(id=user.id)).update(username='anna')
    clock.advance(LOOK_INTERVAL)
    assert (await app.tokens.authenticate(token)).username == 'anna'


async def test_a_user_changed_outside_the_framework_is_re_read_after_user_ttl(build, clock):
    app = build(AUTH_CACHE={'user_ttl': 30})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        await app.tokens.authenticate(token)
        # Straight into the store, as a database shell would: no change is published.
        await app.database.collection(type(user).collection_name).update_one({'_id': user.id}, {'is_active': False})
        clock.advance(29)
        assert (await app.tokens.authenticate(token)).is_active
        clock.advance(2)
        with pytest.raises(AuthenticationAPIError, match='disabled'):
            await app.tokens.authenticate(token)


async def test_a_login_does_not_make_other_workers_forget_the_user(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await user.login()  # records last_login: bookkeeping, not a change of the user
    clock.advance(LOOK_INTERVAL)
    await app.tokens.authenticate(token)
    before = app.database.operations
    await app.tokens.authenticate(token)
    assert app.database.operations == before


async def test_a_revoked_session_is_remembered_without_asking_the_store_again(app, user):
    token = (await user.login())['access_token']
    await (await app.tokens.authenticate(token)).logout()
    before = app.database.operations
    for _ in range(3):
        with pytest.raises(AuthenticationAPIError, match='revoked'):
            await app.tokens.authenticate(token)
    assert app.database.operations == before


async def test_a_user_deleted_through_this_worker_is_refused_at_once(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await user.delete()
    with pytest.raises(AuthenticationAPIError, match='User not found'):
        await app.tokens.authenticate(token)


async def test_a_password_change_drops_the_cached_user(app, user):
    before = await app.tokens.authenticate((await user.login())['access_token'])
    await user.set_password('a-new-password')
    after = await app.tokens.authenticate((await user.login())['access_token'])
    assert after.password != before.password
    assert after.check_password('a-new-password')


async def test_a_password_change_refuses_the_tokens_of_earlier_logins_at_once(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)  # cached: verified, session live, user read
    await user.set_password('a-new-password')
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)


async def test_each_request_gets_its_own_copy_of_a_cached_user(app, user):
    first, second = await user.login(), await user.login()
    a = await app.tokens.authenticate(first['access_token'])
    b = await app.tokens.authenticate(second['access_token'])
    assert a is not b
    await a.logout()
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(first['access_token'])
    assert (await app.tokens.authenticate(second['access_token'])).id == user.id


async def test_a_key_rotation_refuses_tokens_of_the_removed_key(build):
    old = build(key='o' * 32 + '0123456789abcdefghijklmnopqrstuv')
    async with TestClient(old):
        user = await old.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        await old.tokens.authenticate(token)
    rotated = build(key='n' * 32 + '0123456789abcdefghijklmnopqrstuv')
    async with TestClient(rotated):
        with pytest.raises(AuthenticationAPIError, match='signature'):
            await rotated.tokens.authenticate(token)


async def test_the_caches_are_bounded(build):
    app = build(AUTH_CACHE={'max_entries': 2})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        for _ in range(5):
            await app.tokens.authenticate((await user.login())['access_token'])
        assert len(app.tokens.cache.verified) <= 2


async def test_a_cache_of_size_zero_verifies_every_time(build):
    app = build(AUTH_CACHE={'max_entries': 0})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        await app.tokens.authenticate((await user.login())['access_token'])
        assert len(app.tokens.cache.verified) == 0


def test_a_revocation_bound_above_one_second_is_a_config_error(build):
    with pytest.raises(ConfigError, match="AUTH_CACHE\\['revocation_ttl'\\]"):
        build(AUTH_CACHE={'revocation_ttl': 5})


def test_an_unknown_auth_cache_key_is_a_config_error(build):
    with pytest.raises(ConfigError, match='unknown key'):
        build(AUTH_CACHE={'ttl': 5})


async def test_concurrent_requests_for_an_uncached_user_share_one_store_round_trip(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate((await user.login())['access_token'])  # the first look at the feed is done
    app.tokens.cache.user_changed(user.id)  # this worker no longer holds the user
    before = app.database.operations
    users = await asyncio.gather(*(app.tokens.authenticate(token) for _ in range(20)))
    assert app.database.operations - before == 1  # one user read, shared
    assert {u.id for u in users} == {user.id}


async def test_a_first_sight_of_a_session_asks_the_store_nothing_about_revocation(app, user):
    await app.tokens.authenticate((await user.login())['access_token'])  # the look and the user are cached
    token = (await user.login())['access_token']
    before = app.database.operations
    assert (await app.tokens.authenticate(token)).id == user.id
    assert app.database.operations == before


async def test_a_session_revoked_before_the_worker_started_is_refused_at_first_sight(build, app, user):
    token = (await user.login())['access_token']
    await (await app.tokens.authenticate(token)).logout()
    late = build()
    async with TestClient(late):
        with pytest.raises(AuthenticationAPIError, match='revoked'):
            await late.tokens.authenticate(token)


async def test_a_logout_elsewhere_of_a_session_never_seen_here_is_refused_after_the_next_look(
    app, other_worker, user, clock
):
    await app.tokens.authenticate((await user.login())['access_token'])  # the first look at the feed is done
    token = (await user.login())['access_token']
    await (await other_worker.tokens.authenticate(token)).logout()
    clock.advance(LOOK_INTERVAL)
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)


async def test_a_worker_that_cannot_load_the_revoked_sessions_refuses_with_503(build, user):
    late = build()
    async with TestClient(late):
        original = late.revocations.revoked_sessions
        late.revocations.revoked_sessions = unreachable_feed  # an in-process stand-in for a store that does not answer
        token = (await user.login())['access_token']
        with pytest.raises(StoreUnavailableError):
            await late.tokens.authenticate(token)
        late.revocations.revoked_sessions = original
        assert (await late.tokens.authenticate(token)).id == user.id


@contextlib.contextmanager
def feed_read_by(app: Panther, read: Callable[[], Awaitable[Any]]) -> Iterator[None]:
    """The change feed read by `read` instead, until the block ends: an in-process stand-in for a
    store that does not answer, or answers late."""
    original = app.changes.read
    app.changes.read = read
    try:
        yield
    finally:
        app.changes.read = original


async def unreachable_feed() -> Any:
    raise StoreUnavailableError('embedded store', 'test: unreachable')


async def test_a_worker_that_cannot_read_the_feed_refuses_with_503_and_recovers(app, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    with feed_read_by(app, unreachable_feed):
        clock.advance(LOOK_INTERVAL)
        with pytest.raises(StoreUnavailableError):
            await app.tokens.authenticate(token)
    assert (await app.tokens.authenticate(token)).id == user.id


async def test_a_worker_that_fell_behind_the_feed_forgets_what_it_cached(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.tokens.authenticate(token)).logout()
    clock.advance(RETENTION + 1)
    await app.database.collection(CHANGES_COLLECTION).delete_many({})  # the feed no longer holds the logout
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)


async def test_half_an_interval_after_a_look_the_next_starts_without_holding_requests(app, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    release = asyncio.Event()
    original = app.changes.read

    async def slow_read():  # it only holds the real answer back
        await release.wait()
        return await original()

    with feed_read_by(app, slow_read):
        clock.advance(LOOK_INTERVAL * 0.6)
        assert (await asyncio.wait_for(app.tokens.authenticate(token), 1)).id == user.id  # not held by the look
        release.set()
        await asyncio.sleep(0)


async def test_a_failed_early_look_refuses_nothing_until_the_bound_is_reached(app, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    with feed_read_by(app, unreachable_feed):
        clock.advance(LOOK_INTERVAL * 0.6)
        assert (await app.tokens.authenticate(token)).id == user.id
        await asyncio.sleep(0.01)  # the early look runs, and fails
        assert (await app.tokens.authenticate(token)).id == user.id  # the last good look is still within the bound
        clock.advance(LOOK_INTERVAL * 0.4)
        with pytest.raises(StoreUnavailableError):
            await app.tokens.authenticate(token)


async def test_a_logout_elsewhere_seen_by_an_early_look_is_refused_before_the_bound(app, other_worker, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await (await other_worker.tokens.authenticate(token)).logout()
    clock.advance(LOOK_INTERVAL * 0.6)  # the manual clock stays here: only the early look can tell
    await app.tokens.authenticate(token)  # still served: this request only starts the early look
    for _ in range(500):  # until the early look has finished, at most 5 s
        await asyncio.sleep(0.01)
        try:
            await app.tokens.authenticate(token)
        except AuthenticationAPIError as refused:
            assert 'revoked' in refused.detail
            break
    else:
        pytest.fail('the early look never applied the logout')


async def test_a_request_that_joins_a_look_begun_before_a_logout_waits_for_a_fresh_one(app, other_worker, user, clock):
    """A look slower than the bound (a busy worker, a slow store) read the feed before the logout and answers
    after it: a request made a bound after the logout must not take that answer as fresh."""
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    read_done, release = asyncio.Event(), asyncio.Event()
    original = app.changes.read

    async def late_answer():  # reads the feed now, and answers only once released
        batch = await original()
        read_done.set()
        await release.wait()
        return batch

    with feed_read_by(app, late_answer):
        clock.advance(LOOK_INTERVAL)
        before_logout = asyncio.ensure_future(app.tokens.authenticate(token))
        await asyncio.wait_for(read_done.wait(), 5)
        await (await other_worker.tokens.authenticate(token)).logout()
        clock.advance(LOOK_INTERVAL)
        after_logout = asyncio.ensure_future(app.tokens.authenticate(token))
        await asyncio.sleep(0.05)  # it has joined the look in flight
        release.set()
        assert (await before_logout).id == user.id  # made before the logout: served
        with pytest.raises(AuthenticationAPIError, match='revoked'):
            await after_logout
