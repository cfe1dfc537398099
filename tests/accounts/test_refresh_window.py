"""The refresh window: two tabs (or a retried request) that present one refresh token get one successor pair."""

from __future__ import annotations

import asyncio
from datetime import datetime

from panther_like import Panther
from panther_like.accounts import accounts_urls
from panther_like.testing import TestClient
from tests.accounts.conftest import bearer, login, settings_module, signup
from tests.clock import ManualClock


def _app(tmp_path, clock: ManualClock, **accounts) -> Panther:
    settings = settings_module({'path': str(tmp_path / 'db.sqlite3')}, None, accounts)
    settings.URLS = {'auth/': accounts_urls}
    settings.JWTConfig = {'life_time': 3600}
    return Panther(configs=settings, clock=clock)


def _behind() -> ManualClock:
    clock = ManualClock()
    clock.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return clock


async def _refresh(client: TestClient, token: str):
    return await client.post('/auth/refresh', json={'refresh_token': token})


async def test_concurrent_refreshes_with_one_token_all_answer_the_same_pair(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    answers = await asyncio.gather(*(_refresh(accounts_client, tokens['refresh_token']) for _ in range(5)))
    assert [answer.status_code for answer in answers] == [200] * 5
    assert len({answer.json()['refresh_token'] for answer in answers}) == 1
    assert (await accounts_client.get('/auth/me', headers=bearer(answers[0].json()))).status_code == 200


async def test_the_spent_token_after_its_successor_was_used_ends_the_session(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    successor = (await _refresh(accounts_client, tokens['refresh_token'])).json()
    latest = (await _refresh(accounts_client, successor['refresh_token'])).json()
    assert (await _refresh(accounts_client, tokens['refresh_token'])).status_code == 401
    assert (await accounts_client.get('/auth/me', headers=bearer(latest))).status_code == 401


async def test_the_spent_token_after_the_window_ends_the_session(tmp_path):
    clock = _behind()
    async with TestClient(_app(tmp_path, clock, refresh_grace=5)) as client:
        await signup(client)
        tokens = await login(client)
        successor = (await _refresh(client, tokens['refresh_token'])).json()
        clock.advance(6)
        assert (await _refresh(client, tokens['refresh_token'])).status_code == 401
        assert (await client.get('/auth/me', headers=bearer(successor))).status_code == 401


async def test_the_spent_token_within_the_window_answers_the_same_pair(tmp_path):
    clock = _behind()
    async with TestClient(_app(tmp_path, clock, refresh_grace=5)) as client:
        await signup(client)
        tokens = await login(client)
        successor = (await _refresh(client, tokens['refresh_token'])).json()
        clock.advance(4)
        again = await _refresh(client, tokens['refresh_token'])
        assert again.status_code == 200 and again.json()['refresh_token'] == successor['refresh_token']


async def test_a_refresh_grace_of_zero_makes_every_reuse_end_the_session(tmp_path):
    async with TestClient(_app(tmp_path, _behind(), refresh_grace=0)) as client:
        await signup(client)
        tokens = await login(client)
        successor = (await _refresh(client, tokens['refresh_token'])).json()
        assert (await _refresh(client, tokens['refresh_token'])).status_code == 401
        assert (await client.get('/auth/me', headers=bearer(successor))).status_code == 401


async def test_the_store_never_holds_the_successor_in_clear(tmp_path):
    async with TestClient(_app(tmp_path, _behind())) as client:
        await signup(client)
        tokens = await login(client)
        successor = (await _refresh(client, tokens['refresh_token'])).json()
    raw = (tmp_path / 'db.sqlite3').read_bytes()
    assert successor['refresh_token'].encode() not in raw and successor['access_token'].encode() not in raw


async def test_session_times_are_iso_8601(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    (session,) = (await accounts_client.get('/auth/sessions', headers=bearer(tokens))).json()
    for key in ('created', 'last_used', 'expires'):
        assert isinstance(session[key], str) and datetime.fromisoformat(session[key]).utcoffset().total_seconds() == 0


async def test_a_204_carries_no_content_type(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    sid = (await accounts_client.get('/auth/sessions', headers=bearer(tokens))).json()[0]['sid']
    response = await accounts_client.delete(f'/auth/sessions/{sid}', headers=bearer(tokens))
    assert response.status_code == 204 and 'content-type' not in response.headers
