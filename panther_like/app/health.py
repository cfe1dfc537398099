"""Liveness and readiness routes, the SIGTERM drain, and the round-trip header, for running behind a balancer.

- ``/health`` (liveness) answers 200 whenever the process serves requests
  at all: a supervisor restarts a process only when this fails.
- ``/ready`` (readiness) answers 200 only when the store, and Redis if
  configured, answered a ping within ``HEALTH['timeout']`` and the process
  is not shutting down; otherwise 503 with the reason. A load balancer
  sends requests only to hosts whose readiness check passes.

Both are public whatever ``DEFAULT_AUTH`` says, and left out of the OpenAPI
document unless ``HEALTH['openapi']`` is True. Each is mounted only if the
user's URLs do not already answer its path, and neither when ``HEALTH`` is
False.

Why `Drain`: a balancer takes a host out of its pool only after a few
failed readiness checks. A server that stopped accepting the moment it got
SIGTERM would refuse what the balancer still sends it meanwhile. So on
SIGTERM readiness turns 503 at once, and the server's own graceful
shutdown (stop accepting, finish the requests in flight) begins
``seconds`` later, when the balancer no longer sends anything here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from panther_like import status
from panther_like.auth.guard import Guard
from panther_like.exceptions import StoreUnavailableError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import Services, services_of
from panther_like.routing.endpoint import HTTPEndpoint
from panther_like.settings.deployment import HealthSettings

logger = logging.getLogger('panther_like')
PUBLIC = Guard(authenticator=None, permissions=())
ROUND_TRIPS_HEADER = b'store-round-trips'


class Drain:
    """Readiness off on SIGTERM, the server's shutdown `seconds` later (0: at once, the server's own behaviour)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.draining = False

    def install(self) -> None:
        """Wrap the server's SIGTERM handler; a no-op without a delay or outside the main thread."""
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return
        server_handler = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: Any) -> None:
            if self.draining:  # from both a process manager and uvicorn's supervisor: one drain is enough
                return
            self.draining = True
            logger.info('SIGTERM: readiness now answers 503; shutting down in %.1f s', self.seconds)
            timer = threading.Timer(self.seconds, _hand_over, args=(server_handler, signum))
            timer.daemon = True
            timer.start()

        signal.signal(signal.SIGTERM, on_sigterm)


def _hand_over(server_handler: Any, signum: int) -> None:
    """Let the server shut down as if the signal had just arrived."""
    if callable(server_handler):
        server_handler(signum, None)  # uvicorn's handler only sets flags its main loop polls
    else:
        signal.signal(signum, server_handler or signal.SIG_DFL)
        os.kill(os.getpid(), signum)


class _HealthRoute:
    """Target of one of the two routes: public, and in the OpenAPI document only if ``HEALTH['openapi']``."""

    auth = None
    scopes = None

    def __init__(self, handler: Callable[..., Any], listed: bool) -> None:
        self.__name__ = handler.__name__
        self.__doc__ = handler.__doc__  # the OpenAPI summary
        self.include_in_schema = listed


async def _answers(name: str, ping: Callable[[], Awaitable[Any]], timeout: float) -> str | None:
    """None if `ping` returned within `timeout`, else why not."""
    try:
        await asyncio.wait_for(ping(), timeout)
    except TimeoutError:
        return f'{name} is unavailable (no answer within {timeout:g} s)'
    except StoreUnavailableError as exc:
        return exc.detail
    return None


async def store_problems(services: Services, timeout: float) -> list[str]:
    """Why the app's stores are not ready (empty when every store answered in time)."""
    database, redis = services.database, services.fast_state.redis
    checks = [_answers(database.store_name, database.ping, timeout)]
    if redis is not None:
        checks.append(_answers('Redis', lambda: redis.run('ping'), timeout))
    return [problem for problem in await asyncio.gather(*checks) if problem]


def mount_health(router: Any, settings: HealthSettings) -> None:
    """Add the liveness and readiness routes to `router` (each unless the user's URLs answer its path)."""
    if not settings.enabled:
        return

    async def live(request: Request) -> Response:
        """Liveness: the process is up."""
        return Response({'status': 'alive'})

    async def ready(request: Request) -> Response:
        """Readiness: the stores answer and the process is not shutting down (503 otherwise)."""
        app = request.app
        if app.drain.draining:
            return Response({'detail': 'shutting down'}, status.HTTP_503_SERVICE_UNAVAILABLE)
        problems = await store_problems(services_of(request), settings.timeout)
        if problems:
            return Response({'detail': '; '.join(problems)}, status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({'status': 'ready'})

    for path, handler in ((settings.live, live), (settings.ready, ready)):
        if router.resolve(path) is None:
            target = _HealthRoute(handler, settings.openapi)
            router.add(path, HTTPEndpoint(path, target, {'GET': handler}, PUBLIC), listed=settings.openapi)


def count_round_trips(
    services: Services, send: Callable[[dict[str, Any]], Awaitable[None]]
) -> Callable[..., Awaitable[None]]:
    """`send` that adds ``Store-Round-Trips: database=N, redis=M``: what this worker asked its stores meanwhile.

    The counts are the worker's, not the request's: with requests served
    concurrently they include the others' round trips (measure one at a time).
    """
    database, redis = services.database, services.fast_state.redis
    before = (database.operations, redis.operations if redis is not None else 0)

    async def counted(message: dict[str, Any]) -> None:
        if message['type'] == 'http.response.start':
            redis_now = redis.operations if redis is not None else 0
            value = f'database={database.operations - before[0]}, redis={redis_now - before[1]}'
            message = {**message, 'headers': [*message['headers'], (ROUND_TRIPS_HEADER, value.encode())]}
        await send(message)

    return counted
