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

Why the caches: see `panther_like.login_state.token_cache`. Each request gets its own
copy of the cached user (`copy_for_session`), so the token claims `logout`
needs never reach another request.

Every login session is also written to the `SessionRegistry`, so a user's
sessions can be listed and ended together ("log out everywhere", "a
password change ends every other session").

A password change ends every session the user had (`password_changed`,
called by ``BaseUser.set_password`` and ``update(password=...)``), through
the same revocation path as a logout, so every worker refuses the old
tokens within ``AUTH_CACHE['revocation_ttl']``. Why by session and not by
a "valid after" time compared with ``iat``: every token names its session,
so a refresh racing the change yields a pair of an ended session, and a
login in the same second as the change is not mistaken for an earlier
one. `changing_password(keep=sid)` around the change spares the session of
the request that made it (``POST /auth/password/change``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from panther_like import audit
from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import AuthenticationAPIError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.change_feed import SESSION, USER, ChangeFeed
from panther_like.login_state.revocation import RevocationStore
from panther_like.login_state.session_registry import LoginSession, SessionRegistry
from panther_like.login_state.token_cache import AuthCache, session_key
from panther_like.settings.checks import AuthCacheSettings, JWTSettings

ACCESS = 'access'
REFRESH = 'refresh'
REQUIRED_CLAIMS = ('user_id', 'token_type', 'iat', 'exp', 'jti', 'sid')
# Three base64url segments; anything else is refused before PyJWT sees it.
JWT_SHAPE = re.compile(r'[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+')
MAX_TOKEN_LENGTH = 8192
#: The time claims, read as seconds since the epoch when present (``exp`` and ``iat`` always are).
TIME_CLAIMS = ('exp', 'iat', 'nbf')
#: Beyond this a float no longer holds whole seconds exactly (and ``10**400`` overflows one).
MAX_TIME_CLAIM = 2**53

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, 'Token has expired'),
    (jwt.ImmatureSignatureError, 'Token is not yet valid'),
    (jwt.InvalidSignatureError, 'Token signature is invalid'),
    (jwt.InvalidAlgorithmError, 'Token algorithm is not allowed'),
    (jwt.DecodeError, 'Token is malformed'),
)


@dataclass(slots=True)
class PasswordChange:
    """A password change under way: the session it spares, and how many sessions it ended."""

    keep: str | None = None
    ended: int = 0


_PASSWORD_CHANGE: ContextVar[PasswordChange | None] = ContextVar('panther_like_password_change', default=None)


@contextmanager
def changing_password(keep: str | None = None) -> Iterator[PasswordChange]:
    """Around ``user.set_password(...)``: the session `keep` goes on; `.ended` counts the sessions ended.

    Without it a password change ends every session of the user.
    """
    change = PasswordChange(keep)
    token = _PASSWORD_CHANGE.set(change)
    try:
        yield change
    finally:
        _PASSWORD_CHANGE.reset(token)


