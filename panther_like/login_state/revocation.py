"""Where revoked sessions and spent refresh tokens are remembered.

Two small operations are all token handling needs: `revoke` a key until a
time, ask `is_revoked`, and `claim_once`, which atomically marks a key and
says whether this call was the first (a refresh token is good once). A
refresh also leaves its answer, sealed, for a few seconds (`remember`,
`recall`), so that a second tab presenting the same token gets the same one. Both
implementations are shared by every worker and host that uses the same
database or Redis, which is what makes a logout hold everywhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.exceptions import DuplicateKeyError
from panther_like.login_state.redis_connection import NotReplicatedError, RedisConnection

REVOCATION_COLLECTION = 'panther_like_revocations'
PURGE_INTERVAL_SECONDS = 60.0
#: The keys of revoked login sessions start so (``sid:<session id>``); the next character after ':' ends the range.
SESSION_PREFIX = 'sid:'
SESSION_PREFIX_END = 'sid;'


class ExpiredRowPurge:
    """Deletes rows whose ``until`` has passed, at most once per interval.

    Used instead of a TTL index, which neosqlite would make slow for every
    read; readers filter on ``until`` themselves, so a late purge is harmless.
    """

    def __init__(self, interval: float = PURGE_INTERVAL_SECONDS, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._interval = interval
        self._clock = clock
        self._next = 0.0

    async def __call__(self, rows: Any, now: float | None = None) -> None:
        now = self._clock.time() if now is None else now
        if now < self._next:
            return
        self._next = now + self._interval
        await rows.delete_many({'until': {'$lt': now}})


class RevocationStore(ABC):
    @abstractmethod
    async def revoke(self, key: str, until: float) -> None:
        """Remember `key` as revoked until the epoch time `until` (idempotent)."""

    @abstractmethod
    async def is_revoked(self, key: str) -> bool: ...

    @abstractmethod
    async def revoked_sessions(self) -> set[str]:
        """The ids of every session revoked and not yet ended (keys ``sid:<id>``), for a worker to hold."""

    @abstractmethod
    async def claim_once(self, key: str, until: float) -> bool:
        """Mark `key` and return True, or return False if it was already marked."""

    @abstractmethod
    async def remember(self, key: str, value: str, until: float) -> None:
        """Keep `value` under `key` until the epoch time `until`, replacing what was there."""

    @abstractmethod
    async def recall(self, key: str) -> str | None:
        """What `remember` kept under `key`, or None once its time has passed."""


class DatabaseRevocationStore(RevocationStore):
    """Rows ``{_id: key, until: epoch}`` in the configured database (MongoDB or embedded).

    Expired rows are filtered on read and purged at most once a minute,
    instead of a TTL index (neosqlite's slows every read).
    """

    def __init__(self, database: Any, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)

    @property
    def _rows(self) -> Any:
        return self._database.collection(REVOCATION_COLLECTION, durable=True)

    async def revoke(self, key: str, until: float) -> None:
        rows = self._rows
        try:
            await rows.insert_one({'_id': key, 'until': until})
        except DuplicateKeyError:
            await rows.update_one({'_id': key}, {'until': until})
        await self._purge_expired(self._rows)

    async def is_revoked(self, key: str) -> bool:
        row = await self._rows.find_one({'_id': key})
        return row is not None and row['until'] > self._clock.time()

    async def revoked_sessions(self) -> set[str]:
        prefix = SESSION_PREFIX
        rows = await self._rows.find(
            {'_id': {'$gte': prefix, '$lt': SESSION_PREFIX_END}, 'until': {'$gt': self._clock.time()}}
        )
        return {row['_id'][len(prefix) :] for row in rows if row['_id'].startswith(prefix)}

    async def claim_once(self, key: str, until: float) -> bool:
        try:
            await self._rows.insert_one({'_id': key, 'until': until})
        except DuplicateKeyError:
            return False
        await self._purge_expired(self._rows)
        return True

    async def remember(self, key: str, value: str, until: float) -> None:
        rows = self._rows
        try:
            await rows.insert_one({'_id': key, 'until': until, 'value': value})
        except DuplicateKeyError:
            await rows.update_one({'_id': key}, {'until': until, 'value': value})

    async def recall(self, key: str) -> str | None:
        row = await self._rows.find_one({'_id': key})
        if row is None or row['until'] <= self._clock.time():
            return None
        value = row.get('value')
        return value if isinstance(value, str) else None


class RedisRevocationStore(RevocationStore):
    """Keys with an absolute expiry in Redis: ``SET key 1 NX EXAT until`` is the atomic claim.

    Both writes go through `RedisConnection.write`, so with ``wait_replicas``
    they are acknowledged only once a replica holds them.
    """

    PREFIX = 'panther_like:revoked:'

    def __init__(self, redis: RedisConnection, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._redis = redis
        self._clock = clock

    def _expiry(self, until: float) -> int:
        return max(int(until) + 1, int(self._clock.time()) + 1)

    async def revoke(self, key: str, until: float) -> None:
        await self._redis.write('set', self.PREFIX + key, b'1', exat=self._expiry(until))

    async def is_revoked(self, key: str) -> bool:
        return bool(await self._redis.run('exists', self.PREFIX + key))

    async def revoked_sessions(self) -> set[str]:
        pattern = self.PREFIX + SESSION_PREFIX
        found: set[str] = set()
        cursor = 0
        while True:  # SCAN: the server answers other clients between batches
            cursor, keys = await self._redis.run('scan', cursor, match=pattern + '*', count=1000)
            found.update(key[len(pattern) :].decode() for key in keys)
            if not cursor:
                return found

    async def claim_once(self, key: str, until: float) -> bool:
        try:
            return bool(await self._redis.write('set', self.PREFIX + key, b'1', nx=True, exat=self._expiry(until)))
        except NotReplicatedError as exc:
            if exc.result:  # claimed but not acknowledged: give the claim back, so that a retry is not "reuse"
                await self._redis.run('delete', self.PREFIX + key)
            raise

    async def remember(self, key: str, value: str, until: float) -> None:
        await self._redis.write('set', self.PREFIX + key, value.encode(), exat=self._expiry(until))

    async def recall(self, key: str) -> str | None:
        value = await self._redis.run('get', self.PREFIX + key)
        return value.decode() if isinstance(value, bytes) else value if isinstance(value, str) else None
