"""``verify/request`` and ``verify``: a link by mail proves the address; good once, for that user and address."""

from __future__ import annotations

import asyncio

from panther_like.login_state.throttle import ActionLimit
from tests.recovery.setup import (
    address,
    bearer,
    new_user,
    reload,
    reset_token,
    verify_token,
)


async def verify(client, token: str, headers: dict | None = None):
    return await client.post('/auth/verify', json={'token': token}, headers=headers or {})


async def test_asking_for_a_link_needs_a_logged_in_user(client):
    response = await client.post('/auth/verify/request')
    assert response.status_code == 401


async def test_the_link_marks_the_user_verified(app, client, smtp_server, user):
    token = await verify_token(app, client, smtp_server, user)
    [mail] = smtp_server.messages(user.email)
    assert mail['Subject'] == 'Confirm your e-mail address'
    assert not (await reload(user)).is_verified
    response = await verify(client, token, bearer(await user.login()))
    assert response.status_code == 204
    assert (await reload(user)).is_verified


async def test_the_link_works_without_logging_in_since_the_token_names_the_user(app, client, smtp_server, user):
    token = await verify_token(app, client, smtp_server, user)
    assert (await verify(client, token)).status_code == 204
    assert (await reload(user)).is_verified


async def test_the_same_link_twice_is_a_400(app, client, smtp_server, user):
    token = await verify_token(app, client, smtp_server, user)
    assert (await verify(client, token)).status_code == 204
    again = await verify(client, token)
    assert again.status_code == 400 and 'invalid or has expired' in again.json()['detail']


async def test_of_concurrent_uses_exactly_one_succeeds(app, client, smtp_server, user):
    token = await verify_token(app, client, smtp_server, user)
    statuses = sorted((await asyncio.gather(*(verify(client, token) for _ in range(6)))), key=lambda r: r.status_code)
    assert [response.status_code for response in statuses] == [204] + [400] * 5


async def test_another_logged_in_users_token_is_a_400_and_changes_nothing(app, client, smtp_server, user):
    token = await verify_token(app, client, smtp_server, user)
    mallory = await new_user(app)
    refused = await verify(client, token, bearer(await mallory.login()))
    assert refused.status_code == 400
    assert not (await reload(mallory)).is_verified and not (await reload(user)).is_verified
    assert (await verify(client, token, bearer(await user.login()))).status_code == 204


async def test_a_reset_token_does_not_verify_and_still_resets(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    assert (await verify(client, token)).status_code == 400
    assert not (await reload(user)).is_verified
    response = await client.post('/auth/password/reset', json={'token': token, 'new_password': 'second-password-2'})
    assert response.status_code == 204


async def test_an_expired_link_is_a_400(app, client, smtp_server, user, clock):
    token = await verify_token(app, client, smtp_server, user)
    clock.advance(15 * 60 + 1)
    assert (await verify(client, token)).status_code == 400
    assert not (await reload(user)).is_verified


async def test_a_link_for_an_address_the_user_has_since_changed_is_a_400(app, client, smtp_server, user):
    token = await verify_token(app, client, smtp_server, user)
    await user.update(email=address())
    assert (await verify(client, token)).status_code == 400
    assert not (await reload(user)).is_verified


async def test_a_user_without_an_address_cannot_ask_for_a_link(app, client):
    user = await app.config.user_model.insert_one(username='no-mail', password='pw-123456789')
    response = await client.post('/auth/verify/request', headers=bearer(await user.login()))
    assert response.status_code == 400 and 'no e-mail address' in response.json()['detail']


async def test_a_verified_user_is_told_so(app, client, user):
    await user.update(is_verified=True)
    response = await client.post('/auth/verify/request', headers=bearer(await user.login()))
    assert response.status_code == 400 and 'already verified' in response.json()['detail']


async def test_asking_for_links_is_throttled_per_user(app, client, user):
    headers = bearer(await user.login())
    per_user = ActionLimit().per_subject_and_address
    statuses = [(await client.post('/auth/verify/request', headers=headers)).status_code for _ in range(per_user + 1)]
    assert statuses == [202] * per_user + [429]
