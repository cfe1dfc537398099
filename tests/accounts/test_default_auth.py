"""A project-wide ``DEFAULT_AUTH`` (or a URL group's default) never locks users out of the account routes.

Each account route declares its own ``auth``: the open ones (signup, login,
refresh, forgot-password...) ``auth=None``, the others the account
authentication; a default only fills a route that declares nothing.
"""

from __future__ import annotations

import types

import pytest

from panther_like import Group, Panther
from panther_like.accounts import accounts_urls
from panther_like.common.sentinel import UNSET
from panther_like.routing.api import FunctionAPI
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, SECRET_KEY, Member, bearer


def _app(tmp_path, urls, **settings) -> Panther:
    module = types.ModuleType('default_auth_settings')
    module.SECRET_KEY = SECRET_KEY
    module.URLS = urls
    module.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
    module.USER_MODEL = Member
    module.DATABASE = {'path': str(tmp_path / 'db.sqlite3')}
    for name, value in settings.items():
        setattr(module, name, value)
    return Panther(configs=module)


def _declared_auths():
    for path, route in accounts_urls.items():
        for target in route if isinstance(route, list | tuple) else [route]:
            if isinstance(target, FunctionAPI):
                yield path, target.methods, target.auth
            else:
                for method in target.defined_methods():
                    yield path, (method,), target.guard_of(method)['auth']


@pytest.mark.parametrize(
    ('path', 'methods', 'auth'), [pytest.param(*row, id=f'{row[0]} {",".join(row[1])}') for row in _declared_auths()]
)
def test_every_account_route_declares_its_own_auth(path, methods, auth):
    assert auth is not UNSET, f'{path} {methods} leaves its auth to the project default'


@pytest.mark.asyncio
async def test_default_auth_true_leaves_signup_login_and_forgot_password_open(tmp_path):
    async with TestClient(_app(tmp_path, {'auth/': accounts_urls}, DEFAULT_AUTH=True)) as client:
        signed = await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
        logged = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
        forgot = await client.post('/auth/password/forgot', json={'username': 'ann'})
    assert (signed.status_code, logged.status_code, forgot.status_code) == (201, 200, 202)


@pytest.mark.asyncio
async def test_default_auth_true_leaves_refresh_open(tmp_path):
    async with TestClient(_app(tmp_path, {'auth/': accounts_urls}, DEFAULT_AUTH=True)) as client:
        await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
        tokens = (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).json()
        refreshed = await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    assert refreshed.status_code == 200


@pytest.mark.asyncio
async def test_default_auth_true_still_requires_a_token_for_me(tmp_path):
    async with TestClient(_app(tmp_path, {'auth/': accounts_urls}, DEFAULT_AUTH=True)) as client:
        await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
        tokens = (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).json()
        anonymous = await client.get('/auth/me')
        known = await client.get('/auth/me', headers=bearer(tokens))
    assert (anonymous.status_code, known.status_code) == (401, 200)


@pytest.mark.asyncio
async def test_a_group_default_auth_leaves_signup_and_login_open(tmp_path):
    async with TestClient(_app(tmp_path, {'auth/': Group(accounts_urls, auth=True)})) as client:
        signed = await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
        logged = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert (signed.status_code, logged.status_code) == (201, 200)
