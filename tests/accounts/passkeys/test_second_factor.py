"""Passkeys with the rest of the account: step-up, security notices, the second step of a password login."""

from __future__ import annotations

import asyncio

import jwt
import pyotp
import pytest

from panther_like.mail import Mailer, Message
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, signup
from tests.accounts.passkeys.conftest import login_options, make_passkey_app, passkey_login, register, user_with_passkey
from tests.passkeys_authenticator import SoftAuthenticator

pytestmark = pytest.mark.asyncio


@pytest.fixture
def store(tmp_path) -> tuple[dict, None]:
    return {'path': str(tmp_path / 'passkeys.sqlite3')}, None


class RecordingMailer(Mailer):
    sent: list[Message] = []

    async def deliver(self, message: Message) -> None:
        RecordingMailer.sent.append(message)


async def mailbox(count: int) -> list[Message]:
    for _ in range(100):
        if len(RecordingMailer.sent) >= count:
            break
        await asyncio.sleep(0.01)
    return RecordingMailer.sent


async def enrol_totp(client: TestClient, clock, tokens: dict) -> pyotp.TOTP:
    totp = pyotp.TOTP((await client.post('/auth/mfa/totp', headers=bearer(tokens))).json()['secret'])
    confirmed = await client.post(
        '/auth/mfa/totp/confirm', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(30)
    return totp


async def password_step(client: TestClient) -> dict:
    response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 401, response.text
    return response.json()


# -- step-up --------------------------------------------------------------------------------------


async def test_registration_options_need_a_recent_authentication(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    response = await client.post('/auth/passkeys/register/options', headers=bearer(tokens))
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True


async def test_removing_a_passkey_needs_a_recent_authentication(client, clock):
    tokens, _, view = await user_with_passkey(client)
    clock.advance(301)
    response = await client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer(tokens))
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True
    assert len((await client.get('/auth/passkeys', headers=bearer(tokens))).json()) == 1


async def test_a_passkey_login_is_a_recent_authentication(client, clock):
    _, device, _ = await user_with_passkey(client)
    clock.advance(301)
    tokens = (
        await client.post('/auth/passkeys/login', json={'credential': device.get(await login_options(client))})
    ).json()
    assert (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).status_code == 200


async def test_registering_needs_a_login(client):
    response = await client.post('/auth/passkeys/register/options')
    assert response.status_code == 401
    assert (await client.get('/auth/passkeys')).status_code == 401


# -- security notices -----------------------------------------------------------------------------


async def test_adding_and_removing_a_passkey_mail_a_notice_each(store, clock):
    RecordingMailer.sent = []
    async with TestClient(_with_mailer(store, clock)) as client:
        tokens, _, view = await user_with_passkey(client)
        (added,) = await mailbox(1)
        assert added.to == 'ann@example.com' and added.subject == 'A passkey was added'
        assert (await client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer(tokens))).status_code == 204
        removed = (await mailbox(2))[1]
        assert removed.subject == 'A passkey was removed'


async def test_the_removal_notice_points_to_the_session_list(store, clock):
    RecordingMailer.sent = []
    async with TestClient(_with_mailer(store, clock)) as client:
        tokens, _, view = await user_with_passkey(client)
        await client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer(tokens))
        removed = (await mailbox(2))[1]
        assert '/auth/sessions' in removed.text


def _with_mailer(store, clock):
    from panther_like import Panther
    from tests.accounts.conftest import settings_module
    from tests.accounts.passkeys.conftest import WEBAUTHN

    settings = settings_module(store[0], store[1], {'webauthn': WEBAUTHN})
    settings.JWTConfig = {'life_time': 3600}
    settings.MAILER = 'tests.accounts.passkeys.test_second_factor.RecordingMailer'
    return Panther(configs=settings, clock=clock)


# -- the second step of a password login ----------------------------------------------------------


async def test_a_passkey_makes_the_password_login_ask_for_a_second_step(client):
    await user_with_passkey(client)
    answer = await password_step(client)
    assert answer['mfa_required'] is True and answer['mfa_token']


async def test_a_user_whose_only_factor_is_a_passkey_is_offered_it_and_recovery_codes(client):
    await user_with_passkey(client)
    assert (await password_step(client))['methods'] == ['recovery_code', 'webauthn']


async def test_a_passkey_completes_the_second_step_of_a_user_without_totp(client):
    _, device, _ = await user_with_passkey(client)
    mfa_token = (await password_step(client))['mfa_token']
    credential = device.get(await login_options(client, {'mfa_token': mfa_token}))
    response = await client.post('/auth/passkeys/login', json={'mfa_token': mfa_token, 'credential': credential})
    assert response.status_code == 200, response.text


