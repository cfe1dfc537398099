"""Login sessions: start, authenticate, refresh, end; and the credential version each one holds.

Every token belongs to a session (``sid``) that starts at `login`. Refresh
keeps the session and rotates the pair; presenting a spent refresh token
again means it was stolen or replayed, so the whole session is revoked.
One exception keeps two tabs (or a retried request) from logging the user
out: within ``ACCOUNTS['refresh_grace']`` seconds of a refresh, and as long
as its successor has not been used, the same token answers the same
successor pair. The pair waits in the shared revocation store, sealed with
a key derived from the spent token, so that only its holder can open it
and every worker and host answers alike.
`logout` revokes the session: the access token of the request, the refresh
token issued with it, and any earlier token of the same login.

Every session also holds the user's credential version of when it started
(the ``cv`` claim, and its row in the `SessionRegistry`). A password change
replaces the user's version (`panther_like.db.user`), wherever it is made;
from then on a token whose version differs is refused, on use and on
refresh. Every worker hears of the changed user through the change feed
within ``AUTH_CACHE['revocation_ttl']``, as of a logout. A session that a
change through the account service keeps going (the one that asked for it)
has its row moved to the new version first, and is accepted by that row.

Why the caches: see `panther_like.login_state.token_cache`. Each request gets its own
copy of the cached user (`copy_for_session`), so the token claims `logout`
needs never reach another request.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from panther_like import audit
from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import AuthenticationAPIError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.change_feed import SESSION, USER, ChangeFeed
from panther_like.login_state.jwt_codec import (
    ACCESS,
    AMR,
    AUTH_TIME,
    CREDENTIAL_VERSION,
    PASSWORD,
    REFRESH,
    JWTCodec,
    is_time,
)
from panther_like.login_state.refresh_window import open_successor, seal_successor
from panther_like.login_state.revocation import RevocationStore
from panther_like.login_state.session_registry import LoginSession, SessionRegistry
from panther_like.login_state.token_cache import AuthCache, BoundedCache, session_key
from panther_like.settings.accounts import DEFAULT_REFRESH_GRACE
from panther_like.settings.checks import AuthCacheSettings

#: What a token of a session that a password change ended is told.
CREDENTIALS_CHANGED = 'Token has been revoked (the password changed)'
#: What a refresh token presented again after its successor was used (or after the grace) is told.
REFRESH_REUSED = 'Refresh token was already used; the session has been revoked'
#: While the first refresh of a token is still writing its answer: how long, and how often, a twin looks for it.
PENDING_WAIT_SECONDS = 3.0
PENDING_POLL_SECONDS = 0.02
_PENDING = '-'
#: What every credential of a deactivated account (``is_active=False``) is told, with a 401.
ACCOUNT_DISABLED = 'User account is disabled'


class LoginSessions:
    """The login sessions of one app; built once, with its codec and its fast state."""

    def __init__(
        self,
        codec: JWTCodec,
        revocations: RevocationStore,
        user_model: Any,
        cache: AuthCacheSettings | None = None,
        *,
        changes: ChangeFeed,
        sessions: SessionRegistry,
        clock: Clock = SYSTEM_CLOCK,
        refresh_grace: float = DEFAULT_REFRESH_GRACE,
    ) -> None:
        self.codec = codec
        #: Seconds a spent refresh token still answers its successor pair, until that pair is used.
        self.refresh_grace = refresh_grace
        self.revocations = revocations
        self.user_model = user_model
        self.changes = changes
        self.sessions = sessions
        self.clock = clock
        settings = cache or AuthCacheSettings()
        self.cache = AuthCache(
            settings, revocations, changes, self._load_user, clock=clock, session_life=codec.refresh_life + 1
        )
        #: sid -> the credential version its row was moved to by a change that kept it.
        self._carried = BoundedCache(settings.max_entries)

    async def _load_user(self, user_id: str) -> Any:
        return await self.user_model.find_one(id=user_id)

    # -- authenticating -----------------------------------------------------------------------

    def remembered(self, token: str, connection: HTTPConnection | None = None) -> Any:
        """`authenticate`'s answer when this worker's memory alone gives it (no coroutine), else None: ask it."""
        found = self.cache.remembered(token, self.clock.monotonic())
        return None if found is None else found[1].copy_for_session(found[0], connection)

    async def authenticate(self, token: str, connection: HTTPConnection | None = None) -> Any:
        """The user an access token belongs to (a copy of its own, for `connection`), or a 401."""
        now = self.clock.monotonic()  # the one clock read of a warm request
        cached = self.cache.verified.hit(token)
        if cached is None or cached[1] <= now:
            claims = self.codec.decode(token, ACCESS)
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
            if user.credential_version != claims[CREDENTIAL_VERSION]:
                user = await self._current_credentials(claims, now)
            if not user.can_authenticate():
                raise AuthenticationAPIError(ACCOUNT_DISABLED)
        except AuthenticationAPIError as exc:
            exc.user_id = claims['user_id']  # verified claims: the audit log may name the account
            raise
        return user.copy_for_session(claims, connection)

    async def _current_credentials(self, claims: dict[str, Any], now: float) -> Any:
        """The user, when the token's credential version is still good after all; else a 401.

        Reached only on a mismatch: this worker's copy of the user may be older than the token (a
        login on another worker right after a change), or the session was kept through a change.
        """
        sid, user_id = claims['sid'], claims['user_id']
        self.cache.user_changed(user_id)  # re-read it: the copy may predate the token
        user = await self.cache.user(user_id, now)
        if user is None:
            raise AuthenticationAPIError('User not found')
        if user.credential_version == claims[CREDENTIAL_VERSION] or await self._carried_to(sid, user):
            return user
        self.cache.session_revoked(sid, self.clock.time() + self.codec.refresh_life + 1)
        raise AuthenticationAPIError(CREDENTIALS_CHANGED)

    async def _carried_to(self, sid: str, user: Any) -> bool:
        """Whether a password change kept session `sid` going, at the user's current version."""
        version = user.credential_version
        if self._carried.get(sid) == version:
            return True
        session = await self.sessions.get(sid)
        if session is None or session.credential_version != version:
            return False
        self._carried.put(sid, version)
        return True

    # -- sessions -----------------------------------------------------------------------------

    def issue_pair(
        self,
        user_id: str,
        session_id: str | None = None,
        *,
        scopes: Sequence[str] | str | None = None,
        credential_version: str = '',
        auth_time: int | None = None,
        amr: Sequence[str] = (),
        custom_claims: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """A token pair; `custom_claims` (``JWTConfig['claims']``) go in the access token only."""
        session_id = session_id or secrets.token_urlsafe(16)
        scope = _scope_claim(scopes)
        encode = self.codec.encode
        return {
            token_type: encode(
                user_id,
                kind,
                session_id,
                scope,
                credential_version=credential_version,
                auth_time=auth_time,
                amr=amr,
                extra=custom_claims if kind == ACCESS else None,
            )
            for token_type, kind in (('access_token', ACCESS), ('refresh_token', REFRESH))
        }

    async def login(
        self,
        user: Any,
        *,
        scopes: Sequence[str] | None = None,
        request: HTTPConnection | None = None,
        amr: Sequence[str] = (PASSWORD,),
    ) -> dict[str, str]:
        """A new session for `user`, at the credential version `user` was read with.

        `scopes` go into both tokens and survive refresh; `request`, when given, is where the
        session's user agent and client address come from. A password change that happened since
        `user` was read makes the session useless at once: its version is already stale. `amr`:
        how the user proved who they are, now (the ``auth_time``).
        """
        session_id = secrets.token_urlsafe(16)
        version = user.credential_version
        now = int(self.clock.time())
        custom = await self.codec.custom_claims(user)
        pair = self.issue_pair(
            user.id, session_id, scopes=scopes, credential_version=version, auth_time=now, amr=amr, custom_claims=custom
        )
        await self.sessions.start(
            session_id, user.id, expires_at=self._session_end(), credential_version=version, **_origin(request)
        )
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
        claims = self.codec.decode(refresh_token, REFRESH)
        session_id = claims['sid']
        if await self.revocations.is_revoked(session_key(session_id)):
            raise AuthenticationAPIError('Token has been revoked')
        if await self.revocations.is_revoked(_generation_key(session_id, claims.get(AUTH_TIME))):
            await self.end_session(session_id)  # spent by a reauthentication of this session
            raise AuthenticationAPIError(REFRESH_REUSED)
        if not await self.revocations.claim_once(f'used:{claims["jti"]}', until=claims['exp']):
            repeated = await self._successor(refresh_token, claims)
            if repeated is None:
                await self.end_session(session_id)
                raise AuthenticationAPIError(REFRESH_REUSED)
            audit.log_event(
                'refresh.repeat', request=request, user_id=claims['user_id'], session=audit.session_ref(session_id)
            )
            return repeated
        successor_key = f'next:{claims["jti"]}'
        if self.refresh_grace > 0:  # a twin arriving now waits for the answer instead of ending the session
            await self.revocations.remember(successor_key, _PENDING, until=self.clock.time() + self.refresh_grace)
        user = await self.user_model.find_one(id=claims['user_id'])
        if user is None:
            raise AuthenticationAPIError('User not found')
        if user.credential_version != claims[CREDENTIAL_VERSION] and not await self._carried_to(session_id, user):
            await self.end_session(session_id)
            raise AuthenticationAPIError(CREDENTIALS_CHANGED)
        if not user.can_authenticate():
            raise AuthenticationAPIError(ACCOUNT_DISABLED)
        await self.sessions.touch(session_id, expires_at=self._session_end(), **_origin(request))
        audit.log_event('refresh', request=request, user_id=claims['user_id'], session=audit.session_ref(session_id))
        pair = self.issue_pair(
            claims['user_id'],
            session_id,
            scopes=claims.get('scope'),
            credential_version=user.credential_version,
            auth_time=claims.get(AUTH_TIME),
            amr=claims.get(AMR, ()),
            custom_claims=await self.codec.custom_claims(user),
        )
        if self.refresh_grace > 0:
            sealed = seal_successor(refresh_token, claims['jti'], pair)
            await self.revocations.remember(successor_key, sealed, until=self.clock.time() + self.refresh_grace)
        return pair

    async def _successor(self, refresh_token: str, claims: dict[str, Any]) -> dict[str, str] | None:
        """The pair the first refresh of this token answered, while it may be answered again; else None.

        Waits (a little) for a first refresh that is still at work. None when the grace is over,
        when the first refresh failed, or once the successor's refresh token has been used.
        """
        if self.refresh_grace <= 0:
            return None
        key = f'next:{claims["jti"]}'
        deadline = self.clock.monotonic() + min(self.refresh_grace, PENDING_WAIT_SECONDS)
        sealed = await self.revocations.recall(key)
        if sealed is None:  # the first refresh may be between its claim and its mark: look once more
            await asyncio.sleep(PENDING_POLL_SECONDS)
            sealed = await self.revocations.recall(key)
        while sealed == _PENDING and self.clock.monotonic() < deadline:
            await asyncio.sleep(PENDING_POLL_SECONDS)
            sealed = await self.revocations.recall(key)
        if sealed is None or sealed == _PENDING:
            return None
        pair = open_successor(refresh_token, claims['jti'], sealed)
        if pair is None:
            return None
        successor = self.codec.decode(pair['refresh_token'], REFRESH)
        if await self.revocations.is_revoked(f'used:{successor["jti"]}'):
            return None
        return pair

    async def reauthenticate(
        self, user: Any, claims: dict[str, Any], amr: Sequence[str], *, request: HTTPConnection | None = None
    ) -> dict[str, str]:
        """A new pair for the session of `claims` (`user`'s access token, verified), authenticated now by `amr`.

        The session and its scopes stay; only ``auth_time`` and ``amr`` change. The session's earlier
        refresh tokens (those of the ``auth_time`` of `claims`, which a refresh keeps) are spent, as a
        rotated one is: presented again, they end the session. So the new ``auth_time`` is always a later
        second than the earlier one, or the new refresh token would be spent with them.
        """
        session_id = claims['sid']
        earlier: Any = claims.get(AUTH_TIME)
        now = int(self.clock.time())
        if is_time(earlier):
            now = max(now, int(earlier) + 1)
            await self.revocations.revoke(_generation_key(session_id, earlier), until=self._session_end())
        audit.log_event(
            'reauthenticate', request=request, user_id=claims['user_id'], session=audit.session_ref(session_id)
        )
        return self.issue_pair(
            claims['user_id'],
            session_id,
            scopes=claims.get('scope'),
            credential_version=user.credential_version,
            auth_time=now,
            amr=amr,
            custom_claims=await self.codec.custom_claims(user),
        )

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

    async def carry_session(self, session_id: str, credential_version: str) -> None:
        """Session `session_id` goes on through a password change to `credential_version` (call it first)."""
        await self.sessions.set_credential_version(session_id, credential_version)
        self._carried.put(session_id, credential_version)

    async def sessions_of(self, user_id: str, credential_version: str | None = None) -> list[LoginSession]:
        """The user's live sessions; given the user's current version, only those a token of can still use."""
        sessions = await self.sessions.of_user(user_id)
        if credential_version is None:
            return sessions
        return [session for session in sessions if session.credential_version == credential_version]

    async def user_changed(self, user_id: str) -> None:
        """A user was updated or deleted: this worker forgets it now, every other one within the bound."""
        self.cache.user_changed(user_id)
        await self.changes.publish(USER, user_id)

    def _session_end(self) -> float:
        """Every token issued until now has expired by then."""
        return self.clock.time() + self.codec.refresh_life + 1


def _generation_key(session_id: str, auth_time: Any) -> str:
    """The revocation key that spends a session's refresh tokens of one ``auth_time`` (see `reauthenticate`)."""
    return f'reauthenticated:{session_id}:{auth_time}'


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
