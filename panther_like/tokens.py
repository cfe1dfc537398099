"""JSON Web Tokens: issue, verify, rotate, revoke.

Follows RFC 8725: the accepted algorithm is the one in the configuration,
never the one the token names (so ``alg: none`` and algorithm swaps fail);
every claim we rely on is required and type-checked; a refresh token is
never accepted where an access token is expected, and is good exactly once.

Every token belongs to a session (``sid``) that starts at `login`. Refresh
keeps the session and rotates the pair; presenting a spent refresh token
again means it was stolen or replayed, so the whole session is revoked.
`logout` revokes the session: the access token of the request, the refresh
token issued with it, and any earlier token of the same login.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import jwt

from panther_like.config import JWTSettings
from panther_like.exceptions import AuthenticationAPIError
from panther_like.revocation import RevocationStore

ACCESS = 'access'
REFRESH = 'refresh'
REQUIRED_CLAIMS = ('user_id', 'token_type', 'iat', 'exp', 'jti', 'sid')
# Three base64url segments; anything else is refused before PyJWT sees it.
JWT_SHAPE = re.compile(r'[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+')
MAX_TOKEN_LENGTH = 8192

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, 'Token has expired'),
    (jwt.ImmatureSignatureError, 'Token is not yet valid'),
    (jwt.InvalidSignatureError, 'Token signature is invalid'),
    (jwt.InvalidAlgorithmError, 'Token algorithm is not allowed'),
    (jwt.DecodeError, 'Token is malformed'),
)


class TokenService:
    """Issues and checks the tokens of one app; built once from its `Config`."""

    def __init__(self, settings: JWTSettings, revocations: RevocationStore, user_model: type) -> None:
        self.settings = settings
        self.revocations = revocations
        self.user_model = user_model
        self._algorithms = [settings.algorithm]
        self._life = int(settings.life_time.total_seconds())
        self._refresh_life = int(settings.refresh_life_time.total_seconds())

    def encode(self, user_id: str, token_type: str, session_id: str) -> str:
        now = int(time.time())
        life = self._life if token_type == ACCESS else self._refresh_life
        payload = {
            'user_id': user_id,
            'token_type': token_type,
            'iat': now,
            'exp': now + life,
            'jti': secrets.token_urlsafe(16),
            'sid': session_id,
        }
        return jwt.encode(payload, self.settings.key, algorithm=self.settings.algorithm)

    def decode(self, token: str, expected_type: str) -> dict[str, Any]:
        """Verify signature, algorithm, time claims and types; raise a 401 naming the reason."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not JWT_SHAPE.fullmatch(token):
            raise AuthenticationAPIError('Token is malformed')
        try:
            claims = jwt.decode(
                token, self.settings.key, algorithms=self._algorithms, options={'require': list(REQUIRED_CLAIMS)}
            )
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationAPIError(f'Token is missing the {exc.claim!r} claim') from None
        except jwt.PyJWTError as exc:
            raise AuthenticationAPIError(_reason(exc)) from None
        except Exception:  # hostile input must never become a 500
            raise AuthenticationAPIError('Token is malformed') from None
        for claim in ('user_id', 'jti', 'sid'):
            if not isinstance(claims[claim], str) or not claims[claim]:
                raise AuthenticationAPIError(f'Token claim {claim!r} must be a non-empty string')
        if claims['token_type'] != expected_type:
            raise AuthenticationAPIError(f'Token is not an {expected_type} token' if expected_type == ACCESS
                                         else f'Token is not a {expected_type} token')
        return claims

    def issue_pair(self, user_id: str, session_id: str | None = None) -> dict[str, str]:
        session_id = session_id or secrets.token_urlsafe(16)
        return {
            'access_token': self.encode(user_id, ACCESS, session_id),
            'refresh_token': self.encode(user_id, REFRESH, session_id),
        }

    async def authenticate(self, token: str) -> Any:
        """The user an access token belongs to, or a 401."""
        claims = self.decode(token, ACCESS)
        if await self.revocations.is_revoked(_session_key(claims['sid'])):
            raise AuthenticationAPIError('Token has been revoked')
        user = await self.user_model.find_one(id=claims['user_id'])
        if user is None:
            raise AuthenticationAPIError('User not found')
        user.attach_token_claims(claims)
        return user

    async def login(self, user: Any) -> dict[str, str]:
        pair = self.issue_pair(user.id)
        await user.update(last_login=datetime.now(UTC))
        return pair

    async def refresh(self, refresh_token: str) -> dict[str, str]:
        """A new pair for a refresh token that is valid and unused; reuse revokes the session."""
        claims = self.decode(refresh_token, REFRESH)
        session_key = _session_key(claims['sid'])
        if await self.revocations.is_revoked(session_key):
            raise AuthenticationAPIError('Token has been revoked')
        if not await self.revocations.claim_once(f'used:{claims["jti"]}', until=claims['exp']):
            await self.revocations.revoke(session_key, until=self._session_end())
            raise AuthenticationAPIError('Refresh token was already used; the session has been revoked')
        if await self.user_model.find_one(id=claims['user_id']) is None:
            raise AuthenticationAPIError('User not found')
        return self.issue_pair(claims['user_id'], claims['sid'])

    async def logout(self, claims: dict[str, Any]) -> None:
        await self.revocations.revoke(_session_key(claims['sid']), until=self._session_end())

    def _session_end(self) -> float:
        """Every token issued until now has expired by then."""
        return time.time() + self._refresh_life + 1


def _session_key(session_id: str) -> str:
    return f'sid:{session_id}'


def _reason(exc: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return 'Token is invalid'


_active: TokenService | None = None


def bind_tokens(service: TokenService | None) -> None:
    """Called by the app when it is built: `user.login()` and `refresh()` need the app's keys."""
    global _active
    _active = service


def active_tokens() -> TokenService:
    if _active is None:
        from panther_like.exceptions import ConfigError

        raise ConfigError(
            'JWTConfig', None,
            'no JWT key is configured: set SECRET_KEY or JWTConfig["key"] in the settings module',
        )
    return _active
