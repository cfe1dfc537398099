"""The JWT codec: encode, decode and verify, and nothing about sessions.

Follows RFC 8725: the accepted algorithm is the one in the configuration,
never the one the token names (so ``alg: none`` and algorithm swaps fail);
every claim we rely on is required and type-checked; a token of one type
(access, refresh) is never accepted as the other.

Besides the registered claims a token carries ``sid`` (the login session it
belongs to) and ``cv``, the credential version of the user when the session
started (`panther_like.db.user`): once the password changes, that no longer
matches and the token is refused.

And, as OpenID Connect names them, ``auth_time`` (when the user last
proved who they are: a login or a re-authentication, kept through
refreshes) and ``amr`` (how: ``pwd``, ``otp``), which step-up checks read
(`panther_like.auth.permissions.FreshAuthentication`). A token without
them counts as authenticated long ago.

With ``JWTConfig['issuer']`` and ``['audience']`` set, every token carries ``iss`` and ``aud`` and
every token verified must carry them, equal to the configured ones (RFC 7519 section 4.1); a token
made for another service, or by another issuer sharing a key, is refused. ``JWTConfig['claims']``
adds an app's own claims to access tokens, never one of the claims named here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import AuthenticationAPIError, ConfigError
from panther_like.settings.checks import JWTSettings

ACCESS = 'access'
REFRESH = 'refresh'
REQUIRED_CLAIMS = ('user_id', 'token_type', 'iat', 'exp', 'jti', 'sid')
#: The credential version claim; a token without it (issued before it existed) holds the empty version.
CREDENTIAL_VERSION = 'cv'
AUTH_TIME = 'auth_time'
AMR = 'amr'
#: The authentication methods a token may name (RFC 8176).
PASSWORD, ONE_TIME_CODE = 'pwd', 'otp'
# Three base64url segments; anything else is refused before PyJWT sees it.
JWT_SHAPE = re.compile(r'[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+')
MAX_TOKEN_LENGTH = 8192
#: The time claims, read as seconds since the epoch when present (``exp`` and ``iat`` always are).
TIME_CLAIMS = ('exp', 'iat', 'nbf')
#: Beyond this a float no longer holds whole seconds exactly (and ``10**400`` overflows one).
MAX_TIME_CLAIM = 2**53
#: Claims a ``JWTConfig['claims']`` hook may not set: the registered ones and those the framework relies on.
RESERVED_CLAIMS = frozenset(
    {'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'user_id', 'token_type', 'sid', 'scope'}
    | {CREDENTIAL_VERSION, AUTH_TIME, AMR}
)

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, 'Token has expired'),
    (jwt.ImmatureSignatureError, 'Token is not yet valid'),
    (jwt.InvalidSignatureError, 'Token signature is invalid'),
    (jwt.InvalidAlgorithmError, 'Token algorithm is not allowed'),
    (jwt.InvalidAudienceError, 'Token audience is not accepted'),
    (jwt.InvalidIssuerError, 'Token issuer is not accepted'),
    (jwt.DecodeError, 'Token is malformed'),
)


class JWTCodec:
    """Signs and verifies the tokens of one app with its configured keys and its one algorithm."""

    def __init__(self, settings: JWTSettings, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.keys = settings.keys
        self.clock = clock
        self._algorithms = [settings.algorithm]
        self._headers = {'kid': self.keys.kid} if self.keys.kid else None
        self._several_keys = len({id(key) for key in self.keys.verification_keys.values()}) > 1
        self.life = int(settings.life_time.total_seconds())
        self.refresh_life = int(settings.refresh_life_time.total_seconds())
        self._registered: dict[str, Any] = {}
        if settings.issuer is not None:
            self._registered['iss'] = settings.issuer
        if settings.audience is not None:
            audience = settings.audience
            self._registered['aud'] = audience if isinstance(audience, str) else list(audience)
        self._required = [*REQUIRED_CLAIMS, *self._registered]
        self._audience = None if settings.audience is None else self._registered['aud']

    async def custom_claims(self, user: Any) -> dict[str, Any]:
        """The claims ``JWTConfig['claims']`` adds to `user`'s access tokens; a `ConfigError` for a reserved one."""
        hook = self.settings.claims
        if hook is None:
            return {}
        found = await hook(user)
        setting, path = "JWTConfig['claims']", self.settings.claims_path
        if not isinstance(found, Mapping) or not all(isinstance(name, str) for name in found):
            raise ConfigError(setting, path, f'{path} must return a dict of claims, not {type(found).__name__}')
        reserved = sorted(set(found) & RESERVED_CLAIMS)
        if reserved:
            raise ConfigError(
                setting,
                path,
                f'{path} returned the claim {reserved[0]!r}, which the framework sets itself '
                f'(reserved: {", ".join(sorted(RESERVED_CLAIMS))})',
            )
        return dict(found)

    def encode(
        self,
        user_id: str,
        token_type: str,
        session_id: str,
        scope: str | None = None,
        *,
        credential_version: str = '',
        auth_time: int | None = None,
        amr: Sequence[str] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token; `extra` (the custom claims of `custom_claims`, access tokens only) goes in first."""
        now = int(self.clock.time())
        life = self.life if token_type == ACCESS else self.refresh_life
        payload: dict[str, Any] = {
            **(extra or {}),
            **self._registered,
            'user_id': user_id,
            'token_type': token_type,
            'iat': now,
            'exp': now + life,
            'jti': secrets.token_urlsafe(16),
            'sid': session_id,
            CREDENTIAL_VERSION: credential_version,
        }
        if auth_time is not None:
            payload[AUTH_TIME] = auth_time
        if amr:
            payload[AMR] = list(amr)
        if scope:
            payload['scope'] = scope  # RFC 8693 section 4.2: space-separated
        return jwt.encode(payload, self.keys.signing_key, algorithm=self.settings.algorithm, headers=self._headers)

    def decode(self, token: str, expected_type: str) -> dict[str, Any]:
        """Verify signature, algorithm, time claims and types; raise a 401 naming the reason."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not JWT_SHAPE.fullmatch(token):
            raise AuthenticationAPIError('Token is malformed')
        try:
            key = self._verification_key(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                options={'require': self._required},
                issuer=self.settings.issuer,
                audience=self._audience,
                leeway=self.settings.leeway,
            )
        except AuthenticationAPIError:
            raise
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationAPIError(f'Token is missing the {exc.claim!r} claim') from None
        except jwt.PyJWTError as exc:
            raise AuthenticationAPIError(refusal_reason(exc)) from None
        except Exception:  # hostile input must never become a 500
            raise AuthenticationAPIError('Token is malformed') from None
        for claim in ('user_id', 'jti', 'sid'):
            if not isinstance(claims[claim], str) or not claims[claim]:
                raise AuthenticationAPIError(f'Token claim {claim!r} must be a non-empty string')
        if not isinstance(claims.setdefault(CREDENTIAL_VERSION, ''), str):
            raise AuthenticationAPIError(f'Token claim {CREDENTIAL_VERSION!r} must be a string')
        for claim in (*TIME_CLAIMS, AUTH_TIME):
            if claim in claims and not is_time(claims[claim]):
                raise AuthenticationAPIError(f'Token claim {claim!r} must be a number of seconds')
        amr = claims.get(AMR, [])
        if not isinstance(amr, list) or not all(isinstance(item, str) for item in amr):
            raise AuthenticationAPIError(f'Token claim {AMR!r} must be a list of strings')
        if claims['token_type'] != expected_type:
            article = 'an' if expected_type == ACCESS else 'a'
            raise AuthenticationAPIError(f'Token is not {article} {expected_type} token')
        if claims['exp'] + self.settings.leeway <= self.clock.time():  # PyJWT reads the system clock; this its own
            raise AuthenticationAPIError('Token has expired')
        return claims

    def _verification_key(self, token: str) -> Any:
        """The configured key the token's ``kid`` names; the ``kid`` never chooses the algorithm."""
        if not self._several_keys:
            return self.keys.key_for(None)
        kid = jwt.get_unverified_header(token).get('kid')
        key = self.keys.key_for(kid) if kid is None or isinstance(kid, str) else None
        if key is None:
            raise AuthenticationAPIError('Token key id is unknown')
        return key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        jwks: dict[str, list[dict[str, Any]]] = self.keys.jwks()
        return jwks


def is_time(value: Any) -> bool:
    """A NumericDate (RFC 7519 section 2): a finite JSON number, not a string or a boolean.

    PyJWT reads ``"exp": "9999999999"`` with `int()` and accepts it; every
    later use of the claim would then meet a string.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return bool(-MAX_TIME_CLAIM <= value <= MAX_TIME_CLAIM)  # NaN compares False: refused too


def refusal_reason(exc: Exception) -> str:
    """What a 401 says about a token PyJWT refused: our own tokens' and an identity provider's alike."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return 'Token is invalid'
