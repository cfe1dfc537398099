"""Each worker holds every revoked session, so a token's first sight never asks the store about it.

A worker loads the revoked sessions at its first look at the change feed
and follows the feed from then on; these tests run it on every store
(embedded, MongoDB, Redis), with two apps on one store standing for two
workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from panther_like import Panther
from panther_like.exceptions import AuthenticationAPIError
from panther_like.testing import TestClient
from tests.clock import ManualClock
from tests.settings import settings_module

KEY = 'v' * 32 + '0123456789abcdefghijklmnopqrstuv'


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
def store_settings(request, tmp_path) -> dict:
    if request.param == 'mongodb':
        from tests.servers import fresh_database_url

        return {'DATABASE': {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}}
    settings = {'DATABASE': {'path': str(tmp_path / 'revoked.sqlite3')}}
    if request.param == 'redis':
        import redis

        redis.Redis.from_url(request.getfixturevalue('redis_url')).flushdb()
        settings['REDIS'] = {'url': request.getfixturevalue('redis_url')}
    return settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def build(store_settings: dict, clock: ManualClock) -> Panther:
    return Panther(settings_module(SECRET_KEY=KEY, **store_settings), urls={}, clock=clock)


@pytest.fixture
async def first_worker(store_settings, clock) -> AsyncIterator[Panther]:
    app = build(store_settings, clock)
    async with TestClient(app):
        yield app


async def test_a_worker_started_after_a_logout_refuses_that_session_at_first_sight(first_worker, store_settings, clock):
    user = await first_worker.config.user_model.insert_one(username='ann')
    ended = (await user.login())['access_token']
    kept = (await user.login())['access_token']
    await (await first_worker.tokens.authenticate(ended)).logout()
    late = build(store_settings, clock)
    async with TestClient(late):
        with pytest.raises(AuthenticationAPIError, match='revoked'):
            await late.tokens.authenticate(ended)
        assert (await late.tokens.authenticate(kept)).id == user.id


async def test_only_revoked_sessions_are_loaded_not_spent_refresh_tokens(first_worker):
    user = await first_worker.config.user_model.insert_one(username='ann')
    pair = await user.login()
    await first_worker.tokens.refresh(pair['refresh_token'])  # leaves a spent-token mark in the same store
    ended = await user.login()
    await (await first_worker.tokens.authenticate(ended['access_token'])).logout()
    session = first_worker.tokens.codec.decode(ended['access_token'], 'access')['sid']
    assert await first_worker.revocations.revoked_sessions() == {session}
