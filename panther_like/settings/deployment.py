"""Where and how the app runs: ``DATABASE``, ``REDIS``, ``HEALTH`` and ``TRUSTED_PROXIES``, checked.

Checked like every structured setting (see `panther_like.settings.checks`): each
into a frozen value, every mistake a `ConfigError` naming the setting, the
value and the reason; a password in a URL never reaches a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, overload

from panther_like.exceptions import ConfigError
from panther_like.http.client_address import DEFAULT_TRUSTED_PROXIES, TrustedProxies
from panther_like.settings.checks import reject_unknown_keys

DATABASE_KEYS = frozenset({'url', 'path'})
REDIS_KEYS = frozenset(
    {
        'url',
        'sentinels',
        'service_name',
        'username',
        'password',
        'db',
        'sentinel_password',
        'wait_replicas',
        'wait_timeout',
        'allow_no_persistence',
    }
)
SENTINEL_ONLY_KEYS = frozenset({'service_name', 'username', 'password', 'db', 'sentinel_password'})
DEFAULT_WAIT_TIMEOUT = 0.5
#: How long a Redis command may take before the request gets a 503 (a WAIT must fit inside it).
REDIS_TIMEOUT = 2.0
HEALTH_KEYS = frozenset({'live', 'ready', 'timeout', 'openapi', 'round_trips'})
_PATH_SEGMENT = re.compile(r'[A-Za-z0-9._~-]+')


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
    #: Start (with a warning) on a Redis that keeps nothing on disk; by default the app refuses to start.
    allow_no_persistence: bool = False

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


def database_setting(value: Any) -> Mapping[str, Any]:
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        raise ConfigError('DATABASE', value, f'{value!r} must be a dict such as {{"url": "mongodb://..."}}')
    reject_unknown_keys('DATABASE', value, DATABASE_KEYS)
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
    reject_unknown_keys('REDIS', value, REDIS_KEYS)
    url, sentinels = value.get('url'), value.get('sentinels')
    if url and sentinels:
        raise ConfigError('REDIS', redact_url(url), "give either 'url' or 'sentinels', not both")
    if not url and not sentinels:
        return None
    if url and not (isinstance(url, str) and url.startswith(('redis://', 'rediss://', 'unix://'))):
        raise ConfigError("REDIS['url']", redact_url(url), 'must start with redis://, rediss:// or unix://')
    common = _common_options(value)
    if url:
        for key in sorted(SENTINEL_ONLY_KEYS & set(value)):
            shown = '<hidden>' if 'password' in key else value[key]
            raise ConfigError(f'REDIS[{key!r}]', shown, 'only with sentinels; with a url, put it in the url')
        return RedisSettings(url=url, **common)
    service_name = value.get('service_name')
    if not (isinstance(service_name, str) and service_name):
        raise ConfigError(
            "REDIS['service_name']",
            service_name,
            "the name Sentinel monitors the primary under (sentinel monitor <name> ...), e.g. 'mymaster'",
        )
    username = value.get('username')
    if username is not None and not (isinstance(username, str) and username):
        raise ConfigError("REDIS['username']", username, 'must be a non-empty string')
    db = value.get('db', 0)
    if not isinstance(db, int) or isinstance(db, bool) or db < 0:
        raise ConfigError("REDIS['db']", db, f'{db!r} must be a whole number >= 0')
    return RedisSettings(
        sentinels=_sentinel_nodes(sentinels),
        service_name=service_name,
        username=username,
        password=_secret(value, 'password'),
        db=db,
        sentinel_password=_secret(value, 'sentinel_password'),
        **common,
    )


def _common_options(value: Mapping[str, Any]) -> dict[str, Any]:
    """What a Redis named by URL and one found through Sentinel both take: the replica wait, and persistence."""
    wait_replicas = value.get('wait_replicas', 0)
    if not isinstance(wait_replicas, int) or isinstance(wait_replicas, bool) or wait_replicas < 0:
        raise ConfigError("REDIS['wait_replicas']", wait_replicas, f'{wait_replicas!r} must be a whole number >= 0')
    wait_timeout = value.get('wait_timeout', DEFAULT_WAIT_TIMEOUT)
    if (
        not isinstance(wait_timeout, int | float)
        or isinstance(wait_timeout, bool)
        or not (0 < wait_timeout < REDIS_TIMEOUT)
    ):
        raise ConfigError(
            "REDIS['wait_timeout']",
            wait_timeout,
            f'{wait_timeout!r} must be a number of seconds above 0 and below {REDIS_TIMEOUT}',
        )
    allow_no_persistence = value.get('allow_no_persistence', False)
    if not isinstance(allow_no_persistence, bool):
        raise ConfigError("REDIS['allow_no_persistence']", allow_no_persistence, 'must be True or False')
    return {
        'wait_replicas': wait_replicas,
        'wait_timeout': float(wait_timeout),
        'allow_no_persistence': allow_no_persistence,
    }


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
        if (
            not (isinstance(host, str) and host)
            or not isinstance(port, int)
            or isinstance(port, bool)
            or not (0 < port < 65536)
        ):
            raise ConfigError("REDIS['sentinels']", node, f'{node!r} must be a (host, port) pair with a port 1-65535')
        nodes.append((host, port))
    return tuple(nodes)


@overload
def redact_url(url: str) -> str: ...
@overload
def redact_url(url: object) -> object: ...
def redact_url(url: object) -> object:
    """Hide a password in a URL before it goes into an error message (anything but a str is given back as is)."""
    if not isinstance(url, str) or '@' not in url or '://' not in url:
        return url
    scheme, _, rest = url.partition('://')
    credentials, _, host = rest.rpartition('@')
    user = credentials.partition(':')[0]
    return f'{scheme}://{user}:***@{host}'


def trusted_proxies(value: Any) -> TrustedProxies:
    """``TRUSTED_PROXIES``: addresses and networks (a list, or one comma-separated string); absent: uvicorn's."""
    if value is None:
        return TrustedProxies(DEFAULT_TRUSTED_PROXIES)
    if value is False:
        return TrustedProxies(())
    if isinstance(value, str):
        entries = [entry.strip() for entry in value.split(',') if entry.strip()]
    elif isinstance(value, list | tuple | set | frozenset) and all(isinstance(entry, str) for entry in value):
        entries = [entry.strip() for entry in value]
    else:
        raise ConfigError('TRUSTED_PROXIES', value, "must be a list such as ['10.0.0.5', '10.1.0.0/16'] ([]: none)")
    try:
        return TrustedProxies(entries)
    except ValueError as exc:
        raise ConfigError('TRUSTED_PROXIES', value, str(exc)) from None


def health_setting(value: Any) -> HealthSettings:
    """``HEALTH`` checked; ``False`` mounts neither route."""
    if value is None or value is True:
        return HealthSettings()
    if value is False:
        return HealthSettings(enabled=False)
    if not isinstance(value, Mapping):
        raise ConfigError('HEALTH', value, f"must be a dict such as {{'ready': '/ready'}} or False, not {value!r}")
    reject_unknown_keys('HEALTH', value, HEALTH_KEYS)
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
