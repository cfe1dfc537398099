"""One way to read ``Authorization``: the JWT class and a Ninja-style ``HttpBearer`` agree on every header.

Only SP separates a scheme from its credentials (RFC 9110 section 11.4)
and only SP/HTAB around the value are optional whitespace; a proxy in
front of the app reads the header the same way, so nothing it passes as
"not a Bearer token" becomes one here.
"""

from __future__ import annotations

import pytest

from panther_like import API, Panther, Request
from panther_like.security import HttpBearer
from panther_like.testing import TestClient
from tests.settings import settings_module

KEY = 'k' * 32 + '0123456789abcdefghijklmnopqrstuv'


class AcceptsAnyToken(HttpBearer):
    """Whatever token it is handed is a principal: the test is about what reaches it."""

    def authenticate(self, request, token):
        return {'token': token}


@API(auth=True, methods=['GET'])
async def jwt_route(request: Request):
    return {'user': request.user.username}


@API(auth=AcceptsAnyToken(), methods=['GET'])
async def bearer_route(request: Request):
    return request.user


ROUTES = ('/jwt', '/bearer')


@pytest.fixture
async def client(tmp_path):
    module = settings_module(
        SECRET_KEY=KEY,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        DATABASE={'path': str(tmp_path / 'parsing.sqlite3')},
    )
    app = Panther(module, urls={'jwt': jwt_route, 'bearer': bearer_route})
    async with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def token(client):
    user = await client.app.config.user_model.insert_one(username='ann', password='secret-pw')
    return (await user.login())['access_token']


@pytest.mark.parametrize('path', ROUTES)
async def test_a_tab_between_scheme_and_token_is_not_a_bearer_credential(client, token, path):
    response = await client.get(path, headers={'Authorization': f'Bearer\t{token}'})
    assert response.status_code == 401
    assert response.json() == {'detail': 'Authorization header must be "Bearer <token>"'}
    assert response.headers['www-authenticate'] == 'Bearer realm="api"'


@pytest.mark.parametrize('path', ROUTES)
async def test_a_header_wrapped_in_unicode_whitespace_is_not_a_bearer_credential(client, token, path):
    # U+0085 (NEL) is whitespace to str.strip(), not to HTTP; latin-1 is how ASGI headers decode.
    value = f'\x85Bearer {token}\x85'.encode('latin-1')
    response = await client.get(path, headers=[(b'authorization', value)])
    assert response.status_code == 401
    assert response.json() == {'detail': 'Authorization header must be "Bearer <token>"'}


@pytest.mark.parametrize('path', ROUTES)
async def test_spaces_and_tabs_around_the_whole_value_are_optional_whitespace(client, token, path):
    response = await client.get(path, headers=[(b'authorization', f' \tBearer {token}\t '.encode())])
    assert response.status_code == 200


@pytest.mark.parametrize('path', ROUTES)
async def test_several_spaces_after_the_scheme_are_one_separator(client, token, path):
    response = await client.get(path, headers={'Authorization': f'Bearer   {token}'})
    assert response.status_code == 200


@pytest.mark.parametrize('path', ROUTES)
async def test_the_scheme_is_case_insensitive(client, token, path):
    response = await client.get(path, headers={'Authorization': f'bEaReR {token}'})
    assert response.status_code == 200


@pytest.mark.parametrize('path', ROUTES)
async def test_another_scheme_is_a_missing_bearer_credential_without_an_error_code(client, path):
    response = await client.get(path, headers={'Authorization': 'Basic YW5uOnB3'})
    assert response.status_code == 401
    assert response.headers['www-authenticate'] == 'Bearer realm="api"'


@pytest.mark.parametrize('path', ROUTES)
async def test_no_header_is_the_same_refusal_for_both(client, path):
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json() == {'detail': 'Authorization header is missing'}
    assert response.headers['www-authenticate'] == 'Bearer realm="api"'


@pytest.mark.parametrize('path', ROUTES)
async def test_two_authorization_headers_are_refused(client, token, path):
    headers = [(b'authorization', f'Bearer {token}'.encode()), (b'authorization', f'Bearer {token}'.encode())]
    response = await client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {'detail': 'Send exactly one Authorization header'}


@pytest.mark.parametrize('path', ROUTES)
async def test_a_token_with_a_space_inside_is_refused_with_invalid_token(client, path):
    response = await client.get(path, headers={'Authorization': 'Bearer two parts'})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers['www-authenticate']
