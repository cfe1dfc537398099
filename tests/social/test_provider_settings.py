"""``ACCOUNTS['providers']`` is checked when the app is built: a frozen value, every mistake a ConfigError."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from panther_like.accounts.providers import configured_providers
from panther_like.exceptions import ConfigError
from panther_like.settings.accounts import accounts_settings
from panther_like.settings.providers import providers_setting

GOOGLE = {'issuer': 'https://accounts.google.com', 'client_id': 'id', 'client_secret': 'secret'}
GITHUB = {
    'authorize_url': 'https://github.com/login/oauth/authorize',
    'token_url': 'https://github.com/login/oauth/access_token',
    'userinfo_url': 'https://api.github.com/user',
    'emails_url': 'https://api.github.com/user/emails',
    'client_id': 'id',
    'client_secret': 'secret',
    'scopes': ['read:user', 'user:email'],
}


def test_an_openid_provider_is_named_by_its_issuer_and_asks_for_openid_email_profile_by_default():
    google = providers_setting({'google': GOOGLE})['google']
    assert google.discovery and google.issuer == 'https://accounts.google.com'
    assert google.scopes == ('openid', 'email', 'profile') and google.label == 'Google'


def test_an_oauth2_provider_with_explicit_endpoints_files_its_identities_under_its_sites_origin():
    github = providers_setting({'github': GITHUB})['github']
    assert not github.discovery and github.issuer == 'https://github.com'
    assert github.scopes == ('read:user', 'user:email')


def test_the_providers_setting_is_frozen():
    providers = providers_setting({'google': GOOGLE})
    with pytest.raises(TypeError):
        providers['other'] = providers['google']  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        providers['google'].trust_mfa = True  # type: ignore[misc]


def test_trust_mfa_and_auto_linking_are_off_unless_turned_on():
    google = providers_setting({'google': GOOGLE})['google']
    assert google.trust_mfa is False and google.auto_link_verified_email is False


@pytest.mark.parametrize(
    ('entry', 'says'),
    [
        ({**GOOGLE, 'issuer': 'http://accounts.example.com'}, 'https://'),
        ({**GOOGLE, 'issuer': 'ftp://accounts.example.com'}, 'https://'),
        ({**GOOGLE, 'client_secret': ''}, 'non-empty'),
        ({**GOOGLE, 'client_id': None}, 'non-empty'),
        ({**GOOGLE, 'scopes': ['email']}, "'openid'"),
        ({**GOOGLE, 'scopes': 'openid email'}, None),
        ({**GOOGLE, 'trust_mfa': 'yes'}, 'True or False'),
        ({**GOOGLE, 'auto_link_verified_email': 1}, 'True or False'),
        ({**GOOGLE, 'isuer': 'https://x'}, 'isuer'),
        ({'client_id': 'id', 'client_secret': 's'}, 'issuer'),
        ({**GITHUB, 'token_url': None}, 'token_url'),
        ({**GOOGLE, 'label': ''}, 'label'),
        ('https://accounts.google.com', 'dict'),
    ],
)
def test_every_mistake_in_a_provider_is_a_config_error(entry, says):
    if says is None:  # a space-separated string of scopes is accepted
        assert providers_setting({'google': entry})['google'].scopes == ('openid', 'email')
        return
    with pytest.raises(ConfigError) as error:
        providers_setting({'google': entry})
    assert says in str(error.value)


def test_plain_http_issuers_are_allowed_on_this_machine_only():
    local = providers_setting({'dev': {**GOOGLE, 'issuer': 'http://127.0.0.1:9000'}})
    assert local['dev'].issuer == 'http://127.0.0.1:9000'


@pytest.mark.parametrize('name', ['Google', 'has space', '', 'x' * 33, 'ünï'])
def test_a_provider_name_must_fit_in_a_url_path(name):
    with pytest.raises(ConfigError):
        providers_setting({name: GOOGLE})


def test_without_authlib_a_provider_is_a_config_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'authlib', None)  # what Python does for a package that cannot be imported
    with pytest.raises(ConfigError) as error:
        providers_setting({'google': GOOGLE})
    assert 'panther-like[oidc]' in str(error.value)


def test_no_providers_needs_no_authlib(monkeypatch):
    monkeypatch.setitem(sys.modules, 'authlib', None)
    assert dict(accounts_settings({}).providers) == {}


@pytest.mark.parametrize('redirect', ['//evil.example.com', 'http://evil.example.com/x', 'javascript:alert(1)', 5])
def test_the_front_end_to_return_to_is_a_path_of_this_site_or_an_https_url(redirect):
    with pytest.raises(ConfigError):
        accounts_settings({'provider_redirect': redirect})


def test_pages_list_the_configured_providers_with_their_login_paths():
    class Config:
        accounts = accounts_settings({'providers': {'google': GOOGLE, 'github': {**GITHUB, 'label': 'GitHub'}}})

    buttons = configured_providers(Config(), mount='/auth/')  # type: ignore[arg-type]
    assert [(b.name, b.label, b.login_path) for b in buttons] == [
        ('google', 'Google', '/auth/providers/google/login'),
        ('github', 'GitHub', '/auth/providers/github/login'),
    ]
