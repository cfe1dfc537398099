"""``users`` and ``users/<user_id>``: a superuser manages accounts; nobody else can."""

from __future__ import annotations

import logging

import pytest_asyncio

from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, signup


@pytest_asyncio.fixture
async def client(make_app):
    async with TestClient(make_app()) as client:
        yield client


async def admin_headers(client: TestClient) -> dict[str, str]:
    body = await signup(client, 'root')
    admin = await client.app.config.user_model.find_one(id=body['id'])
    await admin.update(is_superuser=True)
    return bearer(await login(client, 'root'))


async def test_listing_users_needs_a_token(client):
    assert (await client.get('/auth/users')).status_code == 401


async def test_a_user_who_is_not_a_superuser_gets_a_403_on_every_users_route(client):
    body = await signup(client)
    headers = bearer(await login(client))
    answers = [
        await client.get('/auth/users', headers=headers),
        await client.get(f'/auth/users/{body["id"]}', headers=headers),
        await client.patch(f'/auth/users/{body["id"]}', json={'is_superuser': True}, headers=headers),
        await client.delete(f'/auth/users/{body["id"]}', headers=headers),
    ]
    assert [answer.status_code for answer in answers] == [403] * 4
    assert not (await client.app.config.user_model.find_one(id=body['id'])).is_superuser


async def test_the_list_is_paginated_oldest_first_with_a_total(client):
    headers = await admin_headers(client)
    for name in ('ann', 'bob', 'cat'):
        await signup(client, name)
    first = (await client.get('/auth/users?limit=2', headers=headers)).json()
    second = (await client.get('/auth/users?limit=2&offset=2', headers=headers)).json()
    names = [user['username'] for user in first['items'] + second['items']]
    assert names == ['root', 'ann', 'bob', 'cat']
    assert (first['total'], first['limit'], first['offset'], second['offset']) == (4, 2, 0, 2)


async def test_a_bad_limit_is_a_400(client):
    headers = await admin_headers(client)
    for query in ('limit=0', 'limit=101', 'limit=x', 'offset=-1'):
        assert (await client.get(f'/auth/users?{query}', headers=headers)).status_code == 400, query


async def test_no_users_route_shows_a_password_hash(client):
    headers = await admin_headers(client)
    body = await signup(client)
    listed = (await client.get('/auth/users', headers=headers)).text
    one = (await client.get(f'/auth/users/{body["id"]}', headers=headers)).text
    changed = (await client.patch(f'/auth/users/{body["id"]}', json={'is_verified': True}, headers=headers)).text
    assert all('password' not in text and '$argon2' not in text for text in (listed, one, changed))


async def test_an_unknown_id_is_a_404(client):
    headers = await admin_headers(client)
    for method in ('GET', 'PATCH', 'DELETE'):
        kwargs = {'json': {'is_active': False}} if method == 'PATCH' else {}
        response = await client.request(method, '/auth/users/nobody', headers=headers, **kwargs)
        assert response.status_code == 404, method


async def test_a_superuser_sets_the_flags(client):
    headers = await admin_headers(client)
    body = await signup(client)
    flags = {'is_verified': True, 'is_superuser': True}
    response = await client.patch(f'/auth/users/{body["id"]}', json=flags, headers=headers)
    assert response.status_code == 200 and response.json()['is_verified'] and response.json()['is_superuser']


async def test_a_username_is_checked_like_at_signup(client):
    headers = await admin_headers(client)
    body = await signup(client)
    refused = await client.patch(f'/auth/users/{body["id"]}', json={'username': 'a\u200bnn'}, headers=headers)
    taken = await client.patch(f'/auth/users/{body["id"]}', json={'username': 'ROOT'}, headers=headers)
    assert (refused.status_code, taken.status_code) == (400, 409)


async def test_a_new_email_is_no_longer_verified(client):
    headers = await admin_headers(client)
    body = await signup(client, email='ann@example.com')
    await client.patch(f'/auth/users/{body["id"]}', json={'is_verified': True}, headers=headers)
    response = await client.patch(f'/auth/users/{body["id"]}', json={'email': 'ann@example.org'}, headers=headers)
    assert response.status_code == 200 and response.json()['email'] == 'ann@example.org'
    assert not response.json()['is_verified']


async def test_a_password_or_an_unknown_field_is_refused(client):
    headers = await admin_headers(client)
    body = await signup(client)
    response = await client.patch(f'/auth/users/{body["id"]}', json={'password': 'x' * 20}, headers=headers)
    assert response.status_code in (400, 422)


async def test_deactivating_a_user_ends_their_sessions(client):
    headers = await admin_headers(client)
    body = await signup(client)
    tokens = await login(client)
    await client.patch(f'/auth/users/{body["id"]}', json={'is_active': False}, headers=headers)
    assert (await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).status_code == 401
    assert (await client.get('/auth/me', headers=bearer(tokens))).status_code in (401, 403)


async def test_deleting_a_user_removes_them_and_ends_their_sessions(client):
    headers = await admin_headers(client)
    body = await signup(client)
    tokens = await login(client)
    assert (await client.delete(f'/auth/users/{body["id"]}', headers=headers)).status_code == 204
    assert await client.app.config.user_model.find_one(id=body['id']) is None
    assert (await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).status_code == 401
    assert (await client.get(f'/auth/users/{body["id"]}', headers=headers)).status_code == 404


async def test_every_change_is_audited_with_who_made_it(client, caplog):
    headers = await admin_headers(client)
    body = await signup(client)
    with caplog.at_level(logging.INFO):
        await client.patch(f'/auth/users/{body["id"]}', json={'is_verified': True}, headers=headers)
        await client.delete(f'/auth/users/{body["id"]}', headers=headers)
    text = caplog.text
    assert 'users.update' in text and 'users.delete' in text and 'is_verified' in text


async def test_the_users_routes_are_in_the_openapi_document(client):
    paths = (await client.get('/openapi.json')).json()['paths']
    assert {'get'} <= set(paths['/auth/users']) and {'get', 'patch', 'delete'} <= set(paths['/auth/users/{user_id}'])


async def test_the_password_is_unchanged_by_a_superusers_edit(client):
    headers = await admin_headers(client)
    body = await signup(client)
    await client.patch(f'/auth/users/{body["id"]}', json={'is_verified': True}, headers=headers)
    assert (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).status_code == 200
