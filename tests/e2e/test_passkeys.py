"""Passkeys through a real uvicorn: the example project (which turns them on) on each store, with the software
authenticator in place of a browser."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.e2e.helpers import login, signup
from tests.passkeys_authenticator import SoftAuthenticator

pytestmark = pytest.mark.server

#: The example's default ``PASSKEY_ORIGINS``: the page the authenticator says it signed for.
EXAMPLE_ORIGIN = 'http://localhost:8000'


def registered(client: httpx.Client) -> tuple[str, dict, SoftAuthenticator, dict]:
    """A new user with one passkey: its name, tokens, authenticator and the passkey's view."""
    username, password, _ = signup(client, 'passkey')
    tokens = login(client, username, password)
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    options = client.post('/auth/passkeys/register/options', headers=bearer)
    assert options.status_code == 200, options.text
    device = SoftAuthenticator(EXAMPLE_ORIGIN)
    body = {'credential': device.create(options.json()), 'name': 'Test key'}
    response = client.post('/auth/passkeys/register', json=body, headers=bearer)
    assert response.status_code == 201, response.text
    return username, tokens, device, response.json()


def test_a_passkey_registers_and_then_logs_in_without_a_username(client: httpx.Client) -> None:
    username, _, device, view = registered(client)
    assert view['name'] == 'Test key'
    options = client.post('/auth/passkeys/login/options', json={})
    assert options.status_code == 200 and options.json()['allowCredentials'] == []
    response = client.post('/auth/passkeys/login', json={'credential': device.get(options.json())})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert 'hwk' in jwt.decode(tokens['access_token'], options={'verify_signature': False})['amr']
    me = client.get('/auth/me', headers={'Authorization': f'Bearer {tokens["access_token"]}'})
    assert me.json()['username'] == username
    assert {'access_token', 'refresh_token'} <= set(response.cookies)  # the example has cookies on


def test_a_passkey_answer_from_another_origin_is_refused(client: httpx.Client) -> None:
    _, _, device, _ = registered(client)
    options = client.post('/auth/passkeys/login/options', json={}).json()
    credential = device.get(options, origin='https://evil.example')
    response = client.post('/auth/passkeys/login', json={'credential': credential})
    assert response.status_code == 401 and response.json()['detail']


def test_a_removed_passkey_logs_in_no_more(client: httpx.Client) -> None:
    _, tokens, device, view = registered(client)
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    assert client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer).status_code == 204
    options = client.post('/auth/passkeys/login/options', json={}).json()
    assert client.post('/auth/passkeys/login', json={'credential': device.get(options)}).status_code == 401


def test_passkeys_work_with_two_workers(multiworker_server) -> None:
    """The challenge of the options is found by whichever worker takes the answer (new connections each time)."""
    with multiworker_server.client() as client:
        _, _, device, _ = registered(client)
    for _ in range(6):
        with multiworker_server.client() as first, multiworker_server.client() as second:
            options = first.post('/auth/passkeys/login/options', json={}).json()
            response = second.post('/auth/passkeys/login', json={'credential': device.get(options)})
            assert response.status_code == 200, response.text
