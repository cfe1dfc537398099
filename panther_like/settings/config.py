"""Settings module -> one frozen `Config`, checked once when the app is built.

Panther keeps a mutable global whose unknown names read as ``None``, so a
typo passes silently and a bad dotted path becomes a 500 at request time.
Here every setting is read once, every dotted path is imported once, and
every mistake is a `ConfigError` naming the setting, the value and the
reason, before a single request is served.
"""

from __future__ import annotations

import difflib
import importlib
import os
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, TypeVar

from panther_like.common.imports import import_string
from panther_like.exceptions import ConfigError
from panther_like.http.client_address import TrustedProxies
from panther_like.http.cors import CORSPolicy
from panther_like.http.origins import TrustedOrigins, trusted_origins_setting
from panther_like.settings import accounts as account_checks
from panther_like.settings import checks, deployment, mistakes
from panther_like.settings.accounts import AccountEmailSettings, AccountsSettings
from panther_like.settings.checks import (
    JWT_KEYS,
    MAX_REVOCATION_TTL,
    AuthCacheSettings,
    JWTSettings,
    OpenAPISettings,
    ThrottleSettings,
)
from panther_like.settings.cors import cors_setting
from panther_like.settings.deployment import HealthSettings, RedisSettings, redact_url
from panther_like.settings.oidc import OIDCResourceSettings, oidc_resource_setting
from panther_like.settings.throttling import Throttle, throttling_setting

KNOWN_SETTINGS = (
    'SECRET_KEY',
    'URLS',
    'AUTHENTICATION',
    'WS_AUTHENTICATION',
    'USER_MODEL',
    'JWTConfig',
    'DATABASE',
    'REDIS',
    'AUTH_CACHE',
    'LOGIN_THROTTLE',
    'DEFAULT_AUTH',
    'OPENAPI',
    'ACCOUNTS',
    'TRUSTED_PROXIES',
    'MAILER',
    'ACCOUNT_EMAILS',
    'HEALTH',
    'TRUSTED_ORIGINS',
    'CORS',
    'THROTTLING',
    'OIDC_RESOURCE',
)
DEFAULT_USER_MODEL = 'panther_like.db.models.BaseUser'
# Named for error messages only: the layers that define these bases check them (`require_subclass`).
AUTHENTICATION_BASE = 'panther_like.auth.authentication_classes.BaseAuthentication'
USER_MODEL_BASE = 'panther_like.db.models.BaseUser'
MAILER_BASE = 'panther_like.mail.Mailer'
__all__ = [
    'CONFIGS_ENV_VAR',
    'JWT_KEYS',
    'KNOWN_SETTINGS',
    'MAX_REVOCATION_TTL',
    'AccountEmailSettings',
    'AccountsSettings',
    'AuthCacheSettings',
    'Config',
    'HealthSettings',
    'JWTSettings',
    'OpenAPISettings',
    'RedisSettings',
    'ThrottleSettings',
    'TrustedProxies',
    'did_you_mean',
    'import_class',
    'import_setting',
    'load',
    'redact_url',
    'require_subclass',
    'resolve_module',
]
CONFIGS_ENV_VAR = 'PANTHER_LIKE_CONFIGS'


