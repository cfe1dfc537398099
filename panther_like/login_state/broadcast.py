"""Broadcast: a message every worker of every host receives, for the websocket messaging helpers.

A websocket lives in the one worker process that accepted it, and the code
that wants to reach it (a handler, a script) may run in any other. So a
message for a connection is published to all workers, and the one that
holds the connection delivers it.

Two transports, chosen like the rest of the fast state:

- `RedisBroadcast` (``REDIS`` set): Redis pub/sub. A message reaches every
  subscribed worker at once (a round trip to Redis).
- `DatabaseBroadcast` (the default): rows of the change feed
  (`panther_like.login_state.change_feed`), which each worker holding a
  websocket reads every `POLL_INTERVAL` seconds. A message therefore
  arrives within about that interval; a worker with no websocket does not
  poll at all.

Either way a message published while no worker holds the connection is
dropped, as a message to a closed socket would be, and a worker hears the
messages it published itself too: `hurry` asks its listener to look at
once (the database broadcast reads the feed now instead of at its next
interval), so a worker reaches its own sockets without the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.exceptions import StoreUnavailableError
from panther_like.login_state.change_feed import DatabaseChangeFeed
from panther_like.login_state.redis_connection import RedisConnection

#: How often a worker holding a websocket reads the database's change feed for messages (seconds).
POLL_INTERVAL = 0.2
#: The change feed kind of a websocket message (the token caches skip it).
MESSAGE = 'websocket'
#: Wait this long before listening again after the store did not answer (seconds).
RETRY_DELAY = 1.0

Deliver = Callable[[str], Awaitable[None]]


class Broadcast(ABC):
    """`publish` a message for every worker; `listen` hands each message published to `deliver`."""

    @abstractmethod
    async def publish(self, message: str) -> None: ...

    @abstractmethod
    async def listen(self, deliver: Deliver, ready: asyncio.Event) -> None:
        """Deliver messages until cancelled; `ready` is set once messages published from now on will be seen."""

    @abstractmethod
    def hurry(self) -> None:
        """Look for new messages now rather than at the next interval."""


class DatabaseBroadcast(Broadcast):
    """Messages as change feed rows, read by a feed reader of this broadcast's own (its own cursor)."""

    def __init__(self, database: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._clock = clock
        self._writer = DatabaseChangeFeed(database, clock=clock)
        self._wake = asyncio.Event()

    async def publish(self, message: str) -> None:
        await self._writer.publish(MESSAGE, message)

    async def listen(self, deliver: Deliver, ready: asyncio.Event) -> None:
        reader = DatabaseChangeFeed(self._database, clock=self._clock)
        while not ready.is_set():
            try:
                await reader.read()  # the first read places the cursor at "now"
                ready.set()
            except StoreUnavailableError:
                await asyncio.sleep(RETRY_DELAY)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL)
            self._wake.clear()  # before the read: a message published during it wakes the next one
            try:
                batch = await reader.read()
            except StoreUnavailableError:
                continue
            for change in batch.changes:
                if change.kind == MESSAGE:
                    await deliver(change.key)

    def hurry(self) -> None:
        self._wake.set()


class RedisBroadcast(Broadcast):
    """Redis pub/sub on one channel."""

    CHANNEL = 'panther_like:websocket'

    def __init__(self, redis: RedisConnection) -> None:
        self._redis = redis

    async def publish(self, message: str) -> None:
        await self._redis.run('publish', self.CHANNEL, message)

    def hurry(self) -> None:
        """Nothing to do: Redis pushes each message to the listener as it is published."""

    async def listen(self, deliver: Deliver, ready: asyncio.Event) -> None:
        import redis.exceptions

        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.CHANNEL)
                while not ready.is_set():  # Redis confirms the subscription: from then on, nothing is missed
                    confirmation = await pubsub.get_message(timeout=1.0)
                    if confirmation is not None and confirmation.get('type') == 'subscribe':
                        ready.set()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get('type') == 'message':
                        data = message['data']
                        await deliver(data.decode() if isinstance(data, bytes) else str(data))
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                await asyncio.sleep(RETRY_DELAY)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
