"""The ``CORS`` setting checked into a `CORSPolicy` (`panther_like.http.cors`), or None when absent.

Checked when the app is built, so a policy browsers would refuse (``'*'``
with credentials: the CORS standard forbids it, and a policy that
reflected every origin with credentials would let any site read a signed
in user's data) is a `ConfigError`, not a front end that fails in the
browser.
"""

from __future__ import annotations

from typing import Any

from panther_like.exceptions import ConfigError
from panther_like.http.cors import ANY, DEFAULT_MAX_AGE, DEFAULT_METHODS, CORSPolicy, header_names
from panther_like.http.origins import TrustedOrigins

SETTING = 'CORS'
KEYS = frozenset({'allow_origins', 'allow_credentials', 'allow_methods', 'allow_headers', 'expose_headers', 'max_age'})
_METHODS = frozenset({'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'})


def _names(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(',') if item.strip()]
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise ConfigError(f"{SETTING}['{key}']", value, 'must be a list of strings')


def cors_setting(value: Any) -> CORSPolicy | None:
    """``CORS = {'allow_origins': [...], 'allow_credentials': ..., ...}``; None (absent): no CORS headers."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(SETTING, value, "must be a dict such as {'allow_origins': ['https://app.example.com']}")
    unknown = sorted(set(value) - KEYS)
    if unknown:
        raise ConfigError(SETTING, unknown, f'unknown key(s) {", ".join(map(repr, unknown))}; known: {sorted(KEYS)}')
    if 'allow_origins' not in value:
        raise ConfigError(SETTING, value, "needs 'allow_origins', e.g. ['https://app.example.com']")
    origins = _names('allow_origins', value['allow_origins'])
    credentials = value.get('allow_credentials', False)
    if not isinstance(credentials, bool):
        raise ConfigError(f"{SETTING}['allow_credentials']", credentials, 'must be True or False')
    any_origin = ANY in origins
    if any_origin and credentials:
        raise ConfigError(
            f"{SETTING}['allow_origins']",
            origins,
            "'*' cannot be used with allow_credentials=True (browsers refuse it, and it would let any site "
            "read a signed-in user's data): list the origins",
        )
    try:
        trusted = TrustedOrigins([origin for origin in origins if origin != ANY])
    except ValueError as exc:
        raise ConfigError(f"{SETTING}['allow_origins']", origins, str(exc)) from None
    methods = [method.upper() for method in _names('allow_methods', value.get('allow_methods', DEFAULT_METHODS))]
    if ANY in methods:
        methods = sorted(_METHODS)
    wrong = [method for method in methods if method not in _METHODS]
    if wrong:
        raise ConfigError(f"{SETTING}['allow_methods']", wrong, f'{wrong[0]!r} is not one of {sorted(_METHODS)}')
    headers = _names('allow_headers', value.get('allow_headers', ()))
    expose = _names('expose_headers', value.get('expose_headers', ()))
    max_age = value.get('max_age', DEFAULT_MAX_AGE)
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
        raise ConfigError(f"{SETTING}['max_age']", max_age, 'must be a whole number of seconds >= 0')
    return CORSPolicy(
        origins=trusted,
        any_origin=any_origin,
        credentials=credentials,
        methods=frozenset(methods),
        headers=header_names(name for name in headers if name != ANY),
        any_header=ANY in headers,
        expose_headers=tuple(expose),
        max_age=max_age,
    )
