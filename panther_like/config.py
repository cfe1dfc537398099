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
from datetime import timedelta
from types import MappingProxyType, ModuleType
from typing import Any

from panther_like.exceptions import ConfigError
from panther_like.keys import SUPPORTED_ALGORITHMS, KeySet, build_key_set
from panther_like.throttle import ThrottleSettings
from panther_like.throttle import settings_from as throttle_settings
from panther_like.utils import import_string

KNOWN_SETTINGS = (
    'SECRET_KEY', 'URLS', 'AUTHENTICATION', 'WS_AUTHENTICATION', 'USER_MODEL',
    'JWTConfig', 'DATABASE', 'REDIS', 'AUTH_CACHE', 'LOGIN_THROTTLE',
    'DEFAULT_AUTH', 'OPENAPI',
)
JWT_KEYS = frozenset({'key', 'algorithm', 'life_time', 'refresh_life_time', 'kid', 'verification_keys'})
AUTH_CACHE_KEYS = frozenset({'max_entries', 'user_ttl', 'revocation_ttl'})
#: A logout must hold in every worker within this many seconds, whatever the cache says.
MAX_REVOCATION_TTL = 1.0
DATABASE_KEYS = frozenset({'url', 'path'})
REDIS_KEYS = frozenset({'url'})
DEFAULT_USER_MODEL = 'panther_like.db.models.BaseUser'
DEFAULT_LIFE_TIME = timedelta(days=1)
CONFIGS_ENV_VAR = 'PANTHER_LIKE_CONFIGS'


@dataclass(frozen=True, slots=True)
class JWTSettings:
    key: str
    algorithm: str
    life_time: timedelta
    refresh_life_time: timedelta
    keys: KeySet


