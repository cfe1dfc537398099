"""Mail links under pressure: concurrent uses, addresses changed meanwhile, one mailbox asked for by every route.

On each store (embedded, MongoDB, and with Redis), through real ASGI requests; the mail is counted where
it arrives, at the test SMTP server.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import httpx
import pytest

from panther_like.db.models import BaseUser
from panther_like.login_state.throttle import ActionLimit
from tests.recovery.setup import (
    PASSWORD,
    address,
    bearer,
    build_app,
    client_from_own_address,
    forgot,
    mail_settings,
    new_user,
    reload,
    reset_token,
    verify_token,
)

#: What docs/security.md promises one mailbox in the first hour, whoever asks and by whatever route.
FIRST_HOUR = 26
_hosts = (f'10.77.{n // 250}.{n % 250 + 1}' for n in itertools.count())


class EditableMailUser(BaseUser):
    """A user who may change their own address (``PATCH me``) and give one at signup."""

    email: str | None = None
    editable_fields = frozenset({'email'})


@pytest.fixture
def app(stores, smtp_server, clock):
    return build_app(mail_settings(smtp_server, USER_MODEL=EditableMailUser, **stores), clock=clock)


@pytest.fixture
async def client(app):
    async with client_from_own_address(app) as client:
        yield client


def elsewhere(app: Any) -> httpx.AsyncClient:
    """A client from an address no other request of the test uses (the app is already started)."""
    transport = httpx.ASGITransport(app=app, client=(next(_hosts), 40000))
    return httpx.AsyncClient(transport=transport, base_url='http://testserver')


async def change_address(user: Any, new_address: str) -> None:
    """What a confirmed change of address by another way would write (an operator's, say): not yet verified."""
    await (await reload(user)).update(email=new_address, is_verified=False)


# -- verification ---------------------------------------------------------------------------------------


async def test_an_address_changed_while_its_link_is_used_is_not_verified(app, client, smtp_server):
    """The change lands between the token's checks and the write that sets the flag."""
    user = await new_user(app)
    token = await verify_token(app, client, smtp_server, user)
    store = app.one_time_tokens
    spend = store.spend

    async def spend_then_change_address(grant):
        won = await spend(grant)
        await change_address(user, address())
        return won

    store.spend = spend_then_change_address
    try:
        response = await client.post('/auth/verify', json={'token': token})
    finally:
        del store.spend
    assert response.status_code == 400
    assert not (await reload(user)).is_verified


async def test_verify_and_an_address_change_sent_together_never_verify_the_new_address(app, client, smtp_server):
    for _ in range(4):
        user = await new_user(app)
        token = await verify_token(app, client, smtp_server, user)
        new_address = address()
        await asyncio.gather(client.post('/auth/verify', json={'token': token}), change_address(user, new_address))
        after = await reload(user)
        assert after.email == new_address
        assert not after.is_verified


async def test_a_verification_link_still_works_after_the_address_changed_only_in_case(app, client, smtp_server):
    user = await new_user(app)
    token = await verify_token(app, client, smtp_server, user)
    await user.update(email=user.email.upper())
    assert (await client.post('/auth/verify', json={'token': token})).status_code == 204
    assert (await reload(user)).is_verified


@pytest.mark.parametrize('credential', ['garbage', 'expired', 'logged-out'])
async def test_a_bad_bearer_on_verify_is_a_401_and_the_token_stays_good(app, client, smtp_server, clock, credential):
    user = await new_user(app)
    token = await verify_token(app, client, smtp_server, user)
    if credential == 'garbage':
        access = 'not.a.jwt'
    else:
        pair = await (await new_user(app)).login()
        access = pair['access_token']
        if credential == 'expired':
            clock.advance(24 * 3600 + 60)
        else:
            assert (await client.post('/auth/logout', headers=bearer(pair))).status_code in (200, 204)
    refused = await client.post('/auth/verify', json={'token': token}, headers={'Authorization': f'Bearer {access}'})
    assert refused.status_code == 401
    assert not (await reload(user)).is_verified
    if credential != 'expired':  # the link itself has expired by now
        assert (await client.post('/auth/verify', json={'token': token})).status_code == 204


# -- password reset -------------------------------------------------------------------------------------


async def test_two_reset_links_of_one_user_used_at_once_reset_once(app, client, smtp_server):
    user = await new_user(app)
    first = await reset_token(app, client, smtp_server, user)
    second = await reset_token(app, client, smtp_server, user)
    responses = await asyncio.gather(
        client.post('/auth/password/reset', json={'token': first, 'new_password': 'first-new-password'}),
        client.post('/auth/password/reset', json={'token': second, 'new_password': 'second-new-password'}),
    )
    assert sorted(response.status_code for response in responses) == [204, 400]
    winner = 'first-new-password' if responses[0].status_code == 204 else 'second-new-password'
    assert await (await reload(user)).verify_password(winner)


async def test_after_one_of_two_links_was_used_the_other_is_dead(app, client, smtp_server):
    user = await new_user(app)
    first = await reset_token(app, client, smtp_server, user)
    second = await reset_token(app, client, smtp_server, user)
    ok = await client.post('/auth/password/reset', json={'token': second, 'new_password': 'second-new-password'})
    assert ok.status_code == 204
    late = await client.post('/auth/password/reset', json={'token': first, 'new_password': 'first-new-password'})
    assert late.status_code == 400


# -- one address, one account ---------------------------------------------------------------------------


async def test_forgot_by_email_finds_the_account_whatever_the_case(app, client, smtp_server):
    user = await new_user(app, email=f'Ann.{uuid.uuid4().hex[:8]}@Example.COM')
    response = await forgot(client, email=user.email.lower())
    assert response.status_code == 202
    await app.outbox.drain()
    assert len(smtp_server.wait_for(user.email, count=1)) == 1


async def test_signup_with_an_address_another_account_holds_in_another_case_is_a_409(app, client):
    taken = await new_user(app)
    body = {'username': f'u{uuid.uuid4().hex[:10]}', 'password': PASSWORD, 'email': taken.email.upper()}
    response = await client.post('/auth/signup', json=body)
    assert response.status_code == 409
    assert 'email' in response.json()['detail']


async def test_patch_me_to_an_address_another_account_holds_is_a_409_and_changes_nothing(app, client):
    taken = await new_user(app)
    user = await new_user(app)
    response = await client.patch('/auth/me', headers=bearer(await user.login()), json={'email': taken.email.title()})
    assert response.status_code == 409
    assert (await reload(user)).email == user.email


@pytest.mark.parametrize(
    'bad',
    [
        'no-at-sign',
        'a@b',
        'two@@example.com',
        '.dot@example.com',
        'a..b@example.com',
        'x' * 65 + '@example.com',
        'a@' + 'd' * 64 + '.com',
        'a@' + '.'.join(['d' * 60] * 5) + '.com',
        '"quoted"@example.com',
        'a b@example.com',
        'a@exa_mple.com',
        'ann@example.com.',
    ],
)
async def test_an_address_that_breaks_the_rules_is_a_400_at_signup(app, client, bad):
    body = {'username': f'u{uuid.uuid4().hex[:10]}', 'password': PASSWORD, 'email': bad}
    response = await client.post('/auth/signup', json=body)
    assert response.status_code == 400, response.text


async def test_an_internationalised_domain_is_one_mailbox_with_its_ascii_form(app, client):
    local = f'u{uuid.uuid4().hex[:8]}'
    await new_user(app, email=f'{local}@bücher.example')
    body = {'username': f'u{uuid.uuid4().hex[:10]}', 'password': PASSWORD, 'email': f'{local}@xn--bcher-kva.example'}
    assert (await client.post('/auth/signup', json=body)).status_code == 409


# -- how much mail one mailbox gets ---------------------------------------------------------------------


async def test_one_mailbox_gets_at_most_the_documented_mail_in_the_first_hour_whatever_the_route(
    app, client, smtp_server, clock
):
    """Resets by username, by address in changing case, and verification links, each from a fresh address."""
    user = await new_user(app, email=f'Target.{uuid.uuid4().hex[:8]}@example.com')
    headers = bearer(await user.login())
    routes = itertools.cycle(
        [
            ('/auth/password/forgot', {'username': user.username}, {}),
            ('/auth/password/forgot', {'email': user.email.upper()}, {}),
            ('/auth/password/forgot', {'email': user.email.lower()}, {}),
            ('/auth/verify/request', None, headers),
        ]
    )
    for _ in range(3600 // 8):
        clock.advance(8)
        path, body, extra = next(routes)
        async with elsewhere(app) as other:
            response = await other.post(path, json=body, headers=extra)
        assert response.status_code in (202, 429), response.text
    await app.outbox.drain()
    mailed = len(smtp_server.messages(user.email))
    assert ActionLimit().per_subject <= mailed <= FIRST_HOUR
