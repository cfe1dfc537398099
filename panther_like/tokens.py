"""JSON Web Tokens: issue, verify, rotate, revoke, and do each as rarely as is safe.

Follows RFC 8725: the accepted algorithm is the one in the configuration,
never the one the token names (so ``alg: none`` and algorithm swaps fail);
every claim we rely on is required and type-checked; a refresh token is
never accepted where an access token is expected, and is good exactly once.

Every token belongs to a session (``sid``) that starts at `login`. Refresh
keeps the session and rotates the pair; presenting a spent refresh token
again means it was stolen or replayed, so the whole session is revoked.
`logout` revokes the session: the access token of the request, the refresh
token issued with it, and any earlier token of the same login.

Why the caches (see `AuthCacheSettings`): on an authenticated route the
signature check and two store round trips cost far more than the
framework. A worker therefore remembers

- access tokens it has verified, keyed by the exact token string, so a
  token it never verified cannot hit, and re-checked against ``exp`` on
  every use;
- sessions it found not revoked, for at most ``revocation_ttl`` seconds
  (capped at 1 s, the bound on how long a logout elsewhere can go
  unseen); a logout in this worker is seen at once, and revoked sessions
  are remembered until they expire;
- users, for at most ``user_ttl`` seconds; a change made through this
  worker (update, delete, password) drops the cached copy at once.

Each request gets its own copy of the cached user (`copy_for_session`), so
the token claims `logout` needs never reach another request.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any

import jwt

from panther_like import audit
from panther_like.exceptions import AuthenticationAPIError
from panther_like.revocation import RevocationStore
from panther_like.settings import AuthCacheSettings, JWTSettings

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


class BoundedCache(dict):
    """A dict that forgets its oldest entry when full; 0 entries means it never keeps anything."""

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def put(self, key: Any, value: Any) -> None:
        if self.max_entries <= 0:
            return
        if len(self) >= self.max_entries and key not in self:
            del self[next(iter(self))]
        self[key] = value


class SingleFlight:
    """Concurrent callers asking for the same key share one store round trip.

    When a cached entry expires under load, every in-flight request for the
    same session or user would otherwise ask the store at the same moment.
    """

    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> Any:
        future = self._pending.get(key)
        if future is None or future.get_loop() is not asyncio.get_running_loop():
            future = asyncio.ensure_future(fetch())
            self._pending[key] = future
            future.add_done_callback(lambda _done: self._pending.pop(key, None))
        # shield: a caller that goes away must not cancel the look-up the others wait for.
        return await asyncio.shield(future)


class TokenService:
    """Issues and checks the tokens of one app; built once from its `Config`."""

    def __init__(
        self, settings: JWTSettings, revocations: RevocationStore, user_model: type,
        cache: AuthCacheSettings | None = None,
    ) -> None:
        self.settings = settings
        self.keys = settings.keys
        self.revocations = revocations
        self.user_model = user_model
        self.cache = cache or AuthCacheSettings()
        self._algorithms = [settings.algorithm]
        self._headers = {'kid': self.keys.kid} if self.keys.kid else None
        self._several_keys = len({id(key) for key in self.keys.verification_keys.values()}) > 1
        self._life = int(settings.life_time.total_seconds())
        self._refresh_life = int(settings.refresh_life_time.total_seconds())
        self._verified = BoundedCache(self.cache.max_entries)        # token -> claims
        self._live_sessions = BoundedCache(self.cache.max_entries)   # sid -> monotonic time checked
        self._revoked_sessions = BoundedCache(self.cache.max_entries)  # sid -> epoch until
        self._users = BoundedCache(self.cache.max_entries)           # user id -> (monotonic time, user)
        self._flights = SingleFlight()

    # -- encoding and verifying ---------------------------------------------------------------

    def encode(self, user_id: str, token_type: str, session_id: str, scope: str | None = None) -> str:
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
        if scope:
            payload['scope'] = scope  # RFC 8693 section 4.2: space-separated
        return jwt.encode(payload, self.keys.signing_key, algorithm=self.settings.algorithm, headers=self._headers)

    def decode(self, token: str, expected_type: str) -> dict[str, Any]:
        """Verify signature, algorithm, time claims and types; raise a 401 naming the reason."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not JWT_SHAPE.fullmatch(token):
            raise AuthenticationAPIError('Token is malformed')
        try:
            key = self._verification_key(token)
            claims = jwt.decode(token, key, algorithms=self._algorithms, options={'require': list(REQUIRED_CLAIMS)})
        except AuthenticationAPIError:
            raise
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
            article = 'an' if expected_type == ACCESS else 'a'
            raise AuthenticationAPIError(f'Token is not {article} {expected_type} token')
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
        return self.keys.jwks()

    # -- sessions -----------------------------------------------------------------------------

    def issue_pair(
        self, user_id: str, session_id: str | None = None, *, scopes: Sequence[str] | str | None = None
    ) -> dict[str, str]:
        session_id = session_id or secrets.token_urlsafe(16)
        scope = _scope_claim(scopes)
        return {
            'access_token': self.encode(user_id, ACCESS, session_id, scope),
            'refresh_token': self.encode(user_id, REFRESH, session_id, scope),
        }

    async def authenticate(self, token: str) -> Any:
        """The user an access token belongs to (a copy of its own), or a 401."""
        claims = self._verified.get(token)
        if claims is None or claims['exp'] <= time.time():
            claims = self.decode(token, ACCESS)
            self._verified.put(token, claims)
        try:
            await self._ensure_not_revoked(claims['sid'])
            user = await self._user(claims['user_id'])
        except AuthenticationAPIError as exc:
            exc.user_id = claims['user_id']  # verified claims: the audit log may name the account
            raise
        return user.copy_for_session(claims)

    async def _ensure_not_revoked(self, session_id: str) -> None:
        # What this worker knows to be revoked wins over any "live" answer, including one from a
        # store look-up that started before a logout handled here.
        if session_id in self._revoked_sessions:
            raise AuthenticationAPIError('Token has been revoked')
        now = time.monotonic()
        checked = self._live_sessions.get(session_id)
        if checked is not None and now - checked < self.cache.revocation_ttl:
            return
        key = _session_key(session_id)
        revoked = await self._flights.run(key, lambda: self.revocations.is_revoked(key))
        if revoked or session_id in self._revoked_sessions:
            self._live_sessions.pop(session_id, None)
            self._revoked_sessions.put(session_id, self._session_end())
            raise AuthenticationAPIError('Token has been revoked')
        self._live_sessions.put(session_id, now)

    async def _user(self, user_id: str) -> Any:
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is not None and now - cached[0] < self.cache.user_ttl:
            return cached[1]
        user = await self._flights.run(('user', user_id), lambda: self.user_model.find_one(id=user_id))
        if user is None:
            self._users.pop(user_id, None)
            raise AuthenticationAPIError('User not found')
        self._users.put(user_id, (now, user))
        return user

    def forget_user(self, user_id: str | None) -> None:
        """Drop a cached user: called when this worker changes or deletes it."""
        self._users.pop(user_id, None)

    async def login(self, user: Any, *, scopes: Sequence[str] | None = None) -> dict[str, str]:
        """A new session for `user`; `scopes` go into both tokens and survive refresh."""
        session_id = secrets.token_urlsafe(16)
        pair = self.issue_pair(user.id, session_id, scopes=scopes)
        await user.update(last_login=datetime.now(UTC))
        audit.log_event('login', user_id=user.id, session=audit.session_ref(session_id))
        return pair

    async def refresh(self, refresh_token: str) -> dict[str, str]:
        """A new pair for a refresh token that is valid and unused; reuse revokes the session."""
        claims = self.decode(refresh_token, REFRESH)
        session_key = _session_key(claims['sid'])
        if await self.revocations.is_revoked(session_key):
            raise AuthenticationAPIError('Token has been revoked')
        if not await self.revocations.claim_once(f'used:{claims["jti"]}', until=claims['exp']):
            await self._revoke_session(claims['sid'])
            raise AuthenticationAPIError('Refresh token was already used; the session has been revoked')
        if await self.user_model.find_one(id=claims['user_id']) is None:
            raise AuthenticationAPIError('User not found')
        audit.log_event('refresh', user_id=claims['user_id'], session=audit.session_ref(claims['sid']))
        return self.issue_pair(claims['user_id'], claims['sid'], scopes=claims.get('scope'))

    async def logout(self, claims: dict[str, Any]) -> None:
        await self._revoke_session(claims['sid'])
        audit.log_event('logout', user_id=claims['user_id'], session=audit.session_ref(claims['sid']))

    async def _revoke_session(self, session_id: str) -> None:
        until = self._session_end()
        await self.revocations.revoke(_session_key(session_id), until=until)
        self._live_sessions.pop(session_id, None)
        self._revoked_sessions.put(session_id, until)

    def _session_end(self) -> float:
        """Every token issued until now has expired by then."""
        return time.time() + self._refresh_life + 1


def _scope_claim(scopes: Sequence[str] | str | None) -> str | None:
    if scopes is None or isinstance(scopes, str):
        return scopes or None
    for scope in scopes:
        if not isinstance(scope, str) or not scope or ' ' in scope or '"' in scope or '\\' in scope:
            raise ValueError(f'{scope!r} is not a valid scope (RFC 6749 section 3.3)')
    return ' '.join(scopes) or None


def _session_key(session_id: str) -> str:
    return f'sid:{session_id}'


def _reason(exc: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return 'Token is invalid'
