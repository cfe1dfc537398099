"""Counting requests against a route's `Throttle`, in the fast state every worker shares.

Each route counts on its own, per client: the authenticated user (their
id) when the route authenticated one, else the client's address (the one
``TRUSTED_PROXIES`` resolves). The counter is the throttle store of the
fast state (the database, or Redis with ``REDIS``): a sliding window, so
four workers or four hosts give one client one budget, and no client gets
two budgets back to back across a window's edge.

A refused request is not counted, so a client that keeps retrying is let
in as soon as its oldest counted request leaves the window, which is what
``Retry-After`` says.
"""

from __future__ import annotations

import math

from panther_like import status
from panther_like.exceptions import APIError
from panther_like.http.request import Request
from panther_like.login_state.services import services_of
from panther_like.settings.throttling import Throttle

#: Throttle counters are stored under this prefix, apart from the login throttle's.
KEY_PREFIX = 'route:'


class RateLimitedAPIError(APIError):
    """429 with ``Retry-After`` and the ``X-RateLimit-*`` headers."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS


def client_key(request: Request) -> str:
    """``user:<id>`` for an authenticated user, else ``address:<ip>``."""
    user_id = getattr(request.user, 'id', None) if request.user is not None else None
    if user_id is not None:
        return f'user:{user_id}'
    client = request.client
    return f'address:{client[0] if client else "-"}'


async def count(throttle: Throttle, path: str, request: Request) -> dict[str, str]:
    """Count this request; the ``X-RateLimit-*`` headers for its response, or raise a 429."""
    store = services_of(request).fast_state.throttle
    key = f'{KEY_PREFIX}{path}|{client_key(request)}'
    window = throttle.seconds
    hit = await store.hit(key, window)
    if hit.count <= throttle.rate:
        return {
            'X-RateLimit-Limit': str(throttle.rate),
            'X-RateLimit-Remaining': str(throttle.rate - hit.count),
            'X-RateLimit-Reset': str(math.ceil(window)),
        }
    await store.undo(key, hit.receipt)
    retry_after = await store.retry_after(key, throttle.rate, window)
    raise RateLimitedAPIError(
        f'Too many requests; try again in {retry_after} seconds',
        headers={
            'Retry-After': str(retry_after),
            'X-RateLimit-Limit': str(throttle.rate),
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset': str(retry_after),
        },
    )
