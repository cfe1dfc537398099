"""The structured settings: each one's checked, immutable value, and the check that builds it.

`panther_like.config` reads the settings module; the values that are more
than a dotted path (``JWTConfig``, ``AUTH_CACHE``, ``LOGIN_THROTTLE``,
``OPENAPI``, ``DATABASE``, ``REDIS``, ``HEALTH``) are checked here, each into a frozen
dataclass or mapping, and every mistake is a `ConfigError` naming the
setting (or the key inside it), the value and the reason. Nothing here
imports the framework's other layers: the settings are the ground floor
everything else stands on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from panther_like.exceptions import ConfigError
from panther_like.keys import SUPPORTED_ALGORITHMS, KeySet, build_key_set

JWT_KEYS = frozenset({'key', 'algorithm', 'life_time', 'refresh_life_time', 'kid', 'verification_keys'})
AUTH_CACHE_KEYS = frozenset({'max_entries', 'user_ttl', 'revocation_ttl'})
#: A logout must hold in every worker within this many seconds, whatever the cache says.
MAX_REVOCATION_TTL = 1.0
DATABASE_KEYS = frozenset({'url', 'path'})
REDIS_KEYS = frozenset({'url', 'sentinels', 'service_name', 'username', 'password', 'db', 'sentinel_password',
                        'wait_replicas', 'wait_timeout'})
SENTINEL_ONLY_KEYS = frozenset({'service_name', 'username', 'password', 'db', 'sentinel_password'})
DEFAULT_WAIT_TIMEOUT = 0.5
#: How long a Redis command may take before the request gets a 503 (a WAIT must fit inside it).
REDIS_TIMEOUT = 2.0
HEALTH_KEYS = frozenset({'live', 'ready', 'timeout', 'openapi', 'round_trips'})
THROTTLE_SETTING = 'LOGIN_THROTTLE'
THROTTLE_KEYS = frozenset({'max_failures', 'max_failures_per_address', 'window'})
OPENAPI_KEYS = frozenset({'enabled', 'title', 'version', 'description'})
DEFAULT_LIFE_TIME = timedelta(days=1)
_PATH_SEGMENT = re.compile(r'[A-Za-z0-9._~-]+')


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
class RedisSettings:
    """The ``REDIS`` setting: one server by ``url``, or the primary that Sentinel names.

    `wait_replicas` > 0 makes every revocation and change-feed write wait
    (Redis ``WAIT``, at most `wait_timeout` seconds) until that many replicas
    hold it, and fail with a 503 otherwise, so that an acknowledged logout
    survives the loss of the primary (see docs/scaling.md).
    """

    url: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    service_name: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0
    sentinel_password: str | None = field(default=None, repr=False)
    wait_replicas: int = 0
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT

    def describe(self) -> str:
        """Where Redis is, without any password: safe to print and log."""
        if self.url:
            return redact_url(self.url)
        nodes = ', '.join(f'{host}:{port}' for host, port in self.sentinels)
        return f'Sentinel service {self.service_name!r} (sentinels {nodes}), db {self.db}'


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """The ``HEALTH`` setting: where the liveness and readiness routes are, and what they may say.

    `timeout`: how long `ready` waits for each store. `openapi`: list the two
    routes in the OpenAPI document. `round_trips`: add a ``Store-Round-Trips``
    header to every response (for measurements; it tells clients about your
    store traffic, so keep it off in production).
    """

    enabled: bool = True
    live: str = 'health'
    ready: str = 'ready'
    timeout: float = 1.0
    openapi: bool = False
    round_trips: bool = False


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


def redis_setting(value: Any) -> RedisSettings | None:
    """``REDIS`` checked; None when it names no server (no setting, an empty url, no sentinels)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError('REDIS', redact_url(value), 'must be a dict such as {"url": "redis://..."}')
    unknown = sorted(set(value) - REDIS_KEYS)
    if unknown:
        known = ', '.join(sorted(REDIS_KEYS))
        raise ConfigError('REDIS', unknown[0], f'unknown key {unknown[0]!r} (known keys: {known})')
    url, sentinels = value.get('url'), value.get('sentinels')
    if url and sentinels:
        raise ConfigError('REDIS', redact_url(url), "give either 'url' or 'sentinels', not both")
    if not url and not sentinels:
        return None
    if url and not (isinstance(url, str) and url.startswith(('redis://', 'rediss://', 'unix://'))):
        raise ConfigError("REDIS['url']", redact_url(url), 'must start with redis://, rediss:// or unix://')
    waits = _replica_wait(value)
    if url:
        for key in sorted(SENTINEL_ONLY_KEYS & set(value)):
            shown = '<hidden>' if 'password' in key else value[key]
            raise ConfigError(f'REDIS[{key!r}]', shown, 'only with sentinels; with a url, put it in the url')
        return RedisSettings(url=url, **waits)
    service_name = value.get('service_name')
    if not (isinstance(service_name, str) and service_name):
        raise ConfigError("REDIS['service_name']", service_name,
                          "the name Sentinel monitors the primary under (sentinel monitor <name> ...), e.g. 'mymaster'")
    username = value.get('username')
    if username is not None and not (isinstance(username, str) and username):
        raise ConfigError("REDIS['username']", username, 'must be a non-empty string')
    db = value.get('db', 0)
    if not isinstance(db, int) or isinstance(db, bool) or db < 0:
        raise ConfigError("REDIS['db']", db, f'{db!r} must be a whole number >= 0')
    return RedisSettings(
        sentinels=_sentinel_nodes(sentinels), service_name=service_name, username=username,
        password=_secret(value, 'password'), db=db, sentinel_password=_secret(value, 'sentinel_password'), **waits,
    )