async def test_recovery_codes_can_be_made_by_a_user_whose_only_factor_is_a_passkey(client):
    tokens, _, _ = await user_with_passkey(client)
    response = await client.post('/auth/mfa/recovery-codes', headers=bearer(tokens))
    assert response.status_code == 200 and len(response.json()['recovery_codes']) == 10


async def test_a_recovery_code_completes_the_second_step_of_a_passkey_user(client):
    tokens, _, _ = await user_with_passkey(client)
    codes = (await client.post('/auth/mfa/recovery-codes', headers=bearer(tokens))).json()['recovery_codes']
    mfa_token = (await password_step(client))['mfa_token']
    response = await client.post('/auth/login/mfa', json={'mfa_token': mfa_token, 'recovery_code': codes[0]})
    assert response.status_code == 200, response.text


async def test_removing_the_last_passkey_ends_the_second_step_and_its_recovery_codes(client):
    tokens, _, view = await user_with_passkey(client)
    await client.post('/auth/mfa/recovery-codes', headers=bearer(tokens))
    assert (await client.delete(f'/auth/passkeys/{view["id"]}', headers=bearer(tokens))).status_code == 204
    login = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert login.status_code == 200 and login.json()['access_token']
    status = await client.get('/auth/mfa', headers=bearer(tokens))
    assert status.json()['recovery_codes_remaining'] == 0, status.text


async def test_removing_totp_keeps_the_recovery_codes_of_a_user_with_a_passkey(client, clock):
    tokens, _, _ = await user_with_passkey(client)
    totp = await enrol_totp(client, clock, tokens)
    removed = await client.request(
        'DELETE', '/auth/mfa/totp', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    assert removed.status_code == 204, removed.text
    status = await client.get('/auth/mfa', headers=bearer(tokens))
    assert status.json()['recovery_codes_remaining'] == 10, status.text


async def test_the_mfa_required_answer_offers_webauthn_to_a_user_with_a_passkey(client, clock):
    tokens, _, _ = await user_with_passkey(client)
    await enrol_totp(client, clock, tokens)
    assert (await password_step(client))['methods'] == ['totp', 'recovery_code', 'webauthn']


async def test_the_mfa_required_answer_does_not_offer_webauthn_without_a_passkey(client, clock):
    await signup(client)
    await enrol_totp(client, clock, await login(client))
    assert 'webauthn' not in (await password_step(client))['methods']


async def test_the_second_steps_options_list_only_that_users_passkeys(client, clock):
    await user_with_passkey(client, 'bob')
    tokens, _, view = await user_with_passkey(client, 'ann')
    await enrol_totp(client, clock, tokens)
    options = await login_options(client, {'mfa_token': (await password_step(client))['mfa_token']})
    assert [item['id'] for item in options['allowCredentials']] == [view['id']]
    assert options['userVerification'] == 'required'


async def test_a_passkey_completes_the_second_step_and_the_session_says_so(client, clock):
    tokens, device, _ = await user_with_passkey(client)
    await enrol_totp(client, clock, tokens)
    mfa_token = (await password_step(client))['mfa_token']
    credential = device.get(await login_options(client, {'mfa_token': mfa_token}))
    response = await client.post('/auth/passkeys/login', json={'mfa_token': mfa_token, 'credential': credential})
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()['access_token'], options={'verify_signature': False})
    assert claims['amr'] == ['pwd', 'hwk', 'mfa']


async def test_the_mfa_token_works_once_with_a_passkey(client, clock):
    tokens, device, _ = await user_with_passkey(client)
    await enrol_totp(client, clock, tokens)
    mfa_token = (await password_step(client))['mfa_token']
    credential = device.get(await login_options(client, {'mfa_token': mfa_token}))
    response = await client.post('/auth/passkeys/login', json={'mfa_token': mfa_token, 'credential': credential})
    assert response.status_code == 200, response.text
    again = await client.post('/auth/passkeys/login/options', json={'mfa_token': mfa_token})
    assert again.status_code == 401 and again.json()['detail']


async def test_another_users_passkey_does_not_complete_the_second_step(client, clock):
    _, bobs_device, _ = await user_with_passkey(client, 'bob')
    tokens, _, _ = await user_with_passkey(client, 'ann')
    await enrol_totp(client, clock, tokens)
    mfa_token = (await password_step(client))['mfa_token']
    options = await login_options(client, {'mfa_token': mfa_token})
    credential = bobs_device.get({**options, 'allowCredentials': []})
    response = await client.post('/auth/passkeys/login', json={'mfa_token': mfa_token, 'credential': credential})
    assert response.status_code == 401 and response.json()['detail']


async def test_a_username_less_challenge_does_not_complete_a_second_step(client, clock):
    tokens, device, _ = await user_with_passkey(client)
    await enrol_totp(client, clock, tokens)
    mfa_token = (await password_step(client))['mfa_token']
    credential = device.get(await login_options(client))
    response = await client.post('/auth/passkeys/login', json={'mfa_token': mfa_token, 'credential': credential})
    assert response.status_code == 401