@dataclass(frozen=True, slots=True)
class AuthCacheSettings:
    """How much verified work a worker may reuse (see `TokenService`); 0 disables a cache."""

    max_entries: int = 10_000
    user_ttl: float = 1.0
    revocation_ttl: float = 0.5


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the app needs from the settings module, already imported and checked."""

    module_name: str
    secret_key: str | None
    urls: Mapping[str, Any] | None
    authentication: type | None
    ws_authentication: type | None
    user_model: type
    jwt: JWTSettings | None
    database: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    redis_url: str | None = None
    auth_cache: AuthCacheSettings = field(default_factory=AuthCacheSettings)
    login_throttle: ThrottleSettings | None = field(default_factory=ThrottleSettings)
    #: ``auth`` of every route that sets none and is in no Group with one (None: public); checked by the app.
    default_auth: Any = None
    #: The checked ``OPENAPI`` setting (see `panther_like.openapi.openapi_setting`).
    openapi: Any = None


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
            'configs', name,
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
    _reject_misspelled_settings(settings)

    secret_key = settings.get('SECRET_KEY')
    if secret_key is not None and not (isinstance(secret_key, str) and secret_key):
        raise ConfigError('SECRET_KEY', '<hidden>', f'must be a non-empty string, not a {type(secret_key).__name__}')

    urls = settings.get('URLS')
    if urls is not None:
        urls = _import_setting('URLS', urls, expect=Mapping, kind='a dict of routes')

    from panther_like.authentications import BaseAuthentication

    authentication = _import_class('AUTHENTICATION', settings.get('AUTHENTICATION'), BaseAuthentication)
    ws_authentication = _import_class('WS_AUTHENTICATION', settings.get('WS_AUTHENTICATION'), BaseAuthentication)

    from panther_like.db.models import BaseUser

    user_model = _import_class('USER_MODEL', settings.get('USER_MODEL', DEFAULT_USER_MODEL), BaseUser)
    jwt = _jwt_settings(settings.get('JWTConfig'), secret_key)
    for setting, cls in (('AUTHENTICATION', authentication), ('WS_AUTHENTICATION', ws_authentication)):
        if cls is not None and cls.uses_jwt and jwt is None:
            raise ConfigError(
                setting, settings[setting],
                f"{cls.__qualname__} needs a key: set SECRET_KEY or JWTConfig['key'] in the settings module",
            )

    return Config(
        module_name=module.__name__,
        secret_key=secret_key,
        urls=urls,
        authentication=authentication,
        ws_authentication=ws_authentication,
        user_model=user_model,
        jwt=jwt,
        database=_database_setting(settings.get('DATABASE')),
        redis_url=_redis_url(settings.get('REDIS')),
        auth_cache=_auth_cache(settings.get('AUTH_CACHE')),
        login_throttle=throttle_settings(settings.get('LOGIN_THROTTLE')),
        default_auth=settings.get('DEFAULT_AUTH'),
        openapi=_openapi_setting(settings.get('OPENAPI')),
    )


def _openapi_setting(value: Any) -> Any:
    from panther_like.openapi import openapi_setting

    return openapi_setting(value)


def _reject_misspelled_settings(settings: Mapping[str, Any]) -> None:
    """An unknown upper-case name that is one typo away from a known setting is an error."""
    for name in settings:
        if name in KNOWN_SETTINGS or not name[:1].isupper():
            continue
        close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1, cutoff=0.85)
        if close:
            shown = '<hidden>' if close[0] == 'SECRET_KEY' else settings[name]
            raise ConfigError(name, shown, f'unknown setting {name!r}; did you mean {close[0]!r}?')


def _import_setting(setting: str, value: Any, *, expect: type, kind: str) -> Any:
    path = value
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ConfigError(setting, value, f'cannot import {value!r} ({exc}){did_you_mean(value)}') from None
    if not isinstance(value, expect):
        raise ConfigError(setting, path, f'{path!r} is not {kind} (it is a {type(value).__name__})')
    return value


def _import_class(setting: str, value: Any, base: type) -> type | None:
    if value is None:
        return None
    path = value
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ConfigError(setting, path, f'cannot import {path!r} ({exc}){did_you_mean(path)}') from None
    if not (isinstance(value, type) and issubclass(value, base)):
        raise ConfigError(
            setting, path, f'{path!r} is not a subclass of {base.__module__}.{base.__qualname__}'
        )
    return value


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


def _seconds(setting: str, value: Any) -> timedelta:
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, int) and not isinstance(value, bool):
        delta = timedelta(seconds=value)
    else:
        raise ConfigError(setting, value, f'{value!r} must be a timedelta or a whole number of seconds')
    if delta <= timedelta(0):
        raise ConfigError(setting, value, f'{value!r} must be positive')
    return delta


def _jwt_settings(value: Any, secret_key: str | None) -> JWTSettings | None:
    """`JWTConfig` with the documented defaults; None when no key is known at all.

    A missing key is only an error when a JWT class is in use, which the app
    decides once it knows every route (see `Panther`).
    """
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        shown = '<hidden>' if isinstance(value, str | bytes) else value
        raise ConfigError('JWTConfig', shown, f'must be a dict, not a {type(value).__name__}')
    unknown = sorted(set(value) - JWT_KEYS)
    if unknown:
        raise ConfigError(
            'JWTConfig', unknown[0], f'unknown key {unknown[0]!r} (known keys: {", ".join(sorted(JWT_KEYS))})'
        )
    key = value.get('key', secret_key)
    algorithm = value.get('algorithm', 'HS256')
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ConfigError(
            "JWTConfig['algorithm']", algorithm,
            f'{algorithm!r} is not supported; use one of {", ".join(SUPPORTED_ALGORITHMS)}',
        )
    life_time = _seconds("JWTConfig['life_time']", value.get('life_time', DEFAULT_LIFE_TIME))
    refresh = value.get('refresh_life_time')
    refresh_life_time = 2 * life_time if refresh is None else _seconds("JWTConfig['refresh_life_time']", refresh)
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise ConfigError("JWTConfig['key']", '<hidden>', 'must be a non-empty string')
    keys = build_key_set(algorithm, key, value.get('kid'), value.get('verification_keys'))
    return JWTSettings(
        key=key, algorithm=algorithm, life_time=life_time, refresh_life_time=refresh_life_time, keys=keys
    )


def _auth_cache(value: Any) -> AuthCacheSettings:
    if value is None:
        return AuthCacheSettings()
    if not isinstance(value, Mapping):
        raise ConfigError('AUTH_CACHE', value, f'{value!r} must be a dict such as {{"user_ttl": 1.0}}')
    unknown = sorted(set(value) - AUTH_CACHE_KEYS)
    if unknown:
        raise ConfigError(
            'AUTH_CACHE', unknown[0], f'unknown key {unknown[0]!r} (known keys: {", ".join(sorted(AUTH_CACHE_KEYS))})'
        )
    defaults = AuthCacheSettings()
    max_entries = value.get('max_entries', defaults.max_entries)
    if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 0:
        raise ConfigError("AUTH_CACHE['max_entries']", max_entries, f'{max_entries!r} must be a whole number >= 0')
    ttls = {}
    for name, ceiling in (('user_ttl', None), ('revocation_ttl', MAX_REVOCATION_TTL)):
        ttl = value.get(name, getattr(defaults, name))
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl < 0:
            raise ConfigError(f'AUTH_CACHE[{name!r}]', ttl, f'{ttl!r} must be a number of seconds >= 0')
        if ceiling is not None and ttl > ceiling:
            raise ConfigError(
                f'AUTH_CACHE[{name!r}]', ttl, f'{ttl!r} is above {ceiling}: a logout must hold within {ceiling} s'
            )
        ttls[name] = float(ttl)
    return AuthCacheSettings(max_entries=max_entries, **ttls)


def _database_setting(value: Any) -> Mapping[str, Any]:
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        raise ConfigError('DATABASE', value, f'{value!r} must be a dict such as {{"url": "mongodb://..."}}')
    unknown = sorted(set(value) - DATABASE_KEYS)
    if unknown:
        raise ConfigError('DATABASE', unknown[0], f'unknown key {unknown[0]!r} (known keys: url, path)')
    url = value.get('url')
    if url and not (isinstance(url, str) and url.startswith(('mongodb://', 'mongodb+srv://'))):
        raise ConfigError("DATABASE['url']", redact_url(url), 'must start with mongodb:// or mongodb+srv://')
    return MappingProxyType(dict(value))


def _redis_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError('REDIS', redact_url(value), 'must be a dict such as {"url": "redis://..."}')
    unknown = sorted(set(value) - REDIS_KEYS)
    if unknown:
        raise ConfigError('REDIS', unknown[0], f'unknown key {unknown[0]!r} (known keys: url)')
    url = value.get('url')
    if not url:
        return None
    if not (isinstance(url, str) and url.startswith(('redis://', 'rediss://', 'unix://'))):
        raise ConfigError("REDIS['url']", redact_url(url), 'must start with redis://, rediss:// or unix://')
    return url


def redact_url(url: Any) -> Any:
    """Hide a password in a URL before it goes into an error message."""
    if not isinstance(url, str) or '@' not in url or '://' not in url:
        return url
    scheme, _, rest = url.partition('://')
    credentials, _, host = rest.rpartition('@')
    user = credentials.partition(':')[0]
    return f'{scheme}://{user}:***@{host}'
