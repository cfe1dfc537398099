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
from panther_like.exceptions import StoreUnavailableError
from panther_like.routing import messaging
from panther_like.routing.messaging import hub_of
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


async def test_messages_reach_a_socket_in_the_order_they_were_sent_whichever_worker_sent_them(settings):
    """The second message is sent by the socket's own worker while the first may still be in the broadcast.

    The helpers send through the app built last, so the first goes through
    the other app; the second is handed to the socket's own hub (what the
    helpers do in that worker).
    """
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']
        own_worker = hub_of(client.app.services)
        async with TestClient(app(settings)):
            await send_message_to_websocket(connection_id, 'first, from another worker')
            await own_worker.dispatch({'action': 'send', 'connection': connection_id, 'data': {'text': 'second'}})
            received = [await ws.receive_text() for _ in range(2)]
    assert received == ['first, from another worker', 'second']


async def test_a_message_to_a_socket_of_this_worker_has_arrived_when_the_call_returns(settings):
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']
        await send_message_to_websocket(connection_id, 'here')
        assert await asyncio.wait_for(ws.receive_text(), 0.05) == 'here'


async def test_a_socket_of_this_worker_is_reached_when_the_store_refuses_the_message(settings, monkeypatch):
    """The store's refusal is played by a publish that raises: stopping the embedded store mid-test is not possible."""
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']

        async def refuse(message: str) -> None:
            raise StoreUnavailableError('the store did not answer')

        monkeypatch.setattr(hub_of(client.app.services).broadcast, 'publish', refuse)
        await send_message_to_websocket(connection_id, 'still here')
        assert await ws.receive_text() == 'still here'


async def test_a_message_whose_echo_never_comes_back_is_applied_once_by_its_caller(settings, monkeypatch):
    """A publish that drops the message plays a broadcast that lost it after accepting it."""
    async with TestClient(app(settings)) as client, client.websocket('/ws/announce') as ws:
        connection_id = (await ws.receive_json())['connection_id']

        async def drop(message: str) -> None:
            return None

        monkeypatch.setattr(hub_of(client.app.services).broadcast, 'publish', drop)
        monkeypatch.setattr(messaging, 'ECHO_TIMEOUT', 0.1)
        await send_message_to_websocket(connection_id, 'late but delivered')
        assert await ws.receive_text() == 'late but delivered'
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ws.receive(), 0.5)


async def test_a_call_waiting_for_its_echo_returns_when_the_last_socket_here_closes(settings, monkeypatch):
    """A publish that drops the message keeps the call waiting; the socket's departure must end the wait."""
    async with TestClient(app(settings)) as client:
        async with client.websocket('/ws/announce') as ws:
            connection_id = (await ws.receive_json())['connection_id']

            async def drop(message: str) -> None:
                return None

            hub = hub_of(client.app.services)
            monkeypatch.setattr(hub.broadcast, 'publish', drop)
            call = asyncio.ensure_future(send_message_to_websocket(connection_id, 'to a socket about to close'))
            await asyncio.sleep(0.05)
            assert not call.done()
        await asyncio.wait_for(call, messaging.ECHO_TIMEOUT / 5)


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
