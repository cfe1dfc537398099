"""The settings of the ready-made account routes: ``ACCOUNTS``, ``MAILER`` and ``ACCOUNT_EMAILS``.

Checked like every structured setting (see `panther_like.settings.checks`): each
into a frozen value, every mistake a `ConfigError` naming the setting, the
value and the reason, before the app serves a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Literal

from panther_like.exceptions import ConfigError
from panther_like.settings.checks import absolute_url_parts, reject_unknown_keys, seconds
from panther_like.settings.pages import PagesSettings, pages_setting
from panther_like.settings.providers import ProviderSettings, provider_redirect_setting, providers_setting
from panther_like.settings.webauthn import WebAuthnSettings, webauthn_settings

#: No password longer than this is hashed, whatever ``ACCOUNTS['password_max_length']`` says.
MAX_PASSWORD_LENGTH = 4096
ACCOUNTS_KEYS = frozenset(
    {
        'cookies',
        'cookie_secure',
        'require_verified',
        'password_min_length',
        'password_max_length',
        'refuse_common_passwords',
        'reauthentication_timeout',
        'totp_issuer',
        'previous_secret_keys',
        'security_notices',
        'login_by_code',
        'trust_browser_days',
        'refresh_grace',
        'providers',
        'provider_redirect',
        'pages',
        'webauthn',
    }
)
#: ``ACCOUNTS['cookies']`` for browsers only: the tokens travel in cookies, never in a response body.
COOKIES_ONLY = 'only'
#: Seconds a spent refresh token still answers the pair it was exchanged for (two tabs refreshing at once).
DEFAULT_REFRESH_GRACE = 5
MAX_REFRESH_GRACE = 60
#: How recent an authentication must be for the routes that change how one logs in (seconds).
DEFAULT_REAUTHENTICATION_TIMEOUT = 300
DEFAULT_MAILER = 'panther_like.mail.ConsoleMailer'
ACCOUNT_EMAILS_KEYS = frozenset({'reset_url', 'verify_url', 'reset_life_time', 'verify_life_time'})
DEFAULT_ONE_TIME_LIFE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class AccountsSettings:
    """The ``ACCOUNTS`` setting: how the ready-made account routes (`panther_like.accounts`) behave.

    `cookies`: login and refresh also set ``access_token``, ``refresh_token`` and
    ``csrftoken`` cookies for browsers, and the routes accept the access token from its
    cookie (with the CSRF check). `cookie_secure`: mark them ``Secure`` (False only for a
    site served over plain http). `require_verified`: refuse login until ``is_verified``.
    The password policy: at least `password_min_length` characters, at most
    `password_max_length`, not the username, and (`refuse_common_passwords`) none of the
    30,000 most common passwords.
    """

    cookies: bool | Literal['only'] = False
    cookie_secure: bool = True
    require_verified: bool = False
    password_min_length: int = 8
    password_max_length: int = 1024
    refuse_common_passwords: bool = True
    #: Second factors (docs/second-factors.md): how recent an authentication the routes that change how one
    #: logs in need; the issuer authenticator apps show; the earlier ``SECRET_KEY`` values TOTP secrets may
    #: still be encrypted with, newest first.
    reauthentication_timeout: int = DEFAULT_REAUTHENTICATION_TIMEOUT
    totp_issuer: str = 'panther_like'
    previous_secret_keys: tuple[str, ...] = ()
    #: Mail the owner when the password or a second factor changes (`panther_like.accounts.notices`).
    security_notices: bool = True
    #: ``login/code/request`` and ``login/code``: log in with a code mailed to the account's address.
    login_by_code: bool = False
    #: Days a browser may skip the code after a login with one (0: never; `panther_like.login_state.trusted_browsers`).
    trust_browser_days: int = 0
    #: Seconds a refresh token presented again still answers the same successor pair, until that pair is used
    #: (0: never; `panther_like.login_state.sessions`).
    refresh_grace: int = DEFAULT_REFRESH_GRACE
    #: Sign in with an OpenID or OAuth 2 provider (`panther_like.accounts.providers`), and the page of the
    #: site a browser returns to after it.
    providers: Mapping[str, ProviderSettings] = field(default_factory=lambda: MappingProxyType({}))
    provider_redirect: str = '/'
    #: The ready-made account pages under ``ui/`` (`panther_like.pages`); None: off.
    pages: PagesSettings | None = None
    #: Passkeys (docs/passkeys.md): the relying party; None leaves the ``passkeys`` routes off.
    webauthn: WebAuthnSettings | None = None


@dataclass(frozen=True, slots=True)
class MailerSetting:
    """``MAILER`` split into the class to build (a dotted path or the class) and its options.

    The class is imported by `panther_like.settings.config` and built by the app,
    which also checks that it is a mailer: the settings cannot import it.
    """

    cls: str | type = DEFAULT_MAILER
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


def accounts_settings(value: Any) -> AccountsSettings:
    """Check ``ACCOUNTS`` when the app is built; absent means every default."""
    if value is None:
        return AccountsSettings()
    if not isinstance(value, Mapping):
        raise ConfigError('ACCOUNTS', value, f"must be a dict such as {{'cookies': True}}, not {value!r}")
    reject_unknown_keys('ACCOUNTS', value, ACCOUNTS_KEYS)
    defaults = AccountsSettings()
    checked: dict[str, Any] = {}
    cookies = value.get('cookies', False)
    if not isinstance(cookies, bool) and cookies != COOKIES_ONLY:
        raise ConfigError("ACCOUNTS['cookies']", cookies, f"{cookies!r} must be True, False or 'only'")
    checked['cookies'] = cookies
    for key in (
        'cookie_secure',
        'require_verified',
        'refuse_common_passwords',
        'security_notices',
        'login_by_code',
    ):
        item = value.get(key, getattr(defaults, key))
        if not isinstance(item, bool):
            raise ConfigError(f'ACCOUNTS[{key!r}]', item, f'{item!r} must be True or False')
        checked[key] = item
    for key in ('password_min_length', 'password_max_length'):
        item = value.get(key, getattr(defaults, key))
        if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= MAX_PASSWORD_LENGTH:
            raise ConfigError(
                f'ACCOUNTS[{key!r}]', item, f'{item!r} must be a whole number from 1 to {MAX_PASSWORD_LENGTH}'
            )
        checked[key] = item
    if checked['password_max_length'] < checked['password_min_length']:
        raise ConfigError(
            "ACCOUNTS['password_max_length']",
            checked['password_max_length'],
            f'{checked["password_max_length"]!r} is below password_min_length ({checked["password_min_length"]})',
        )
    checked.update(_second_factor_settings(value))
    checked['providers'] = providers_setting(value.get('providers'))
    checked['provider_redirect'] = provider_redirect_setting(value.get('provider_redirect', '/'))
    checked['pages'] = pages_setting(value.get('pages'), cookies)
    checked['webauthn'] = webauthn_settings(value.get('webauthn'))
    return AccountsSettings(**checked)


def _second_factor_settings(value: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key in ('security_notices', 'login_by_code'):
        if key in value:
            if not isinstance(value[key], bool):
                raise ConfigError(f'ACCOUNTS[{key!r}]', value[key], f'{value[key]!r} must be True or False')
            checked[key] = value[key]
    if 'reauthentication_timeout' in value:
        timeout = value['reauthentication_timeout']
        if isinstance(timeout, timedelta):
            timeout = int(timeout.total_seconds())
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 86400:
            raise ConfigError(
                "ACCOUNTS['reauthentication_timeout']", timeout, f'{timeout!r} must be from 1 to 86400 seconds'
            )
        checked['reauthentication_timeout'] = timeout
    if 'trust_browser_days' in value:
        days = value['trust_browser_days']
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
            raise ConfigError("ACCOUNTS['trust_browser_days']", days, f'{days!r} must be a whole number from 0 to 365')
        checked['trust_browser_days'] = days
    if 'refresh_grace' in value:
        grace = value['refresh_grace']
        if isinstance(grace, timedelta):
            grace = int(grace.total_seconds())
        if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= MAX_REFRESH_GRACE:
            raise ConfigError(
                "ACCOUNTS['refresh_grace']", grace, f'{grace!r} must be a whole number of seconds from 0 to 60'
            )
        checked['refresh_grace'] = grace
    if 'totp_issuer' in value:
        issuer = value['totp_issuer']
        if not isinstance(issuer, str) or not issuer.strip() or ':' in issuer or len(issuer) > 100:
            raise ConfigError(
                "ACCOUNTS['totp_issuer']", issuer, f'{issuer!r} must be a short non-empty string without ":"'
            )
        checked['totp_issuer'] = issuer
    if 'previous_secret_keys' in value:
        keys = value['previous_secret_keys']
        if isinstance(keys, str) or not isinstance(keys, list | tuple):
            raise ConfigError("ACCOUNTS['previous_secret_keys']", '<hidden>', 'must be a list of earlier SECRET_KEYs')
        if not all(isinstance(key, str) and key for key in keys):
            raise ConfigError(
                "ACCOUNTS['previous_secret_keys']", '<hidden>', 'every earlier SECRET_KEY must be a non-empty string'
            )
        checked['previous_secret_keys'] = tuple(keys)
    return checked


def mailer_setting(value: Any) -> MailerSetting:
    """``MAILER``: a dotted path (or class), or ``{'class': ..., **options}``; absent: the console mailer."""
    if value is None:
        return MailerSetting()
    if isinstance(value, str | type):
        return MailerSetting(value)
    if not isinstance(value, Mapping):
        raise ConfigError(
            'MAILER',
            type(value).__name__,
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
    reject_unknown_keys('ACCOUNT_EMAILS', value, ACCOUNT_EMAILS_KEYS)
    checked: dict[str, Any] = {}
    for key in ('reset_url', 'verify_url'):
        url = value.get(key)
        if url is not None:
            checked[key] = _link_base(f'ACCOUNT_EMAILS[{key!r}]', url)
    for key in ('reset_life_time', 'verify_life_time'):
        if value.get(key) is not None:
            checked[key] = seconds(f'ACCOUNT_EMAILS[{key!r}]', value[key])
    return AccountEmailSettings(**checked)


def _link_base(setting: str, url: Any) -> str:
    """A link's beginning must be absolute, and https unless it stays on this machine.

    The token travels in the link: over plain http anyone on the path could use it first.
    """
    if not isinstance(url, str) or not url:
        raise ConfigError(
            setting, url, f'{url!r} must be a non-empty string such as "https://app.example.com/reset#token="'
        )
    absolute_url_parts(setting, url, 'would send a one-time token over plain http')
    if any(ch in url for ch in ' \r\n\t'):
        raise ConfigError(setting, url, f'{url!r} must not contain spaces or line breaks')
    return url
