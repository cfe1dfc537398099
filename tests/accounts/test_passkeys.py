"""Passkeys through the account routes, in-process on each store, with a software authenticator (no browser).

Registration and username-less login, and each protocol check the server must make: origin, RP ID,
challenge (single use, one ceremony, five minutes), user verification, the sign counter, the user handle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.testing import TestClient
from tests.accounts.conftest import bearer, login, settings_module, signup
from tests.clock import ManualClock
from tests.passkeys_authenticator import SoftAuthenticator, unb64url

pytestmark = pytest.mark.asyncio

ORIGIN = 'http://localhost:8000'
WEBAUTHN = {'rp_id': 'localhost', 'rp_name': 'Example', 'origins': [ORIGIN]}


@pytest.fixture
def clock() -> ManualClock:
    behind = ManualClock()
    behind.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return behind


@pytest_asyncio.fixture
async def client(store, clock) -> AsyncIterator[TestClient]:
    settings = settings_module(store[0], store[1], {'webauthn': WEBAUTHN})
    settings.JWTConfig = {'life_time': 3600}
    async with TestClient(Panther(configs=settings, clock=clock)) as started:
        yield started


async def register(client: TestClient, tokens: dict, device: SoftAuthenticator, name: str | None = None) -> dict:
    options = await client.post('/auth/passkeys/register/options', headers=bearer(tokens))
    assert options.status_code == 200, options.text
    body = {'credential': device.create(options.json())}
    if name is not None:
        body['name'] = name
    response = await client.post('/auth/passkeys/register', json=body, headers=bearer(tokens))
    assert response.status_code == 201, response.text
    return response.json()


async def login_options(client: TestClient, body: dict | None = None) -> dict:
    response = await client.post('/auth/passkeys/login/options', json=body or {})
    assert response.status_code == 200, response.text
    return response.json()


async def ann_with_passkey(client: TestClient) -> tuple[dict, SoftAuthenticator, dict]:
    """Ann, logged in, with one passkey: her tokens, her authenticator and the passkey's view."""
    await signup(client, email='ann@example.com')
    tokens = await login(client)
    device = SoftAuthenticator(ORIGIN)
    return tokens, device, await register(client, tokens, device)


# -- registering ----------------------------------------------------------------------------------


async def test_registration_options_ask_for_a_discoverable_user_verified_passkey(client):
    await signup(client)
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(await login(client)))).json()
    assert options['rp'] == {'id': 'localhost', 'name': 'Example'}
    assert options['authenticatorSelection']['residentKey'] == 'required'
    assert options['authenticatorSelection']['userVerification'] == 'required'
    assert {-7, -257} <= {param['alg'] for param in options['pubKeyCredParams']}
    assert len(unb64url(options['challenge'])) == 32 and options['excludeCredentials'] == []


async def test_the_user_handle_is_random_not_the_id_or_the_address(client):
    user = await signup(client, email='ann@example.com')
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(await login(client)))).json()
    handle = unb64url(options['user']['id'])
    assert len(handle) == 32
    assert user['id'].encode() not in handle and b'ann' not in handle
    assert options['user']['name'] == 'ann'


async def test_the_user_handle_stays_the_same_for_every_passkey_of_the_user(client):
    tokens, device, _ = await ann_with_passkey(client)
    again = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    assert unb64url(again['user']['id']) == next(iter(device.credentials.values())).user_handle


async def test_two_users_get_different_handles(client):
    await signup(client, 'ann')
    await signup(client, 'bob')
    ann = (await client.post('/auth/passkeys/register/options', headers=bearer(await login(client, 'ann')))).json()
    bob = (await client.post('/auth/passkeys/register/options', headers=bearer(await login(client, 'bob')))).json()
    assert ann['user']['id'] != bob['user']['id']


async def test_registering_answers_the_passkeys_public_view(client):
    _, _, view = await ann_with_passkey(client)
    assert set(view) == {'id', 'name', 'created', 'last_used', 'backed_up', 'transports'}
    assert view['name'] == 'Passkey 1' and view['last_used'] is None and view['backed_up'] is True
    assert 'internal' in view['transports'] and view['created'].endswith('+00:00')


async def test_exclude_credentials_lists_the_users_passkeys(client):
    tokens, _, view = await ann_with_passkey(client)
    again = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    assert [item['id'] for item in again['excludeCredentials']] == [view['id']]


# -- logging in -----------------------------------------------------------------------------------


async def test_a_passkey_logs_in_without_a_username(client):
    _, device, _ = await ann_with_passkey(client)
    options = await login_options(client)
    assert options['allowCredentials'] == [] and options['userVerification'] == 'required'
    assert options['rpId'] == 'localhost'
    response = await client.post('/auth/passkeys/login', json={'credential': device.get(options)})
    assert response.status_code == 200, response.text
    me = await client.get('/auth/me', headers=bearer(response.json()))
    assert me.json()['username'] == 'ann'


async def test_the_passkey_session_says_hwk_and_mfa_in_its_amr(client):
    _, device, _ = await ann_with_passkey(client)
    tokens = (
        await client.post('/auth/passkeys/login', json={'credential': device.get(await login_options(client))})
    ).json()
    import jwt

    claims = jwt.decode(tokens['access_token'], options={'verify_signature': False})
    assert 'hwk' in claims['amr'] and 'mfa' in claims['amr']


async def test_a_passkey_login_sets_last_used(client):
    tokens, device, _ = await ann_with_passkey(client)
    await client.post('/auth/passkeys/login', json={'credential': device.get(await login_options(client))})
    listed = (await client.get('/auth/passkeys', headers=bearer(tokens))).json()
    assert listed[0]['last_used'] is not None
