"""Reaching a websocket by its ``connection_id``, or every socket of one user, from this worker or another.

"Another worker" is a second app over the same database (and Redis), in
this process: its hub holds no socket, so the message travels through
the broadcast (the change feed, or Redis pub/sub) to the first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from panther_like import Panther
from panther_like.testing import TestClient, WebsocketClosed
from panther_like.websocket import (
    GenericWebsocket,
    close_websocket_connection,
    send_message_to_user,
    send_message_to_websocket,
)
from tests.settings import settings_module

KEY = 'w' * 32 + '0123456789abcdefghijklmnopqrstuv'


class Announcing(GenericWebsocket):
    """Tells its client its connection id, so the test can address it."""

    async def connect(self):
        await self.accept()
        await self.send({'connection_id': self.connection_id})


class Mine(Announcing):
    auth = True


URLS = {'ws/announce': Announcing, 'ws/mine': Mine}


@pytest.fixture(params=['database', 'redis'])
def settings(request, tmp_path) -> dict[str, Any]:
    settings: dict[str, Any] = {
        'SECRET_KEY': KEY,
        'DATABASE': {'path': str(tmp_path / 's.sqlite3')},
        'WS_AUTHENTICATION': 'panther_like.authentications.QueryParamJWTAuthentication',
    }
    if request.param == 'redis':
        settings['REDIS'] = {'url': request.getfixturevalue('redis_url')}
    return settings


def app(settings: dict[str, Any]) -> Panther:
    return Panther(settings_module(**settings), urls=URLS)


async def test_every_websocket_has_its_own_connection_id(settings):
    async with (
        TestClient(app(settings)) as client,
        client.websocket('/ws/announce') as one,
        client.websocket('/ws/announce') as two,
    ):
        first, second = await one.receive_json(), await two.receive_json()
    assert first['connection_id'] != second['connection_id']


async def test_a_message_reaches_a_connection_of_this_worker(settings):
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']
        await send_message_to_websocket(connection_id, {'hello': 1})
        assert await ws.receive_json() == {'hello': 1}


async def test_a_message_reaches_a_connection_held_by_another_worker(settings):
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']
        async with TestClient(app(settings)):  # built last: the helpers now send through this app
            for number in range(3):
                await send_message_to_websocket(connection_id, f'message {number}')
            received = [await ws.receive_text() for _ in range(3)]
    assert received == ['message 0', 'message 1', 'message 2']


async def test_bytes_arrive_as_bytes_from_another_worker(settings):
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']
        async with TestClient(app(settings)):
            await send_message_to_websocket(connection_id, b'\x00\x01')
            assert await ws.receive_bytes() == b'\x00\x01'


async def test_a_connection_held_by_another_worker_can_be_closed_with_a_code_and_reason(settings):
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']
        async with TestClient(app(settings)):
            await close_websocket_connection(connection_id, code=4000, reason='bye')
            with pytest.raises(WebsocketClosed) as closed:
                await ws.receive()
    assert (closed.value.code, closed.value.reason) == (4000, 'bye')


async def test_a_message_to_a_user_reaches_each_of_their_sockets_and_no_one_else(settings):
    async with TestClient(app(settings)) as client:
        model = client.app.config.user_model
        ann, bob = (await model.insert_one(username='ann')), (await model.insert_one(username='bob'))
        tokens = [(await user.login())['access_token'] for user in (ann, ann, bob)]
        sockets = [client.websocket('/ws/mine', params={'authorization': token}) for token in tokens]
        async with sockets[0] as one, sockets[1] as two, sockets[2] as other:
            for ws in (one, two, other):
                await ws.receive_json()
            async with TestClient(app(settings)):
                await send_message_to_user(ann.id, {'to': 'ann'})
                assert await one.receive_json() == {'to': 'ann'}
                assert await two.receive_json() == {'to': 'ann'}
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(other.receive(), 0.5)


async def test_a_message_to_an_unknown_connection_is_dropped(settings):
    async with TestClient(app(settings)):
        await send_message_to_websocket('no-such-connection', {'lost': True})


class Remembering(Announcing):
    departures: list[int] = []

    async def disconnect(self, code):
        self.departures.append(code)


async def test_the_disconnect_hook_gets_the_code_the_client_closed_with(tmp_path):
    Remembering.departures = []
    settings = {'SECRET_KEY': KEY, 'DATABASE': {'path': str(tmp_path / 's.sqlite3')}}
    app = Panther(settings_module(**settings), urls={'ws': Remembering})
    async with TestClient(app) as client, client.websocket('/ws') as ws:
        await ws.receive_json()
        await ws.close(code=1001)
    assert Remembering.departures == [1001]


async def test_the_disconnect_hook_is_not_called_for_a_socket_the_server_closed(tmp_path):
    Remembering.departures = []
    settings = {'SECRET_KEY': KEY, 'DATABASE': {'path': str(tmp_path / 's.sqlite3')}}
    app = Panther(settings_module(**settings), urls={'ws': Remembering})
    async with TestClient(app) as client, client.websocket('/ws') as ws:
        await close_websocket_connection((await ws.receive_json())['connection_id'], code=4001)
        assert await ws.expect_close() == 4001
    assert Remembering.departures == []
