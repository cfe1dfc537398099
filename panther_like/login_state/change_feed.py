"""The change feed: which sessions were revoked and which users changed, for every worker to read.

Why a feed: a worker that re-checked each cached session or user on its
own timer would, with many users, ask the store about nearly every
request. Instead each worker asks one question per interval, whatever the
number of users: "what changed since I last looked?" Between looks its
caches hold (see `panther_like.login_state.token_cache`), so a warm authenticated
request costs no store round trip at all.

Two implementations, chosen like the revocation store:

- `DatabaseChangeFeed`: one row per change, ``{_id, kind, key, at}``, in
  the configured database. ``at`` is the writer's wall clock, so a reader
  asks for rows a little older than its last look (`SKEW_MARGIN`) and
  drops the ones it has already seen: a writer whose clock runs behind, or
  a write that became visible late, is still read.
- `RedisChangeFeed`: a Redis stream. Entry ids are assigned by the Redis
  server and only grow, so a reader resumes exactly after the last id it
  read. When Sentinel names a new primary, a reader starts over from the
  newest entry there and says its read is incomplete: the new primary
  numbers entries by its own clock and may lack the last entries the old
  one gave out.

Both keep changes for `RETENTION` seconds. A reader that has not looked
for longer than that may have missed some: its read says so
(`ChangeBatch.complete` is False) and the caches start over.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.login_state.revocation import ExpiredRowPurge

CHANGES_COLLECTION = 'panther_like_changes'
#: How long changes are kept; a reader that looked longer ago than this starts over.
RETENTION = 600.0
#: How much older than its last look a database reader asks for (clock skew and late visibility).
SKEW_MARGIN = 5.0

SESSION = 'session'  # a login session was revoked: its tokens stop working
USER = 'user'  # a user changed or was deleted: cached copies are stale


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    key: str


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    changes: tuple[Change, ...]
    #: False when changes may have been missed (the reader looked too long ago): forget everything cached.
    complete: bool = True


class ChangeFeed(ABC):
    """`publish` a change for every worker; `read` what changed since this reader's last read."""

    @abstractmethod
    async def publish(self, kind: str, key: str) -> None: ...

    @abstractmethod
    async def read(self) -> ChangeBatch:
        """Changes since the previous read; the first read starts the reader at "now" (caches start empty)."""


class DatabaseChangeFeed(ChangeFeed):
    def __init__(self, database: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)
        self._index_ready = False
        self._cursor: float | None = None  # wall time of the last read
        self._seen: dict[str, float] = {}  # ids of rows read within the margin -> their `at`

    @property
    def _rows(self) -> Any:
        return self._database.collection(CHANGES_COLLECTION, durable=True)

    async def _ensure_index(self) -> None:
        if not self._index_ready:
            await self._rows.create_index('at')
            self._index_ready = True

    async def publish(self, kind: str, key: str) -> None:
        now = self._clock.time()
        await self._rows.insert_one(
            {'_id': secrets.token_hex(12), 'kind': kind, 'key': key, 'at': now, 'until': now + RETENTION}
        )
        await self._purge_expired(self._rows)

    async def read(self) -> ChangeBatch:
        await self._ensure_index()
        now = self._clock.time()
        cursor, self._cursor = self._cursor, now
        if cursor is None:
            return ChangeBatch(())
        rows = await self._rows.find({'at': {'$gt': cursor - SKEW_MARGIN}}, sort=[('at', 1)])
        fresh = [row for row in rows if row['_id'] not in self._seen]
        for row in fresh:
            self._seen[row['_id']] = row['at']
        horizon = now - 2 * SKEW_MARGIN
        self._seen = {row_id: at for row_id, at in self._seen.items() if at > horizon}
        return ChangeBatch(
            tuple(Change(row['kind'], row['key']) for row in fresh), complete=now - cursor < RETENTION - SKEW_MARGIN
        )


class RedisChangeFeed(ChangeFeed):
    """A stream trimmed by age (``XADD ... MINID``): entries older than `RETENTION` are dropped."""

    STREAM = 'panther_like:changes'
    BATCH = 1000

    def __init__(self, redis: RedisConnection, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._redis = redis
        self._clock = clock
        self._cursor: str | None = None
        self._last_read: float | None = None
        self._failovers = redis.failovers  # the primary's changes seen when the cursor was set

    async def publish(self, kind: str, key: str) -> None:
        oldest_kept = int((self._clock.time() - RETENTION) * 1000)
        await self._redis.write('xadd', self.STREAM, {'kind': kind, 'key': key}, minid=oldest_kept, approximate=True)

    async def read(self) -> ChangeBatch:
        now = self._clock.monotonic()
        last_read, self._last_read = self._last_read, now
        if self._cursor is None or self._redis.failovers != self._failovers:
            return await self._start_at_newest(complete=self._cursor is None)
        changes: list[Change] = []
        while True:
            entries = await self._redis.run('xrange', self.STREAM, f'({self._cursor}', '+', count=self.BATCH)
            for entry_id, fields in entries:
                self._cursor = entry_id.decode()
                changes.append(Change(fields[b'kind'].decode(), fields[b'key'].decode()))
            if len(entries) < self.BATCH:
                break
        if self._redis.failovers != self._failovers:  # this very read reached a new primary
            return await self._start_at_newest(complete=False)
        complete = last_read is None or now - last_read < RETENTION
        return ChangeBatch(tuple(changes), complete=complete)

    async def _start_at_newest(self, *, complete: bool) -> ChangeBatch:
        """Resume after the newest entry of the current primary; an incomplete batch makes the caches start over."""
        newest = await self._redis.run('xrevrange', self.STREAM, '+', '-', count=1)
        self._cursor = newest[0][0].decode() if newest else '0-0'
        self._failovers = self._redis.failovers
        return ChangeBatch((), complete=complete)
