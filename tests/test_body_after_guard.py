"""The request body is read only once the route's guard has let the caller in.

An anonymous client must not make the server read (up to 1 MiB of) what it
then refuses. These tests call the app as uvicorn does, with a `receive`
that records whether the body was asked for.
"""

from __future__ import annotations

import pytest

from panther_like import API, Panther, Request
from panther_like.testing import TestClient
from tests.settings import settings_module

KEY = 'k' * 32 + '0123456789abcdefghijklmnopqrstuv'


def deny(request):
    return False


@API(auth=True, methods=['POST'])
async def private(request: Request):
    return {'got': request.data}


@API(methods=['POST'], permissions=[deny])
async def forbidden(request: Request):
    return {'got': request.data}


@API(methods=['POST'])
async def public(request: Request):
    return {'got': request.data}


@pytest.fixture
def app(tmp_path):
    module = settings_module(
        SECRET_KEY=KEY,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        DATABASE={'path': str(tmp_path / 'body.sqlite3')},
    )
    return Panther(module, urls={'private': private, 'forbidden': forbidden, 'public': public})


async def call(app: Panther, path: str, body: bytes, headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, int]:
    """(status, how many times the app asked for the body)."""
    asked = 0
    sent: list[dict] = []

    async def receive():
        nonlocal asked
        asked += 1
        return {'type': 'http.request', 'body': body, 'more_body': False}

    async def send(message):
        sent.append(message)

    scope = {
        'type': 'http',
        'method': 'POST',
        'path': f'/{path}',
        'query_string': b'',
        'headers': [(b'content-type', b'application/json'), (b'content-length', str(len(body)).encode()), *headers],
        'client': ('127.0.0.1', 5000),
    }
    await app(scope, receive, send)
    return sent[0]['status'], asked


async def test_an_anonymous_post_to_a_guarded_route_is_refused_without_reading_its_body(app):
    assert await call(app, 'private', b'{"a": 1}') == (401, 0)


async def test_a_post_a_permission_refuses_is_refused_without_reading_its_body(app):
    assert await call(app, 'forbidden', b'{"a": 1}') == (403, 0)


async def test_an_oversized_body_from_an_anonymous_client_is_a_401_not_a_413(app):
    status, asked = await call(app, 'private', b'x', headers=[(b'content-length', str(10 * 1024 * 1024).encode())])
    assert (status, asked) == (401, 0)


async def test_a_public_route_reads_the_body(app):
    assert await call(app, 'public', b'{"a": 1}') == (200, 1)


async def test_an_authenticated_caller_gets_its_body_read(app):
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ann', password='secret-pw')
        await client.login_as(user)
        response = await client.post('/private', json={'a': 1})
    assert response.json() == {'got': {'a': 1}}
