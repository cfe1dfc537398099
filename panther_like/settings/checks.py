"""The structured settings: each one's checked, immutable value, and the check that builds it.

`panther_like.settings.config` reads the settings module; the values that are more
than a dotted path (``JWTConfig``, ``AUTH_CACHE``, ``LOGIN_THROTTLE``,
``OPENAPI``) are checked here, each into a frozen dataclass or mapping (where the app runs:
``DATABASE``, ``REDIS``, ``HEALTH``, ``TRUSTED_PROXIES`` in `panther_like.settings.deployment`; the
account routes' in `panther_like.settings.accounts`), and
every mistake is a `ConfigError` naming the setting (or the key inside it), the value and the reason. Nothing here
imports the framework's other layers: the settings are the ground floor
everything else stands on.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from panther_like.common.imports import import_string
from panther_like.crypto.keys import SUPPORTED_ALGORITHMS, KeySet, build_key_set
from panther_like.exceptions import ConfigError
from panther_like.settings.mistakes import reject_weak_key

JWT_KEYS = frozenset(
    {
        'key',
        'algorithm',
        'life_time',
        'refresh_life_time',
        'kid',
        'verification_keys',
        'issuer',
        'audience',
        'leeway',
        'claims',
    }
)
#: The most clock skew ``JWTConfig['leeway']`` may forgive, in seconds: more would keep expired tokens alive.
MAX_LEEWAY = 300
AUTH_CACHE_KEYS = frozenset({'max_entries', 'user_ttl', 'revocation_ttl'})
#: A logout must hold in every worker within this many seconds, whatever the cache says.
MAX_REVOCATION_TTL = 1.0
THROTTLE_SETTING = 'LOGIN_THROTTLE'
THROTTLE_KEYS = frozenset(
    {
        'max_failures',
        'max_failures_per_address',
        'max_failures_per_network',
        'window',
        'slow_down_after',
        'max_delay',
        'known_address_ttl',
    }
)
#: How long a username's failures are remembered by its slowdown; `max_delay` may not exceed it.
SLOWDOWN_MEMORY = 3600
_THROTTLE_DURATIONS = frozenset({'window', 'max_delay', 'known_address_ttl'})
OPENAPI_KEYS = frozenset({'enabled', 'title', 'version', 'description'})
DEFAULT_LIFE_TIME = timedelta(days=1)


#: ``JWTConfig['claims']``: ``async def claims(user) -> dict`` of the custom claims of a user's access tokens.
ClaimsHook = Callable[[Any], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class JWTSettings:
    key: str
    algorithm: str
    life_time: timedelta
    refresh_life_time: timedelta
    keys: KeySet
    #: ``iss`` written on every token and required on every token verified (None: neither).
    issuer: str | None = None
    #: ``aud`` likewise: one audience, or several (a token then needs one of them).
    audience: str | tuple[str, ...] | None = None
    #: Seconds of clock skew forgiven on ``exp``, ``nbf`` and ``iat``.
    leeway: int = 0
    claims: ClaimsHook | None = None
    #: How the settings named the hook, for the errors that name it.
    claims_path: str | None = None


@dataclass(frozen=True, slots=True)
class AuthCacheSettings:
    """What a worker may reuse between requests (see `panther_like.login_state.token_cache`).

    `revocation_ttl`: how often the worker reads the change feed, so the
    bound on how long a logout or a user change made elsewhere can go
    unseen (at most 1 s; 0 reads it on every request). `user_ttl`: how long
    a cached user is trusted without re-reading it, which only matters for
    changes made outside the framework. `max_entries`: the size of each
    cache; 0 turns caching off.
    """

    max_entries: int = 50_000
    user_ttl: float = 60.0
    revocation_ttl: float = 0.5


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    """``LOGIN_THROTTLE`` (see `panther_like.login_state.throttle`): the defaults hold an attacker, never the owner.

    `max_failures` per username from one address and `max_failures_per_address`
    per address (any username) within `window` seconds; past either, that
    address gets 429. A username's failures from all addresses are slowed
    instead: after `slow_down_after` within an hour, each further one must
    wait twice as long as the one before (1 s, 2 s, ... up to `max_delay`).
    An address the username logged in from within `known_address_ttl`
    seconds (0: none) is not slowed. An IPv6 client's /48 may make
    `max_failures_per_network` failures within `window` (any username, any of its /64s).
    """

    max_failures: int = 5
    max_failures_per_address: int = 50
    max_failures_per_network: int = 200
    window: int = 300
    slow_down_after: int = 10
    max_delay: int = 30
    known_address_ttl: int = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class OpenAPISettings:
    """The ``OPENAPI`` setting: ``{'enabled': True, 'title': ..., 'version': ..., 'description': ...}``."""

    enabled: bool = True
    title: str = 'panther_like API'
    version: str = '0.1.0'
    description: str | None = None


# -- checks ------------------------------------------------------------------------------------


def reject_unknown_keys(setting: str, value: Mapping[str, Any], known: frozenset[str]) -> None:
    """A `ConfigError` naming the first key of a dict setting that is not one of `known` (a typo, say)."""
    unknown = sorted(set(value) - known, key=str)
    if unknown:
        raise ConfigError(setting, unknown[0], f'unknown key {unknown[0]!r} (known keys: {", ".join(sorted(known))})')


def seconds(setting: str, value: Any) -> timedelta:
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
    reject_unknown_keys('JWTConfig', value, JWT_KEYS)
    key = value.get('key', secret_key)
    algorithm = value.get('algorithm', 'HS256')
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ConfigError(
            "JWTConfig['algorithm']",
            algorithm,
            f'{algorithm!r} is not supported; use one of {", ".join(SUPPORTED_ALGORITHMS)}',
        )
    life_time = seconds("JWTConfig['life_time']", value.get('life_time', DEFAULT_LIFE_TIME))
    refresh = value.get('refresh_life_time')
    refresh_life_time = 2 * life_time if refresh is None else seconds("JWTConfig['refresh_life_time']", refresh)
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise ConfigError("JWTConfig['key']", '<hidden>', 'must be a non-empty string')
    issuer = _issuer(value.get('issuer'))
    audience = _audience(value.get('audience'))
    leeway = _leeway(value.get('leeway', 0))
    claims, claims_path = _claims_hook(value.get('claims'))
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise ConfigError("JWTConfig['key']", '<hidden>', 'must be a non-empty string')
    keys = build_key_set(algorithm, key, value.get('kid'), value.get('verification_keys'))
    if algorithm.startswith('HS') and 'key' in value:
        reject_weak_key("JWTConfig['key']", key)
    return JWTSettings(
        key=key,
        algorithm=algorithm,
        life_time=life_time,
        refresh_life_time=refresh_life_time,
        keys=keys,
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        claims=claims,
        claims_path=claims_path,
    )


def _claim_text(setting: str, value: Any) -> str:
    if not isinstance(value, str) or not value or value != value.strip() or len(value) > 2048:
        raise ConfigError(setting, value, 'must be a non-empty string without surrounding spaces')
    return value


def _issuer(value: Any) -> str | None:
    return None if value is None else _claim_text("JWTConfig['issuer']", value)


def _audience(value: Any) -> str | tuple[str, ...] | None:
    """One audience (a string) or several (a list of strings): as written, so a token carries it as configured."""
    if value is None or isinstance(value, str):
        return None if value is None else _claim_text("JWTConfig['audience']", value)
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError("JWTConfig['audience']", value, 'must be a string or a non-empty list of strings')
    return tuple(_claim_text("JWTConfig['audience']", item) for item in value)


def _leeway(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_LEEWAY:
        raise ConfigError("JWTConfig['leeway']", value, f'must be a whole number of seconds from 0 to {MAX_LEEWAY}')
    return value


def _claims_hook(value: Any) -> tuple[ClaimsHook | None, str | None]:
    """The claims hook, imported now: a bad path or a hook that is not ``async def`` fails the build, not a login."""
    if value is None:
        return None, None
    setting = "JWTConfig['claims']"
    if not isinstance(value, str) and not callable(value):
        raise ConfigError(
            setting, value, 'must be the dotted path of an async function: async def claims(user) -> dict'
        )
    shown = f'{getattr(value, "__module__", "")}.{getattr(value, "__qualname__", type(value).__qualname__)}'
    path = value if isinstance(value, str) else shown
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ConfigError(setting, path, f'cannot import {path!r} ({exc})') from None
    if not inspect.iscoroutinefunction(value):
        raise ConfigError(setting, path, f'{path!r} must be an async function: async def claims(user) -> dict')
    hook: ClaimsHook = value
    return hook, path


def auth_cache_settings(value: Any) -> AuthCacheSettings:
    if value is None:
        return AuthCacheSettings()
    if not isinstance(value, Mapping):
        raise ConfigError('AUTH_CACHE', value, f'{value!r} must be a dict such as {{"user_ttl": 1.0}}')
    reject_unknown_keys('AUTH_CACHE', value, AUTH_CACHE_KEYS)
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


def throttle_settings(value: Any) -> ThrottleSettings | None:
    """The ``LOGIN_THROTTLE`` setting checked: defaults when absent, None when ``False``."""
    if value is None or value is True:
        return ThrottleSettings()
    if value is False:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(THROTTLE_SETTING, value, "must be a dict such as {'max_failures': 5, 'window': 300} or False")
    reject_unknown_keys(THROTTLE_SETTING, value, THROTTLE_KEYS)
    defaults = ThrottleSettings()
    values: dict[str, int] = {}
    for key in sorted(THROTTLE_KEYS):
        item = value.get(key, getattr(defaults, key))
        if key in _THROTTLE_DURATIONS and isinstance(item, timedelta):
            seconds = item.total_seconds()
            item = int(seconds) if seconds == int(seconds) else item
        lowest = 0 if key == 'known_address_ttl' else 1
        if not isinstance(item, int) or isinstance(item, bool) or item < lowest:
            if key not in _THROTTLE_DURATIONS:
                kind = 'a positive integer'
            elif lowest:
                kind = 'a positive whole number of seconds or a timedelta'
            else:
                kind = 'a whole number of seconds or a timedelta, 0 for none'
            raise ConfigError(f'{THROTTLE_SETTING}[{key!r}]', item, f'{item!r} must be {kind}')
        values[key] = item
    if 'max_failures_per_network' not in value:
        # A /48 holds many /64s: never below what four addresses may do.
        values['max_failures_per_network'] = max(
            defaults.max_failures_per_network, 4 * values['max_failures_per_address']
        )
    if values['max_delay'] > SLOWDOWN_MEMORY:
        raise ConfigError(
            f"{THROTTLE_SETTING}['max_delay']",
            values['max_delay'],
            f"must be at most {SLOWDOWN_MEMORY} seconds (a username's failures are remembered an hour)",
        )
    return ThrottleSettings(**values)


def openapi_setting(value: Any) -> OpenAPISettings:
    """Check ``OPENAPI`` when the app is built; ``False`` is short for ``{'enabled': False}``."""
    if value is None:
        return OpenAPISettings()
    if value is False:
        return OpenAPISettings(enabled=False)
    if not isinstance(value, Mapping):
        raise ConfigError('OPENAPI', value, f"must be a dict such as {{'enabled': True, 'title': ...}}, not {value!r}")
    reject_unknown_keys('OPENAPI', value, OPENAPI_KEYS)
    enabled = value.get('enabled', True)
    if not isinstance(enabled, bool):
        raise ConfigError("OPENAPI['enabled']", enabled, f'{enabled!r} must be True or False')
    for key in ('title', 'version', 'description'):
        item = value.get(key)
        if item is not None and not (isinstance(item, str) and item):
            raise ConfigError(f'OPENAPI[{key!r}]', item, f'{item!r} must be a non-empty string')
    defaults = OpenAPISettings()
    return OpenAPISettings(
        enabled=enabled,
        title=value.get('title') or defaults.title,
        version=value.get('version') or defaults.version,
        description=value.get('description'),
    )


#: Hosts a URL may reach over plain http: the developer's own machine, where no one else is on the path.
LOOPBACK_HOSTS = frozenset({'localhost', '127.0.0.1', '::1'})


def absolute_url_parts(setting: str, url: str, plain_http_risk: str) -> SplitResult:
    """`url` split, once it is an absolute https:// URL (plain http only on this machine).

    `plain_http_risk` says what plain http would expose, in the error: "would fetch signing keys over plain http".
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(setting, url, f'{url!r} is not a URL ({exc})') from None
    if parts.scheme not in ('https', 'http') or not host:
        raise ConfigError(setting, url, f'{url!r} must be an absolute https:// URL')
    if parts.scheme == 'http' and host not in LOOPBACK_HOSTS:
        raise ConfigError(setting, url, f'{url!r} {plain_http_risk}; use https:// (http only for localhost)')
    return parts
