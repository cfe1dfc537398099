"""Lists, optional auth, callables, custom exceptions and URL-group defaults, through uvicorn."""

from __future__ import annotations

import asyncio
import base64

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.security_objects.testapp import SECRET

pytestmark = pytest.mark.server


def test_list_tries_the_next_authenticator_after_one_raises_401(client):
    response = client.get('/list', headers={'Authorization': 'Bearer anything', 'X-API-Key': SECRET})
    assert response.json() == {'auth': 'header-client'}


def test_list_reaches_its_last_authenticator(client):
    credentials = base64.b64encode('admin:pa:ss wörd'.encode()).decode()
    assert client.get('/list', headers={'Authorization': f'Basic {credentials}'}).json() == {'auth': 'admin'}


def test_list_all_failing_is_401_with_every_challenge(client):
    response = client.get('/list')
    assert response.status_code == 401
    challenges = response.headers.get_list('www-authenticate')
    assert challenges[0].startswith('Bearer realm="api"')
    assert 'APIKey' in challenges
    assert any(value.startswith('Basic realm="api"') for value in challenges)


def test_list_reports_the_credential_that_was_sent_rather_than_a_missing_one(client):
    response = client.get('/list', headers={'Authorization': 'Bearer anything'})
    assert response.json()['detail'] == 'first authenticator refused'


def test_list_stops_at_a_403(client):
    headers = {'Cookie': f'key={SECRET}', 'X-API-Key': SECRET}  # the cookie's CSRF check refuses first
    assert client.post('/list-403', headers=headers).status_code == 403


def test_list_skips_a_cookie_authenticator_whose_cookie_is_absent(client):
    assert client.post('/list-403', headers={'X-API-Key': SECRET}).json() == {'auth': 'header-client'}


def test_optional_without_credentials_runs_anonymously(client):
    assert client.get('/optional').json() == {'auth': None}


def test_optional_with_bad_credentials_is_a_401_not_anonymous(client):
    response = client.get('/optional', headers={'Authorization': 'Bearer wrong'})
    assert response.status_code == 401


def test_anonymous_as_last_list_item_refuses_a_wrong_key(client):
    assert client.get('/optional-list', headers={'X-API-Key': 'wrong'}).status_code == 401


def test_optional_with_good_credentials_has_the_principal(client):
    assert client.get('/optional', headers={'Authorization': f'Bearer {SECRET}'}).json() == {'auth': 'bearer-client'}


def test_anonymous_as_last_list_item_is_optional(client):
    assert client.get('/optional-list').json() == {'auth': None}
    assert client.get('/optional-list', headers={'X-API-Key': SECRET}).json() == {'auth': 'header-client'}


def test_callable_returning_a_falsy_value_authenticates(client):
    assert client.get('/callable-zero', headers={'X-Zero': 'yes'}).json() == {'auth': 0}
    assert client.get('/callable-zero').status_code == 401


def test_async_callable_is_awaited(client):
    assert client.get('/callable-async', params={'let': 'me'}).json() == {'auth': 'async-callable'}
    assert client.get('/callable-async').status_code == 401


def test_custom_exception_from_authenticate_reaches_the_app_handler(client):
    response = client.get('/custom-exception', headers={'Authorization': 'Bearer wrong'})
    assert response.status_code == 401
    assert response.json() == {'detail': 'Invalid token supplied'}
    assert response.headers['x-handled-by'] == 'InvalidToken handler'


# -- URL groups ----------------------------------------------------------------------------------

BEARER = {'Authorization': f'Bearer {SECRET}'}


def test_group_default_protects_a_route_that_sets_no_auth(client):
    assert client.get('/group/inherits').status_code == 401
    assert client.get('/group/inherits', headers=BEARER).json() == {'auth': 'bearer-client'}


def test_route_auth_overrides_the_group_default(client):
    assert client.get('/group/overrides', headers=BEARER).status_code == 401
    assert client.get('/group/overrides', headers={'X-API-Key': SECRET}).status_code == 200


def test_route_auth_none_opts_out_of_the_group_default(client):
    assert client.get('/group/public').json() == {'auth': None}


def test_nested_group_and_plain_dict_inherit_the_default(client):
    assert client.get('/group/nested/deeper').status_code == 401
    assert client.get('/group/plain/dict').status_code == 401
    assert client.get('/group/nested/deeper', headers=BEARER).status_code == 200


def test_group_auth_none_makes_a_public_island(client):
    assert client.get('/group/island/open').json() == {'auth': None}


def test_group_inside_a_public_island_sets_its_own_default(client):
    assert client.get('/group/island/reprotected/inner').status_code == 401
    assert client.get('/group/island/reprotected/inner', headers={'X-API-Key': SECRET}).status_code == 200


def test_group_default_protects_websockets_too(secured_server):
    async def greet(**kwargs):
        async with websockets.connect(secured_server.ws_url + '/group/ws', open_timeout=5, **kwargs) as ws:
            return await asyncio.wait_for(ws.recv(), 5)

    with pytest.raises(InvalidStatus):
        asyncio.run(greet())
    assert 'bearer-client' in asyncio.run(greet(additional_headers=BEARER))


def test_default_auth_setting_protects_routes_that_set_none(default_auth_server):
    with default_auth_server.client() as http:
        assert http.get('/setup/calls').status_code == 401
        assert http.get('/setup/calls', headers={'X-API-Key': SECRET}).status_code == 200
        assert http.get('/').status_code == 200  # auth=None opts out
        assert http.get('/group/inherits', headers=BEARER).status_code == 200  # the group's default wins
