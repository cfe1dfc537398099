"""Panther's throttling: ``throttling=Throttle(rate, duration)`` on a route and the ``THROTTLING`` setting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from panther_like import API, GenericAPI, Panther
from panther_like.exceptions import ConfigError
from panther_like.testing import TestClient
from panther_like.throttle import Throttle
from tests.settings import settings_module

KEY = 't' * 32 + '0123456789abcdefghijklmnopqrstuv'


@API(methods=['GET'], throttling=Throttle(rate=2, duration=timedelta(minutes=1)))
async def limited(request):
    return {'ok': True}


@API(methods=['GET'])
async def plain(request):
    return {'ok': True}


@API(auth=True, methods=['GET'], throttling=Throttle(rate=1, duration=60))
async def mine(request):
    return {'ok': True}


class Limited(GenericAPI):
    throttling = Throttle(rate=1, duration=60)

    async def get(self, request):
        return {'ok': True}


def build(tmp_path, **settings: Any) -> Panther:
    module = settings_module(
        SECRET_KEY=KEY,
        DATABASE={'path': str(tmp_path / 's.sqlite3')},
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        **settings,
    )
    return Panther(module, urls={'limited': limited, 'plain': plain, 'mine': mine, 'generic': Limited})


@pytest.fixture
async def client(tmp_path):
    async with TestClient(build(tmp_path)) as client:
        yield client


async def test_under_the_limit_the_rate_limit_headers_are_sent(client):
    response = await client.get('/limited')
    assert response.status_code == 200
    assert response.headers['x-ratelimit-limit'] == '2'
    assert response.headers['x-ratelimit-remaining'] == '1'
    assert response.headers['x-ratelimit-reset'] == '60'


async def test_over_the_limit_is_429_with_retry_after_and_rate_limit_headers(client):
    for _ in range(2):
        assert (await client.get('/limited')).status_code == 200
    response = await client.get('/limited')
    assert response.status_code == 429
    assert 1 <= int(response.headers['retry-after']) <= 60
    assert response.headers['x-ratelimit-limit'] == '2'
    assert response.headers['x-ratelimit-remaining'] == '0'
    assert response.headers['x-ratelimit-reset'] == response.headers['retry-after']


async def test_a_route_without_throttling_sends_no_rate_limit_headers(client):
    assert 'x-ratelimit-limit' not in (await client.get('/plain')).headers


async def test_routes_are_counted_apart(client):
    await client.get('/limited')
    await client.get('/limited')
    assert (await client.get('/generic')).status_code == 200


async def test_a_generic_api_throttling_attribute_limits_it(client):
    assert (await client.get('/generic')).status_code == 200
    assert (await client.get('/generic')).status_code == 429


async def test_authenticated_users_are_counted_apart_from_each_other(client):
    model = client.app.config.user_model
    tokens = [(await (await model.insert_one(username=name)).login())['access_token'] for name in ('ann', 'bob')]
    for token in tokens:
        response = await client.get('/mine', headers={'Authorization': f'Bearer {token}'})
        assert response.status_code == 200
    again = await client.get('/mine', headers={'Authorization': f'Bearer {tokens[0]}'})
    assert again.status_code == 429


async def test_the_throttling_setting_limits_every_route_without_its_own(tmp_path):
    async with TestClient(build(tmp_path, THROTTLING=Throttle(rate=1, duration=timedelta(seconds=30)))) as client:
        assert (await client.get('/plain')).headers['x-ratelimit-limit'] == '1'
        assert (await client.get('/plain')).status_code == 429
        assert (await client.get('/limited')).headers['x-ratelimit-limit'] == '2'


@pytest.mark.parametrize(
    ('rate', 'duration'), [(0, 60), (True, 60), (1.5, 60), (5, 0), (5, timedelta(0)), (5, 'minute')]
)
def test_a_wrong_throttle_is_a_config_error(rate, duration):
    with pytest.raises(ConfigError):
        Throttle(rate=rate, duration=duration)


def test_a_throttling_setting_that_is_not_a_throttle_is_refused(tmp_path):
    with pytest.raises(ConfigError, match='THROTTLING'):
        build(tmp_path, THROTTLING={'rate': 5})
