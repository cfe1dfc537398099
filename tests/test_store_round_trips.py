"""What an authenticated request costs the store, counted on every backend through real ASGI requests.

In the steady state a request costs no round trip at all; each worker asks
the change feed one question per look interval, however many users it
serves. The counts are the stores' own (`Database.operations`,
`RedisConnection.operations`), so a hidden query cannot go unnoticed.
"""

from __future__ import annotations

import itertools

import pytest

from panther_like import API, Panther, Request
from panther_like.testing import TestClient
from tests.clock import ManualClock
from tests.settings import settings_module

KEY = 'r' * 32 + '0123456789abcdefghijklmnopqrstuv'
USERS = 40
LOOK_INTERVAL = 0.5


@API(auth=True, methods=['GET'])
async def private(request: Request):
    return {'id': request.user.id}


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
def store_settings(request, tmp_path) -> dict:
    if request.param == 'mongodb':
        return {'DATABASE': request.getfixturevalue('database_setting_mongodb')}
    settings = {'DATABASE': {'path': str(tmp_path / 'trips.sqlite3')}}
    if request.param == 'redis':
        settings['REDIS'] = {'url': request.getfixturevalue('redis_url')}
    return settings


@pytest.fixture
def database_setting_mongodb(mongodb_url) -> dict:
    from tests.servers import fresh_database_url

    return {'url': fresh_database_url(mongodb_url)}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def client(store_settings, clock):
    module = settings_module(
        SECRET_KEY=KEY, AUTHENTICATION='panther_like.authentications.JWTAuthentication', **store_settings
    )
    app = Panther(module, urls={'private': private}, clock=clock)
    async with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def tokens(client) -> list[str]:
    model = client.app.config.user_model
    tokens = []
    for number in range(USERS):
        user = await model.insert_one(username=f'user{number}')
        tokens.append((await user.login())['access_token'])
    return tokens


def round_trips(app: Panther) -> int:
    return app.database.operations + (app.redis.operations if app.redis is not None else 0)


async def get_all(client: TestClient, tokens: list[str], requests: int) -> None:
    for token in itertools.islice(itertools.cycle(tokens), requests):
        response = await client.get('/private', headers={'Authorization': f'Bearer {token}'})
        assert response.status_code == 200


async def test_warm_requests_of_many_users_cost_no_round_trip(client, tokens):
    await get_all(client, tokens, USERS)  # each token seen once
    before = round_trips(client.app)
    await get_all(client, tokens, 10 * USERS)
    assert round_trips(client.app) - before == 0


async def test_each_look_interval_costs_one_round_trip_whatever_the_number_of_users(client, tokens, clock):
    await get_all(client, tokens, USERS)
    for _ in range(3):
        clock.advance(LOOK_INTERVAL)
        before = round_trips(client.app)
        await get_all(client, tokens, 5 * USERS)
        assert round_trips(client.app) - before == 1


async def test_a_token_seen_for_the_first_time_costs_only_its_user_read(client, tokens):
    await get_all(client, tokens[:1], 1)  # the first look at the feed is behind us
    before = round_trips(client.app)
    await get_all(client, tokens[1:2], 1)
    assert round_trips(client.app) - before == 1  # the worker holds every revoked session: no revocation check
