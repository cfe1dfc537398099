"""What a worker reuses between authenticated requests, and how it learns what to forget.

On an authenticated route the signature check and the store round trips
cost far more than the framework. A worker therefore keeps

- the claims of access tokens it has verified, keyed by the exact token
  string (a token it never verified cannot hit) and re-checked against
  ``exp`` on every use;
- sessions it found not revoked, and sessions it knows are revoked;
- users, by id.

Nothing here expires on a short timer. Instead the worker reads the change
feed (`panther_like.login_state.change_feed`): one store question per interval, whatever
the number of users, answers "which sessions were revoked and which users
changed since I last looked", and those entries are dropped. A request is
served from the caches only while the last look began less than
``revocation_ttl`` ago (0.5 s by default, never more than 1 s). Half an
interval after a look the next one starts in the background, so requests
seldom wait; a request that finds the last look too old waits for a new
one, and if the store cannot be read it fails with 503: a worker that
cannot hear about revocations refuses rather than trusts (fail closed).

Changes made through this worker (a logout, a user update) are applied to
its own caches at once. A user edited outside the framework (a database
shell) is re-read at the latest after ``user_ttl`` seconds.

A look-up that started before a change arrived is not cached: the change
may concern what it read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import AuthenticationAPIError
from panther_like.login_state.change_feed import SESSION, USER, ChangeFeed
from panther_like.login_state.revocation import RevocationStore
from panther_like.settings.checks import AuthCacheSettings

logger = logging.getLogger('panther_like')


class BoundedCache(dict[Any, Any]):
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
    """Concurrent callers asking for the same key share one store round trip."""

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


def session_key(session_id: str) -> str:
    """The revocation store's key for a session."""
    return f'sid:{session_id}'


class AuthCache:
    def __init__(
        self,
        settings: AuthCacheSettings,
        revocations: RevocationStore,
        changes: ChangeFeed,
        load_user: Callable[[str], Awaitable[Any]],
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self._revocations = revocations
        self._changes = changes
        self._load_user = load_user
        self._clock = clock
        size = settings.max_entries
        self.verified = BoundedCache(size)  # token -> (claims, monotonic time it expires)
        self._live_sessions = BoundedCache(size)  # sid -> True
        self._revoked_sessions = BoundedCache(size)  # sid -> epoch until which it stays revoked
        self._users = BoundedCache(size)  # user id -> (monotonic time read, user)
        self._flights = SingleFlight()
        self._synced_at = float('-inf')  # monotonic time the last complete look started
        self._refresh: asyncio.Future[None] | None = None  # a look started ahead of time, while it runs
        self._early_look = settings.revocation_ttl / 2  # when the next look starts in the background
        self._generation = 0  # grows with every change applied

    # -- the request path ---------------------------------------------------------------------

    def known_live(self, session_id: str, now: float) -> bool:
        """True when memory alone can answer "live": no look is due and the session was found live.

        The warm path of a request, without a coroutine; anything else takes `ensure_session_live`.
        """
        return now - self._synced_at < self._early_look and session_id in self._live_sessions

    def cached_user(self, user_id: str, now: float) -> Any:
        """The cached user with this id while it may be trusted, else None (then ask `user`)."""
        cached = self._users.get(user_id)
        if cached is not None and now - cached[0] < self.settings.user_ttl:
            return cached[1]
        return None

    async def ensure_session_live(self, session_id: str, now: float) -> None:
        """Return if the session is not revoked, else raise a 401; reads the store only on a miss.

        `now` is the caller's monotonic time (one clock read per request).
        """
        age = now - self._synced_at
        if age >= self.settings.revocation_ttl:
            await self._flights.run('changes', self._look)  # too old to trust: wait for a fresh look, or 503
        elif age >= self._early_look and self._refresh is None:
            self._refresh = asyncio.ensure_future(self._look_in_background())
        if session_id in self._revoked_sessions:
            raise AuthenticationAPIError('Token has been revoked')
        if session_id in self._live_sessions:
            return
        generation = self._generation
        key = session_key(session_id)
        revoked = await self._flights.run(key, lambda: self._revocations.is_revoked(key))
        if revoked or session_id in self._revoked_sessions:
            raise AuthenticationAPIError('Token has been revoked')
        if generation == self._generation:
            self._live_sessions.put(session_id, True)

    async def user(self, user_id: str, now: float) -> Any:
        """The user with this id (a shared instance: callers copy it), or None."""
        cached = self.cached_user(user_id, now)
        if cached is not None:
            return cached
        generation = self._generation
        user = await self._flights.run(('user', user_id), lambda: self._load_user(user_id))
        if user is None:
            self._users.pop(user_id, None)
        elif generation == self._generation:
            self._users.put(user_id, (now, user))
        return user

    # -- what this worker changes itself ------------------------------------------------------

    def session_revoked(self, session_id: str, until: float) -> None:
        self._live_sessions.pop(session_id, None)
        self._revoked_sessions.put(session_id, until)
        self._generation += 1

    def user_changed(self, user_id: str) -> None:
        self._users.pop(user_id, None)
        self._generation += 1

    # -- what other workers changed -----------------------------------------------------------

    async def _look_in_background(self) -> None:
        """A look begun half an interval early, so that requests seldom wait for one.

        Requests go on meanwhile: the last look is still within the bound. If
        this one fails, nothing is cached wrongly; once the bound is reached a
        request makes its own look and gets the 503 if the store is still down.
        """
        try:
            await self._flights.run('changes', self._look)
        except Exception as exc:  # the request that needs a look will see the error itself
            logger.warning('reading the change feed failed: %s', getattr(exc, 'detail', exc))
        finally:
            self._refresh = None

    async def _look(self) -> None:
        started = self._clock.monotonic()
        batch = await self._changes.read()
        if not batch.complete:
            self.forget_everything()
        for change in batch.changes:
            if change.kind == SESSION:
                # Its end time is unknown here; it is remembered as revoked for as long as the cache keeps it,
                # and a store check after eviction still answers "revoked".
                self._live_sessions.pop(change.key, None)
                self._revoked_sessions.put(change.key, float('inf'))
            elif change.kind == USER:
                self._users.pop(change.key, None)
        if batch.changes:
            self._generation += 1
        self._synced_at = started

    def forget_everything(self) -> None:
        self._live_sessions.clear()
        self._users.clear()
        self._generation += 1
