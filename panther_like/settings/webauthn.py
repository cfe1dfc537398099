"""``ACCOUNTS['webauthn']``: the relying party that passkeys (`panther_like.accounts.passkeys`) are made for.

A passkey is bound by the browser to an RP ID (a domain) and every answer it
signs names the page's origin. The server must check both against values it
knows, never against what the request says, so they are settings, checked
here when the app is built: the RP ID a domain name (browsers refuse an IP
address), each origin the RP ID or a subdomain of it (a browser refuses any
other pairing, so such a setting could never work), and plain http only
for this machine (anyone on the path could otherwise run the page).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from panther_like.exceptions import ConfigError
from panther_like.settings.checks import LOOPBACK_HOSTS, reject_unknown_keys

SETTING = "ACCOUNTS['webauthn']"
WEBAUTHN_KEYS = frozenset({'rp_id', 'rp_name', 'origins'})
PASSKEYS_EXTRA = "pip install 'panther-like[passkeys]'"
#: Hosts a page may be served from over plain http: the developer's own machine.
_LABEL = re.compile(r'[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?')


@dataclass(frozen=True, slots=True)
class WebAuthnSettings:
    """The relying party: `rp_id` (a domain), the `rp_name` authenticators show, the page `origins` allowed."""

    rp_id: str
    rp_name: str
    origins: tuple[str, ...]


def require_passkey_dependencies() -> None:
    """A `ConfigError` naming the extra to install when py_webauthn is missing."""
    if importlib.util.find_spec('webauthn') is None:
        raise ConfigError(SETTING, None, f'passkeys need the webauthn package: {PASSKEYS_EXTRA}')


def webauthn_settings(value: Any) -> WebAuthnSettings | None:
    """Check ``ACCOUNTS['webauthn']``; None (absent) leaves passkeys off."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(
            SETTING,
            value,
            "must be a dict such as {'rp_id': 'example.com', 'rp_name': 'Example', 'origins': ['https://example.com']}",
        )
    reject_unknown_keys(SETTING, value, WEBAUTHN_KEYS)
    rp_id = _rp_id(value.get('rp_id'))
    rp_name = value.get('rp_name')
    if not isinstance(rp_name, str) or not rp_name.strip() or len(rp_name) > 64:
        raise ConfigError(
            f'{SETTING}[rp_name]', rp_name, f'{rp_name!r} must be a non-empty name of at most 64 characters'
        )
    origins = value.get('origins')
    if isinstance(origins, str) or not isinstance(origins, list | tuple) or not origins:
        raise ConfigError(
            f'{SETTING}[origins]', origins, f"{origins!r} must be a non-empty list such as ['https://{rp_id}']"
        )
    checked = tuple(dict.fromkeys(_origin(origin, rp_id) for origin in origins))
    require_passkey_dependencies()
    return WebAuthnSettings(rp_id, rp_name, checked)


def _rp_id(rp_id: Any) -> str:
    setting = f'{SETTING}[rp_id]'
    if not isinstance(rp_id, str) or not rp_id:
        raise ConfigError(setting, rp_id, f'{rp_id!r} must be a domain name such as "example.com"')
    try:
        ipaddress.ip_address(rp_id.strip('[]'))
    except ValueError:
        pass
    else:
        raise ConfigError(setting, rp_id, f'{rp_id!r} is an IP address; browsers take only a domain name as RP ID')
    labels = rp_id.split('.')
    if rp_id != rp_id.lower() or len(rp_id) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ConfigError(
            setting, rp_id, f'{rp_id!r} must be a lower-case domain name without scheme, port or path ("example.com")'
        )
    return rp_id


def _origin(origin: Any, rp_id: str) -> str:
    setting = f'{SETTING}[origins]'
    if not isinstance(origin, str) or not origin:
        raise ConfigError(setting, origin, f'{origin!r} must be an origin such as "https://{rp_id}"')
    try:
        parts = urlsplit(origin)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(setting, origin, f'{origin!r} is not an origin ({exc})') from None
    if parts.scheme not in ('https', 'http') or not host or parts.path or parts.query or parts.fragment:
        raise ConfigError(setting, origin, f'{origin!r} must be scheme://host[:port] only, such as "https://{rp_id}"')
    if parts.username is not None or origin != origin.lower():
        raise ConfigError(setting, origin, f'{origin!r} must be a lower-case origin without user information')
    if parts.scheme == 'http' and host not in LOOPBACK_HOSTS:
        raise ConfigError(setting, origin, f'{origin!r} is plain http; use https:// (http only for localhost)')
    if host != rp_id and not host.endswith('.' + rp_id):
        raise ConfigError(
            setting, origin, f'the host of {origin!r} must be {rp_id!r} or a subdomain of it: browsers refuse others'
        )
    return origin
