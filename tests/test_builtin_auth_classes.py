"""The built-in `HeaderOrCookieJWTAuthentication` and the `IsSuperuser` permission."""

from __future__ import annotations

import pytest

from panther_like import API, Panther
from panther_like.auth.permissions import IsSuperuser
from panther_like.authentications import CookieJWTAuthentication, HeaderOrCookieJWTAuthentication
from panther_like.testing import TestClient
from tests.settings import settings_module

KEY = 'h' * 32 + '0123456789abcdefghijklmnopqrstuv'


@API(auth=HeaderOrCookieJWTAuthentication, methods=['GET', 'POST'])
async def whoami(request):
    return {'username': request.user.username}


@API(auth=True, methods=['GET'], permissions=[IsSuperuser])
async def admin(request):
    return {'ok': True}


@pytest.fixture
async def client(tmp_path):
    settings = settings_module(
        SECRET_KEY=KEY,
        DATABASE={'path': str(tmp_path / 's.sqlite3')},
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
    )
    async with TestClient(Panther(settings, urls={'who': whoami, 'admin': admin})) as client:
        yield client


async def login(client, username: str, **flags) -> str:
    user = await client.app.config.user_model.insert_one(username=username, **flags)
    return (await user.login())['access_token']


async def test_header_or_cookie_accepts_a_bearer_header(client):
    token = await login(client, 'ann')
    response = await client.get('/who', headers={'Authorization': f'Bearer {token}'})
    assert response.json() == {'username': 'ann'}


async def test_header_or_cookie_accepts_the_access_token_cookie(client):
    token = await login(client, 'bob')
    response = await client.get('/who', headers={'Cookie': f'access_token={token}'})
    assert response.json() == {'username': 'bob'}


async def test_header_or_cookie_judges_by_the_header_when_both_are_sent(client):
    token = await login(client, 'cat')
    headers = {'Authorization': 'Bearer not-a-token', 'Cookie': f'access_token={token}'}
    assert (await client.get('/who', headers=headers)).status_code == 401


async def test_header_or_cookie_with_neither_is_401_with_the_bearer_challenge(client):
    response = await client.get('/who')
    assert response.status_code == 401
    assert response.headers['www-authenticate'].startswith('Bearer')


async def test_header_or_cookie_checks_csrf_on_an_unsafe_method_with_the_cookie(client):
    token = await login(client, 'dan')
    assert (await client.post('/who', headers={'Cookie': f'access_token={token}'})).status_code == 403


async def test_header_or_cookie_passes_csrf_with_the_matching_token(client):
    token = await login(client, 'eve')
    csrf = CookieJWTAuthentication.credential.csrf_token(token, client.app.config)
    headers = {'Cookie': f'access_token={token}; csrftoken={csrf}', 'X-CSRFToken': csrf}
    assert (await client.post('/who', headers=headers)).status_code == 200


async def test_is_superuser_admits_a_superuser(client):
    token = await login(client, 'root', is_superuser=True)
    assert (await client.get('/admin', headers={'Authorization': f'Bearer {token}'})).status_code == 200


async def test_is_superuser_refuses_another_user_with_403(client):
    token = await login(client, 'joe')
    assert (await client.get('/admin', headers={'Authorization': f'Bearer {token}'})).status_code == 403