T = TypeVar('T')


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the app needs from the settings module, already imported and checked."""

    module_name: str
    secret_key: str | None
    urls: Mapping[str, Any] | None
    # The classes settings name are imported here; the app checks each against the base its layer
    # defines (`require_subclass`), so the settings depend on nothing above them.
    authentication: type | None
    ws_authentication: type | None
    user_model: type[Any]
    jwt: JWTSettings | None
    database: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: None when no Redis is configured: revocations, the change feed and the throttle use the database.
    redis: RedisSettings | None = None
    auth_cache: AuthCacheSettings = field(default_factory=AuthCacheSettings)
    login_throttle: ThrottleSettings | None = field(default_factory=ThrottleSettings)
    #: ``auth`` of every route that sets none and is in no Group with one (None: public); checked by the app.
    default_auth: Any = None
    openapi: OpenAPISettings = field(default_factory=OpenAPISettings)
    accounts: AccountsSettings = field(default_factory=AccountsSettings)
    #: Peers whose X-Forwarded-For names the client (`panther_like.http.client_address`).
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    #: The ``MAILER`` class (imported, not yet built: the app checks and builds it) and its options.
    mailer: type | None = None
    mailer_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    account_emails: AccountEmailSettings = field(default_factory=AccountEmailSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    #: Origins besides the request's own host that cookie-authenticated browser requests may come from.
    trusted_origins: TrustedOrigins = field(default_factory=TrustedOrigins)
    #: ``CORS``: which other sites' pages may read responses (None: no CORS headers, preflights are 405s).
    cors: CORSPolicy | None = None
    #: ``THROTTLING``: the request limit of every route that sets no ``throttling=`` (None: no limit).
    throttling: Throttle | None = None
    #: ``OIDC_RESOURCE``: the identity providers whose access tokens `OIDCAuthentication` accepts.
    oidc_resource: OIDCResourceSettings | None = None


def resolve_module(configs: str | ModuleType | None) -> ModuleType:
    """The settings module: the argument, else ``$PANTHER_LIKE_CONFIGS``, else ``configs``."""
    if isinstance(configs, ModuleType):
        return configs
    name = configs or os.environ.get(CONFIGS_ENV_VAR) or 'configs'
    if not isinstance(name, str):
        raise ConfigError('configs', name, f'expected a module or a module name, got {type(name).__name__}')
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            'configs',
            name,
            f'cannot import settings module {name!r} ({exc}); run from the directory that contains it, '
            f'or name it with PANTHER_LIKE_CONFIGS (panther-like: --configs)',
        ) from None
    except Exception as exc:
        raise ConfigError(
            'configs', name, f'settings module {name!r} failed to import ({type(exc).__name__}: {exc})'
        ) from None


def load(configs: str | ModuleType | None = None) -> Config:
    module = resolve_module(configs)
    settings = {name: getattr(module, name) for name in dir(module) if not name.startswith('_')}
    mistakes.reject_foreign_settings(settings)
    _reject_misspelled_settings(settings)

    secret_key = settings.get('SECRET_KEY')
    if secret_key is not None and not isinstance(secret_key, str):
        raise ConfigError('SECRET_KEY', '<hidden>', f'must be a non-empty string, not a {type(secret_key).__name__}')
    if secret_key == '':
        raise ConfigError(
            'SECRET_KEY',
            '<hidden>',
            'must be a non-empty string, but it is empty (is its variable set in the environment or .env?)',
        )
    if secret_key is not None:
        mistakes.reject_weak_key('SECRET_KEY', secret_key)

    urls = settings.get('URLS')
    if urls is not None:
        urls = import_setting('URLS', urls, expect=Mapping, kind='a dict of routes')
    mailer = account_checks.mailer_setting(settings.get('MAILER'))

    return Config(
        module_name=module.__name__,
        secret_key=secret_key,
        urls=urls,
        authentication=import_class('AUTHENTICATION', settings.get('AUTHENTICATION'), AUTHENTICATION_BASE),
        ws_authentication=import_class('WS_AUTHENTICATION', settings.get('WS_AUTHENTICATION'), AUTHENTICATION_BASE),
        user_model=import_required_class('USER_MODEL', settings.get('USER_MODEL'), DEFAULT_USER_MODEL, USER_MODEL_BASE),
        jwt=checks.jwt_settings(settings.get('JWTConfig'), secret_key),
        database=deployment.database_setting(settings.get('DATABASE')),
        redis=deployment.redis_setting(settings.get('REDIS')),
        auth_cache=checks.auth_cache_settings(settings.get('AUTH_CACHE')),
        login_throttle=checks.throttle_settings(settings.get('LOGIN_THROTTLE')),
        default_auth=settings.get('DEFAULT_AUTH'),
        openapi=checks.openapi_setting(settings.get('OPENAPI')),
        accounts=account_checks.accounts_settings(settings.get('ACCOUNTS')),
        trusted_proxies=deployment.trusted_proxies(settings.get('TRUSTED_PROXIES')),
        mailer=import_class('MAILER', mailer.cls, MAILER_BASE),
        mailer_options=mailer.options,
        account_emails=account_checks.account_emails_settings(settings.get('ACCOUNT_EMAILS')),
        health=deployment.health_setting(settings.get('HEALTH')),
        trusted_origins=trusted_origins_setting(settings.get('TRUSTED_ORIGINS')),
        cors=cors_setting(settings.get('CORS')),
        throttling=throttling_setting(settings.get('THROTTLING')),
        oidc_resource=oidc_resource_setting(settings.get('OIDC_RESOURCE')),
    )


def _spelling(name: str) -> str:
    return name.replace('_', '').lower()


_KNOWN_SPELLINGS = {_spelling(name): name for name in KNOWN_SETTINGS}


def _reject_misspelled_settings(settings: Mapping[str, Any]) -> None:
    """A name that is a known setting spelt another way, or one typo away from one, is an error.

    Spelt another way: the same letters in another case or with other
    underscores (``JWT_CONFIG``, ``jwtconfig``, ``secret_key``), which a
    settings module written for another framework uses; ignoring it would
    silently keep the default. A module imported under such a name
    (``from core import urls``), and a function or class defined under it
    (``def default_auth(request): ...``, then ``DEFAULT_AUTH = default_auth``),
    are not settings.
    """
    for name, value in settings.items():
        if name in KNOWN_SETTINGS or isinstance(value, ModuleType) or getattr(value, '__name__', None) == name:
            continue
        meant = _KNOWN_SPELLINGS.get(_spelling(name))
        if meant is None and name[:1].isupper():
            close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1, cutoff=0.85)
            meant = close[0] if close else None
        if meant is not None:
            shown = '<hidden>' if meant == 'SECRET_KEY' else value
            raise ConfigError(name, shown, f'unknown setting {name!r}; did you mean {meant!r}?')


def import_setting(setting: str, value: Any, *, expect: type | tuple[type, ...], kind: str) -> Any:
    """What a setting names by dotted path (or holds itself), checked to be an `expect`."""
    path = value
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ConfigError(setting, value, f'cannot import {value!r} ({exc}){did_you_mean(value)}') from None
    if not isinstance(value, expect):
        raise ConfigError(setting, path, f'{path!r} is not {kind} (it is a {type(value).__name__})')
    return value


def import_class(setting: str, value: Any, base: str) -> type | None:
    """The class a setting names (a dotted path or the class itself); None when unset.

    That it extends `base` (named here only for the message) is checked by
    the layer that defines the base (`require_subclass`), so that the
    settings depend on nothing above them.
    """
    return None if value is None else import_setting(setting, value, expect=type, kind=f'a subclass of {base}')


def import_required_class(setting: str, value: Any, default: str, base: str) -> type:
    """Like `import_class`, for a setting that always names a class: unset (or None) is `default`."""
    found: type = import_setting(
        setting, default if value is None else value, expect=type, kind=f'a subclass of {base}'
    )
    return found


def require_subclass(setting: str, value: type | None, base: type[T], *, shown: Any = None) -> type[T] | None:
    """`value` (a class a setting named, or None) as a subclass of `base`; a `ConfigError` when it is not one."""
    if value is None:
        return None
    if not issubclass(value, base):
        raise not_a_subclass(setting, value, base, shown=shown)
    return value


def not_a_subclass(setting: str, value: type, base: type, *, shown: Any = None) -> ConfigError:
    """The error for a class a setting named that does not extend `base`."""
    shown = f'{value.__module__}.{value.__qualname__}' if shown is None else shown
    return ConfigError(setting, shown, f'{shown!r} is not a subclass of {base.__module__}.{base.__qualname__}')


def did_you_mean(dotted_path: str) -> str:
    """``"; did you mean 'JWTAuthentication'?"`` for the nearest existing name, else ``''``.

    Looks in the module when it imports (a misspelled class name), else in
    the parent package's submodules (a misspelled module name).
    """
    module_path, _, name = dotted_path.rpartition('.')
    try:
        candidates = [n for n in dir(importlib.import_module(module_path)) if not n.startswith('_')]
    except Exception:
        parent, _, name = module_path.rpartition('.')
        try:
            package = importlib.import_module(parent)
            candidates = [info.name for info in pkgutil.iter_modules(getattr(package, '__path__', []))]
        except Exception:
            return ''
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f'; did you mean {close[0]!r}?' if close else ''
