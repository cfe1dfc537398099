"""``OIDC_RESOURCE``: the identity providers whose access tokens the app accepts, checked once.

Every mistake is a `ConfigError` naming the key, because each one would otherwise open a door:
an issuer reached over plain http (anyone on the path could serve their own keys), an algorithm
that is not asymmetric (``none``, or HMAC, whose "key" would be the provider's *public* key), an
issuer listed twice (which of its audiences holds?).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from panther_like.crypto.keys import ASYMMETRIC_ALGORITHMS
from panther_like.exceptions import ConfigError
from panther_like.settings.checks import MAX_LEEWAY, absolute_url_parts, reject_unknown_keys

SETTING = 'OIDC_RESOURCE'
OIDC_KEYS = frozenset({'issuers', 'provision', 'leeway'})
ISSUER_KEYS = frozenset({'issuer', 'audience', 'algorithms', 'jwks_url'})


@dataclass(frozen=True, slots=True)
class OIDCIssuer:
    """One provider: its exact ``iss``, the audiences a token must name one of, what may sign, where its keys are."""

    issuer: str
    audience: tuple[str, ...]
    #: The algorithms its tokens may use; a key's own ``alg`` or type narrows them further.
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    #: Where its JWK Set is; None: found by discovery at ``{issuer}/.well-known/openid-configuration``.
    jwks_url: str | None = None


@dataclass(frozen=True, slots=True)
class OIDCResourceSettings:
    """The ``OIDC_RESOURCE`` setting (see `panther_like.login_state.oidc`)."""

    issuers: tuple[OIDCIssuer, ...]
    #: Make a local account on a subject's first token; False: an unknown subject is a 401.
    provision: bool = False
    #: Seconds of clock skew forgiven on ``exp``, ``nbf`` and ``iat``.
    leeway: int = 0

    def issuer(self, iss: str) -> OIDCIssuer | None:
        return next((item for item in self.issuers if item.issuer == iss), None)


def secure_url(setting: str, url: Any) -> str:
    """`url` when it is ``https://`` (``http://`` only on this machine), without spaces, query or fragment."""
    if not isinstance(url, str) or not url or any(ch in url for ch in ' \r\n\t'):
        raise ConfigError(setting, url, 'must be an https:// URL without spaces')
    parts = absolute_url_parts(setting, url, 'would fetch signing keys over plain http')
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(setting, url, f'{url!r} must have no query, fragment or credentials')
    return url


def _strings(setting: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(setting, value, 'must be a string or a non-empty list of strings')
    if not all(isinstance(item, str) and item and item == item.strip() for item in items):
        raise ConfigError(setting, value, 'must hold non-empty strings without surrounding spaces')
    return tuple(items)


def _issuer(index: int, value: Any) -> OIDCIssuer:
    where = f"{SETTING}['issuers'][{index}]"
    if not isinstance(value, Mapping):
        raise ConfigError(where, value, "must be a dict such as {'issuer': 'https://...', 'audience': '...'}")
    reject_unknown_keys(where, value, ISSUER_KEYS)
    for required in ('issuer', 'audience'):
        if required not in value:
            raise ConfigError(where, value, f'needs {required!r}')
    issuer = secure_url(f"{where}['issuer']", value['issuer'])
    audience = _strings(f"{where}['audience']", value['audience'])
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    if value.get('algorithms') is not None:
        algorithms = _strings(f"{where}['algorithms']", value['algorithms'])
        refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ConfigError(
                f"{where}['algorithms']",
                refused[0],
                f'{refused[0]!r} is not allowed: only asymmetric algorithms ({", ".join(ASYMMETRIC_ALGORITHMS)}), '
                'never none or HMAC, whose key would be the public one',
            )
    jwks_url = value.get('jwks_url')
    if jwks_url is not None:
        jwks_url = secure_url(f"{where}['jwks_url']", jwks_url)
    return OIDCIssuer(issuer=issuer, audience=audience, algorithms=algorithms, jwks_url=jwks_url)


def oidc_resource_setting(value: Any) -> OIDCResourceSettings | None:
    """``OIDC_RESOURCE`` checked; None when it is not set."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(SETTING, value, "must be a dict such as {'issuers': [{'issuer': ..., 'audience': ...}]}")
    reject_unknown_keys(SETTING, value, OIDC_KEYS)
    raw = value.get('issuers')
    if not isinstance(raw, list | tuple) or not raw:
        raise ConfigError(f"{SETTING}['issuers']", raw, 'must be a non-empty list of issuers')
    issuers = tuple(_issuer(index, item) for index, item in enumerate(raw))
    names = [item.issuer for item in issuers]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise ConfigError(f"{SETTING}['issuers']", repeated, f'{repeated!r} is listed twice')
    provision = value.get('provision', False)
    if not isinstance(provision, bool):
        raise ConfigError(f"{SETTING}['provision']", provision, 'must be True or False')
    leeway = value.get('leeway', 0)
    if not isinstance(leeway, int) or isinstance(leeway, bool) or not 0 <= leeway <= MAX_LEEWAY:
        raise ConfigError(f"{SETTING}['leeway']", leeway, f'must be a whole number of seconds from 0 to {MAX_LEEWAY}')
    return OIDCResourceSettings(issuers=issuers, provision=provision, leeway=leeway)
