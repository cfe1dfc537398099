"""What a Panther user writes works here too: header attributes, and the ``Bearer`` form of the query token.

Panther's documentation tells custom-authentication writers to read
``request.headers.authorization``, and shows websocket clients sending
``?authorization=Bearer%20<token>``.
"""

from __future__ import annotations

import pytest

from panther_like import API, Panther
from panther_like.http.request import Headers
from panther_like.routing.websocket import GenericWebsocket
from panther_like.testing import TestClient, WebsocketRefused
from tests.settings import settings_module

KEY = 'p' * 32 + '0123456789abcdefghijklmnopqrstuv'


def test_a_header_is_an_attribute_with_underscores_for_dashes():
    headers = Headers([(b'authorization', b'Bearer abc'), (b'content-type', b'application/json')])
    assert headers.authorization == 'Bearer abc'
    assert headers.content_type == 'application/json'
    assert headers.Content_Type == 'application/json'


def test_a_header_that_was_not_sent_is_none_as_an_attribute():
    assert Headers([]).authorization is None


def test_a_private_name_is_not_taken_for_a_header():
    with pytest.raises(AttributeError):
        Headers([(b'-x', b'1')])._x  # noqa: B018


async def test_custom_authentication_reading_headers_authorization_gets_the_header(tmp_path):
    @API()
    async def echo(request):
        return {'authorization': request.headers.authorization, 'missing': request.headers.x_not_sent}

    app = Panther(settings_module(SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 's.sqlite3')}), urls={'e': echo})
    async with TestClient(app) as client:
        response = await client.get('/e', headers={'Authorization': 'Bearer t'})
    assert response.status_code == 200
    assert response.json() == {'authorization': 'Bearer t', 'missing': None}


class Greeter(GenericWebsocket):
    auth = True

    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user.username})


@pytest.fixture
async def client(tmp_path):
    settings = settings_module(
        SECRET_KEY=KEY,
        DATABASE={'path': str(tmp_path / 'ws.sqlite3')},
        WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
    )
    async with TestClient(Panther(settings, urls={'ws/greet': Greeter})) as client:
        yield client


@pytest.fixture
async def token(client):
    user = await client.app.config.user_model.insert_one(username='ann')
    return (await user.login())['access_token']


@pytest.mark.parametrize('form', ['Bearer {}', 'bearer {}', '{}'])
async def test_the_query_token_may_carry_the_bearer_scheme(client, token, form):
    async with client.websocket('/ws/greet', params={'authorization': form.format(token)}) as ws:
        assert await ws.receive_text() == '{"hello":"ann"}'


@pytest.mark.parametrize('value', ['Bearer', 'Bearer ', 'Bearer  {}', 'Basic {}', 'Bearer {} extra'])
async def test_a_query_token_with_a_scheme_but_no_single_token_is_refused(client, token, value):
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/greet', params={'authorization': value.format(token)}):
            pass
    assert refused.value.code == 1008
