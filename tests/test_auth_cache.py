"""The per-worker authentication caches never accept what a fresh check would refuse.

"Another worker" is a second app on the same store: exactly what a second
uvicorn worker process is. Caches are bypassed or invalidated on token
expiry, logout (here at once, elsewhere within the revocation bound),
user deletion or change, and key rotation.
"""

from __future__ import annotations

import asyncio

import pytest

from panther_like import Panther
from panther_like.exceptions import AuthenticationAPIError, ConfigError
from panther_like.testing import TestClient
from tests import forge
from tests.settings import settings_module

KEY = 'c' * 64


def build(tmp_path, key: str = KEY, **settings) -> Panther:
    settings.setdefault('DATABASE', {'path': str(tmp_path / 'cache.sqlite3')})
    return Panther(settings_module(SECRET_KEY=key, **settings), urls={})


@pytest.fixture
async def app(tmp_path):
    app = build(tmp_path, AUTH_CACHE={'user_ttl': 60, 'revocation_ttl': 0.2})
    async with TestClient(app):
        yield app


@pytest.fixture
async def user(app):
    return await app.config.user_model.insert_one(username='ann', password='pw-123456')


async def test_a_verified_token_is_served_from_the_cache(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    assert token in app.tokens._verified


async def test_a_token_that_expires_while_cached_is_refused(tmp_path):
    app = build(tmp_path, JWTConfig={'life_time': 1})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        await app.tokens.authenticate(token)
        await asyncio.sleep(2.05)
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


async def test_a_logout_in_another_worker_is_honoured_within_the_revocation_bound(app, user, tmp_path):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    other_worker = build(tmp_path)
    async with TestClient(other_worker):
        await (await other_worker.tokens.authenticate(token)).logout()
    await asyncio.sleep(0.25)  # revocation_ttl is 0.2 s in this app
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)


async def test_a_revoked_session_is_remembered_without_asking_the_store_again(app, user):
    token = (await user.login())['access_token']
    await (await app.tokens.authenticate(token)).logout()
    calls = []
    original = app.revocations.is_revoked

    async def counting(key):
        calls.append(key)
        return await original(key)

    app.revocations.is_revoked = counting
    for _ in range(3):
        with pytest.raises(AuthenticationAPIError, match='revoked'):
            await app.tokens.authenticate(token)
    assert calls == []


async def test_a_user_deleted_through_this_worker_is_refused_at_once(app, user):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    await user.delete()
    with pytest.raises(AuthenticationAPIError, match='User not found'):
        await app.tokens.authenticate(token)


async def test_a_user_deleted_in_another_worker_is_refused_within_the_user_bound(tmp_path):
    app = build(tmp_path, AUTH_CACHE={'user_ttl': 0.2})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        await app.tokens.authenticate(token)
        other_worker = build(tmp_path)
        async with TestClient(other_worker):
            await (await other_worker.config.user_model.find_one(id=user.id)).delete()
        await asyncio.sleep(0.25)
        with pytest.raises(AuthenticationAPIError, match='User not found'):
            await app.tokens.authenticate(token)


async def test_a_password_change_drops_the_cached_user(app, user):
    token = (await user.login())['access_token']
    before = await app.tokens.authenticate(token)
    await user.set_password('a-new-password')
    after = await app.tokens.authenticate(token)
    assert after.password != before.password
    assert after.check_password('a-new-password')


async def test_each_request_gets_its_own_copy_of_a_cached_user(app, user):
    first, second = await user.login(), await user.login()
    a = await app.tokens.authenticate(first['access_token'])
    b = await app.tokens.authenticate(second['access_token'])
    assert a is not b
    await a.logout()
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(first['access_token'])
    assert (await app.tokens.authenticate(second['access_token'])).id == user.id


async def test_a_key_rotation_refuses_tokens_of_the_removed_key(tmp_path):
    old = build(tmp_path, key='o' * 64)
    async with TestClient(old):
        user = await old.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        await old.tokens.authenticate(token)
    rotated = build(tmp_path, key='n' * 64)
    async with TestClient(rotated):
        with pytest.raises(AuthenticationAPIError, match='signature'):
            await rotated.tokens.authenticate(token)


async def test_the_caches_are_bounded(tmp_path):
    app = build(tmp_path, AUTH_CACHE={'max_entries': 2})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        for _ in range(5):
            await app.tokens.authenticate((await user.login())['access_token'])
        assert len(app.tokens._verified) <= 2
        assert len(app.tokens._live_sessions) <= 2


async def test_a_cache_of_size_zero_verifies_every_time(tmp_path):
    app = build(tmp_path, AUTH_CACHE={'max_entries': 0})
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        await app.tokens.authenticate((await user.login())['access_token'])
        assert len(app.tokens._verified) == 0


def test_a_revocation_bound_above_one_second_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="AUTH_CACHE\\['revocation_ttl'\\]"):
        build(tmp_path, AUTH_CACHE={'revocation_ttl': 5})


def test_an_unknown_auth_cache_key_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match='unknown key'):
        build(tmp_path, AUTH_CACHE={'ttl': 5})


async def test_concurrent_requests_for_one_session_share_one_store_round_trip(app, user):
    token = (await user.login())['access_token']
    calls = []
    original = app.revocations.is_revoked

    async def counting(key):
        calls.append(key)
        await asyncio.sleep(0.01)
        return await original(key)

    app.revocations.is_revoked = counting
    users = await asyncio.gather(*(app.tokens.authenticate(token) for _ in range(20)))
    assert len(calls) == 1
    assert {u.id for u in users} == {user.id}


async def test_a_look_up_in_flight_during_a_logout_here_does_not_revive_the_session(app, user):
    token = (await user.login())['access_token']
    authenticated = await app.tokens.authenticate(token)
    app.tokens._live_sessions.clear()
    release = asyncio.Event()
    original = app.revocations.is_revoked

    async def slow(key):
        answer = await original(key)  # "not revoked" at the moment it is read
        await release.wait()
        return answer

    app.revocations.is_revoked = slow
    in_flight = asyncio.ensure_future(app.tokens.authenticate(token))
    await asyncio.sleep(0.01)
    app.revocations.is_revoked = original
    await authenticated.logout()
    release.set()
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await in_flight
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await app.tokens.authenticate(token)
