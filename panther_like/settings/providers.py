"""``ACCOUNTS['providers']``: the OpenID Connect and OAuth 2 providers people may sign in with.

Each entry names one provider and is checked into a frozen `ProviderSettings` when the app is built, every
mistake a `ConfigError`. An OpenID provider is named by its ``issuer`` (its endpoints and keys are found by
discovery, ``{issuer}/.well-known/openid-configuration``); a plain OAuth 2 provider such as GitHub, which
issues no ID token, by its three endpoints, and its ``issuer`` is then only the name its identities are
filed under. Plain ``http://`` is allowed only on this machine: anyone on the path could read the codes.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from panther_like.exceptions import ConfigError
from panther_like.settings.checks import absolute_url_parts, reject_unknown_keys

#: What to install for social login: Authlib does the protocol (and brings its JOSE library).
OIDC_EXTRA = 'pip install "panther-like[oidc]"'
PROVIDER_KEYS = frozenset(
    {
        'issuer',
        'authorize_url',
        'token_url',
        'userinfo_url',
        'emails_url',
        'client_id',
        'client_secret',
        'scopes',
        'label',
        'redirect_uri',
        'trust_mfa',
        'auto_link_verified_email',
    }
)
EXPLICIT_ENDPOINTS = ('authorize_url', 'token_url', 'userinfo_url')
NAME_SHAPE = re.compile(r'[a-z0-9][a-z0-9_-]{0,31}')
DEFAULT_OIDC_SCOPES = ('openid', 'email', 'profile')


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """One provider of ``ACCOUNTS['providers']``, checked.

    `discovery`: True for an OpenID provider (``issuer`` given, an ID token expected), False for a plain
    OAuth 2 provider (the three endpoints given; the identity is the userinfo ``id``). `trust_mfa`: the
    provider's ``amr``/``acr`` saying it checked a second factor stands in for the local one.
    `auto_link_verified_email`: a first sign-in whose e-mail address the provider says it verified joins
    the local account that verified the same address.
    """

    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    label: str
    discovery: bool = True
    authorize_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    #: GitHub-style: where the verified addresses are listed when the userinfo has none.
    emails_url: str | None = None
    redirect_uri: str | None = None
    trust_mfa: bool = False
    auto_link_verified_email: bool = False


def require_oidc_dependencies() -> None:
    """A `ConfigError` naming the extra to install when Authlib is missing."""
    for module in ('authlib', 'joserfc'):
        if importlib.util.find_spec(module) is None:
            raise ConfigError(
                "ACCOUNTS['providers']", module, f'signing in with a provider needs {module}: {OIDC_EXTRA}'
            )


def providers_setting(value: Any) -> Mapping[str, ProviderSettings]:
    """``ACCOUNTS['providers']``: ``{name: {...}}``; absent or empty: no provider."""
    if value is None or (isinstance(value, Mapping) and not value):
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigError(
            "ACCOUNTS['providers']", value, "must be a dict such as {'google': {'issuer': ..., 'client_id': ...}}"
        )
    require_oidc_dependencies()
    checked: dict[str, ProviderSettings] = {}
    for name, entry in value.items():
        if not isinstance(name, str) or not NAME_SHAPE.fullmatch(name):
            raise ConfigError(
                "ACCOUNTS['providers']", name, f'{name!r}: a provider name is 1-32 lowercase letters, digits, - or _'
            )
        checked[name] = _provider(name, entry)
    return MappingProxyType(checked)


def _provider(name: str, entry: Any) -> ProviderSettings:
    setting = f"ACCOUNTS['providers'][{name!r}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(setting, entry, "must be a dict with 'issuer' (or the endpoints), 'client_id' and more")
    reject_unknown_keys(setting, entry, PROVIDER_KEYS)
    given = [key for key in EXPLICIT_ENDPOINTS if entry.get(key) is not None]
    discovery = not given
    if given and len(given) != len(EXPLICIT_ENDPOINTS):
        missing = sorted(set(EXPLICIT_ENDPOINTS) - set(given))
        raise ConfigError(setting, sorted(given), f'explicit endpoints need all three; missing {", ".join(missing)}')
    if discovery and entry.get('issuer') is None:
        raise ConfigError(setting, None, "needs 'issuer' (OpenID) or authorize_url, token_url and userinfo_url")
    endpoints = {key: _url(f'{setting}[{key!r}]', entry[key]) for key in given}
    for key in ('emails_url', 'redirect_uri'):
        if entry.get(key) is not None:
            endpoints[key] = _url(f'{setting}[{key!r}]', entry[key])
    if entry.get('issuer') is not None:
        issuer = _url(f"{setting}['issuer']", entry['issuer'])
    else:
        parts = urlsplit(endpoints['authorize_url'])
        issuer = f'{parts.scheme}://{parts.netloc}'
    secrets: dict[str, str] = {}
    for key in ('client_id', 'client_secret'):
        item = entry.get(key)
        if not isinstance(item, str) or not item.strip():
            shown = '<hidden>' if key == 'client_secret' else item
            raise ConfigError(f'{setting}[{key!r}]', shown, 'must be a non-empty string from the provider')
        secrets[key] = item
    scopes = _scopes(setting, entry.get('scopes'), discovery)
    label = entry.get('label', name.replace('-', ' ').replace('_', ' ').title())
    if not isinstance(label, str) or not label.strip() or len(label) > 64:
        raise ConfigError(f"{setting}['label']", label, 'must be a short non-empty string shown on the button')
    flags: dict[str, bool] = {}
    for key in ('trust_mfa', 'auto_link_verified_email'):
        item = entry.get(key, False)
        if not isinstance(item, bool):
            raise ConfigError(f'{setting}[{key!r}]', item, f'{item!r} must be True or False')
        flags[key] = item
    return ProviderSettings(
        name=name,
        issuer=issuer,
        client_id=secrets['client_id'],
        client_secret=secrets['client_secret'],
        scopes=scopes,
        label=label,
        discovery=discovery,
        authorize_url=endpoints.get('authorize_url'),
        token_url=endpoints.get('token_url'),
        userinfo_url=endpoints.get('userinfo_url'),
        emails_url=endpoints.get('emails_url'),
        redirect_uri=endpoints.get('redirect_uri'),
        trust_mfa=flags['trust_mfa'],
        auto_link_verified_email=flags['auto_link_verified_email'],
    )


def _scopes(setting: str, value: Any, discovery: bool) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_OIDC_SCOPES if discovery else ()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) and s and ' ' not in s for s in value):
        raise ConfigError(f"{setting}['scopes']", value, "must be a list of scopes such as ['openid', 'email']")
    scopes = tuple(dict.fromkeys(value))
    if discovery and 'openid' not in scopes:
        raise ConfigError(f"{setting}['scopes']", value, "an OpenID provider needs the 'openid' scope")
    return scopes


def _url(setting: str, url: Any) -> str:
    """An absolute https URL; plain http only on this machine, where no one else is on the path."""
    if not isinstance(url, str) or not url:
        raise ConfigError(setting, url, f'{url!r} must be an absolute https:// URL')
    if any(ch in url for ch in ' \r\n\t'):
        raise ConfigError(setting, url, f'{url!r} must be an absolute https:// URL without spaces')
    if absolute_url_parts(setting, url, 'would carry sign-ins over plain http').fragment:
        raise ConfigError(setting, url, f'{url!r} must be an absolute https:// URL without a fragment')
    return url


def provider_redirect_setting(value: Any) -> str:
    """``ACCOUNTS['provider_redirect']``: a path of this site (``/``), or an absolute URL of the front end."""
    setting = "ACCOUNTS['provider_redirect']"
    if isinstance(value, str) and value.startswith('/') and not value.startswith('//') and '\\' not in value:
        if '#' in value or any(ch in value for ch in ' \r\n\t'):
            raise ConfigError(setting, value, f'{value!r} must be a path without a fragment or spaces')
        return value
    return _url(setting, value)
