"""`panther_like.testing`: the client users write their own tests with.

The force-authenticate bypass must live only in the test client: another
client on the same app, or a request that does not come through the
forcing client, still meets the real authentication.
"""

from __future__ import annotations

import pytest

from panther_like import API, Panther
from panther_like.db.models import BaseUser
from panther_like.routing.websocket import GenericWebsocket
from panther_like.testing import TestClient, WebsocketClosed, WebsocketRefused
from tests.clock import ManualClock
from tests.settings import settings_module


@API(auth=True, methods=['GET'])
async def me(request):
    return {'username': request.user.username}


@API(methods=['GET'])
async def public(request):
    return {'user': request.user}


@API(auth=True, methods=['POST'])
async def logout(request):
    await request.user.logout()
    return {'detail': 'Logged out'}


@API(auth=True, fresh=300, methods=['POST'])
async def transfer(request):
    return {'done': True}


class Echo(GenericWebsocket):
    auth = True

    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user.username})

    async def receive(self, data):
        if data == 'bye':
            await self.close(4000, 'bye')
        else:
            await self.send({'echo': data})


def build_app(tmp_path, **kwargs) -> Panther:
    return Panther(
        configs=settings_module(
            SECRET_KEY='testing-secret-key-0123456789-abcdef',
            AUTHENTICATION='panther_like.authentications.JWTAuthentication',
            WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
            DATABASE={'path': str(tmp_path / 'store.sqlite3')},
            URLS={'me': me, 'public': public, 'logout': logout, 'transfer': transfer, 'ws/echo': Echo},
        ),
        **kwargs,
    )


@pytest.fixture
async def app(tmp_path):
    app = build_app(tmp_path)
    await app.startup()
    yield app
    await app.shutdown()


@pytest.fixture
async def ann(app):
    return await BaseUser.insert_one(username='ann', password='pw')


async def test_client_runs_startup_and_shutdown_around_itself(tmp_path):
    async with TestClient(build_app(tmp_path)) as client:
        await BaseUser.insert_one(username='bob', password='pw')
        assert (await client.get('/public')).json() == {'user': None}


async def test_login_as_sends_the_access_token(app, ann):
    async with TestClient(app, lifespan=False) as client:
        await client.login_as(ann)
        assert (await client.get('/me')).json() == {'username': 'ann'}


async def test_login_as_tokens_work_with_logout(app, ann):
    async with TestClient(app, lifespan=False) as client:
        await client.login_as(ann)
        assert (await client.post('/logout')).status_code == 200
        assert (await client.get('/me')).status_code == 401


async def test_force_authenticate_sets_request_user_without_a_token(app, ann):
    async with TestClient(app, lifespan=False) as client:
        client.force_authenticate(ann)
        assert (await client.get('/me')).json() == {'username': 'ann'}


async def test_force_authenticate_does_not_reach_another_client(app, ann):
    async with TestClient(app, lifespan=False) as forced, TestClient(app, lifespan=False) as other:
        forced.force_authenticate(ann)
        assert (await other.get('/me')).status_code == 401


async def test_force_authenticate_none_restores_real_authentication(app, ann):
    async with TestClient(app, lifespan=False) as client:
        client.force_authenticate(ann)
        client.force_authenticate(None)
        assert (await client.get('/me')).status_code == 401


async def test_force_authenticate_ends_with_the_client(app, ann):
    async with TestClient(app, lifespan=False) as client:
        client.force_authenticate(ann)
    async with TestClient(app, lifespan=False) as later:
        assert (await later.get('/me')).status_code == 401


async def test_a_forced_user_counts_as_recently_authenticated(tmp_path):
    clock = ManualClock()
    async with TestClient(build_app(tmp_path, clock=clock)) as client:
        ann = await BaseUser.insert_one(username='ann', password='pw')
        client.force_authenticate(ann)
        clock.advance(3600)
        assert (await client.post('/transfer')).json() == {'done': True}


async def test_a_real_token_of_the_same_client_still_needs_a_recent_authentication(tmp_path):
    clock = ManualClock()
    async with TestClient(build_app(tmp_path, clock=clock)) as client:
        ann = await BaseUser.insert_one(username='ann', password='pw')
        await client.login_as(ann)
        clock.advance(301)
        refused = await client.post('/transfer')
        assert refused.status_code == 401 and refused.json()['reauthentication_required'] is True


async def test_forced_client_leaves_public_routes_public(app, ann):
    async with TestClient(app, lifespan=False) as client:
        client.force_authenticate(ann)
        assert (await client.get('/public')).json() == {'user': None}


async def test_force_authenticate_applies_to_websockets(app, ann):
    async with TestClient(app, lifespan=False) as client:
        client.force_authenticate(ann)
        async with client.websocket('/ws/echo') as ws:
            assert await ws.receive_json() == {'hello': 'ann'}


async def test_websocket_send_and_receive_json(app, ann):
    async with TestClient(app, lifespan=False) as client:
        tokens = await client.login_as(ann)
        async with client.websocket('/ws/echo', params={'authorization': tokens['access_token']}) as ws:
            await ws.receive_json()
            await ws.send_json([1, 2])
            assert await ws.receive_json() == {'echo': [1, 2]}


async def test_websocket_refused_handshake_raises_with_the_close_code(app):
    async with TestClient(app, lifespan=False) as client:
        with pytest.raises(WebsocketRefused) as refused:
            async with client.websocket('/ws/echo'):
                pass
    assert refused.value.code == 1008


async def test_websocket_to_an_unknown_path_is_refused(app):
    async with TestClient(app, lifespan=False) as client:
        with pytest.raises(WebsocketRefused):
            async with client.websocket('/nowhere'):
                pass


async def test_websocket_closed_by_the_app_raises_on_receive(app, ann):
    async with TestClient(app, lifespan=False) as client:
        client.force_authenticate(ann)
        async with client.websocket('/ws/echo') as ws:
            await ws.receive_json()
            await ws.send_text('bye')
            with pytest.raises(WebsocketClosed) as closed:
                await ws.receive()
    assert closed.value.code == 4000
