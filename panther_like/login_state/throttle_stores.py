"""Where the throttle's counters live: the database or Redis, shared by every worker and host.

Each counter is a sliding window: the hits of one key made within the
last `window` seconds. Why sliding rather than a window that starts at the
first hit: with fixed windows an attacker gets two budgets back to back
across a window's edge, and the slowdown of `panther_like.login_state.throttle` needs
to know when the latest hit was anyway. Both stores read time only from
the injected clock, so tests can move it instead of sleeping.

A hit is counted before the request it stands for is decided (and undone
when the request is refused or succeeds), so concurrent requests see each
other: of any N that arrive together, no more pass than the limit allows.
"""

from __future__ import annotations

import math
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import DuplicateKeyError
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.login_state.revocation import ExpiredRowPurge

THROTTLE_COLLECTION = 'panther_like_login_attempts'


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted attempt: `count` live hits of its key (itself included), the latest other one's time."""

    receipt: Any
    at: float
    count: int
    latest_other: float | None


class ThrottleStore(ABC):
    """Sliding-window counters of attempts per key, and remembered keys, shared by every worker."""

    @abstractmethod
    async def hit(self, key: str, window: float) -> Hit:
        """Count one attempt for `key` (forgotten after `window` seconds); `Hit.receipt` is for `undo`."""

    async def hits(self, counts: Sequence[tuple[str, float]]) -> list[Hit]:
        """`hit` on each ``(key, window)``, in order: a store that can do it in one round trip does."""
        return [await self.hit(key, window) for key, window in counts]

    @abstractmethod
    async def undo(self, key: str, receipt: Any) -> None:
        """Forget the attempt `hit` returned `receipt` for."""

    @abstractmethod
    async def retry_after(self, key: str, limit: int, window: float) -> int:
        """Seconds until `key` has fewer than `limit` attempts within `window` (at least 1)."""

    @abstractmethod
    async def clear(self, key: str) -> None:
        """Forget every attempt for `key`."""

    @abstractmethod
    async def remember(self, key: str, ttl: float) -> None:
        """Mark `key` for `ttl` seconds (again: the mark is renewed)."""

    @abstractmethod
    async def remembers(self, key: str) -> bool:
        """Whether `key` is marked."""

    async def settle(
        self,
        undo: Sequence[tuple[str, Any]] = (),
        clear: Sequence[str] = (),
        remember: Sequence[tuple[str, float]] = (),
    ) -> None:
        """`undo`, `clear` and `remember` together: what a decided request does to its counters.

        A login that succeeds gives back its reservations, clears one counter and marks the
        address in one go; a store that can do it in one round trip does.
        """
        for key, receipt in undo:
            await self.undo(key, receipt)
        for key in clear:
            await self.clear(key)
        for key, ttl in remember:
            await self.remember(key, ttl)


def _retry_after(times: list[float], limit: int, window: float, now: float) -> int:
    """Seconds until fewer than `limit` of the hits made at `times` (oldest first) are within `window`."""
    if len(times) < limit:
        return 1
    # Once the oldest (len - limit + 1) hits have left the window, fewer than `limit` remain.
    return max(1, math.ceil(times[len(times) - limit] + window - now - 1e-6))


