"""What an admin tool does to a running example server's users: another process, on the same stores.

`as_admin(server, work)` builds an app with the server's secret, database
and Redis, opens its stores, and runs ``work(User)`` where ``User`` is the
example's user collection: ``await (await User.find_one(id=...)).set_password(...)``
is a password changed from a shell, not through a route of the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from panther_like import BaseUser, Panther
from panther_like.testing import TestClient
from tests.e2e.server import ExampleServer
from tests.settings import settings_module


class ExampleUser(BaseUser):
    """The example project's user collection, seen from another process (its class is also named User)."""

    collection_name = 'User'


def as_admin(server: ExampleServer, work: Callable[[type[ExampleUser]], Awaitable[Any]]) -> Any:
    values = server.env_values
    settings = settings_module(
        SECRET_KEY=server.secret_key,
        DATABASE={'url': values.get('MONGODB_URL') or None, 'path': values['DB_PATH']},
        REDIS={'url': values.get('REDIS_URL') or None},
        USER_MODEL=ExampleUser,
    )

    async def run() -> Any:
        async with TestClient(Panther(settings, urls={})):
            return await work(ExampleUser)

    return asyncio.run(run())
