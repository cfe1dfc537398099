"""``ACCOUNTS['webauthn']``: checked when the app is built, every mistake a ConfigError; no setting, no routes."""

from __future__ import annotations

import sys

import pytest

from panther_like import Panther
from panther_like.exceptions import ConfigError
from panther_like.settings.accounts import accounts_settings
from panther_like.testing import TestClient
from tests.accounts.conftest import bearer, login, settings_module, signup
from tests.accounts.passkeys.conftest import WEBAUTHN


def webauthn(**changes: object) -> dict:
    return {'webauthn': {**WEBAUTHN, **changes}}


def test_the_setting_is_read_into_a_frozen_value():
    setting = accounts_settings(webauthn(origins=['http://localhost:8000', 'https://app.localhost'])).webauthn
    assert setting is not None and setting.rp_id == 'localhost' and setting.rp_name == 'Example'
    assert setting.origins == ('http://localhost:8000', 'https://app.localhost')
    with pytest.raises(AttributeError):
        setting.rp_id = 'example.com'


def test_no_setting_leaves_passkeys_off():
    assert accounts_settings({}).webauthn is None


@pytest.mark.parametrize(
    ('value', 'names'),
    [
        ('localhost', "ACCOUNTS['webauthn']"),
        ({**WEBAUTHN, 'rp': 'x'}, 'rp'),
        ({'rp_name': 'Example', 'origins': ['https://example.com']}, 'rp_id'),
        (webauthn(rp_id='127.0.0.1')['webauthn'], 'IP address'),
        (webauthn(rp_id='::1')['webauthn'], 'IP address'),
        (webauthn(rp_id='https://example.com')['webauthn'], 'rp_id'),
        (webauthn(rp_id='example.com:443')['webauthn'], 'rp_id'),
        (webauthn(rp_id='Example.com')['webauthn'], 'rp_id'),
        (webauthn(rp_id=3)['webauthn'], 'rp_id'),
        (webauthn(rp_name='')['webauthn'], 'rp_name'),
        (webauthn(rp_name=None)['webauthn'], 'rp_name'),
        (webauthn(origins=[])['webauthn'], 'origins'),
        (webauthn(origins='http://localhost:8000')['webauthn'], 'origins'),
        (webauthn(origins=[None])['webauthn'], 'origins'),
        (webauthn(origins=['http://localhost:8000/login'])['webauthn'], 'scheme://host'),
        (webauthn(origins=['ftp://localhost'])['webauthn'], 'scheme://host'),
        (webauthn(origins=['localhost:8000'])['webauthn'], 'origins'),
        (webauthn(rp_id='example.com', origins=['http://example.com'])['webauthn'], 'plain http'),
        (webauthn(rp_id='example.com', origins=['https://example.org'])['webauthn'], 'subdomain'),
        (webauthn(rp_id='example.com', origins=['https://notexample.com'])['webauthn'], 'subdomain'),
        (webauthn(rp_id='example.com', origins=['https://example.com:99999'])['webauthn'], 'origins'),
    ],
)
def test_a_mistake_is_a_config_error_naming_what_is_wrong(value, names):
    with pytest.raises(ConfigError, match='webauthn') as raised:
        accounts_settings({'webauthn': value})
    assert names in str(raised.value)


def test_an_https_subdomain_origin_is_accepted():
    setting = accounts_settings(webauthn(rp_id='example.com', origins=['https://app.example.com'])).webauthn
    assert setting is not None and setting.origins == ('https://app.example.com',)


def test_without_the_package_the_setting_is_a_config_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'webauthn', None)
    with pytest.raises(ConfigError, match=r"pip install 'panther-like\[passkeys\]'"):
        accounts_settings(webauthn())


@pytest.mark.asyncio
async def test_without_the_setting_the_routes_answer_404(tmp_path):
    settings = settings_module({'path': str(tmp_path / 'db.sqlite3')}, None, {})
    async with TestClient(Panther(configs=settings)) as client:
        await signup(client)
        tokens = await login(client)
        assert (await client.post('/auth/passkeys/login/options', json={})).status_code == 404
        assert (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).status_code == 404
        assert (await client.get('/auth/passkeys', headers=bearer(tokens))).status_code == 404


def test_the_openapi_document_shows_the_passkey_routes_with_their_bodies(tmp_path):
    from openapi_spec_validator import validate

    from panther_like.openapi.document import build_document

    app = Panther(configs=settings_module({'path': str(tmp_path / 'db.sqlite3')}, None, webauthn()))
    document = build_document(app.router.routes, app.config.openapi)
    validate(document)
    paths = document['paths']
    for path, method in [
        ('/auth/passkeys/register/options', 'post'),
        ('/auth/passkeys/register', 'post'),
        ('/auth/passkeys', 'get'),
        ('/auth/passkeys/{passkey_id}', 'patch'),
        ('/auth/passkeys/{passkey_id}', 'delete'),
        ('/auth/passkeys/login/options', 'post'),
        ('/auth/passkeys/login', 'post'),
    ]:
        assert method in paths[path], (path, method)
    body = paths['/auth/passkeys/login']['post']['requestBody']['content']['application/json']['schema']
    schema = document['components']['schemas'][body['$ref'].rsplit('/', 1)[1]]
    assert {'credential', 'mfa_token'} <= set(schema['properties']) and schema['required'] == ['credential']
