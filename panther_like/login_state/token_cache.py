"""What a worker reuses between authenticated requests, and how it learns what to forget.

On an authenticated route the signature check and the store round trips
cost far more than the framework. A worker therefore keeps

- the claims of access tokens it has verified, keyed by the exact token
  string (a token it never verified cannot hit) and re-checked against
  ``exp`` on every use;
- every revoked session that has not yet ended, not only those it has seen:
  loaded from the revocation store at its first look at the change feed and
  kept up to date by the feed, so "is this session revoked?" never needs a
  store round trip, even at a token's first sight;
- users, by id (users are fewer than tokens).

Nothing here expires on a short timer. Instead the worker reads the change
feed (`panther_like.login_state.change_feed`): one store question per interval, whatever
the number of users, answers "which sessions were revoked and which users
changed since I last looked", and the worker applies it. A request is
served from memory only while the last look began less than
``revocation_ttl`` ago (0.5 s by default, never more than 1 s). Half an
interval after a look the next one starts in the background, so requests
seldom wait; a request that finds the last look too old waits for a new
one, and if the store cannot be read it fails with 503: a worker that
cannot hear about revocations refuses rather than trusts (fail closed). A
worker that may have missed changes (it looked too long ago) reads users
again and loads the revoked sessions again.

Changes made through this worker (a logout, a user update) are applied to
its own caches at once. A user edited outside the framework (a database
shell) is re-read at the latest after ``user_ttl`` seconds.

A user read that started before a change arrived is not cached: the change
may concern what it read. The token and user caches are bounded by
``max_entries`` with an admission policy (`BoundedCache`) rather than FIFO,
so a working set larger than the cache still hits part of the time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import AuthenticationAPIError
from panther_like.login_state.change_feed import SESSION, USER, ChangeFeed
from panther_like.login_state.jwt_codec import CREDENTIAL_VERSION
from panther_like.login_state.revocation import PURGE_INTERVAL_SECONDS, SESSION_PREFIX, RevocationStore
from panther_like.settings.checks import AuthCacheSettings

logger = logging.getLogger('panther_like')


class BoundedCache(OrderedDict[Any, Any]):
    """A dict of at most `max_entries` where a new key must earn its place once it is full (0: keeps nothing).

    Why not FIFO or LRU: a working set larger than the cache that is visited
    in turn (a client pool, a load balancer's rotation) evicts each key just
    before it comes back, so nothing ever hits. Here (CLOCK with a doorkeeper)
    each entry is marked when `hit`; a full cache offers the oldest entry's
    place to a new key only if that entry was not used since it was last
    offered, and only to a key seen once before. Otherwise the new key is not
    kept and the old entry goes to the back, unmarked. A working set twice the
    size still hits about half the time; the price is one set insertion per
    hit, and every step is O(1).
    """

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries
        self._used: set[Any] = set()  # keys hit since their place was last offered
        self._doorkeeper: set[int] = set()  # hashes of keys refused once, cleared whenever it fills

    def hit(self, key: Any) -> Any:
        """The value of `key` (None when absent), marked as used."""
        value = self.get(key)
        if value is not None:
            self._used.add(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        if self.max_entries <= 0:
            return
        if key in self or len(self) < self.max_entries:
            self[key] = value
            return
        oldest = next(iter(self))
        seen = hash(key) in self._doorkeeper
        if oldest in self._used or not seen:
            self._used.discard(oldest)
            self.move_to_end(oldest)  # the hand moves on; the old entry stays
            if not seen:
                if len(self._doorkeeper) >= self.max_entries:
                    self._doorkeeper.clear()
                self._doorkeeper.add(hash(key))
            return
        del self[oldest]
        self._doorkeeper.discard(hash(key))
        self[key] = value

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._used.discard(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._used.discard(key)
        return super().pop(key, *default)

    def clear(self) -> None:
        super().clear()
        self._used.clear()


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
    return SESSION_PREFIX + session_id


class AuthCache:
    def __init__(
        self,
        settings: AuthCacheSettings,
        revocations: RevocationStore,
        changes: ChangeFeed,
        load_user: Callable[[str], Awaitable[Any]],
        *,
        clock: Clock = SYSTEM_CLOCK,
        session_life: float,
    ) -> None:
        self.settings = settings
        self._revocations = revocations
        self._changes = changes
        self._load_user = load_user
        self._clock = clock
        self._session_life = session_life
        size = settings.max_entries
        self.verified = BoundedCache(size)  # token -> (claims, monotonic time it expires)
        #: sid -> epoch after which every token of it has expired: every revoked session, not just the cached ones.
        self.revoked: dict[str, float] = {}
        self._revoked_complete = False  # loaded from the store since the feed's cursor was last (re)set
        self._next_purge = float('-inf')  # wall time the ended entries of `revoked` are next dropped
        self._users = BoundedCache(size)  # user id -> (monotonic time read, user)
        self._flights = SingleFlight()
        self._synced_at = float('-inf')  # monotonic time the last complete look started
        self._refresh: asyncio.Future[None] | None = None  # a look started ahead of time, while it runs
        self._early_look = settings.revocation_ttl / 2  # when the next look starts in the background
        self._generation = 0  # grows with every change applied

    # -- the request path ---------------------------------------------------------------------

    def known_live(self, session_id: str, now: float) -> bool:
        """True when memory alone can answer "live": no look is due and the session is not revoked.

        The warm path of a request, without a coroutine; anything else takes `ensure_session_live`.
        """
        return now - self._synced_at < self._early_look and session_id not in self.revoked

    def cached_user(self, user_id: str, now: float) -> Any:
        """The cached user with this id while it may be trusted, else None (then ask `user`)."""
        cached = self._users.hit(user_id)
        if cached is not None and now - cached[0] < self.settings.user_ttl:
            return cached[1]
        return None

    def remembered(self, token: str, now: float) -> tuple[dict[str, Any], Any] | None:
        """The claims and cached user of `token` when memory alone may answer, else None.

        Memory may answer for a token verified before and not yet expired, of a session known
        live, whose user is cached, may log in, and holds the token's credential version. None
        is never "refused": it sends the request the full way, where every refusal is made.
        """
        cached = self.verified.hit(token)
        if cached is None or cached[1] <= now:
            return None
        claims = cached[0]
        if not self.known_live(claims['sid'], now):
            return None
        user = self.cached_user(claims['user_id'], now)
        if user is None or user.credential_version != claims[CREDENTIAL_VERSION] or not user.can_authenticate():
            return None
        return claims, user

    async def ensure_session_live(self, session_id: str, now: float) -> None:
        """Return if the session is not revoked, else raise a 401; never asks the store about the session.

        `now` is the caller's monotonic time (one clock read per request). The
        worker holds every revoked session (loaded at its first look, kept by
        the change feed), so only a look that is due can make a request wait.
        """
        age = now - self._synced_at
        if age >= self.settings.revocation_ttl:
            await self._flights.run('changes', self._look)  # too old to trust: wait for a fresh look, or 503
            if now - self._synced_at >= self.settings.revocation_ttl:
                # It joined a look begun too long ago (one slower than the bound): that look may have read the
                # feed before a logout this request must see. The next one begins after this request did.
                await self._flights.run('changes', self._look)
        elif age >= self._early_look and self._refresh is None:
            self._refresh = asyncio.ensure_future(self._look_in_background())
        if session_id in self.revoked:
            raise AuthenticationAPIError('Token has been revoked')

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
        self.revoked[session_id] = max(until, self.revoked.get(session_id, until))
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
        wall = self._clock.time()
        if not batch.complete:
            self.forget_everything()
        for change in batch.changes:
            if change.kind == SESSION:
                # Its end is not in the feed; none of its tokens outlives a session's life from now.
                self.revoked.setdefault(change.key, wall + self._session_life)
            elif change.kind == USER:
                self._users.pop(change.key, None)
        if batch.changes:
            self._generation += 1
        if not self._revoked_complete:
            # After the read: what was revoked before the feed's cursor is in the store, what comes after in the feed.
            stored = await self._revocations.revoked_sessions()
            until = wall + self._session_life
            for session_id in stored:
                self.revoked.setdefault(session_id, until)
            self._revoked_complete = True
        if wall >= self._next_purge:
            self._next_purge = wall + PURGE_INTERVAL_SECONDS
            self.revoked = {sid: until for sid, until in self.revoked.items() if until > wall}
        self._synced_at = started

    def forget_everything(self) -> None:
        """Changes may have been missed: users are read again, and the revoked sessions from the store."""
        self._users.clear()
        self._revoked_complete = False
        self._generation += 1
