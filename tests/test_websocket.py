"""Websockets: authenticated before accept, refused with 1008 during the handshake otherwise."""

from __future__ import annotations

import pytest

from panther_like import Panther
from panther_like.websocket import GenericWebsocket
from tests.asgi import WebsocketSession, client_for, settings_module

KEY = 'w' * 64
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
async def app(tmp_path):
    settings = settings_module(
        SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 'ws.sqlite3')},
        WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
    )
    app = Panther(settings, urls={'ws/greet': Greeter, 'ws/open/<room>': Open, 'ws/shy': Shy, 'ws/guarded': Guarded})
    async with client_for(app):
        received.clear()
        yield app


@pytest.fixture
async def token(app):
    user = await app.config.user_model.insert_one(username='ann')
    return (await user.login())['access_token']


async def test_a_valid_token_in_the_query_opens_the_socket_with_the_user(app, token):
    async with WebsocketSession(app, '/ws/greet', f'authorization={token}'.encode()) as ws:
        assert (await ws.next_message())['type'] == 'websocket.accept'
        assert (await ws.next_message())['text'] == '{"hello":"ann"}'


async def test_messages_arrive_parsed_as_json_or_as_text(app, token):
    async with WebsocketSession(app, '/ws/greet', f'authorization={token}'.encode()) as ws:
        await ws.next_message(), await ws.next_message()
        await ws.send_text('{"n": 1}')
        assert (await ws.next_message())['text'] == '{"echo":{"n":1}}'
        await ws.send_text('plain words')
        assert (await ws.next_message())['text'] == '{"echo":"plain words"}'
    assert received == [{'n': 1}, 'plain words']


@pytest.mark.parametrize('query', [b'', b'authorization=', b'authorization=a.b.c', b'authorization=%FF%FE'])
async def test_a_missing_or_bad_token_is_refused_before_accept_with_1008(app, query):
    async with WebsocketSession(app, '/ws/greet', query) as ws:
        message = await ws.next_message()
        assert message['type'] == 'websocket.close'
        assert message['code'] == 1008
    assert received == []


async def test_a_refresh_token_does_not_open_the_socket(app):
    user = await app.config.user_model.insert_one(username='bob')
    refresh = (await user.login())['refresh_token']
    async with WebsocketSession(app, '/ws/greet', f'authorization={refresh}'.encode()) as ws:
        assert (await ws.next_message())['code'] == 1008


async def test_a_revoked_token_does_not_open_the_socket(app, token):
    user = await app.tokens.authenticate(token)
    await user.logout()
    async with WebsocketSession(app, '/ws/greet', f'authorization={token}'.encode()) as ws:
        message = await ws.next_message()
        assert (message['code'], message['reason']) == (1008, 'Token has been revoked')


async def test_a_socket_without_auth_has_no_user_and_gets_query_and_path_params(app):
    async with WebsocketSession(app, '/ws/open/lobby', b'x=1') as ws:
        assert (await ws.next_message())['type'] == 'websocket.accept'
        assert (await ws.next_message())['text'] == '{"user":null,"q":{"x":"1"},"room":"lobby"}'
        assert (await ws.next_message())['type'] == 'websocket.close'
        assert ws._from_app.empty()


async def test_a_socket_that_never_accepts_is_closed_with_1008(app):
    async with WebsocketSession(app, '/ws/shy') as ws:
        assert (await ws.next_message())['code'] == 1008


async def test_a_permission_refusal_closes_once_with_1008(app, token):
    async with WebsocketSession(app, '/ws/guarded', f'authorization={token}'.encode()) as ws:
        assert (await ws.next_message())['code'] == 1008
        assert ws._from_app.empty()


async def test_an_unknown_websocket_path_is_refused(app):
    async with WebsocketSession(app, '/ws/nowhere') as ws:
        assert (await ws.next_message())['type'] == 'websocket.close'
