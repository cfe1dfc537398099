"""Passkeys through the account routes, in-process on each store, with a software authenticator (no browser).

Registering, the user handle, listing, renaming and removing, and the username-less login; the protocol
checks one by one are in test_passkey_protocol.py.
"""

from __future__ import annotations

import jwt
import pytest

from tests.accounts.conftest import bearer, login, signup
from tests.accounts.passkeys.conftest import (
    ORIGIN,
    login_options,
    make_passkey_app,
    passkey_login,
    register,
    user_with_passkey,
)
from tests.passkeys_authenticator import SoftAuthenticator, unb64url

pytestmark = pytest.mark.asyncio


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
    tokens, device, _ = await user_with_passkey(client)
    again = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    assert unb64url(again['user']['id']) == next(iter(device.credentials.values())).user_handle


async def test_two_users_get_different_handles(client):
    await signup(client, 'ann')
    await signup(client, 'bob')
    ann = (await client.post('/auth/passkeys/register/options', headers=bearer(await login(client, 'ann')))).json()
    bob = (await client.post('/auth/passkeys/register/options', headers=bearer(await login(client, 'bob')))).json()
    assert ann['user']['id'] != bob['user']['id']


async def test_registering_answers_the_passkeys_public_view(client):
    _, _, view = await user_with_passkey(client)
    assert set(view) == {'id', 'name', 'created', 'last_used', 'backed_up', 'transports'}
    assert view['name'] == 'Passkey 1' and view['last_used'] is None and view['backed_up'] is True
    assert 'internal' in view['transports'] and view['created'].endswith('+00:00')


async def test_exclude_credentials_lists_the_users_passkeys(client):
    tokens, _, view = await user_with_passkey(client)
    again = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    assert [item['id'] for item in again['excludeCredentials']] == [view['id']]


# -- logging in -----------------------------------------------------------------------------------


async def test_a_passkey_logs_in_without_a_username(client):
    _, device, _ = await user_with_passkey(client)
    options = await login_options(client)
    assert options['allowCredentials'] == [] and options['userVerification'] == 'required'
    assert options['rpId'] == 'localhost'
    response = await client.post('/auth/passkeys/login', json={'credential': device.get(options)})
    assert response.status_code == 200, response.text
    me = await client.get('/auth/me', headers=bearer(response.json()))
    assert me.json()['username'] == 'ann'


async def test_the_passkey_session_says_hwk_and_mfa_in_its_amr(client):
    _, device, _ = await user_with_passkey(client)
    tokens = (
        await client.post('/auth/passkeys/login', json={'credential': device.get(await login_options(client))})
    ).json()
    claims = jwt.decode(tokens['access_token'], options={'verify_signature': False})
    assert 'hwk' in claims['amr'] and 'mfa' in claims['amr']


async def test_a_passkey_login_sets_last_used(client):
    tokens, device, _ = await user_with_passkey(client)
    await client.post('/auth/passkeys/login', json={'credential': device.get(await login_options(client))})
    listed = (await client.get('/auth/passkeys', headers=bearer(tokens))).json()
    assert listed[0]['last_used'] is not None


async def test_the_passkey_login_also_sets_the_session_cookies_when_they_are_on(store, clock):
    from panther_like.testing import TestClient

    async with TestClient(make_passkey_app(store, clock, cookies=True)) as client:
        _, device, _ = await user_with_passkey(client)
        response = await passkey_login(client, device)
        assert response.status_code == 200, response.text
        names = {value.split('=', 1)[0] for value in response.headers.get_list('set-cookie')}
        assert {'access_token', 'refresh_token', 'csrftoken'} <= names


# -- listing, renaming, removing ------------------------------------------------------------------


async def test_the_list_shows_the_users_passkeys_oldest_first(client, clock):
    tokens, _, first = await user_with_passkey(client)
    clock.advance(1)
    second = await register(client, tokens, SoftAuthenticator(ORIGIN), name='Phone')
    listed = (await client.get('/auth/passkeys', headers=bearer(tokens))).json()
    assert [item['id'] for item in listed] == [first['id'], second['id']]
    assert [item['name'] for item in listed] == ['Passkey 1', 'Phone']


async def test_the_list_shows_none_of_another_users_passkeys(client):
    await user_with_passkey(client, 'ann')
    await signup(client, 'bob')
    assert (await client.get('/auth/passkeys', headers=bearer(await login(client, 'bob')))).json() == []


async def test_renaming_a_passkey(client):
    tokens, _, view = await user_with_passkey(client)
    response = await client.patch(f'/auth/passkeys/{view["id"]}', json={'name': 'Work laptop'}, headers=bearer(tokens))
    assert response.status_code == 200 and response.json()['name'] == 'Work laptop'
    assert (await client.get('/auth/passkeys', headers=bearer(tokens))).json()[0]['name'] == 'Work laptop'


async def test_renaming_another_users_passkey_is_a_404(client):
    _, _, view = await user_with_passkey(client, 'ann')
    await signup(client, 'bob')
    bob = await login(client, 'bob')
    response = await client.patch(f'/auth/passkeys/{view["id"]}', json={'name': 'mine'}, headers=bearer(bob))
    assert response.status_code == 404 and response.json()['detail']


async def test_removing_a_passkey_answers_204_and_it_logs_in_no_more(client):
    tokens, device, view = await user_with_passkey(client)
    response = await client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer(tokens))
    assert response.status_code == 204
    assert (await client.get('/auth/passkeys', headers=bearer(tokens))).json() == []
    refused = await passkey_login(client, device)
    assert refused.status_code == 401 and refused.json()['detail']


async def test_removing_another_users_passkey_is_a_404_and_keeps_it(client):
    _, device, view = await user_with_passkey(client, 'ann')
    await signup(client, 'bob')
    bob = await login(client, 'bob')
    assert (await client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer(bob))).status_code == 404
    assert (await passkey_login(client, device)).status_code == 200


async def test_removing_an_unknown_passkey_is_a_404(client):
    tokens, _, _ = await user_with_passkey(client)
    assert (await client.delete('/auth/passkeys/' + 'A' * 43, headers=bearer(tokens))).status_code == 404
    assert (await client.delete('/auth/passkeys/' + 'A' * 5000, headers=bearer(tokens))).status_code == 404


async def test_deleting_a_user_deletes_their_passkeys(client):
    from panther_like.login_state.passkeys import PASSKEYS_COLLECTION
    from panther_like.login_state.services import bound_services

    _, device, view = await user_with_passkey(client, 'ann')
    user = await bound_services().config.user_model.find_one(username='ann')
    await signup(client, 'root')
    root = await bound_services().config.user_model.find_one(username='root')
    await root.update(is_superuser=True)
    admin = await login(client, 'root')
    assert (await client.delete(f'/auth/users/{user.id}', headers=bearer(admin))).status_code == 204
    rows = bound_services().database.collection(PASSKEYS_COLLECTION)
    assert await rows.find_one({'_id': view['id']}) is None
    assert (await passkey_login(client, device)).status_code == 401