class TokenService:
    """Issues and checks the tokens of one app; built once from its `Config`."""

    def __init__(
        self,
        settings: JWTSettings,
        revocations: RevocationStore,
        user_model: type,
        cache: AuthCacheSettings | None = None,
        *,
        changes: ChangeFeed,
        sessions: SessionRegistry,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.keys = settings.keys
        self.revocations = revocations
        self.user_model = user_model
        self.changes = changes
        self.sessions = sessions
        self.clock = clock
        self.cache = AuthCache(cache or AuthCacheSettings(), revocations, changes, self._load_user, clock=clock)
        self._algorithms = [settings.algorithm]
        self._headers = {'kid': self.keys.kid} if self.keys.kid else None
        self._several_keys = len({id(key) for key in self.keys.verification_keys.values()}) > 1
        self._life = int(settings.life_time.total_seconds())
        self._refresh_life = int(settings.refresh_life_time.total_seconds())

    async def _load_user(self, user_id: str) -> Any:
        return await self.user_model.find_one(id=user_id)

    # -- encoding and verifying ---------------------------------------------------------------

    def encode(self, user_id: str, token_type: str, session_id: str, scope: str | None = None) -> str:
        now = int(self.clock.time())
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
        for claim in TIME_CLAIMS:
            if claim in claims and not is_time(claims[claim]):
                raise AuthenticationAPIError(f'Token claim {claim!r} must be a number of seconds')
        if claims['token_type'] != expected_type:
            article = 'an' if expected_type == ACCESS else 'a'
            raise AuthenticationAPIError(f'Token is not {article} {expected_type} token')
        if claims['exp'] <= self.clock.time():  # PyJWT reads the system clock; this service reads its own
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
        return self.keys.jwks()

    # -- authenticating -----------------------------------------------------------------------

    async def authenticate(self, token: str, connection: HTTPConnection | None = None) -> Any:
        """The user an access token belongs to (a copy of its own, for `connection`), or a 401."""
        now = self.clock.monotonic()  # the one clock read of a warm request
        cached = self.cache.verified.get(token)
        if cached is None or cached[1] <= now:
            claims = self.decode(token, ACCESS)
            # Expiry as a monotonic deadline, so a cache hit needs no wall-clock read.
            self.cache.verified.put(token, (claims, now + claims['exp'] - self.clock.time()))
        else:
            claims = cached[0]
        cache = self.cache
        try:
            if not cache.known_live(claims['sid'], now):
                await cache.ensure_session_live(claims['sid'], now)
            user = cache.cached_user(claims['user_id'], now) or await cache.user(claims['user_id'], now)
            if user is None:
                raise AuthenticationAPIError('User not found')
            if not user.can_authenticate():
                raise AuthenticationAPIError('User account is disabled')
        except AuthenticationAPIError as exc:
            exc.user_id = claims['user_id']  # verified claims: the audit log may name the account
            raise
        return user.copy_for_session(claims, connection)

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

    async def login(
        self, user: Any, *, scopes: Sequence[str] | None = None, request: HTTPConnection | None = None
    ) -> dict[str, str]:
        """A new session for `user`; `scopes` go into both tokens and survive refresh.

        `request`, when given, is where the session's user agent and client address come from.
        """
        session_id = secrets.token_urlsafe(16)
        pair = self.issue_pair(user.id, session_id, scopes=scopes)
        await self.sessions.start(session_id, user.id, expires_at=self._session_end(), **_origin(request))
        await user.record_login(datetime.fromtimestamp(self.clock.time(), UTC))
        audit.log_event('login', request=request, user_id=user.id, session=audit.session_ref(session_id))
        return pair

    async def refresh(self, refresh_token: str, *, request: HTTPConnection | None = None) -> dict[str, str]:
        """A new pair for a refresh token that is valid and unused; reuse revokes the session."""
        try:
            return await self._refresh(refresh_token, request)
        except AuthenticationAPIError as exc:
            audit.log_event('refresh.failure', request=request, reason=exc.detail, user_id=exc.user_id)
            raise

    async def _refresh(self, refresh_token: str, request: HTTPConnection | None) -> dict[str, str]:
        claims = self.decode(refresh_token, REFRESH)
        session_id = claims['sid']
        if await self.revocations.is_revoked(session_key(session_id)):
            raise AuthenticationAPIError('Token has been revoked')
        if not await self.revocations.claim_once(f'used:{claims["jti"]}', until=claims['exp']):
            await self.end_session(session_id)
            raise AuthenticationAPIError('Refresh token was already used; the session has been revoked')
        user = await self.user_model.find_one(id=claims['user_id'])
        if user is None:
            raise AuthenticationAPIError('User not found')
        if not user.can_authenticate():
            raise AuthenticationAPIError('User account is disabled')
        await self.sessions.touch(session_id, expires_at=self._session_end(), **_origin(request))
        audit.log_event('refresh', request=request, user_id=claims['user_id'], session=audit.session_ref(session_id))
        return self.issue_pair(claims['user_id'], session_id, scopes=claims.get('scope'))

    async def logout(self, claims: dict[str, Any], *, request: HTTPConnection | None = None) -> None:
        """End the session the claims belong to: every token of that login, in every worker."""
        await self.end_session(claims['sid'])
        audit.log_event('logout', request=request, user_id=claims['user_id'], session=audit.session_ref(claims['sid']))

    async def end_session(self, session_id: str) -> None:
        until = self._session_end()
        await self.revocations.revoke(session_key(session_id), until=until)
        self.cache.session_revoked(session_id, until)
        await self.changes.publish(SESSION, session_id)
        await self.sessions.end(session_id)

    async def end_sessions(
        self, user_id: str, *, keep: str | None = None, request: HTTPConnection | None = None
    ) -> int:
        """End every session of `user_id` except `keep` (the current one, say); returns how many ended."""
        ended = 0
        for session in await self.sessions.of_user(user_id):
            if session.sid != keep:
                await self.end_session(session.sid)
                ended += 1
        audit.log_event('logout.sessions', request=request, user_id=user_id, ended=ended, kept=keep is not None)
        return ended

    async def password_changed(self, user_id: str) -> int:
        """Every login session of `user_id` ends, but the one `changing_password` keeps; returns how many."""
        change = _PASSWORD_CHANGE.get()
        ended = await self.end_sessions(user_id, keep=change.keep if change else None)
        if change is not None:
            change.ended += ended
        return ended

    async def sessions_of(self, user_id: str) -> list[LoginSession]:
        return await self.sessions.of_user(user_id)

    async def user_changed(self, user_id: str) -> None:
        """A user was updated or deleted: this worker forgets it now, every other one within the bound."""
        self.cache.user_changed(user_id)
        await self.changes.publish(USER, user_id)

    def _session_end(self) -> float:
        """Every token issued until now has expired by then."""
        return self.clock.time() + self._refresh_life + 1


def is_time(value: Any) -> bool:
    """A NumericDate (RFC 7519 section 2): a finite JSON number, not a string or a boolean.

    PyJWT reads ``"exp": "9999999999"`` with `int()` and accepts it; every
    later use of the claim would then meet a string.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return -MAX_TIME_CLAIM <= value <= MAX_TIME_CLAIM  # NaN compares False: refused too


def _origin(request: HTTPConnection | None) -> dict[str, str | None]:
    if request is None:
        return {'user_agent': None, 'client': None}
    client = request.client
    return {'user_agent': request.headers.get('user-agent'), 'client': client[0] if client else None}


def _scope_claim(scopes: Sequence[str] | str | None) -> str | None:
    if scopes is None or isinstance(scopes, str):
        return scopes or None
    for scope in scopes:
        if not isinstance(scope, str) or not scope or ' ' in scope or '"' in scope or '\\' in scope:
            raise ValueError(f'{scope!r} is not a valid scope (RFC 6749 section 3.3)')
    return ' '.join(scopes) or None


def _reason(exc: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return 'Token is invalid'
