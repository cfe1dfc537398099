"""The structured settings: each one's checked, immutable value, and the check that builds it.

`panther_like.config` reads the settings module; the values that are more
than a dotted path (``JWTConfig``, ``AUTH_CACHE``, ``LOGIN_THROTTLE``,
``OPENAPI``, ``DATABASE``, ``REDIS``, ``MAILER``, ``ACCOUNT_EMAILS``) are checked here, each into a frozen
dataclass or mapping, and every mistake is a `ConfigError` naming the
setting (or the key inside it), the value and the reason. Nothing here
imports the framework's other layers: the settings are the ground floor
everything else stands on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from panther_like.exceptions import ConfigError
from panther_like.keys import SUPPORTED_ALGORITHMS, KeySet, build_key_set

JWT_KEYS = frozenset({'key', 'algorithm', 'life_time', 'refresh_life_time', 'kid', 'verification_keys'})
AUTH_CACHE_KEYS = frozenset({'max_entries', 'user_ttl', 'revocation_ttl'})
#: A logout must hold in every worker within this many seconds, whatever the cache says.
MAX_REVOCATION_TTL = 1.0
DATABASE_KEYS = frozenset({'url', 'path'})
REDIS_KEYS = frozenset({'url'})
THROTTLE_SETTING = 'LOGIN_THROTTLE'
THROTTLE_KEYS = frozenset({'max_failures', 'max_failures_per_address', 'window'})
OPENAPI_KEYS = frozenset({'enabled', 'title', 'version', 'description'})
DEFAULT_LIFE_TIME = timedelta(days=1)
DEFAULT_MAILER = 'panther_like.mail.ConsoleMailer'
ACCOUNT_EMAILS_KEYS = frozenset({'reset_url', 'verify_url', 'reset_life_time', 'verify_life_time'})
DEFAULT_ONE_TIME_LIFE = timedelta(minutes=15)
#: Hosts a link may reach over plain http: the developer's own machine.
LOOPBACK_HOSTS = frozenset({'localhost', '127.0.0.1', '::1'})


@dataclass(frozen=True, slots=True)
class JWTSettings:
    key: str
    algorithm: str
    life_time: timedelta
    refresh_life_time: timedelta
    keys: KeySet


@dataclass(frozen=True, slots=True)
class AuthCacheSettings:
    """What a worker may reuse between requests (see `panther_like.auth_cache`).

    `revocation_ttl`: how often the worker reads the change feed, so the
    bound on how long a logout or a user change made elsewhere can go
    unseen (at most 1 s; 0 reads it on every request). `user_ttl`: how long
    a cached user is trusted without re-reading it, which only matters for
    changes made outside the framework. `max_entries`: the size of each
    cache; 0 turns caching off.
    """

    max_entries: int = 10_000
    user_ttl: float = 60.0
    revocation_ttl: float = 0.5


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    max_failures: int = 5
    max_failures_per_address: int = 50
    window: int = 300


@dataclass(frozen=True, slots=True)
class OpenAPISettings:
    """The ``OPENAPI`` setting: ``{'enabled': True, 'title': ..., 'version': ..., 'description': ...}``."""

    enabled: bool = True
    title: str = 'panther_like API'
    version: str = '0.1.0'
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MailerSetting:
    """``MAILER`` split into the class to build (a dotted path or the class) and its options.

    The class is imported by `panther_like.config` and built by the app,
    which also checks that it is a mailer: the settings cannot import it.
    """

    cls: Any = DEFAULT_MAILER
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class AccountEmailSettings:
    """``ACCOUNT_EMAILS``: where the links in password-reset and verification mail point, and how long they work.

    A link is the url followed by the token (``https://app.example.com/reset#token=`` +
    token). Without a url the mail carries the token alone, for a client that asks for it.
    """

    reset_url: str | None = None
    verify_url: str | None = None
    reset_life_time: timedelta = DEFAULT_ONE_TIME_LIFE
    verify_life_time: timedelta = DEFAULT_ONE_TIME_LIFE


# -- checks ------------------------------------------------------------------------------------


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


def jwt_settings(value: Any, secret_key: str | None) -> JWTSettings | None:
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


def auth_cache_settings(value: Any) -> AuthCacheSettings:
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


def database_setting(value: Any) -> Mapping[str, Any]:
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


def redis_url(value: Any) -> str | None:
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


def throttle_settings(value: Any) -> ThrottleSettings | None:
    """The ``LOGIN_THROTTLE`` setting checked: defaults when absent, None when ``False``."""
    if value is None or value is True:
        return ThrottleSettings()
    if value is False:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(THROTTLE_SETTING, value, "must be a dict such as {'max_failures': 5, 'window': 300} or False")
    unknown = sorted(set(value) - THROTTLE_KEYS)
    if unknown:
        raise ConfigError(
            THROTTLE_SETTING, unknown[0], f'unknown key {unknown[0]!r} (known keys: {", ".join(sorted(THROTTLE_KEYS))})'
        )
    defaults = ThrottleSettings()
    values: dict[str, int] = {}
    for key in THROTTLE_KEYS:
        item = value.get(key, getattr(defaults, key))
        if key == 'window' and isinstance(item, timedelta):
            seconds = item.total_seconds()
            item = int(seconds) if seconds == int(seconds) else item
        if not isinstance(item, int) or isinstance(item, bool) or item <= 0:
            kind = 'a positive whole number of seconds or a timedelta' if key == 'window' else 'a positive integer'
            raise ConfigError(f'{THROTTLE_SETTING}[{key!r}]', item, f'{item!r} must be {kind}')
        values[key] = item
    return ThrottleSettings(**values)


def openapi_setting(value: Any) -> OpenAPISettings:
    """Check ``OPENAPI`` when the app is built; ``False`` is short for ``{'enabled': False}``."""
    if value is None:
        return OpenAPISettings()
    if value is False:
        return OpenAPISettings(enabled=False)
    if not isinstance(value, Mapping):
        raise ConfigError('OPENAPI', value, f"must be a dict such as {{'enabled': True, 'title': ...}}, not {value!r}")
    unknown = sorted(set(value) - OPENAPI_KEYS)
    if unknown:
        known = ', '.join(sorted(OPENAPI_KEYS))
        raise ConfigError('OPENAPI', unknown[0], f'unknown key {unknown[0]!r} (known keys: {known})')
    enabled = value.get('enabled', True)
    if not isinstance(enabled, bool):
        raise ConfigError("OPENAPI['enabled']", enabled, f'{enabled!r} must be True or False')
    for key in ('title', 'version', 'description'):
        item = value.get(key)
        if item is not None and not (isinstance(item, str) and item):
            raise ConfigError(f"OPENAPI[{key!r}]", item, f'{item!r} must be a non-empty string')
    defaults = OpenAPISettings()
    return OpenAPISettings(
        enabled=enabled, title=value.get('title') or defaults.title, version=value.get('version') or defaults.version,
        description=value.get('description'),
    )


def mailer_setting(value: Any) -> MailerSetting:
    """``MAILER``: a dotted path (or class), or ``{'class': ..., **options}``; absent: the console mailer."""
    if value is None:
        return MailerSetting()
    if isinstance(value, str | type):
        return MailerSetting(value)
    if not isinstance(value, Mapping):
        raise ConfigError(
            'MAILER', type(value).__name__,
            "must be a dotted path such as 'panther_like.mail.SMTPMailer', or a dict such as "
            "{'class': 'panther_like.mail.SMTPMailer', 'host': ...}",
        )
    if 'class' not in value:
        raise ConfigError('MAILER', sorted(map(str, value)), "a MAILER dict needs a 'class' key naming the mailer")
    cls = value['class']
    if not isinstance(cls, str | type):
        raise ConfigError("MAILER['class']", cls, f'{cls!r} must be a dotted path or a class')
    options = {key: item for key, item in value.items() if key != 'class'}
    return MailerSetting(cls, MappingProxyType(options))


def account_emails_settings(value: Any) -> AccountEmailSettings:
    """``ACCOUNT_EMAILS`` checked: links that are https (plain http only to this machine), positive lifetimes."""
    if value is None:
        return AccountEmailSettings()
    if not isinstance(value, Mapping):
        raise ConfigError(
            'ACCOUNT_EMAILS', value, f"must be a dict such as {{'reset_url': 'https://...'}}, not {value!r}"
        )
    unknown = sorted(set(value) - ACCOUNT_EMAILS_KEYS)
    if unknown:
        known = ', '.join(sorted(ACCOUNT_EMAILS_KEYS))
        raise ConfigError('ACCOUNT_EMAILS', unknown[0], f'unknown key {unknown[0]!r} (known keys: {known})')
    checked: dict[str, Any] = {}
    for key in ('reset_url', 'verify_url'):
        url = value.get(key)
        if url is not None:
            checked[key] = _link_base(f'ACCOUNT_EMAILS[{key!r}]', url)
    for key in ('reset_life_time', 'verify_life_time'):
        if value.get(key) is not None:
            checked[key] = _seconds(f'ACCOUNT_EMAILS[{key!r}]', value[key])
    return AccountEmailSettings(**checked)


def _link_base(setting: str, url: Any) -> str:
    """A link's beginning must be absolute, and https unless it stays on this machine.

    The token travels in the link: over plain http anyone on the path could use it first.
    """
    if not isinstance(url, str) or not url:
        raise ConfigError(setting, url, f'{url!r} must be a non-empty string such as "https://app.example.com/reset#token="')
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(setting, url, f'{url!r} is not a URL ({exc})') from None
    if parts.scheme not in ('https', 'http') or not host:
        raise ConfigError(setting, url, f'{url!r} must be an absolute https:// URL')
    if parts.scheme == 'http' and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            setting, url, f'{url!r} would send a one-time token over plain http; use https:// (http only for localhost)'
        )
    if any(ch in url for ch in ' \r\n\t'):
        raise ConfigError(setting, url, f'{url!r} must not contain spaces or line breaks')
    return url
