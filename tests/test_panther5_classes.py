"""Auth and permission classes written as Panther 5 writes them: ``async def __call__(self, request)``.

Panther 5 dropped ``authentication``/``authorization`` classmethods for a
callable class; such a class, or an instance of it, works wherever
``auth=`` or ``permissions=`` is accepted, and a single permission may be
given without a list.
"""

from __future__ import annotations

from typing import Any

import pytest

from panther_like import API, GenericAPI, Panther
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.exceptions import AuthenticationAPIError
from panther_like.testing import TestClient
from tests.settings import settings_module


class TokenAuth:
    async def __call__(self, request):
        if request.headers.authorization != 'Token good':
            raise AuthenticationAPIError('bad token')
        return {'name': 'ann', 'admin': request.headers.x_admin == 'yes'}


class TokenAuthOnBase(BaseAuthentication):
    async def __call__(self, request):
        return await TokenAuth()(request)


class IsAdmin:
    async def __call__(self, request):
        return request.user['admin']


class IsAdminSync:
    def __call__(self, request):
        return request.user['admin']


async def call(tmp_path, route: Any, headers: dict[str, str]) -> int:
    app = Panther(
        settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
            URLS={'r': route},
        )
    )
    async with TestClient(app) as client:
        return (await client.get('/r', headers=headers)).status_code


def api(**options: Any) -> Any:
    @API(methods=['GET'], **options)
    async def handler(request):
        return {'user': request.user['name']}

    return handler


ADMIN = {'Authorization': 'Token good', 'X-Admin': 'yes'}
USER = {'Authorization': 'Token good'}


@pytest.mark.parametrize('auth', [TokenAuth, TokenAuth(), TokenAuthOnBase, TokenAuthOnBase()])
async def test_an_auth_class_with_async_call_authenticates(tmp_path, auth):
    assert await call(tmp_path, api(auth=auth), USER) == 200


@pytest.mark.parametrize('auth', [TokenAuth, TokenAuthOnBase])
async def test_an_auth_class_with_async_call_refuses_with_401(tmp_path, auth):
    assert await call(tmp_path, api(auth=auth), {'Authorization': 'Token bad'}) == 401


@pytest.mark.parametrize('permission', [IsAdmin, IsAdmin(), IsAdminSync, IsAdminSync()])
async def test_a_permission_class_with_call_admits_who_it_allows(tmp_path, permission):
    assert await call(tmp_path, api(auth=TokenAuth, permissions=[permission]), ADMIN) == 200


@pytest.mark.parametrize('permission', [IsAdmin, IsAdmin(), IsAdminSync])
async def test_a_permission_class_with_call_refuses_with_403(tmp_path, permission):
    assert await call(tmp_path, api(auth=TokenAuth, permissions=[permission]), USER) == 403


@pytest.mark.parametrize('permission', [IsAdmin, IsAdmin()])
async def test_a_single_permission_without_a_list_is_applied(tmp_path, permission):
    assert await call(tmp_path, api(auth=TokenAuth, permissions=permission), USER) == 403
    assert await call(tmp_path, api(auth=TokenAuth, permissions=permission), ADMIN) == 200


async def test_a_single_permission_on_a_generic_api_is_applied(tmp_path):
    class Admins(GenericAPI):
        auth = TokenAuth
        permissions = IsAdmin

        async def get(self, request):
            return {}

    assert await call(tmp_path, Admins, USER) == 403
