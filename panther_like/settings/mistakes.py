"""Settings that would be silently wrong: names the framework does not read, and keys anyone can guess.

A settings module written for Panther or Django, or one that copies the
names of the example's ``.env``, looks right and does nothing: the app keeps
its defaults (the embedded store instead of MongoDB, no middleware, no CORS).
Each such name is a `ConfigError` saying what to write instead. Other
unknown upper-case names are only listed by ``panther-like check``: a
settings module may keep constants of its own.

A ``SECRET_KEY`` (or HMAC ``JWTConfig['key']``) that is short, made of a few
characters or a placeholder copied from an example lets anyone who reads the
example forge tokens, so it is refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from panther_like.exceptions import ConfigError

_DATABASE = "DATABASE = {'url': 'mongodb://...'} (or {'path': ...} for the embedded store)"
_REDIS = "REDIS = {'url': 'redis://...'} (or {'sentinels': [...], 'service_name': ...})"
_THROTTLE = "LOGIN_THROTTLE = {'max_failures': ..., 'max_failures_per_address': ..., 'window': ...}"
_MAILER = "MAILER = {'class': 'panther_like.mail.SMTPMailer', 'host': ..., 'port': ..., ...}"
_CORS = "CORS = {'origins': [...], 'credentials': ..., ...}"
_NO_MIDDLEWARE = 'there are no middlewares: wrap the app in ASGI middleware, or use per-route auth= and Group'

#: Names other frameworks (or the example's ``.env``) use, and what to write here instead.
FOREIGN_SETTINGS: Mapping[str, str] = {
    # The example's .env: these are read into settings, never settings themselves.
    'MONGODB_URL': _DATABASE,
    'MONGO_URL': _DATABASE,
    'DATABASE_URL': _DATABASE,
    'DB_PATH': _DATABASE,
    'REDIS_URL': _REDIS,
    'REDIS_SENTINELS': _REDIS,
    'REDIS_SERVICE': _REDIS,
    'REDIS_PASSWORD': _REDIS,
    'REDIS_WAIT_REPLICAS': "REDIS = {..., 'wait_replicas': ...}",
    'LOGIN_MAX_FAILURES': _THROTTLE,
    'LOGIN_MAX_FAILURES_PER_ADDRESS': _THROTTLE,
    'LOGIN_THROTTLE_WINDOW': _THROTTLE,
    'SMTP_HOST': _MAILER,
    'SMTP_PORT': _MAILER,
    'SMTP_TLS': _MAILER,
    'SMTP_USERNAME': _MAILER,
    'SMTP_PASSWORD': _MAILER,
    'MAIL_FROM': "MAILER = {..., 'sender': ...}",
    'MAIL_SHOW_TOKENS': "MAILER = {'class': 'panther_like.mail.ConsoleMailer', 'show_tokens': ...}",
    'RESET_URL': "ACCOUNT_EMAILS = {'reset_url': ...}",
    'VERIFY_URL': "ACCOUNT_EMAILS = {'verify_url': ...}",
    'STORE_ROUND_TRIPS_HEADER': "HEALTH = {'round_trips': ...}",
    # Panther.
    'MIDDLEWARES': _NO_MIDDLEWARE,
    'TIMEZONE': 'nothing: times are stored and sent in UTC',
    'LOG_QUERIES': 'nothing: there is no query log (time the store with /health or your own middleware)',
    'BACKGROUND_TASKS': 'nothing: start tasks with asyncio in a handler, or run a worker process',
    'TEMPLATES_DIR': 'nothing: there are no templates (serve pages from your front end or a handler)',
    'MONITORING': 'nothing: use the audit log and /health and /ready',
    # Django.
    'AUTH_USER_MODEL': "USER_MODEL = 'myapp.models.User' (a dotted path)",
    'MIDDLEWARE': _NO_MIDDLEWARE,
    'INSTALLED_APPS': 'nothing: there are no apps; name the routes in URLS and the user model in USER_MODEL',
    'CSRF_TRUSTED_ORIGINS': "TRUSTED_ORIGINS = ['https://app.example.com']",
    'ALLOWED_HOSTS': 'nothing: check the Host header in your reverse proxy',
    # CORS (django-cors-headers, Starlette's CORSMiddleware).
    'CORS_ALLOWED_ORIGINS': _CORS,
    'CORS_ALLOW_CREDENTIALS': _CORS,
    'CORS_ORIGIN_WHITELIST': _CORS,
    'CORS_ALLOW_ALL_ORIGINS': _CORS,
    'CORS_ALLOW_METHODS': _CORS,
    'CORS_ALLOW_HEADERS': _CORS,
}
#: Helper constants settings modules conventionally keep; never listed as unknown.
HELPER_NAMES = frozenset({'BASE_DIR'})

#: The smallest ``SECRET_KEY``: as long as the smallest HMAC key (HS256).
MINIMUM_KEY_LENGTH = 32
_MINIMUM_DISTINCT = 5
#: Placeholders shipped in examples and docs, compared without case and punctuation: a key containing one is refused.
_PLACEHOLDERS = (
    'changeme',
    'replaceme',
    'yoursecret',
    'placeholder',
    'notasecret',
    'insecure',
    'atleast32characters',
    'secretkeyhere',
    'putyour',
    'xxxxxx',
)


def is_setting(name: str, value: Any) -> bool:
    """A module imported under a name, or a function or class defined under it, is not a setting."""
    return not isinstance(value, ModuleType) and getattr(value, '__name__', None) != name


def reject_foreign_settings(settings: Mapping[str, Any]) -> None:
    """A `ConfigError` for the first name another framework (or the example's ``.env``) would read."""
    for name in sorted(settings):
        if name in FOREIGN_SETTINGS and is_setting(name, settings[name]):
            raise ConfigError(
                name,
                '<hidden>',
                f'{name!r} is not a setting of panther_like and would be ignored; write {FOREIGN_SETTINGS[name]}',
            )


def unknown_names(settings: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """Upper-case names the framework does not read (a warning of ``panther-like check``, not an error)."""
    known = frozenset(known) | HELPER_NAMES
    return sorted(
        name
        for name, value in settings.items()
        if name.isupper() and name not in known and not name.startswith('_') and is_setting(name, value)
    )


def weakness(key: str) -> str | None:
    """Why `key` is too weak to sign tokens with, or None."""
    if len(key) < MINIMUM_KEY_LENGTH:
        return f'it is {len(key)} characters long, shorter than {MINIMUM_KEY_LENGTH} (RFC 7518 section 3.2)'
    if len(set(key)) < _MINIMUM_DISTINCT:
        return f'it uses only {len(set(key))} different characters'
    letters = re.sub(r'[^a-z0-9]', '', key.lower())
    for placeholder in _PLACEHOLDERS:
        if placeholder in letters:
            return 'it is a placeholder from an example'
    return None


def reject_weak_key(setting: str, key: str) -> None:
    """A `ConfigError` for a key anyone could guess: whoever knows it can forge every token."""
    reason = weakness(key)
    if reason is not None:
        raise ConfigError(
            setting,
            '<hidden>',
            f'is too weak to sign tokens: {reason}; use a random one, e.g. the output of '
            f"python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
