"""Reaching a websocket from anywhere: by its ``connection_id``, or every socket of one user.

``await send_message_to_websocket(connection_id, data)``,
``await send_message_to_user(user_id, data)`` and
``await close_websocket_connection(connection_id, code=..., reason=...)``
work from a handler, a background task or a script, in any worker of any
host, through the broadcast (`panther_like.login_state.broadcast`: Redis
pub/sub with ``REDIS``, else the database's change feed).

Why even a connection held by the calling worker is reached through the
broadcast: order. A message sent from another worker may still be on its
way when this worker sends the next one; delivered directly, the second
would overtake the first. Through the broadcast both arrive in the order
they were published, and the caller waits until its own message has been
applied here, so a call that returned has reached this worker's sockets.

Each worker keeps the sockets it accepted in a `Hub` (one per app); while
it holds one it listens to the broadcast, and stops when its last socket
closes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from typing import Any, Protocol

import orjson

from panther_like import status
from panther_like.exceptions import StoreUnavailableError
from panther_like.http.response import render
from panther_like.login_state.broadcast import Broadcast, DatabaseBroadcast, RedisBroadcast
from panther_like.login_state.services import Services, bound_services


class Reachable(Protocol):
    """What the hub needs of a socket (`panther_like.routing.websocket.GenericWebsocket` is one)."""

    connection_id: str
    closed: bool

    @property
    def user(self) -> Any: ...

    async def send(self, data: Any) -> None: ...

    async def close(self, code: int = ..., reason: str = ...) -> None: ...


logger = logging.getLogger('panther_like')

#: How long a caller waits for its own message to come back through the broadcast before applying it itself.
ECHO_TIMEOUT = 5.0


def user_key(user: Any) -> str | None:
    """The id a user's sockets are found by: its ``id`` (or a dict principal's ``'id'``), as text."""
    user_id = user.get('id') if isinstance(user, dict) else getattr(user, 'id', None)
    return None if user_id is None else str(user_id)


def _encode(data: Any) -> dict[str, str]:
    if isinstance(data, bytes):
        return {'bytes': base64.b64encode(data).decode()}
    if isinstance(data, str):
        return {'text': data}
    return {'text': render(data).decode()}


def _decode(payload: dict[str, str]) -> str | bytes:
    if 'bytes' in payload:
        return base64.b64decode(payload['bytes'])
    return payload['text']


class Hub:
    """This worker's sockets of one app, by connection id and by user, and its broadcast listener."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.worker = secrets.token_hex(8)  # this process: it skips what it published itself
        redis = services.fast_state.redis
        self.broadcast: Broadcast = (
            RedisBroadcast(redis) if redis is not None else DatabaseBroadcast(services.database, clock=services.clock)
        )
        self.connections: dict[str, Reachable] = {}
        self.by_user: dict[str, set[str]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._awaited: dict[str, asyncio.Future[None]] = {}  # this worker's own messages, until applied here

    async def register(self, connection: Reachable) -> None:
        """Hold `connection` (just accepted); listen to the broadcast if this is the first one."""
        self.connections[connection.connection_id] = connection
        key = user_key(connection.user)
        if key is not None:
            self.by_user.setdefault(key, set()).add(connection.connection_id)
        if self._listener is None or self._listener.done():
            self._ready = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(self._listen(self._ready))
        if not self._ready.is_set():  # a socket is reachable from other workers once it is registered
            waiting = asyncio.ensure_future(self._ready.wait())
            await asyncio.wait([waiting, self._listener], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()

    async def unregister(self, connection: Reachable) -> None:
        if self.connections.pop(connection.connection_id, None) is None:
            return
        key = user_key(connection.user)
        if key is not None:
            ids = self.by_user.get(key, set())
            ids.discard(connection.connection_id)
            if not ids:
                self.by_user.pop(key, None)
        if not self.connections and self._listener is not None:
            listener, self._listener = self._listener, None
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
            for awaited in self._awaited.values():  # their sockets are gone: nothing left to wait for
                if not awaited.done():
                    awaited.set_result(None)
            self._awaited.clear()

    async def _listen(self, ready: asyncio.Event) -> None:
        try:
            await self.broadcast.listen(self._received, ready)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception('websocket messaging: the broadcast listener failed')

    async def _received(self, raw: str) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        if message.get('worker') == self.worker:
            awaited = self._awaited.pop(str(message.get('id')), None)
            if awaited is None:  # not for a socket here, or given up on and applied by its caller
                return
            await self._apply(message)
            if not awaited.done():
                awaited.set_result(None)
            return
        await self._apply(message)

    def _targets(self, message: dict[str, Any]) -> list[Reachable]:
        user = message.get('user')
        ids = self.by_user.get(str(user), set()) if user is not None else {str(message.get('connection'))}
        return [self.connections[i] for i in ids if i in self.connections]

    async def _apply(self, message: dict[str, Any]) -> None:
        for connection in self._targets(message):
            try:
                if message.get('action') == 'close':
                    await connection.close(int(message.get('code', status.WS_1000_NORMAL_CLOSURE)), message['reason'])
                elif not connection.closed:
                    await connection.send(_decode(message['data']))
            except Exception:  # a socket that went away meanwhile: nothing to deliver to
                logger.debug('websocket messaging: could not reach %s', connection.connection_id, exc_info=True)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Publish `message` for every worker; if a target is here, return once this worker has applied it.

        Two fallbacks keep a socket of this worker reachable when the
        broadcast is not: if the store refuses the message, or its echo has
        not come back after `ECHO_TIMEOUT`, the message is applied here
        directly (having lost only its place in line).
        """
        if not self._targets(message):
            await self._publish(message)
            return
        if self._listener is None or self._listener.done() or not self._ready.is_set():
            await self._apply(message)
            if 'user' in message:
                await self._publish(message)
            return
        message_id = secrets.token_hex(8)
        awaited = self._awaited[message_id] = asyncio.get_running_loop().create_future()
        try:
            await self._publish(message, message_id)
        except StoreUnavailableError:
            self._awaited.pop(message_id, None)
            await self._apply(message)
            if 'user' in message:  # other workers' sockets of the user missed it: say so
                raise
            return
        self.broadcast.hurry()
        try:
            await asyncio.wait_for(asyncio.shield(awaited), ECHO_TIMEOUT)
        except TimeoutError:
            if self._awaited.pop(message_id, None) is not None:
                await self._apply(message)
            else:  # the listener took it this very moment and is applying it
                await awaited

    async def _publish(self, message: dict[str, Any], message_id: str | None = None) -> None:
        tagged = (
            {**message, 'worker': self.worker}
            if message_id is None
            else {**message, 'worker': self.worker, 'id': message_id}
        )
        await self.broadcast.publish(orjson.dumps(tagged).decode())


_hubs: dict[int, Hub] = {}


def hub_of(services: Services) -> Hub:
    """The hub of the app whose services these are (one per app in this process)."""
    hub = _hubs.get(id(services))
    if hub is None or hub.services is not services:
        hub = _hubs[id(services)] = Hub(services)
    return hub


async def send_message_to_websocket(connection_id: str, data: Any) -> None:
    """Send `data` (JSON-able, text or bytes) to the socket `connection_id`, in whichever worker holds it."""
    await hub_of(bound_services()).dispatch({'action': 'send', 'connection': connection_id, 'data': _encode(data)})


async def send_message_to_user(user_id: Any, data: Any) -> None:
    """Send `data` to every open socket of the user `user_id` (authenticated by the socket's ``auth``)."""
    await hub_of(bound_services()).dispatch({'action': 'send', 'user': str(user_id), 'data': _encode(data)})


async def close_websocket_connection(
    connection_id: str, code: int = status.WS_1000_NORMAL_CLOSURE, reason: str = ''
) -> None:
    """Close the socket `connection_id` with `code` and `reason`, in whichever worker holds it."""
    await hub_of(bound_services()).dispatch(
        {'action': 'close', 'connection': connection_id, 'code': code, 'reason': reason}
    )
