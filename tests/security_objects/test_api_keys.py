"""API keys in a query parameter, a header and a cookie (with its CSRF check), over HTTP and websockets."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.security_objects.conftest import SECRET_KEY
from tests.security_objects.testapp import SECRET, CookieKey

pytestmark = pytest.mark.server


def test_query_key_uses_its_param_name(client):
    assert client.get('/query-key', params={'api_key': SECRET}).json() == {'auth': 'query-client'}
    assert client.get('/query-key', params={'key': SECRET}).status_code == 401


def test_query_key_sent_twice_is_401(client):
    assert client.get(f'/query-key?api_key={SECRET}&api_key={SECRET}').status_code == 401


def test_header_key_name_is_case_insensitive(client):
    assert client.get('/header-key', headers={'x-api-key': SECRET}).json() == {'auth': 'header-client'}


def test_header_key_missing_is_401_with_a_challenge(client):
    response = client.get('/header-key')
    assert response.status_code == 401
    assert response.headers['www-authenticate'] == 'APIKey'


def test_header_key_param_name_can_be_set_per_instance(client):
    assert client.get('/other-header-key', headers={'X-Other-Key': SECRET}).status_code == 200
    assert client.get('/other-header-key', headers={'key': SECRET}).status_code == 401


def test_cookie_key_default_param_name_is_key(client):
    assert client.get('/cookie-key', headers={'Cookie': f'key={SECRET}'}).json() == {'auth': 'cookie-client'}


def test_cookie_key_on_a_safe_method_needs_no_csrf_token(client):
    assert client.get('/cookie-key', headers={'Cookie': f'key={SECRET}'}).status_code == 200


def test_cookie_key_on_post_without_csrf_token_is_403(client):
    response = client.post('/cookie-key', headers={'Cookie': f'key={SECRET}'})
    assert response.status_code == 403
    assert 'CSRF' in response.json()['detail']


def _bound_token() -> str:
    """The CSRF token of the key cookie, as the app (same SECRET_KEY) issues it."""
    return CookieKey().csrf_token(SECRET, SimpleNamespace(secret_key=SECRET_KEY, jwt=None))


def test_cookie_key_on_post_with_the_token_bound_to_the_key_is_allowed(client):
    token = _bound_token()
    headers = {'Cookie': f'key={SECRET}; csrftoken={token}', 'X-CSRFToken': token}
    assert client.post('/cookie-key', headers=headers).status_code == 200


def test_cookie_key_on_post_with_a_matching_but_unbound_csrf_token_is_403(client):
    headers = {'Cookie': f'key={SECRET}; csrftoken=abc123', 'X-CSRFToken': 'abc123'}
    assert client.post('/cookie-key', headers=headers).status_code == 403


def test_cookie_key_on_post_with_mismatched_csrf_token_is_403(client):
    token = _bound_token()
    headers = {'Cookie': f'key={SECRET}; csrftoken={token}', 'X-CSRFToken': token[:-1] + 'x'}
    assert client.post('/cookie-key', headers=headers).status_code == 403


def test_cookie_key_csrf_compare_survives_non_ascii_values(client):
    headers = {'Cookie': f'key={SECRET}; csrftoken=\xe9'.encode('latin-1'), 'X-CSRFToken': '\xe9'.encode('latin-1')}
    assert client.post('/cookie-key', headers=headers).status_code == 403


def test_cookie_key_csrf_can_be_turned_off(client):
    assert client.post('/cookie-no-csrf', headers={'Cookie': f'key={SECRET}'}).json() == {'auth': 'plain-cookie'}


def test_cookie_key_missing_is_401_even_on_post(client):
    assert client.post('/cookie-key').status_code == 401


async def _greeting(url: str, **kwargs) -> dict:
    async with websockets.connect(url, open_timeout=5, **kwargs) as ws:
        return __import__('json').loads(await asyncio.wait_for(ws.recv(), 5))


def test_websocket_with_header_key_is_accepted(secured_server):
    greeting = asyncio.run(_greeting(secured_server.ws_url + '/ws/key', additional_headers={'X-API-Key': SECRET}))
    assert greeting == {'auth': 'header-client'}


def test_websocket_without_key_is_refused_during_the_handshake(secured_server):
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(_greeting(secured_server.ws_url + '/ws/key'))
    assert refused.value.response.status_code == 403


def test_websocket_cookie_key_from_a_foreign_origin_is_refused(secured_server):
    headers = {'Cookie': f'key={SECRET}'}
    with pytest.raises(InvalidStatus):
        asyncio.run(
            _greeting(secured_server.ws_url + '/ws/cookie', additional_headers=headers, origin='http://evil.example')
        )


def test_websocket_cookie_key_from_the_same_origin_is_accepted(secured_server):
    headers = {'Cookie': f'key={SECRET}'}
    origin = f'http://127.0.0.1:{secured_server.port}'
    greeting = asyncio.run(_greeting(secured_server.ws_url + '/ws/cookie', additional_headers=headers, origin=origin))
    assert greeting == {'auth': 'cookie-client'}
