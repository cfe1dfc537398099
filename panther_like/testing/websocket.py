"""An in-process websocket client for tests: the ASGI websocket protocol, spoken to the real app.

httpx has no websocket support, and a real socket needs a server; this
client runs the app as a task on the current event loop and exchanges
ASGI messages with it, so everything the app does (authentication,
permissions, ``connect``/``receive``) runs unchanged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from panther_like.http.asgi import ASGIApp, Message, Scope

DEFAULT_TIMEOUT = 5.0


class WebsocketRefused(Exception):
    """The app closed the connection during the handshake (authentication failed, unknown path, ...)."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f'websocket refused with code {code}: {reason or "(no reason)"}')


class WebsocketClosed(Exception):
    """The app closed an accepted connection while the test was waiting for a message."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f'websocket closed with code {code}: {reason or "(no reason)"}')


class WebsocketTestSession:
    """One connection: ``async with client.websocket('/ws/echo') as ws: await ws.receive_json()``.

    Entering performs the handshake and raises `WebsocketRefused` when the
    app closes instead of accepting; leaving disconnects and waits for the app.
    """

    def __init__(
        self,
        app: ASGIApp,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        subprotocols: Sequence[str] = (),
        timeout: float = DEFAULT_TIMEOUT,
        scope_extra: Mapping[str, Any] | None = None,
    ) -> None:
        parts = urlsplit(url)
        query = parts.query
        if params:
            query = '&'.join(q for q in (query, urlencode(dict(params))) if q)
        items = headers.items() if isinstance(headers, Mapping) else (headers or ())
        self.scope: Scope = {
            'type': 'websocket',
            'asgi': {'version': '3.0'},
            'scheme': 'ws',
            'http_version': '1.1',
            'path': parts.path or '/',
            'raw_path': (parts.path or '/').encode(),
            'root_path': '',
            'query_string': query.encode('latin-1'),
            'headers': [(k.lower().encode('latin-1'), str(v).encode('latin-1')) for k, v in items],
            'client': ('127.0.0.1', 50000),
            'server': ('testserver', 80),
            'subprotocols': list(subprotocols),
            'state': {},
            **(scope_extra or {}),
        }
        self.timeout = timeout
        self.accepted_subprotocol: str | None = None
        self.close_code: int | None = None
        self.close_reason = ''
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._client_closed = False

    async def __aenter__(self) -> WebsocketTestSession:
        self._task = asyncio.create_task(self._run_app())
        await self._to_app.put({'type': 'websocket.connect'})
        message = await self._next()
        if message['type'] == 'websocket.close':
            await self._finish()
            raise WebsocketRefused(message.get('code', 1000), message.get('reason') or '')
        if message['type'] != 'websocket.accept':
            await self._finish()
            raise AssertionError(f'the app answered the handshake with {message["type"]!r}')
        self.accepted_subprotocol = message.get('subprotocol')
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run_app(self) -> None:
        try:
            await self._app(self.scope, self._to_app.get, self._from_app.put)
        finally:
            # The app returned: whoever waits for a message must not wait forever.
            await self._from_app.put({'type': '_app.finished'})

    async def _next(self) -> Message:
        message = await asyncio.wait_for(self._from_app.get(), self.timeout)
        if message['type'] == '_app.finished':
            assert self._task is not None
            error = self._task.exception() if self._task.done() else None
            if error is not None:
                raise error
            return {'type': 'websocket.close', 'code': 1006, 'reason': 'the app returned without closing'}
        return message

    async def _finish(self) -> None:
        if self._task is not None:
            await asyncio.wait_for(self._task, self.timeout)

    # -- sending ------------------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        await self._to_app.put({'type': 'websocket.receive', 'text': text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({'type': 'websocket.receive', 'bytes': data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data))

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The next message's text or bytes; raises `WebsocketClosed` if the app closes instead."""
        if self.close_code is not None:
            raise WebsocketClosed(self.close_code, self.close_reason)
        message = await self._next()
        if message['type'] == 'websocket.close':
            self.close_code, self.close_reason = message.get('code', 1000), message.get('reason') or ''
            raise WebsocketClosed(self.close_code, self.close_reason)
        if message['type'] != 'websocket.send':
            raise AssertionError(f'unexpected ASGI message {message["type"]!r}')
        return message['text'] if message.get('text') is not None else message.get('bytes') or b''

    async def receive_text(self) -> str:
        data = await self.receive()
        if not isinstance(data, str):
            raise AssertionError(f'expected a text message, got bytes {data[:40]!r}')
        return data

    async def receive_bytes(self) -> bytes:
        data = await self.receive()
        if not isinstance(data, bytes):
            raise AssertionError(f'expected a bytes message, got text {data[:40]!r}')
        return data

    async def receive_json(self) -> Any:
        return json.loads(await self.receive_text())

    async def expect_close(self) -> int:
        """Wait until the app closes the connection; return the close code."""
        while True:
            try:
                await self.receive()
            except WebsocketClosed as closed:
                return closed.code

    async def close(self, code: int = 1000) -> None:
        """Disconnect (idempotent) and wait for the app's handler to return."""
        if self._client_closed:
            return
        self._client_closed = True
        await self._to_app.put({'type': 'websocket.disconnect', 'code': code})
        await self._finish()
