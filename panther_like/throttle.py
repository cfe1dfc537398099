"""Login throttling: a bounded number of failed password checks per username and per client address.

Why both keys: a limit per username stops guessing one account's password
from many addresses; a limit per address stops one client from trying a
few passwords against many accounts. Either limit reached means **429**
with ``Retry-After`` (seconds), before any password is checked.

Why reserve before checking: `check` counts the attempt *before* the
password is verified (and gives the slot back on success), so a burst of
concurrent guesses cannot all pass a "fewer than N failures so far" test
at once: at most ``max_failures`` attempts per window ever get a password
check.

The counters live where revocations live, so every worker and host sees
the same numbers: in the database by default (one row per attempt, counted
over a sliding window; inserts are atomic on both backends, so no ``$inc``
is needed), in Redis when ``REDIS`` is set (``INCR`` + ``EXPIRE ... NX``,
a window that starts at the first failure).

Use it in a login view::

    from panther_like.throttle import login_throttle

    await login_throttle.check(request, username)          # 429 when over the limit
    if user is None or not user.check_password(password):
        await login_throttle.record_failure(request, username, user_id=user and user.id)
        raise AuthenticationAPIError('Invalid username or password')
    await login_throttle.reset(request, username)          # success: this username starts over

Settings: ``LOGIN_THROTTLE = {'max_failures': 5, 'window': 300,
'max_failures_per_address': 50}`` (every key optional; ``window`` in
seconds or a timedelta); ``LOGIN_THROTTLE = False`` turns it off.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from panther_like import audit, status
from panther_like.exceptions import APIError
from panther_like.redis_connection import RedisConnection
from panther_like.request import HTTPConnection
from panther_like.revocation import ExpiredRowPurge
from panther_like.settings import ThrottleSettings
from panther_like.utils import SYSTEM_CLOCK, Clock

THROTTLE_COLLECTION = 'panther_like_login_attempts'


class TooManyAttemptsAPIError(APIError):
    """429 with ``Retry-After``: too many failed logins (or requests of one kind) for a subject or an address."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int, what: str = 'failed login attempts') -> None:
        super().__init__(
            f'Too many {what}; try again in {retry_after} seconds', headers={'Retry-After': str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ActionLimit:
    """How many requests of one kind (a password-reset e-mail, say) a subject and an address may make."""

    per_subject: int = 3
    per_address: int = 30
    window: int = 900


# -- where the counters live ------------------------------------------------------------------


class ThrottleStore(ABC):
    """Counters of attempts per key over a window, shared by every worker."""

    @abstractmethod
    async def hit(self, key: str, window: int) -> tuple[int, Any]:
        """Count one attempt for `key`; return the count including it and a receipt for `undo`."""

    @abstractmethod
    async def undo(self, key: str, receipt: Any) -> None:
        """Forget the attempt `hit` returned `receipt` for."""

    @abstractmethod
    async def retry_after(self, key: str, limit: int) -> int:
        """Seconds until `key` has fewer than `limit` attempts again (at least 1)."""

    @abstractmethod
    async def clear(self, key: str) -> None:
        """Forget every attempt for `key`."""


class DatabaseThrottleStore(ThrottleStore):
    """One row ``{_id, key, until}`` per attempt; the count is the rows of `key` not yet expired.

    Only `insert_one`, `count`, `find`, `delete_one` and `delete_many` are
    used, which both backends implement the same way (neosqlite's and
    nx-27017's ``$inc`` are not relied on).
    """

    def __init__(self, database: Any, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)

    @property
    def _rows(self) -> Any:
        return self._database.collection(THROTTLE_COLLECTION)

    async def hit(self, key: str, window: int) -> tuple[int, Any]:
        now = self._clock.time()
        row_id = secrets.token_hex(12)
        await self._rows.insert_one({'_id': row_id, 'key': key, 'until': now + window})
        count = await self._rows.count({'key': key, 'until': {'$gt': now}})
        await self._purge_expired(self._rows, now)
        return count, row_id

    async def undo(self, key: str, receipt: Any) -> None:
        await self._rows.delete_one({'_id': receipt})

    async def retry_after(self, key: str, limit: int) -> int:
        now = self._clock.time()
        live = await self._rows.find({'key': key, 'until': {'$gt': now}}, sort=[('until', 1)])
        if len(live) < limit:
            return 1
        # Once the oldest (len - limit + 1) rows have expired, fewer than `limit` remain.
        return max(1, math.ceil(live[len(live) - limit]['until'] - now))

    async def clear(self, key: str) -> None:
        await self._rows.delete_many({'key': key})


class RedisThrottleStore(ThrottleStore):
    """``INCR`` + ``EXPIRE key window NX`` in one transaction: the window starts at the first attempt."""

    PREFIX = 'panther_like:throttle:'

    def __init__(self, redis: RedisConnection) -> None:
        self._redis = redis

    async def hit(self, key: str, window: int) -> tuple[int, Any]:
        name = self.PREFIX + key
        count, _ = await self._redis.transaction(('incr', name), ('expire', name, window, True))  # True: NX
        return int(count), None

    async def undo(self, key: str, receipt: Any) -> None:
        await self._redis.transaction(('decr', self.PREFIX + key))

    async def retry_after(self, key: str, limit: int) -> int:
        (ttl,) = await self._redis.transaction(('ttl', self.PREFIX + key))
        return max(1, int(ttl))

    async def clear(self, key: str) -> None:
        await self._redis.transaction(('delete', self.PREFIX + key))


# -- the throttle a login view uses ------------------------------------------------------------


def _username_key(username: str) -> str:
    # Hashed: the counters never hold what someone typed (a password pasted into the username field).
    return 'user:' + hashlib.sha256(username.encode('utf-8', 'surrogatepass')).hexdigest()[:32]


def _address_key(request: HTTPConnection) -> str | None:
    client = request.client
    return f'addr:{client[0]}' if client else None


class LoginThrottle:
    """Limits failed logins per username and per client address; see the module docstring."""

    def __init__(self, settings: ThrottleSettings | None, store: ThrottleStore) -> None:
        self.settings = settings
        self.store = store

    @classmethod
    def build(
        cls, settings: ThrottleSettings | None, database: Any, redis: RedisConnection | None, *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> LoginThrottle:
        store = RedisThrottleStore(redis) if redis is not None else DatabaseThrottleStore(database, clock=clock)
        return cls(settings, store)

    def _limits(self, request: HTTPConnection, username: str) -> list[tuple[str, int]]:
        assert self.settings is not None
        limits = [(_username_key(username), self.settings.max_failures)]
        address = _address_key(request)
        if address is not None:
            limits.append((address, self.settings.max_failures_per_address))
        return limits

    async def check(self, request: HTTPConnection, username: str) -> None:
        """Reserve one attempt for `username` from this client, or raise 429 (`TooManyAttemptsAPIError`)."""
        if self.settings is None:
            return
        taken = await self._take(request, self._limits(request, username), self.settings.window,
                                 event='login.throttled', what='failed login attempts')
        request.scope.setdefault('state', {})['panther_like.login_attempt'] = taken

    async def limit(
        self, request: HTTPConnection, action: str, subject: str, limit: ActionLimit = ActionLimit()
    ) -> None:
        """Count one `action` request (``'password_reset'``, ``'verify'``) for `subject` from this client.

        429 with ``Retry-After`` once the subject or the address is over `limit`; a request
        refused this way is not counted. The subject is hashed like a username.
        """
        limits = [(f'{action}:{_username_key(subject)}', limit.per_subject)]
        address = _address_key(request)
        if address is not None:
            limits.append((f'{action}:{address}', limit.per_address))
        await self._take(request, limits, limit.window, event=f'{action}.throttled', what='requests')

    async def _take(
        self, request: HTTPConnection, limits: list[tuple[str, int]], window: int, *, event: str, what: str
    ) -> list[tuple[str, Any]]:
        """One hit on each key, or none at all and a 429 when a key is over its limit."""
        taken: list[tuple[str, Any]] = []
        for key, limit in limits:
            count, receipt = await self.store.hit(key, window)
            taken.append((key, receipt))
            if count > limit:
                for done_key, done_receipt in taken:
                    await self.store.undo(done_key, done_receipt)
                retry_after = await self.store.retry_after(key, limit)
                scope = key.split(':')[-2] if key.count(':') > 1 else key.split(':')[0]
                audit.log_event(event, request=request, reason=f'too many {what} per {scope}', retry_after=retry_after)
                raise TooManyAttemptsAPIError(retry_after, what)
        return taken

    async def record_failure(self, request: HTTPConnection, username: str, *, user_id: str | None = None) -> None:
        """The reserved attempt failed: it keeps counting until the window passes. Logged for audit."""
        audit.log_event('login.failure', request=request, reason='invalid username or password', user_id=user_id)

    async def reset(self, request: HTTPConnection, username: str) -> None:
        """A successful login: this username starts over, and the address gets its slot back.

        The address's earlier failures still count, so logging in to one's own
        account between guesses at others does not reset the per-address limit.
        """
        if self.settings is None:
            return
        await self.store.clear(_username_key(username))
        taken = request.scope.get('state', {}).pop('panther_like.login_attempt', [])
        for key, receipt in taken:
            if key.startswith('addr:'):
                await self.store.undo(key, receipt)


class _RequestThrottle:
    """``login_throttle``: the throttle of the app serving the request, for login views to call."""

    async def check(self, request: HTTPConnection, username: str) -> None:
        await request.app.login_throttle.check(request, username)

    async def record_failure(self, request: HTTPConnection, username: str, *, user_id: str | None = None) -> None:
        await request.app.login_throttle.record_failure(request, username, user_id=user_id)

    async def reset(self, request: HTTPConnection, username: str) -> None:
        await request.app.login_throttle.reset(request, username)


login_throttle = _RequestThrottle()
