"""Starting and stopping the app's stores, and the ASGI lifespan protocol that asks for both.

A server sends ``lifespan.startup`` before the first request and
``lifespan.shutdown`` after the last; tests and scripts call
`Panther.startup` and `Panther.shutdown` themselves.
"""

from __future__ import annotations

import gc
import logging
from typing import Protocol

from panther_like.app.health import Drain
from panther_like.db.user_collection import check_user_collection
from panther_like.exceptions import ConfigError, StoreUnavailableError
from panther_like.http.asgi import Receive, Send
from panther_like.login_state.services import Services


class Startable(Protocol):
    """What the lifespan protocol drives: `Panther`, or anything that starts and stops the same way."""

    drain: Drain

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


logger = logging.getLogger('panther_like')


async def startup(services: Services) -> None:
    """Connect the store; an unreachable one is logged, not fatal: requests get 503 until it is back.

    A store whose users predate canonical usernames is refused with a `ConfigError` that says
    how to migrate it: serving it would let ``Bob`` sign up next to ``bob``, and would not find
    those users at login. So is a user model whose collection is empty while the one an earlier
    start used holds users (a renamed class: `panther_like.db.user_collection`).
    """
    redis = services.fast_state.redis
    if redis is not None:
        await redis.check_persistence()  # a Redis that forgets logouts on restart is refused
    try:
        await services.database.connect()
        legacy = await services.config.user_model.count_without_username_key()
        await check_user_collection(services.database, services.config.user_model)
    except StoreUnavailableError as exc:
        logger.warning('store not reachable at start-up: %s', exc.detail)
        return
    if legacy:
        model = services.config.user_model
        raise ConfigError(
            'USER_MODEL',
            f'{model.__module__}.{model.__qualname__}',
            f'{legacy} stored user(s) have no canonical username or e-mail key (they were created before these '
            'were normalised); run `panther-like migrate-usernames` once, then start again',
        )


async def shutdown(services: Services) -> None:
    """Send what the outbox still holds, then close Redis and the store."""
    await services.outbox.drain()
    if services.fast_state.redis is not None:
        await services.fast_state.redis.close()
    await services.database.close()


async def run_lifespan(app: Startable, receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol: a failed start-up is reported to the server, which then exits."""
    while True:
        message = await receive()
        if message['type'] == 'lifespan.startup':
            try:
                app.drain.install()
                await app.startup()
            except Exception as exc:
                await send({'type': 'lifespan.startup.failed', 'message': f'{type(exc).__name__}: {exc}'})
                return
            freeze_startup_objects()
            await send({'type': 'lifespan.startup.complete'})
        elif message['type'] == 'lifespan.shutdown':
            try:
                await app.shutdown()
            finally:
                await send({'type': 'lifespan.shutdown.complete'})
            return


def freeze_startup_objects() -> None:
    """Keep what the worker built at start-up out of every later garbage collection.

    A serving worker holds tens of thousands of objects from start-up
    (modules, classes, the router, the settings) that live as long as it
    does, and every full collection used to walk all of them: a pause of
    about 20 ms, several times a second under load, which every request in
    flight waits out. Frozen (`gc.freeze`), they are skipped; objects made
    later are collected as before. Done once, when a server starts the app
    (the ASGI lifespan), never by tests that start apps themselves.
    """
    gc.collect()
    gc.freeze()
