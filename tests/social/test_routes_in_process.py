"""The provider routes in process, in every store, where no provider needs to answer.

The provider configured here listens nowhere: these are the answers given before any request to it.
The flows that reach a provider are tested against a real one (test_sign_in.py and the others here).
"""

from __future__ import annotations

import pytest

from panther_like import Panther
from panther_like.accounts.providers import START_LIMIT
from panther_like.testing import TestClient
from tests.accounts.conftest import bearer, login, settings_module, signup, store  # noqa: F401  (every store)
from tests.clock import ManualClock
from tests.servers import free_port

PROVIDERS = {'op': {'issuer': f'http://127.0.0.1:{free_port()}', 'client_id': 'app', 'client_secret': 'secret'}}


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return clock


@pytest.fixture
async def client(store, clock):  # noqa: F811
    database, redis_url = store
    settings = settings_module(database, redis_url, {'providers': PROVIDERS})
    async with TestClient(Panther(configs=settings, clock=clock)) as http:
        yield http


async def test_a_new_account_lists_no_linked_identity(client):
    await signup(client)
    answer = await client.get('/auth/providers', headers=bearer(await login(client)))
    assert answer.status_code == 200 and answer.json() == {'identities': []}


async def test_listing_the_links_needs_a_login(client):
    assert (await client.get('/auth/providers')).status_code == 401


async def test_unlinking_an_identity_the_account_does_not_have_is_a_404(client):
    await signup(client)
    answer = await client.delete('/auth/providers/op', headers=bearer(await login(client)))
    assert answer.status_code == 404


async def test_an_unknown_provider_is_a_404_on_every_route(client):
    await signup(client)
    headers = bearer(await login(client))
    assert (await client.get('/auth/providers/nope/login')).status_code == 404
    assert (await client.get('/auth/providers/nope/callback?state=x&code=y')).status_code == 404
    assert (await client.post('/auth/providers/nope/link', headers=headers)).status_code == 404
    assert (await client.delete('/auth/providers/nope', headers=headers)).status_code == 404


async def test_a_callback_nobody_started_is_a_400_without_asking_the_provider(client):
    answer = await client.get('/auth/providers/op/callback?state=made-up&code=made-up')
    assert answer.status_code == 400 and 'start again' in answer.json()['detail']


async def test_an_exchange_code_nobody_was_given_is_a_401(client):
    answer = await client.post('/auth/providers/exchange', json={'code': 'made-up', 'code_verifier': 'v' * 43})
    assert answer.status_code == 401


async def test_a_provider_that_cannot_be_reached_is_a_503_when_a_sign_in_starts(client):
    answer = await client.get('/auth/providers/op/login?code_challenge=' + 'c' * 43)
    assert answer.status_code == 503 and 'unreachable' in answer.json()['detail']


async def test_linking_an_identity_needs_a_recent_authentication(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    answer = await client.post('/auth/providers/op/link', headers=bearer(tokens))
    assert answer.status_code == 401 and answer.json()['reauthentication_required'] is True


async def test_unlinking_an_identity_needs_a_recent_authentication(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    answer = await client.delete('/auth/providers/op', headers=bearer(tokens))
    assert answer.status_code == 401 and answer.json()['reauthentication_required'] is True


async def test_sign_ins_started_from_one_address_are_limited(client):
    path = '/auth/providers/op/login?code_challenge=' + 'c' * 43
    answers = [(await client.get(path)).status_code for _ in range(START_LIMIT.per_subject_and_address)]
    assert set(answers) == {503}  # started (the provider is down here), and counted
    refused = await client.get(path)
    assert refused.status_code == 429 and int(refused.headers['retry-after']) > 0
