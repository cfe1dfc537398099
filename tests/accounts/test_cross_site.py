"""Login CSRF: in cookie mode another site cannot start a session, and JSON routes take only JSON."""

from __future__ import annotations

import pytest

from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, login, set_cookies, signup

FOREIGN = {'Origin': 'https://evil.test'}
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


async def test_a_cross_site_form_login_is_403_and_sets_no_cookie(accounts_client: TestClient):
    await signup(accounts_client)
    response = await accounts_client.post(
        '/auth/login', content=f'username=ann&password={PASSWORD}'.encode(), headers={**FORM, **FOREIGN}
    )
    assert response.status_code == 403 and 'Origin' in response.json()['detail']
    assert set_cookies(response) == {}


async def test_a_same_site_form_login_still_works(accounts_client: TestClient):
    await signup(accounts_client)
    response = await accounts_client.post(
        '/auth/login', content=f'username=ann&password={PASSWORD}'.encode(), headers=FORM
    )
    assert response.status_code == 200 and 'access_token' in set_cookies(response)


@pytest.mark.parametrize('path', ['signup', 'refresh', 'password/forgot'])
async def test_the_session_starting_routes_refuse_a_foreign_origin_in_cookie_mode(accounts_client: TestClient, path):
    response = await accounts_client.post(f'/auth/{path}', json={}, headers=FOREIGN)
    assert response.status_code == 403 and 'Origin' in response.json()['detail']


async def test_without_cookies_a_foreign_origin_may_log_in(make_app):
    async with TestClient(make_app()) as client:
        await signup(client)
        response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD}, headers=FOREIGN)
        assert response.status_code == 200


async def test_signup_refuses_json_sent_as_text_plain_with_415(accounts_client: TestClient):
    response = await accounts_client.post(
        '/auth/signup',
        content=b'{"username": "ann", "password": "correct horse battery"}',
        headers={'Content-Type': 'text/plain'},
    )
    assert response.status_code == 415 and 'application/json' in response.json()['detail']


async def test_a_json_route_refuses_a_form_body_with_415(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    response = await accounts_client.post(
        '/auth/refresh', content=f'refresh_token={tokens["refresh_token"]}'.encode(), headers=FORM
    )
    assert response.status_code == 415


async def test_login_refuses_text_plain_with_415(accounts_client: TestClient):
    response = await accounts_client.post(
        '/auth/login', content=b'username=ann&password=x', headers={'Content-Type': 'text/plain'}
    )
    assert response.status_code == 415


async def test_patch_me_refuses_json_sent_as_text_plain_with_415(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    response = await accounts_client.patch(
        '/auth/me',
        content=b'{"nickname": "annie"}',
        headers={'Content-Type': 'text/plain', 'Authorization': f'Bearer {tokens["access_token"]}'},
    )
    assert response.status_code == 415 and 'application/json' in response.json()['detail']


def _body_routes():
    from panther_like.accounts import accounts_urls
    from panther_like.routing.api import FunctionAPI

    for path, route in accounts_urls.items():
        for target in route if isinstance(route, list | tuple) else [route]:
            if isinstance(target, FunctionAPI):
                if target.contract.input is not None:
                    yield path, target.methods[0], list(target.permissions or ())
            else:
                for method in target.defined_methods():
                    if target.contract_of(method).input is not None:
                        yield path, method, list(target.guard_of(method)['permissions'] or ())


@pytest.mark.parametrize(
    ('path', 'method', 'permissions'), [pytest.param(*row, id=f'{row[1]} {row[0]}') for row in _body_routes()]
)
def test_every_account_route_with_a_body_refuses_other_content_types(path, method, permissions):
    from panther_like.accounts.cookies import json_only, json_or_form_only

    assert json_only in permissions or json_or_form_only in permissions, f'{method} {path} reads any content type'
