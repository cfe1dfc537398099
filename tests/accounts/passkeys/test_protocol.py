"""Each WebAuthn check the server makes, one per test, with a software authenticator bent to break it.

The answers are made by `tests.passkeys_authenticator.SoftAuthenticator`; every check itself is
py_webauthn's, and these tests prove the routes ask for it (the right origin, RP ID, challenge, flags).
On the embedded store only: what is stored is tested on every store in test_routes.py.
"""

from __future__ import annotations

import pytest

from tests.accounts.conftest import bearer, login, signup
from tests.accounts.passkeys.conftest import ORIGIN, login_options, passkey_login, user_with_passkey
from tests.passkeys_authenticator import SoftAuthenticator, b64url, unb64url

pytestmark = pytest.mark.asyncio


@pytest.fixture
def store(tmp_path) -> tuple[dict, None]:
    return {'path': str(tmp_path / 'passkeys.sqlite3')}, None


async def registration(client, tokens: dict, device: SoftAuthenticator, **bend) -> object:
    """`passkeys/register` with `device`'s answer to fresh options, bent by `bend`; the response."""
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    credential = device.create(options, **bend)
    return await client.post('/auth/passkeys/register', json={'credential': credential}, headers=bearer(tokens))


async def logged_in(client) -> dict:
    await signup(client)
    return await login(client)


def refused(response, status: int) -> bool:
    return response.status_code == status and isinstance(response.json().get('detail'), str)


# -- registration ---------------------------------------------------------------------------------


async def test_registration_from_another_origin_is_refused(client):
    tokens = await logged_in(client)
    assert refused(await registration(client, tokens, SoftAuthenticator(), origin='https://evil.example'), 400)


async def test_registration_for_another_rp_id_is_refused(client):
    tokens = await logged_in(client)
    assert refused(await registration(client, tokens, SoftAuthenticator(), rp_id='evil.example'), 400)


async def test_registration_without_user_verification_is_refused(client):
    tokens = await logged_in(client)
    assert refused(await registration(client, tokens, SoftAuthenticator(), uv=False), 400)


async def test_a_login_answer_is_not_a_registration(client):
    tokens = await logged_in(client)
    assert refused(await registration(client, tokens, SoftAuthenticator(), kind='webauthn.get'), 400)


async def test_a_registration_challenge_works_once(client):
    tokens = await logged_in(client)
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    first = {'credential': SoftAuthenticator().create(options)}
    second = {'credential': SoftAuthenticator().create(options)}
    assert (await client.post('/auth/passkeys/register', json=first, headers=bearer(tokens))).status_code == 201
    assert refused(await client.post('/auth/passkeys/register', json=second, headers=bearer(tokens)), 400)


async def test_a_registration_challenge_of_another_user_is_refused(client):
    await signup(client, 'ann')
    await signup(client, 'bob')
    ann, bob = await login(client, 'ann'), await login(client, 'bob')
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(ann))).json()
    body = {'credential': SoftAuthenticator().create(options)}
    assert refused(await client.post('/auth/passkeys/register', json=body, headers=bearer(bob)), 400)


async def test_a_login_challenge_is_refused_for_a_registration(client):
    tokens = await logged_in(client)
    login_challenge = (await login_options(client))['challenge']
    assert refused(await registration(client, tokens, SoftAuthenticator(), challenge=login_challenge), 400)


async def test_a_registration_challenge_expires_after_five_minutes(client, clock):
    tokens = await logged_in(client)
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    clock.advance(301)
    body = {'credential': SoftAuthenticator().create(options)}
    assert refused(await client.post('/auth/passkeys/register', json=body, headers=bearer(tokens)), 400)


async def test_a_made_up_challenge_is_refused(client):
    tokens = await logged_in(client)
    assert refused(await registration(client, tokens, SoftAuthenticator(), challenge=b64url(b'x' * 32)), 400)


async def test_a_credential_id_registered_already_is_refused(client):
    _, device, _ = await user_with_passkey(client, 'ann')
    await signup(client, 'bob')
    taken = next(iter(device.credentials))
    response = await registration(client, await login(client, 'bob'), SoftAuthenticator(), credential_id=taken)
    assert refused(response, 400)


# -- login ----------------------------------------------------------------------------------------


async def test_a_login_from_another_origin_is_refused(client):
    _, device, _ = await user_with_passkey(client)
    assert refused(await passkey_login(client, device, origin='https://evil.example'), 401)


async def test_a_login_for_another_rp_id_is_refused(client):
    _, device, _ = await user_with_passkey(client)
    assert refused(await passkey_login(client, device, rp_id='evil.example'), 401)