class DatabaseThrottleStore(ThrottleStore):
    """One row ``{_id, key, at, until}`` per attempt; a key's count is its rows not yet expired.

    Only `insert_one`, `find`, `find_one`, `update_one`, `delete_one` and
    `delete_many` are used, which both backends implement the same way
    (neosqlite's and nx-27017's ``$inc`` are not relied on). A remembered key
    is one row whose ``_id`` is the key.
    """

    def __init__(self, database: Any, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)
        self._index_ready = False

    async def _rows(self) -> Any:
        rows = self._database.collection(THROTTLE_COLLECTION)
        if not self._index_ready:
            await rows.create_index('key')
            self._index_ready = True
        return rows

    async def _live(self, rows: Any, key: str, now: float) -> list[dict[str, Any]]:
        live: list[dict[str, Any]] = await rows.find({'key': key, 'until': {'$gt': now}}, sort=[('at', 1)])
        return live

    async def hit(self, key: str, window: float) -> Hit:
        rows = await self._rows()
        now = self._clock.time()
        row_id = secrets.token_hex(12)
        await rows.insert_one({'_id': row_id, 'key': key, 'at': now, 'until': now + window})
        live = await self._live(rows, key, now)
        others = [row['at'] for row in live if row['_id'] != row_id]
        await self._purge_expired(rows, now)
        return Hit(row_id, now, len(others) + 1, max(others, default=None))

    async def undo(self, key: str, receipt: Any) -> None:
        await (await self._rows()).delete_one({'_id': receipt})

    async def retry_after(self, key: str, limit: int, window: float) -> int:
        now = self._clock.time()
        live = await self._live(await self._rows(), key, now)
        return _retry_after([row['at'] for row in live], limit, window, now)

    async def clear(self, key: str) -> None:
        await (await self._rows()).delete_many({'key': key})

    async def remember(self, key: str, ttl: float) -> None:
        rows = await self._rows()
        now = self._clock.time()
        if await rows.update_one({'_id': key}, {'until': now + ttl}):  # the usual case: a returning owner
            return
        try:
            await rows.insert_one({'_id': key, 'key': key, 'at': now, 'until': now + ttl})
        except DuplicateKeyError:  # remembered meanwhile by another worker
            await rows.update_one({'_id': key}, {'until': now + ttl})

    async def remembers(self, key: str) -> bool:
        row = await (await self._rows()).find_one({'_id': key})
        return row is not None and row['until'] > self._clock.time()


class RedisThrottleStore(ThrottleStore):
    """A sorted set per key (member: a random id, score: the time of the hit), trimmed and read in one MULTI."""

    PREFIX = 'panther_like:throttle:'

    def __init__(self, redis: RedisConnection, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._redis = redis
        self._clock = clock

    async def hit(self, key: str, window: float) -> Hit:
        [hit] = await self.hits([(key, window)])
        return hit

    async def hits(self, counts: Sequence[tuple[str, float]]) -> list[Hit]:
        """Every counter of a request in one MULTI: one round trip however many counters it touches."""
        now = self._clock.time()
        members = [secrets.token_hex(8) for _ in counts]
        commands: list[tuple[Any, ...]] = []
        for (key, window), member in zip(counts, members, strict=True):
            name = self.PREFIX + key
            commands += [
                ('zremrangebyscore', name, '-inf', now - window),
                ('zadd', name, {member: now}),
                ('zcard', name),
                ('zrevrange', name, 0, 1, True),  # True: with scores; the two latest include the latest other
                ('expire', name, math.ceil(window) + 1),
            ]
        results = await self._redis.transaction(*commands)
        found: list[Hit] = []
        for index, member in enumerate(members):
            _, _, count, latest, _ = results[5 * index : 5 * index + 5]
            others = [score for name, score in latest if name.decode() != member]
            found.append(Hit(member, now, int(count), others[0] if others else None))
        return found

    async def undo(self, key: str, receipt: Any) -> None:
        await self._redis.run('zrem', self.PREFIX + key, receipt)

    async def retry_after(self, key: str, limit: int, window: float) -> int:
        now = self._clock.time()
        live = await self._redis.run('zrangebyscore', self.PREFIX + key, f'({now - window!r}', '+inf', withscores=True)
        return _retry_after([score for _, score in live], limit, window, now)

    async def clear(self, key: str) -> None:
        await self._redis.run('delete', self.PREFIX + key)

    async def remember(self, key: str, ttl: float) -> None:
        await self._redis.run('set', self.PREFIX + key, b'1', ex=max(1, math.ceil(ttl)))

    async def remembers(self, key: str) -> bool:
        return bool(await self._redis.run('exists', self.PREFIX + key))

    async def settle(
        self,
        undo: Sequence[tuple[str, Any]] = (),
        clear: Sequence[str] = (),
        remember: Sequence[tuple[str, float]] = (),
    ) -> None:
        """One MULTI for every counter a decided request touches."""
        commands: list[tuple[Any, ...]] = [('zrem', self.PREFIX + key, receipt) for key, receipt in undo]
        commands += [('delete', self.PREFIX + key) for key in clear]
        commands += [('set', self.PREFIX + key, b'1', max(1, math.ceil(ttl))) for key, ttl in remember]
        if commands:
            await self._redis.transaction(*commands)
