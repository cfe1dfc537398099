"""``/health`` and ``/ready`` through real ASGI requests, against real stores (and ones that do not answer)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from panther_like import API, Panther, Request
from panther_like.testing import TestClient
from tests.servers import free_port, fresh_database_url
from tests.settings import settings_module

KEY = 'h' * 32 + '0123456789abcdefghijklmnopqrstuv'
JWT = 'panther_like.authentications.JWTAuthentication'


@API(auth=True, methods=['GET'])
async def private(request: Request):
    return {'id': request.user.id}


@API(methods=['GET'])
async def own_health(request: Request):
    return {'mine': True}


def build(tmp_path, urls=None, **settings) -> Panther:
    settings.setdefault('DATABASE', {'path': str(tmp_path / 'health.sqlite3')})
    return Panther(settings_module(SECRET_KEY=KEY, AUTHENTICATION=JWT, **settings), urls=urls or {'private': private})


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a frozen server, which no real store can be made
    into on demand; a listening socket that is never read stands in for it."""
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen(16)
        yield listener.getsockname()[1]


async def test_liveness_answers_200_without_credentials_even_when_every_route_needs_them(tmp_path):
    async with TestClient(build(tmp_path, DEFAULT_AUTH=True)) as client:
        response = await client.get('/health')
    assert response.status_code == 200
    assert response.json() == {'status': 'alive'}


async def test_readiness_answers_200_when_the_embedded_store_answers(tmp_path):
    async with TestClient(build(tmp_path, DEFAULT_AUTH=True)) as client:
        response = await client.get('/ready')
    assert response.status_code == 200
    assert response.json() == {'status': 'ready'}


async def test_readiness_asks_mongodb_and_redis(tmp_path, mongodb_url, redis_url):
    app = build(tmp_path, DATABASE={'url': fresh_database_url(mongodb_url)}, REDIS={'url': redis_url})
    async with TestClient(app) as client:
        before = (app.database.operations, app.redis.operations)
        response = await client.get('/ready')
    assert response.status_code == 200
    assert (app.database.operations, app.redis.operations) == (before[0], before[1] + 1)  # one Redis PING


async def test_readiness_is_503_naming_redis_when_redis_refuses_connections(tmp_path):
    app = build(tmp_path, REDIS={'url': f'redis://127.0.0.1:{free_port()}/0'})
    async with TestClient(app) as client:
        response = await client.get('/ready')
    assert response.status_code == 503
    assert response.json()['detail'].startswith('Redis is unavailable')


async def test_readiness_is_503_when_the_store_does_not_answer_within_the_timeout(tmp_path, silent_server):
    app = build(tmp_path, DATABASE={'url': f'mongodb://127.0.0.1:{silent_server}/app'}, HEALTH={'timeout': 0.2})
    async with TestClient(app) as client:
        response = await client.get('/ready')
    assert response.status_code == 503
    assert response.json() == {'detail': 'MongoDB is unavailable (no answer within 0.2 s)'}


async def test_readiness_is_503_while_the_process_drains_and_other_routes_still_answer(tmp_path):
    app = build(tmp_path)
    async with TestClient(app) as client:
        app.drain.draining = True
        ready, alive = await client.get('/ready'), await client.get('/health')
    assert (ready.status_code, ready.json()) == (503, {'detail': 'shutting down'})
    assert alive.status_code == 200


async def test_the_paths_come_from_the_setting(tmp_path):
    async with TestClient(build(tmp_path, HEALTH={'live': '/ops/livez', 'ready': '/ops/readyz'})) as client:
        answers = [(await client.get(path)).status_code for path in ('/ops/livez', '/ops/readyz', '/health', '/ready')]
    assert answers == [200, 200, 404, 404]


async def test_health_false_mounts_neither_route(tmp_path):
    async with TestClient(build(tmp_path, HEALTH=False)) as client:
        assert (await client.get('/health')).status_code == 404
        assert (await client.get('/ready')).status_code == 404


async def test_a_route_of_the_users_own_at_the_same_path_wins(tmp_path):
    async with TestClient(build(tmp_path, urls={'health': own_health})) as client:
        assert (await client.get('/health')).json() == {'mine': True}


async def test_the_routes_are_left_out_of_the_openapi_document_unless_asked(tmp_path):
    async with TestClient(build(tmp_path)) as client:
        hidden = (await client.get('/openapi.json')).json()['paths']
    async with TestClient(build(tmp_path, HEALTH={'openapi': True})) as client:
        listed = (await client.get('/openapi.json')).json()['paths']
    assert '/health' not in hidden and '/ready' not in hidden
    assert listed['/ready']['get']['summary'].startswith('Readiness')
    assert 'security' not in listed['/health']['get']


async def test_no_round_trip_header_unless_asked(tmp_path):
    async with TestClient(build(tmp_path)) as client:
        assert 'store-round-trips' not in (await client.get('/ready')).headers


async def test_the_round_trip_header_counts_what_the_worker_asked_its_stores(tmp_path, redis_url):
    app = build(tmp_path, REDIS={'url': redis_url}, HEALTH={'round_trips': True})
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='counted')
        headers = {'Authorization': f'Bearer {(await user.login())["access_token"]}'}
        first = await client.get('/private', headers=headers)
        again = await client.get('/private', headers=headers)
    assert first.headers['store-round-trips'] == 'database=1, redis=2'  # the user; the feed and the session
    assert again.headers['store-round-trips'] == 'database=0, redis=0'
