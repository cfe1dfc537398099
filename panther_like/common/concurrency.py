"""The one rule for user code written either way: ``async def`` runs on the event loop, ``def`` in a worker thread.

Handlers (``@API`` functions, `GenericAPI` methods), ``authenticate``
methods, auth functions, permissions, exception handlers and websocket
hooks may each be written sync or async. A sync one usually blocks (a
database driver, an HTTP client, a file); run on the event loop it would
stall every other request for as long, so it runs in a worker thread, as
Starlette's ``run_in_threadpool`` does. An async one is awaited as written,
with no thread hop. Each callable is adapted once, when the app is built,
and then always awaited.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


def off_the_loop(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """`function` as a coroutine function: itself when it is async, else a call of it in a worker thread.

    The thread runs in a copy of the caller's context (`asyncio.to_thread`),
    so a context variable set before the call (by middleware, an async
    ``authenticate``) reads the same inside it; what the thread sets stays
    in the thread. A sync function that returns an awaitable (a lambda
    around a coroutine, ``return self.accept()``) has it awaited on the
    loop, in the caller's context.
    """
    if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(type(function).__call__):
        return function

    async def call(*args: Any, **kwargs: Any) -> Any:
        result = await asyncio.to_thread(function, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return call