async def test_a_login_without_user_verification_is_refused(client):
    _, device, _ = await user_with_passkey(client)
    assert refused(await passkey_login(client, device, uv=False), 401)


async def test_a_registration_answer_is_not_a_login(client):
    _, device, _ = await user_with_passkey(client)
    assert refused(await passkey_login(client, device, kind='webauthn.create'), 401)


async def test_a_login_challenge_works_once(client):
    _, device, _ = await user_with_passkey(client)
    options = await login_options(client)
    first = await client.post('/auth/passkeys/login', json={'credential': device.get(options)})
    replayed = await client.post('/auth/passkeys/login', json={'credential': device.get(options)})
    assert first.status_code == 200 and refused(replayed, 401)


async def test_a_replayed_answer_is_refused(client):
    _, device, _ = await user_with_passkey(client)
    body = {'credential': device.get(await login_options(client))}
    assert (await client.post('/auth/passkeys/login', json=body)).status_code == 200
    assert refused(await client.post('/auth/passkeys/login', json=body), 401)


async def test_a_registration_challenge_is_refused_for_a_login(client):
    tokens, device, _ = await user_with_passkey(client)
    options = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
    assert refused(await passkey_login(client, device, challenge=options['challenge']), 401)


async def test_a_login_challenge_expires_after_five_minutes(client, clock):
    _, device, _ = await user_with_passkey(client)
    options = await login_options(client)
    clock.advance(301)
    assert refused(await client.post('/auth/passkeys/login', json={'credential': device.get(options)}), 401)


async def test_a_bad_signature_is_refused(client):
    _, device, _ = await user_with_passkey(client)
    credential = device.get(await login_options(client))
    signature = bytearray(unb64url(credential['response']['signature']))
    signature[-1] ^= 1
    credential['response']['signature'] = b64url(bytes(signature))
    assert refused(await client.post('/auth/passkeys/login', json={'credential': credential}), 401)


async def test_a_passkey_the_server_does_not_know_is_refused(client):
    await user_with_passkey(client)
    stranger = SoftAuthenticator()
    stranger.create({'rp': {'id': 'localhost'}, 'user': {'id': b64url(b'h' * 32)}, 'challenge': b64url(b'c' * 32)})
    assert refused(await passkey_login(client, stranger), 401)


async def test_a_user_handle_other_than_the_owners_is_refused(client):
    _, device, _ = await user_with_passkey(client, 'ann')
    bob_tokens, _, _ = await user_with_passkey(client, 'bob')
    bob_handle = (await client.post('/auth/passkeys/register/options', headers=bearer(bob_tokens))).json()['user']
    assert refused(await passkey_login(client, device, user_handle=unb64url(bob_handle['id'])), 401)


async def test_a_username_less_login_without_a_user_handle_is_refused(client):
    _, device, _ = await user_with_passkey(client)
    assert refused(await passkey_login(client, device, user_handle=None), 401)


async def test_a_sign_counter_that_goes_backwards_is_refused(client):
    _, device, _ = await user_with_passkey(client, device=SoftAuthenticator(ORIGIN, counts=True))
    assert (await passkey_login(client, device, counter=5)).status_code == 200
    assert refused(await passkey_login(client, device, counter=4), 401)


async def test_a_sign_counter_that_stays_the_same_is_refused(client):
    _, device, _ = await user_with_passkey(client, device=SoftAuthenticator(ORIGIN, counts=True))
    assert (await passkey_login(client, device, counter=5)).status_code == 200
    assert refused(await passkey_login(client, device, counter=5), 401)


async def test_the_sign_counter_is_stored_at_every_login(client):
    _, device, _ = await user_with_passkey(client, device=SoftAuthenticator(ORIGIN, counts=True))
    for count in (3, 9):
        assert (await passkey_login(client, device, counter=count)).status_code == 200
    assert refused(await passkey_login(client, device, counter=8), 401)


async def test_an_authenticator_without_a_counter_logs_in_every_time(client):
    _, device, _ = await user_with_passkey(client)  # synced passkeys send 0 always
    for _ in range(3):
        assert (await passkey_login(client, device)).status_code == 200


async def test_a_disabled_account_cannot_log_in_with_a_passkey(client):
    from panther_like.login_state.services import bound_services

    _, device, _ = await user_with_passkey(client)
    user = await bound_services().config.user_model.find_one(username='ann')
    await user.update(is_active=False)
    response = await passkey_login(client, device)
    assert response.status_code == 401 and response.json()['detail'] == 'User account is disabled'
