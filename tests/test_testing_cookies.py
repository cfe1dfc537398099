"""The test client treats the app as its own host: Secure cookies are kept, and websockets carry Host and cookies."""

from __future__ import annotations

import secrets

from panther_like import API, Panther
from panther_like.http.response import Response
from panther_like.routing.websocket import GenericWebsocket
from panther_like.testing import TestClient
from tests.settings import settings_module


@API(methods=['POST'])
async def set_session(request):
    response = Response({'detail': 'set'})
    response.set_cookie('session', 'abc', secure=True)
    return response


@API(methods=['GET'])
async def read_session(request):
    return {'session': request.cookies.get('session')}


class Handshake(GenericWebsocket):
    async def connect(self):
        await self.accept()
        await self.send({'host': self.headers.get('host'), 'session': self.cookies.get('session')})


def build_app(tmp_path) -> Panther:
    return Panther(
        configs=settings_module(
            SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE={'path': str(tmp_path / 'store.sqlite3')},
            URLS={'set': set_session, 'read': read_session, 'ws/handshake': Handshake},
        )
    )


async def test_a_secure_cookie_set_by_the_app_is_sent_back_to_it(tmp_path):
    async with TestClient(build_app(tmp_path)) as client:
        await client.post('/set')
        assert (await client.get('/read')).json() == {'session': 'abc'}


async def test_the_websocket_handshake_carries_the_host(tmp_path):
    async with TestClient(build_app(tmp_path)) as client, client.websocket('/ws/handshake') as ws:
        assert (await ws.receive_json())['host'] == 'testserver'


async def test_the_websocket_handshake_carries_the_clients_cookies(tmp_path):
    async with TestClient(build_app(tmp_path)) as client:
        await client.post('/set')
        async with client.websocket('/ws/handshake') as ws:
            assert (await ws.receive_json())['session'] == 'abc'


async def test_a_cookie_named_by_the_request_wins_over_the_jars(tmp_path):
    async with TestClient(build_app(tmp_path)) as client:
        await client.post('/set')
        assert (await client.get('/read', headers={'Cookie': 'session=mine'})).json() == {'session': 'mine'}