async def test_a_second_step_challenge_does_not_log_in_without_the_password(client, clock):
    tokens, device, _ = await user_with_passkey(client)
    await enrol_totp(client, clock, tokens)
    mfa_token = (await password_step(client))['mfa_token']
    credential = device.get(await login_options(client, {'mfa_token': mfa_token}))
    assert (await client.post('/auth/passkeys/login', json={'credential': credential})).status_code == 401


async def test_a_refused_passkey_leaves_the_mfa_token_usable(client, clock):
    tokens, device, _ = await user_with_passkey(client)
    totp = await enrol_totp(client, clock, tokens)
    mfa_token = (await password_step(client))['mfa_token']
    credential = device.get(await login_options(client, {'mfa_token': mfa_token}), uv=False)
    refused = await client.post('/auth/passkeys/login', json={'mfa_token': mfa_token, 'credential': credential})
    assert refused.status_code == 401
    code = {'mfa_token': mfa_token, 'code': totp.at(clock.time())}
    assert (await client.post('/auth/login/mfa', json=code)).status_code == 200


async def test_recovery_codes_can_be_made_by_a_user_with_totp_and_a_passkey(client, clock):
    tokens, _, _ = await user_with_passkey(client)
    await enrol_totp(client, clock, tokens)
    response = await client.post('/auth/mfa/recovery-codes', headers=bearer(tokens))
    assert response.status_code == 200 and len(response.json()['recovery_codes']) == 10


async def test_an_unverified_user_under_require_verified_is_refused_with_403(store, clock):
    async with TestClient(make_passkey_app(store, clock)) as client:
        _, device, _ = await user_with_passkey(client)
    async with TestClient(make_passkey_app(store, clock, require_verified=True)) as client:
        credential = device.get(await login_options(client))
        response = await client.post('/auth/passkeys/login', json={'credential': credential})
        assert response.status_code == 403 and response.json()['detail']


async def test_a_second_device_can_be_added_and_either_logs_in(client):
    tokens, first, _ = await user_with_passkey(client)
    second = SoftAuthenticator()
    await register(client, tokens, second)
    assert (await passkey_login(client, first)).status_code == 200
    assert (await passkey_login(client, second)).status_code == 200


# -- re-authenticating with a passkey -------------------------------------------------------------


async def reauthenticate(client: TestClient, tokens: dict, device: SoftAuthenticator, **bend):
    options = await client.post('/auth/passkeys/reauthenticate/options', headers=bearer(tokens))
    assert options.status_code == 200, options.text
    credential = device.get(options.json(), **bend)
    return await client.post('/auth/passkeys/reauthenticate', json={'credential': credential}, headers=bearer(tokens))


async def test_a_passkey_renews_a_sessions_recent_authentication(client, clock):
    tokens, device, _ = await user_with_passkey(client)
    clock.advance(301)
    response = await reauthenticate(client, tokens, device)
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert jwt.decode(fresh['access_token'], options={'verify_signature': False})['amr'] == ['hwk']
    assert (await client.post('/auth/passkeys/register/options', headers=bearer(fresh))).status_code == 200


async def test_the_reauthentication_options_list_only_the_users_passkeys(client):
    await user_with_passkey(client, 'bob')
    tokens, _, view = await user_with_passkey(client, 'ann')
    options = (await client.post('/auth/passkeys/reauthenticate/options', headers=bearer(tokens))).json()
    assert [item['id'] for item in options['allowCredentials']] == [view['id']]


async def test_another_users_passkey_does_not_reauthenticate(client):
    _, bobs_device, _ = await user_with_passkey(client, 'bob')
    tokens, _, _ = await user_with_passkey(client, 'ann')
    options = (await client.post('/auth/passkeys/reauthenticate/options', headers=bearer(tokens))).json()
    credential = bobs_device.get({**options, 'allowCredentials': []})  # a browser offering any passkey it holds
    response = await client.post(
        '/auth/passkeys/reauthenticate', json={'credential': credential}, headers=bearer(tokens)
    )
    assert response.status_code == 401 and response.json()['detail']


async def test_a_reauthentication_without_user_verification_is_refused(client):
    tokens, device, _ = await user_with_passkey(client)
    assert (await reauthenticate(client, tokens, device, uv=False)).status_code == 401


async def test_a_login_challenge_does_not_reauthenticate(client):
    tokens, device, _ = await user_with_passkey(client)
    credential = device.get(await login_options(client))
    response = await client.post(
        '/auth/passkeys/reauthenticate', json={'credential': credential}, headers=bearer(tokens)
    )
    assert response.status_code == 401


async def test_reauthenticating_with_a_passkey_needs_a_login(client):
    assert (await client.post('/auth/passkeys/reauthenticate/options')).status_code == 401
