"""The one rule for user code written either way: ``async def`` runs on the event loop, ``def`` in a thread.

Handlers, ``authenticate`` methods, auth functions, permissions and
websocket hooks may each be written sync or async. A sync one usually
blocks (a database driver, an HTTP client, a file); run on the event loop it
would stall every other request for as long, so it runs in a worker thread,
as Starlette's ``run_in_threadpool`` does. Each callable is adapted once,
when the app is built, and then always awaited.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


def as_async(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """`function` as a coroutine function, deciding sync or async once rather than on every call.

    Users may write handlers, ``authenticate`` methods, permissions and
    exception handlers either way; the framework adapts each once, when the
    app is built, and then always awaits. A sync function that returns an
    awaitable (a lambda around a coroutine, say) is awaited too.
    """
    if inspect.iscoroutinefunction(function):
        return function

    async def call(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return call


def off_the_loop(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """User code that decides access, as a coroutine function; sync code runs in a worker thread.

    A sync ``authenticate`` (or auth function, or permission) usually reads
    a database or calls a service with a blocking client; run on the event
    loop it would stall every other request meanwhile. An async one is
    returned as it is, so it costs no thread hop. A sync function that
    returns an awaitable (a lambda around a coroutine) is awaited too.
    """
    if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(type(function).__call__):
        return function

    async def call(*args: Any, **kwargs: Any) -> Any:
        result = await asyncio.to_thread(function, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return call
