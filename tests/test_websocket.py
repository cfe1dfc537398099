"""Websockets: authenticated before accept, refused with 1008 during the handshake otherwise."""

from __future__ import annotations

import pytest

from panther_like import Panther
from panther_like.routing.websocket import GenericWebsocket
from panther_like.testing import TestClient, WebsocketRefused, WebsocketTestSession
from tests.settings import settings_module

KEY = 'w' * 32 + '0123456789abcdefghijklmnopqrstuv'
received: list[object] = []


class Greeter(GenericWebsocket):
    auth = True

    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user.username})

    async def receive(self, data):
        received.append(data)
        await self.send({'echo': data})


class Open(GenericWebsocket):
    async def connect(self):
        await self.accept()
        await self.send({'user': self.user, 'q': dict(self.query_params), 'room': self.path_params['room']})
        await self.close()
        await self.close()  # closing twice sends one close frame


class Shy(GenericWebsocket):
    async def connect(self):
        pass  # never accepts


class Guarded(GenericWebsocket):
    auth = True
    permissions = [lambda connection: connection.user.username == 'admin']


@pytest.fixture
async def client(tmp_path):
    settings = settings_module(
        SECRET_KEY=KEY,
        DATABASE={'path': str(tmp_path / 'ws.sqlite3')},
        WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
    )
    app = Panther(settings, urls={'ws/greet': Greeter, 'ws/open/<room>': Open, 'ws/shy': Shy, 'ws/guarded': Guarded})
    async with TestClient(app) as client:
        received.clear()
        yield client


@pytest.fixture
async def token(client):
    user = await client.app.config.user_model.insert_one(username='ann')
    return (await user.login())['access_token']


def recording(app, sent: list[dict]):
    """The app, with every ASGI message it sends appended to `sent`: to count close frames."""

    async def recorder(scope, receive, send):
        async def record(message):
            sent.append(message)
            await send(message)

        await app(scope, receive, record)

    return recorder


async def test_a_valid_token_in_the_query_opens_the_socket_with_the_user(client, token):
    async with client.websocket('/ws/greet', params={'authorization': token}) as ws:
        assert await ws.receive_text() == '{"hello":"ann"}'


async def test_messages_arrive_parsed_as_json_or_as_text(client, token):
    async with client.websocket('/ws/greet', params={'authorization': token}) as ws:
        await ws.receive_text()
        await ws.send_text('{"n": 1}')
        assert await ws.receive_text() == '{"echo":{"n":1}}'
        await ws.send_text('plain words')
        assert await ws.receive_text() == '{"echo":"plain words"}'
    assert received == [{'n': 1}, 'plain words']


@pytest.mark.parametrize('query', ['', 'authorization=', 'authorization=a.b.c', 'authorization=%FF%FE'])
async def test_a_missing_or_bad_token_is_refused_before_accept_with_1008(client, query):
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket(f'/ws/greet?{query}'):
            pass
    assert refused.value.code == 1008
    assert received == []


async def test_a_refresh_token_does_not_open_the_socket(client):
    user = await client.app.config.user_model.insert_one(username='bob')
    refresh = (await user.login())['refresh_token']
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/greet', params={'authorization': refresh}):
            pass
    assert refused.value.code == 1008


async def test_a_revoked_token_does_not_open_the_socket(client, token):
    user = await client.app.tokens.authenticate(token)
    await user.logout()
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/greet', params={'authorization': token}):
            pass
    assert (refused.value.code, refused.value.reason) == (1008, 'Token has been revoked')


async def test_a_socket_without_auth_has_no_user_and_gets_query_and_path_params(client):
    async with client.websocket('/ws/open/lobby', params={'x': '1'}) as ws:
        assert await ws.receive_text() == '{"user":null,"q":{"x":"1"},"room":"lobby"}'


async def test_closing_twice_sends_one_close_frame(client):
    sent: list[dict] = []
    async with WebsocketTestSession(recording(client.app, sent), '/ws/open/lobby') as ws:
        await ws.expect_close()
    assert [message['type'] for message in sent] == ['websocket.accept', 'websocket.send', 'websocket.close']


async def test_a_socket_that_never_accepts_is_closed_with_1008(client):
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/shy'):
            pass
    assert refused.value.code == 1008


async def test_a_permission_refusal_closes_once_with_1008(client, token):
    sent: list[dict] = []
    with pytest.raises(WebsocketRefused) as refused:
        async with WebsocketTestSession(recording(client.app, sent), '/ws/guarded', params={'authorization': token}):
            pass
    assert refused.value.code == 1008
    assert [message['type'] for message in sent] == ['websocket.close']


async def test_an_unknown_websocket_path_is_refused(client):
    with pytest.raises(WebsocketRefused):
        async with client.websocket('/ws/nowhere'):
            pass


class Chatty(GenericWebsocket):
    after_the_client_left: list[str] = []

    async def connect(self):
        await self.accept()
        await self.send('first')
        Chatty.after_the_client_left.append('never reached')


async def test_a_send_after_the_client_left_ends_the_socket_without_an_error_logged(tmp_path, caplog):
    """The ASGI server is played by two functions here: what it does on a closed connection is the point.

    ASGI says a send on a connection the client closed raises an OSError subclass (uvicorn's
    ClientDisconnected); the socket is over, which is no error of the app's.
    """
    app = Panther(settings_module(SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 'w.sqlite3')}), urls={'c': Chatty})
    messages = iter([{'type': 'websocket.connect'}])
    sent: list[dict] = []

    async def receive():
        return next(messages)

    async def send(message):
        if message['type'] == 'websocket.send':
            raise ConnectionResetError('the client is gone')
        sent.append(message)

    scope = {'type': 'websocket', 'path': '/c', 'query_string': b'', 'headers': [], 'client': ('127.0.0.1', 5)}
    with caplog.at_level('ERROR', logger='panther_like'):
        await app(scope, receive, send)
    assert [message['type'] for message in sent] == ['websocket.accept']
    assert Chatty.after_the_client_left == []
    assert not [record for record in caplog.records if record.levelname == 'ERROR']
