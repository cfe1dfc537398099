"""The example project tested the way its users would test theirs: `TestClient` and the plugin's fixtures.

Each test gets its own empty store (``panther_app``), so they run in any order.
"""

import pytest

from example_app.models import User
from panther_like.testing import WebsocketRefused


async def test_index_is_public(client):
    response = await client.get('/')
    assert response.status_code == 200


async def test_me_without_a_token_is_401(client):
    response = await client.get('/me')
    assert response.status_code == 401
    assert response.json() == {'detail': 'Authorization header is missing'}


async def test_me_after_login_as_shows_the_user(client, user):
    await client.login_as(user)
    response = await client.get('/me')
    assert response.json() == {'id': user.id, 'username': 'testuser'}


async def test_signup_then_login_returns_a_token_pair(client):
    credentials = {'username': 'ann', 'password': 'correct horse'}
    assert (await client.post('/auth/signup', json=credentials)).status_code == 201
    response = await client.post('/auth/login', json=credentials)
    assert set(response.json()) == {'access_token', 'refresh_token', 'token_type', 'expires_in'}


async def test_signup_with_a_taken_username_is_409(client, user):
    response = await client.post('/auth/signup', json={'username': 'TestUser', 'password': 'another passphrase'})
    assert response.status_code == 409  # the same name, whatever its case


async def test_user_detail_never_shows_the_password_hash(client, user):
    client.force_authenticate(user)
    response = await client.get(f'/users/{user.id}/')
    assert 'password' not in response.json()


async def test_user_detail_of_another_user_answers_as_an_unknown_id(client, user):
    other = await User.insert_one(username='other', password='another passphrase')
    client.force_authenticate(user)
    response = await client.get(f'/users/{other.id}/')
    assert (response.status_code, response.json()) == (404, {'detail': 'User not found'})


async def test_user_detail_of_another_user_is_shown_to_a_superuser(client, user):
    admin = await User.insert_one(username='admin', password='admin passphrase', is_superuser=True)
    client.force_authenticate(admin)
    response = await client.get(f'/users/{user.id}/')
    assert response.json()['username'] == 'testuser'


async def test_logout_revokes_the_token(client, user):
    await client.login_as(user)
    assert (await client.post('/auth/logout')).status_code == 200
    assert (await client.get('/me')).status_code == 401


async def test_echo_websocket_greets_the_user_by_name(client, user):
    tokens = await client.login_as(user)
    async with client.websocket('/ws/echo', params={'authorization': tokens['access_token']}) as ws:
        assert await ws.receive_json() == {'hello': 'testuser'}
        await ws.send_json({'n': 1})
        assert await ws.receive_json() == {'echo': {'n': 1}}


async def test_echo_websocket_without_a_token_is_refused_with_1008(client):
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/echo'):
            pass
    assert refused.value.code == 1008
