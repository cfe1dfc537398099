"""One Redis connection for the stores that keep shared state there (revocations, login throttle).

Why a class: a redis.asyncio client belongs to the event loop that made it
(tests and some servers run several loops in one process), and every
failure to reach Redis must become a 503 with a reason, never a 500.
"""

from __future__ import annotations

import asyncio
from typing import Any

from panther_like.exceptions import StoreUnavailableError


class RedisConnection:
    """`operations` counts round trips to Redis made by this process (see `Database.operations`)."""

    operations = 0

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        self._url = url
        self._timeout = timeout
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}

    def client(self) -> Any:
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = redis.asyncio.from_url(
                self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout,
                retry_on_timeout=False,
            )
            self._clients = {known: c for known, c in self._clients.items() if not known.is_closed()}
            self._clients[loop] = client
        return client

    async def run(self, command: str, *args: Any, **kwargs: Any) -> Any:
        """One command; a Redis that does not answer is a 503."""
        import redis.exceptions

        self.operations += 1
        try:
            return await getattr(self.client(), command)(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailableError('Redis', type(exc).__name__) from None

    async def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        """``(name, *args)`` commands in one MULTI/EXEC; a Redis that does not answer is a 503."""
        import redis.exceptions

        self.operations += 1
        try:
            async with self.client().pipeline(transaction=True) as pipe:
                for name, *args in commands:
                    getattr(pipe, name)(*args)
                return await pipe.execute()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailableError('Redis', type(exc).__name__) from None

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for loop, client in clients.items():
            if loop is asyncio.get_running_loop():
                await client.aclose()
