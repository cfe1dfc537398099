"""Second factors: the optional dependencies, the settings, ``fresh=`` on users' routes, and the OpenAPI document."""

from __future__ import annotations

import logging
import sys

import pytest

from panther_like import API, Panther
from panther_like.accounts import accounts_urls
from panther_like.auth.permissions import FreshAuthentication
from panther_like.exceptions import ConfigError
from panther_like.login_state.second_factors import SecretBox, require_mfa_dependencies
from panther_like.settings.accounts import accounts_settings
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, settings_module, signup
from tests.clock import ManualClock


@API(auth=True, fresh=60, methods=['POST'])
async def transfer(request):
    return {'done': True}


@API(auth=True, permissions=[FreshAuthentication], methods=['POST'])
async def close_account(request):
    return {'done': True}


def fresh_app(tmp_path, clock: ManualClock) -> Panther:
    settings = settings_module({'path': str(tmp_path / 'db.sqlite3')}, None, {})
    settings.URLS = {'auth/': accounts_urls, 'transfer': transfer, 'close': close_account}
    settings.JWTConfig = {'life_time': 3600}
    return Panther(configs=settings, clock=clock)


def behind() -> ManualClock:
    clock = ManualClock()
    clock.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return clock


# -- dependencies ---------------------------------------------------------------------------------


def test_missing_mfa_dependencies_are_a_config_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pyotp', None)
    with pytest.raises(ConfigError, match=r"pip install 'panther-like\[mfa\]'"):
        require_mfa_dependencies()


async def test_setting_totp_up_without_the_extra_answers_501_and_logs_one_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, 'segno', None)
    async with TestClient(fresh_app(tmp_path, behind())) as client:
        await signup(client)
        with caplog.at_level(logging.ERROR):
            response = await client.post('/auth/mfa/totp', headers=bearer(await login(client)))
    assert response.status_code == 501
    assert "pip install 'panther-like[mfa]'" in caplog.text and 'Traceback' not in caplog.text


# -- secrets at rest ------------------------------------------------------------------------------


def test_a_secret_sealed_under_an_earlier_key_opens_with_previous_secret_keys():
    sealed = SecretBox('old-key-' + 'x' * 40).seal('JBSWY3DPEHPK3PXP', 'user-1')
    assert SecretBox('new-key-' + 'y' * 40, ('old-key-' + 'x' * 40,)).open(sealed, 'user-1') == (
        'JBSWY3DPEHPK3PXP',
        True,
    )


def test_a_sealed_secret_does_not_open_for_another_user():
    sealed = SecretBox('k' * 40).seal('JBSWY3DPEHPK3PXP', 'user-1')
    assert SecretBox('k' * 40).open(sealed, 'user-2') is None


# -- settings -------------------------------------------------------------------------------------


def test_reauthentication_timeout_defaults_to_five_minutes():
    assert accounts_settings({}).reauthentication_timeout == 300


@pytest.mark.parametrize('bad', [0, -1, True, '300', 10**9])
def test_a_bad_reauthentication_timeout_is_a_config_error(bad):
    with pytest.raises(ConfigError, match='reauthentication_timeout'):
        accounts_settings({'reauthentication_timeout': bad})


@pytest.mark.parametrize('bad', ['one key', [''], [1], None])
def test_bad_previous_secret_keys_are_a_config_error(bad):
    with pytest.raises(ConfigError, match='previous_secret_keys'):
        accounts_settings({'previous_secret_keys': bad})


def test_a_bad_fresh_is_a_config_error():
    with pytest.raises(ConfigError, match='fresh'):
        API(fresh=0)


# -- fresh= on users' routes ----------------------------------------------------------------------


async def test_fresh_route_admits_a_recent_login(tmp_path):
    async with TestClient(fresh_app(tmp_path, behind())) as client:
        await signup(client)
        assert (await client.post('/transfer', headers=bearer(await login(client)))).status_code == 200


async def test_fresh_route_refuses_a_login_older_than_its_max_age(tmp_path):
    clock = behind()
    async with TestClient(fresh_app(tmp_path, clock)) as client:
        await signup(client)
        tokens = await login(client)
        clock.advance(61)
        response = await client.post('/transfer', headers=bearer(tokens))
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True


async def test_the_fresh_permission_class_uses_the_reauthentication_timeout(tmp_path):
    clock = behind()
    async with TestClient(fresh_app(tmp_path, clock)) as client:
        await signup(client)
        tokens = await login(client)
        clock.advance(200)
        recent = await client.post('/close', headers=bearer(tokens))
        clock.advance(101)
        stale = await client.post('/close', headers=bearer(tokens))
    assert (recent.status_code, stale.status_code) == (200, 401)


async def test_reauthenticating_makes_a_fresh_route_admit_the_session_again(tmp_path):
    clock = behind()
    async with TestClient(fresh_app(tmp_path, clock)) as client:
        await signup(client)
        tokens = await login(client)
        clock.advance(61)
        renewed = await client.post('/auth/reauthenticate', json={'password': PASSWORD}, headers=bearer(tokens))
        assert (await client.post('/transfer', headers=bearer(renewed.json()))).status_code == 200


# -- OpenAPI --------------------------------------------------------------------------------------


async def openapi(tmp_path) -> dict:
    async with TestClient(fresh_app(tmp_path, behind())) as client:
        response = await client.get('/openapi.json')
    assert response.status_code == 200
    return response.json()


def body_schema(document: dict, path: str, method: str) -> dict:
    ref = document['paths'][path][method]['requestBody']['content']['application/json']['schema']['$ref']
    return document['components']['schemas'][ref.rsplit('/', 1)[1]]


async def test_the_mfa_operations_are_in_the_openapi_document(tmp_path):
    paths = (await openapi(tmp_path))['paths']
    assert {'get'} <= set(paths['/auth/mfa']) and {'post', 'delete'} <= set(paths['/auth/mfa/totp'])
    for path in (
        '/auth/mfa/totp/confirm',
        '/auth/mfa/recovery-codes',
        '/auth/login/mfa',
        '/auth/reauthenticate',
        '/auth/login/code/request',
        '/auth/login/code',
    ):
        assert 'post' in paths[path], path


async def test_the_login_mfa_body_is_documented(tmp_path):
    schema = body_schema(await openapi(tmp_path), '/auth/login/mfa', 'post')
    assert {'mfa_token', 'code', 'recovery_code'} <= set(schema['properties'])


async def test_removing_totp_documents_its_body(tmp_path):
    schema = body_schema(await openapi(tmp_path), '/auth/mfa/totp', 'delete')
    assert {'code', 'recovery_code'} <= set(schema['properties'])


async def test_reauthenticate_body_is_documented(tmp_path):
    schema = body_schema(await openapi(tmp_path), '/auth/reauthenticate', 'post')
    assert {'password', 'code'} <= set(schema['properties'])
