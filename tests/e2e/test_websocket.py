"""The echo websocket through uvicorn with a real client: greets the user, or is refused at the handshake (403)."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.e2e.helpers import claims_for, new_user, sign
from tests.e2e.server import ExampleServer

pytestmark = pytest.mark.server

TIMEOUT = 10


def echo_url(server: ExampleServer, token: str | None) -> str:
    query = '' if token is None else f'?authorization={quote(token, safe="")}'
    return f'{server.ws_url}/ws/echo{query}'


async def assert_handshake_refused(url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT):
            pytest.fail('the websocket opened')
    assert refused.value.response.status_code == 403


async def test_echo_greets_the_user_and_echoes(example_server: ExampleServer, client: httpx.Client) -> None:
    user = new_user(client, 'ws')
    async with connect(echo_url(example_server, user.access_token), open_timeout=TIMEOUT) as websocket:
        assert json.loads(await websocket.recv()) == {'hello': user.username}
        await websocket.send(json.dumps({'n': 1, 'text': 'héllo'}))
        assert json.loads(await websocket.recv()) == {'echo': {'n': 1, 'text': 'héllo'}}
        await websocket.send('plain text')
        assert json.loads(await websocket.recv()) == {'echo': 'plain text'}


async def test_echo_with_a_bad_token_is_refused(example_server: ExampleServer) -> None:
    await assert_handshake_refused(echo_url(example_server, 'not.a.token'))


async def test_echo_with_a_token_signed_by_another_key_is_refused(
    example_server: ExampleServer, client: httpx.Client
) -> None:
    user = new_user(client, 'wskey')
    await assert_handshake_refused(echo_url(example_server, sign(claims_for(user.id), 'x' * 48)))


async def test_echo_without_a_token_is_refused(example_server: ExampleServer) -> None:
    await assert_handshake_refused(echo_url(example_server, None))
    await assert_handshake_refused(echo_url(example_server, ''))


async def test_echo_with_a_refresh_token_is_refused(example_server: ExampleServer, client: httpx.Client) -> None:
    user = new_user(client, 'wsrefresh')
    await assert_handshake_refused(echo_url(example_server, user.refresh_token))


async def test_echo_with_a_revoked_token_is_refused(example_server: ExampleServer, client: httpx.Client) -> None:
    user = new_user(client, 'wsrevoked')
    assert client.post('/auth/logout', headers=user.bearer).status_code == 200
    await assert_handshake_refused(echo_url(example_server, user.access_token))


async def test_echo_ignores_a_bearer_header(example_server: ExampleServer, client: httpx.Client) -> None:
    """WS_AUTHENTICATION reads the query parameter only: a header alone is no credential."""
    user = new_user(client, 'wsheader')
    with pytest.raises(InvalidStatus) as refused:
        async with connect(echo_url(example_server, None), additional_headers=user.bearer, open_timeout=TIMEOUT):
            pytest.fail('the websocket opened')
    assert refused.value.response.status_code == 403


async def test_unknown_websocket_route_is_refused(example_server: ExampleServer) -> None:
    await assert_handshake_refused(f'{example_server.ws_url}/ws/nope')
