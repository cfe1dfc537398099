"""Drive the real ASGI app in-process: httpx for HTTP, a small driver for websockets.

The websocket driver is an in-process stand-in for a client because httpx
has no websocket support; it speaks the ASGI websocket protocol to the
real app, so everything the app does runs unchanged. The end-to-end tests
(tests/e2e) repeat the important cases through uvicorn with a real client.
"""

from __future__ import annotations

import asyncio
import itertools
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from panther_like import Panther

_settings_ids = itertools.count()


def settings_module(**settings: Any) -> types.ModuleType:
    """A settings module made on the fly, as if a user had written it."""
    module = types.ModuleType(f'tests_settings_{next(_settings_ids)}')
    for name, value in settings.items():
        setattr(module, name, value)
    return module


@asynccontextmanager
async def client_for(app: Panther) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app, with its start-up and shut-down run around it."""
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url='http://testserver') as client:
            yield client
    finally:
        await app.shutdown()


class WebsocketSession:
    """One websocket connection to an ASGI app, run as a task on the current loop."""

    def __init__(self, app: Any, path: str, query_string: bytes = b'', headers: list | None = None) -> None:
        self.scope = {
            'type': 'websocket', 'asgi': {'version': '3.0'}, 'scheme': 'ws', 'path': path,
            'raw_path': path.encode(), 'query_string': query_string, 'headers': headers or [],
            'client': ('127.0.0.1', 50000), 'server': ('testserver', 80), 'subprotocols': [],
        }
        self._to_app: asyncio.Queue[dict] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._app = app

    async def __aenter__(self) -> WebsocketSession:
        self._task = asyncio.create_task(self._app(self.scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({'type': 'websocket.connect'})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._to_app.put({'type': 'websocket.disconnect', 'code': 1000})
        assert self._task is not None
        await asyncio.wait_for(self._task, 5)

    async def next_message(self, timeout: float = 5) -> dict:
        return await asyncio.wait_for(self._from_app.get(), timeout)

    async def send_text(self, text: str) -> None:
        await self._to_app.put({'type': 'websocket.receive', 'text': text})
