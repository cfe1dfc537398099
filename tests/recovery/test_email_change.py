"""A verified change of address: ``PATCH me {"email"}`` mails a link to the new mailbox, ``email/confirm`` applies it.

On each store (embedded, MongoDB, and with Redis), through real ASGI requests; the mail is read where it
arrives, at the test SMTP server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from panther_like.db.models import BaseUser
from tests.recovery.setup import (
    address,
    bearer,
    build_app,
    client_from_own_address,
    delivered_token,
    mail_settings,
    new_user,
    reload,
    verify_token,
)

#: What docs/security.md promises one mailbox in the first hour, whoever asks and by whatever route.
FIRST_HOUR = 26


class EditableMailUser(BaseUser):
    """A user who may change their own address."""

    email: str | None = None
    nickname: str | None = None
    editable_fields = frozenset({'email', 'nickname'})


@pytest.fixture
def app(stores, smtp_server, clock):
    return build_app(mail_settings(smtp_server, USER_MODEL=EditableMailUser, **stores), clock=clock)


@pytest.fixture
async def client(app):
    async with client_from_own_address(app) as client:
        yield client


async def ask(client: Any, user: Any, email: Any, **more: Any) -> Any:
    return await client.patch('/auth/me', headers=bearer(await user.login()), json={'email': email, **more})


async def change_token(app: Any, smtp_server: Any, to: str, count: int = 1) -> str:
    return await delivered_token(app, smtp_server, to, 'verify', count=count)


async def confirm(client: Any, token: str, **headers: str) -> Any:
    return await client.post('/auth/email/confirm', json={'token': token}, headers=headers)


# -- asking ----------------------------------------------------------------------------------------------


async def test_a_new_address_is_a_202_that_keeps_the_old_one_and_shows_the_pending_one(app, client):
    user = await new_user(app)
    new = address()
    response = await ask(client, user, new)
    assert response.status_code == 202, response.text
    assert response.json()['email'] == user.email and response.json()['pending_email'] == new
    me = (await client.get('/auth/me', headers=bearer(await user.login()))).json()
    assert (me['email'], me['pending_email']) == (user.email, new)


async def test_the_link_goes_to_the_new_address_and_a_notice_to_the_old_one(app, client, smtp_server):
    user = await new_user(app)
    new = address()
    assert (await ask(client, user, new)).status_code == 202
    await app.outbox.drain()
    assert smtp_server.wait_for(new)[0]['Subject'] == 'Confirm your new e-mail address'
    notice = smtp_server.wait_for(user.email)[0]
    assert notice['Subject'] == 'A change of your e-mail address was asked for'
    assert 'token' not in notice.get_content() and 'https://' not in notice.get_content()


async def test_other_fields_of_the_same_patch_are_written_at_once(app, client):
    user = await new_user(app)
    assert (await ask(client, user, address(), nickname='Nan')).status_code == 202
    assert (await reload(user)).nickname == 'Nan'


async def test_a_change_of_case_only_is_written_at_once_without_mail(app, client, smtp_server):
    user = await new_user(app)
    response = await ask(client, user, user.email.upper())
    assert response.status_code == 200, response.text
    assert response.json()['email'] == user.email.upper() and response.json()['pending_email'] is None
    await app.outbox.drain()
    assert smtp_server.messages(user.email) == []


async def test_a_change_without_a_recent_authentication_is_a_401_asking_for_one(app, client, clock):
    user = await new_user(app)
    headers = bearer(await user.login())
    clock.advance(301)
    response = await client.patch('/auth/me', headers=headers, json={'email': address()})
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True
    assert (await reload(user)).pending_email is None


async def test_the_mailbox_limit_applies_to_the_confirmation_mail(app, client):
    user = await new_user(app)
    new = address()
    answers = [await ask(client, user, new) for _ in range(FIRST_HOUR + 1)]
    assert answers[0].status_code == 202
    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused and all('Retry-After' in answer.headers for answer in refused)
    assert {answer.status_code for answer in answers} == {202, 429}


# -- confirming ------------------------------------------------------------------------------------------


async def test_confirming_applies_the_new_address_as_verified(app, client, smtp_server):
    user = await new_user(app)
    new = address()
    await ask(client, user, new)
    response = await confirm(client, await change_token(app, smtp_server, new))
    assert response.status_code == 204, response.text
    after = await reload(user)
    assert (after.email, after.pending_email, after.is_verified) == (new, None, True)
    assert await EditableMailUser.find_by_email(new.upper()) is not None


async def test_a_confirmation_link_works_once(app, client, smtp_server):
    user = await new_user(app)
    new = address()
    await ask(client, user, new)
    token = await change_token(app, smtp_server, new)
    assert (await confirm(client, token)).status_code == 204
    assert (await confirm(client, token)).status_code == 400


async def test_another_users_session_cannot_confirm_the_link(app, client, smtp_server):
    user, other = await new_user(app), await new_user(app)
    new = address()
    await ask(client, user, new)
    token = await change_token(app, smtp_server, new)
    assert (await confirm(client, token, **bearer(await other.login()))).status_code == 400
    assert (await reload(user)).email == user.email
    assert (await confirm(client, token)).status_code == 204  # the refused use left it good


async def test_a_confirmation_link_is_no_verification_link_nor_the_reverse(app, client, smtp_server):
    user = await new_user(app)
    verification = await verify_token(app, client, smtp_server, user)
    assert (await confirm(client, verification)).status_code == 400
    new = address()
    await ask(client, user, new)
    change = await change_token(app, smtp_server, new)
    assert (await client.post('/auth/verify', json={'token': change})).status_code == 400
    assert (await confirm(client, change)).status_code == 204


async def test_only_the_last_change_asked_for_can_be_confirmed(app, client, smtp_server):
    user = await new_user(app)
    first, second = address(), address()
    await ask(client, user, first)
    await ask(client, user, second)
    assert (await confirm(client, await change_token(app, smtp_server, first))).status_code == 400
    assert (await confirm(client, await change_token(app, smtp_server, second))).status_code == 204
    assert (await reload(user)).email == second


async def test_an_address_changed_otherwise_since_the_link_makes_it_worthless(app, client, smtp_server):
    user = await new_user(app)
    new = address()
    await ask(client, user, new)
    token = await change_token(app, smtp_server, new)
    await (await reload(user)).update(email=address())
    assert (await confirm(client, token)).status_code == 400
    assert (await reload(user)).email != new


async def test_an_address_taken_before_the_confirmation_is_a_409_and_changes_nothing(app, client, smtp_server):
    user = await new_user(app)
    new = address()
    await ask(client, user, new)
    token = await change_token(app, smtp_server, new)
    await new_user(app, email=new.upper())
    response = await confirm(client, token)
    assert response.status_code == 409, response.text
    after = await reload(user)
    assert (after.email, after.pending_email) == (user.email, new)


# -- races -----------------------------------------------------------------------------------------------


async def test_two_changes_at_once_leave_one_pending_and_only_its_link_works(app, client, smtp_server):
    user = await new_user(app)
    first, second = address(), address()
    headers = bearer(await user.login())
    answers = await asyncio.gather(
        client.patch('/auth/me', headers=headers, json={'email': first}),
        client.patch('/auth/me', headers=headers, json={'email': second}),
    )
    assert [answer.status_code for answer in answers] == [202, 202]
    pending = (await reload(user)).pending_email
    assert pending in (first, second)
    loser = second if pending == first else first
    assert (await confirm(client, await change_token(app, smtp_server, loser))).status_code == 400
    assert (await confirm(client, await change_token(app, smtp_server, pending))).status_code == 204
    assert (await reload(user)).email == pending


async def test_a_confirmation_racing_another_change_never_applies_an_unconfirmed_address(app, client, smtp_server):
    for _ in range(3):
        user = await new_user(app)
        confirmed, racing = address(), address()
        await ask(client, user, confirmed)
        token = await change_token(app, smtp_server, confirmed)
        await asyncio.gather(confirm(client, token), ask(client, user, racing))
        after = await reload(user)
        assert after.email in (user.email, confirmed)
        assert after.is_verified == (after.email == confirmed)


async def test_two_accounts_confirming_one_address_at_once_get_it_once(app, client, smtp_server):
    for _ in range(3):
        first, second = await new_user(app), await new_user(app)
        new = address()
        await ask(client, first, new)
        await ask(client, second, new)
        tokens = [await change_token(app, smtp_server, new, count) for count in (1, 2)]
        answers = await asyncio.gather(*(confirm(client, token) for token in tokens))
        assert sorted(answer.status_code for answer in answers) == [204, 409]
        holders = [user for user in (await reload(first), await reload(second)) if user.email == new]
        assert len(holders) == 1


async def test_removing_the_address_is_written_at_once_and_the_old_one_gets_a_notice(app, client, smtp_server):
    user = await new_user(app)
    response = await ask(client, user, None)
    assert response.status_code == 200, response.text
    after = await reload(user)
    assert (after.email, after.is_verified) == (None, False)
    await app.outbox.drain()
    assert smtp_server.wait_for(user.email)[0]['Subject'] == 'Your e-mail address was removed'


async def test_removing_the_address_without_a_recent_authentication_is_a_401(app, client, clock):
    user = await new_user(app)
    headers = bearer(await user.login())
    clock.advance(301)
    response = await client.patch('/auth/me', headers=headers, json={'email': None})
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True
    assert (await reload(user)).email == user.email