def _replica_wait(value: Mapping[str, Any]) -> dict[str, Any]:
    wait_replicas = value.get('wait_replicas', 0)
    if not isinstance(wait_replicas, int) or isinstance(wait_replicas, bool) or wait_replicas < 0:
        raise ConfigError("REDIS['wait_replicas']", wait_replicas, f'{wait_replicas!r} must be a whole number >= 0')
    wait_timeout = value.get('wait_timeout', DEFAULT_WAIT_TIMEOUT)
    if not isinstance(wait_timeout, int | float) or isinstance(wait_timeout, bool) or not (
        0 < wait_timeout < REDIS_TIMEOUT
    ):
        raise ConfigError("REDIS['wait_timeout']", wait_timeout,
                          f'{wait_timeout!r} must be a number of seconds above 0 and below {REDIS_TIMEOUT}')
    return {'wait_replicas': wait_replicas, 'wait_timeout': float(wait_timeout)}


def _secret(value: Mapping[str, Any], key: str) -> str | None:
    secret = value.get(key)
    if secret is not None and not isinstance(secret, str):
        raise ConfigError(f'REDIS[{key!r}]', '<hidden>', f'must be a string, not a {type(secret).__name__}')
    return secret or None


def _sentinel_nodes(sentinels: Any) -> tuple[tuple[str, int], ...]:
    if isinstance(sentinels, str | bytes) or not isinstance(sentinels, list | tuple):
        raise ConfigError("REDIS['sentinels']", sentinels, "must be a list of (host, port) pairs, e.g. [('s1', 26379)]")
    nodes = []
    for node in sentinels:
        if not (isinstance(node, list | tuple) and len(node) == 2):
            raise ConfigError("REDIS['sentinels']", node, f'{node!r} must be a (host, port) pair')
        host, port = node
        if not (isinstance(host, str) and host) or not isinstance(port, int) or isinstance(port, bool) or not (
            0 < port < 65536
        ):
            raise ConfigError("REDIS['sentinels']", node, f'{node!r} must be a (host, port) pair with a port 1-65535')
        nodes.append((host, port))
    return tuple(nodes)


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


def health_setting(value: Any) -> HealthSettings:
    """``HEALTH`` checked; ``False`` mounts neither route."""
    if value is None or value is True:
        return HealthSettings()
    if value is False:
        return HealthSettings(enabled=False)
    if not isinstance(value, Mapping):
        raise ConfigError('HEALTH', value, f"must be a dict such as {{'ready': '/ready'}} or False, not {value!r}")
    unknown = sorted(set(value) - HEALTH_KEYS)
    if unknown:
        known = ', '.join(sorted(HEALTH_KEYS))
        raise ConfigError('HEALTH', unknown[0], f'unknown key {unknown[0]!r} (known keys: {known})')
    defaults = HealthSettings()
    paths = {}
    for key in ('live', 'ready'):
        path = value.get(key, '/' + getattr(defaults, key))
        segments = path.strip('/').split('/') if isinstance(path, str) else ['']
        if not all(segment and _PATH_SEGMENT.fullmatch(segment) for segment in segments):
            raise ConfigError(f'HEALTH[{key!r}]', path, f"{path!r} must be a path such as '/{key}'")
        paths[key] = '/'.join(segments)
    if paths['live'] == paths['ready']:
        raise ConfigError("HEALTH['ready']", value.get('ready'), 'must differ from the liveness path')
    timeout = value.get('timeout', defaults.timeout)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError("HEALTH['timeout']", timeout, f'{timeout!r} must be a number of seconds above 0')
    flags = {}
    for key in ('openapi', 'round_trips'):
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            raise ConfigError(f'HEALTH[{key!r}]', flag, f'{flag!r} must be True or False')
        flags[key] = flag
    return HealthSettings(live=paths['live'], ready=paths['ready'], timeout=float(timeout), **flags)


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
