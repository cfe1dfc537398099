"""Under ``ACCOUNTS['require_verified']``: signup mails the link, the link can be asked for without a login,
and an unverified user reaches only what getting verified needs."""

from __future__ import annotations

from typing import ClassVar

import pytest

from panther_like import API, Panther
from panther_like.auth.permissions import IsVerified
from tests.recovery.setup import (
    PASSWORD,
    URLS,
    MailUser,
    address,
    bearer,
    client_from_own_address,
    delivered_token,
    mail_settings,
    new_user,
    reload,
)
from tests.settings import settings_module


class SignupMailUser(MailUser):
    """The address given at signup: where the verification link goes."""

    editable_fields: ClassVar[frozenset[str]] = frozenset({'email'})


@API(auth=True, methods=['GET'], permissions=[IsVerified])
async def verified_only(request):
    return {'id': request.user.id}


@pytest.fixture
def app(stores, smtp_server, clock):
    settings = mail_settings(smtp_server, **stores, ACCOUNTS={'require_verified': True}, USER_MODEL=SignupMailUser)
    return Panther(settings_module(**settings), urls={**URLS, 'verified-only': verified_only}, clock=clock)


async def signup(client, email: str):
    return await client.post(
        '/auth/signup', json={'username': email.split('@')[0], 'password': PASSWORD, 'email': email}
    )


async def test_signup_mails_the_link_that_lets_the_new_account_log_in(app, client, smtp_server):
    email = address()
    assert (await signup(client, email)).status_code == 201
    token = await delivered_token(app, smtp_server, email, 'verify')
    assert (await client.post('/auth/verify', json={'token': token})).status_code == 204
    login = await client.post('/auth/login', json={'username': email.split('@')[0], 'password': PASSWORD})
    assert login.status_code == 200


async def test_the_link_can_be_asked_for_by_address_without_logging_in(app, client, smtp_server):
    user = await new_user(app)
    response = await client.post('/auth/verify/request', json={'email': user.email.upper()})
    assert response.status_code == 202
    token = await delivered_token(app, smtp_server, user.email, 'verify')
    assert (await client.post('/auth/verify', json={'token': token})).status_code == 204
    assert (await reload(user)).is_verified


async def test_asking_by_address_answers_the_same_for_an_unknown_or_verified_address(app, client, smtp_server):
    verified = await new_user(app, is_verified=True)
    unknown = await client.post('/auth/verify/request', json={'email': address()})
    known = await client.post('/auth/verify/request', json={'email': verified.email})
    assert (unknown.status_code, known.status_code) == (202, 202) and unknown.json() == known.json()
    await app.outbox.drain()
    assert smtp_server.messages(verified.email) == []


async def test_asking_by_address_past_the_mailbox_limit_still_answers_202_and_sends_nothing(app, client, smtp_server):
    user = await new_user(app)
    for body in [{'username': user.username}] * 3 + [{'email': user.email}] * 2:  # the mailbox's first hour
        assert (await client.post('/auth/password/forgot', json=body)).status_code == 202
    response = await client.post('/auth/verify/request', json={'email': user.email})
    await app.outbox.drain()
    assert response.status_code == 202
    assert [mail['Subject'] for mail in smtp_server.messages(user.email)] == ['Reset your password'] * 5


async def test_an_unverified_user_gets_a_403_that_says_why_on_account_routes(app, client):
    user = await new_user(app)
    response = await client.get('/auth/sessions', headers=bearer(await user.login()))
    assert response.status_code == 403 and 'Verify your e-mail address' in response.json()['detail']


async def test_an_unverified_user_cannot_edit_the_profile(app, client):
    user = await new_user(app)
    response = await client.patch('/auth/me', json={'email': address()}, headers=bearer(await user.login()))
    assert response.status_code == 403


async def test_an_unverified_user_can_see_themselves_ask_for_the_link_and_log_out(app, client, smtp_server):
    user = await new_user(app)
    headers = bearer(await user.login())
    assert (await client.get('/auth/me', headers=headers)).status_code == 200
    assert (await client.post('/auth/verify/request', headers=headers)).status_code == 202
    assert (await client.post('/auth/logout', headers=headers)).status_code == 200


async def test_a_verified_user_reaches_the_account_routes(app, client):
    user = await new_user(app, is_verified=True)
    assert (await client.get('/auth/sessions', headers=bearer(await user.login()))).status_code == 200


async def test_is_verified_guards_a_projects_own_route(app, client):
    unverified, verified = await new_user(app), await new_user(app, is_verified=True)
    refused = await client.get('/verified-only', headers=bearer(await unverified.login()))
    allowed = await client.get('/verified-only', headers=bearer(await verified.login()))
    assert (refused.status_code, allowed.status_code) == (403, 200)


async def test_asking_without_a_login_or_an_address_is_a_401(client):
    assert (await client.post('/auth/verify/request')).status_code == 401


async def test_without_the_setting_signup_mails_nothing(smtp_server, stores, clock):
    settings = mail_settings(smtp_server, **stores, USER_MODEL=SignupMailUser)
    app = Panther(settings_module(**settings), urls=URLS, clock=clock)
    email = address()
    async with client_from_own_address(app) as client:
        assert (await signup(client, email)).status_code == 201
        await app.outbox.drain()
    assert smtp_server.messages(email) == []


async def test_an_unverified_user_cannot_set_up_a_second_factor(app, client):
    user = await new_user(app)
    response = await client.post('/auth/mfa/totp', headers=bearer(await user.login()))
    assert response.status_code == 403 and 'Verify your e-mail address' in response.json()['detail']
