"""User code that decides access may be sync; it then runs in a worker thread, so blocking I/O stalls no one.

And an API key that was not sent never reaches ``authenticate``: the
request is a 401 before user code runs (use ``OptionalAuth`` for routes
that also serve anonymous callers).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from panther_like import API, Panther
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.security import APIKeyHeader, APIKeyQuery, HttpBearer
from panther_like.testing import TestClient
from tests.settings import settings_module

BLOCK_SECONDS = 5.0


def blocking_until_released() -> tuple[threading.Event, list[bool], Callable[[], None]]:
    """A blocking wait (as a sync database driver would do) that only `/release` ends early."""
    released = threading.Event()
    outcomes: list[bool] = []

    def wait() -> None:
        outcomes.append(released.wait(BLOCK_SECONDS))

    return released, outcomes, wait


async def blocked_route_does_not_stall_another(
    tmp_path: Path, make_auth: Callable[[Callable[[], None]], Any], **route_options: Any
) -> None:
    released, outcomes, wait = blocking_until_released()

    @API(auth=make_auth(wait), **route_options)
    async def slow(request):
        return {'user': str(request.user)}

    @API()
    async def release(request):
        released.set()
        return {'released': True}

    app = Panther(
        configs=settings_module(
            SECRET_KEY='s' * 64,
            URLS={'slow': slow, 'release': release},
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
        )
    )
    async with TestClient(app) as client:
        slow_request = asyncio.create_task(client.get('/slow', headers={'Authorization': 'Bearer t', 'X-Key': 'k'}))
        await asyncio.sleep(0.2)
        released_response = await client.get('/release')
        slow_response = await slow_request
    assert released_response.status_code == 200
    assert slow_response.status_code == 200, slow_response.text
    assert outcomes == [True], 'the blocked authenticate held the event loop: /release could not run'


async def test_a_sync_auth_function_that_blocks_does_not_stall_other_requests(tmp_path):
    def make_auth(wait):
        def auth(request):
            wait()
            return 'ann'

        return auth

    await blocked_route_does_not_stall_another(tmp_path, make_auth)


async def test_a_sync_security_object_authenticate_that_blocks_does_not_stall_other_requests(tmp_path):
    def make_auth(wait):
        class Bearer(HttpBearer):
            def authenticate(self, request, token):
                wait()
                return 'ann'

        return Bearer()

    await blocked_route_does_not_stall_another(tmp_path, make_auth)


async def test_a_sync_authentication_class_that_blocks_does_not_stall_other_requests(tmp_path):
    def make_auth(wait):
        class Blocking(BaseAuthentication):
            @classmethod
            def authentication(cls, request):
                wait()
                return 'ann'

        return Blocking

    await blocked_route_does_not_stall_another(tmp_path, make_auth)


async def test_a_sync_permission_that_blocks_does_not_stall_other_requests(tmp_path):
    holder: dict[str, Any] = {}

    def make_auth(wait):
        holder['wait'] = wait
        return lambda request: 'ann'

    def permission(request):
        holder['wait']()
        return True

    await blocked_route_does_not_stall_another(tmp_path, make_auth, permissions=[permission])


def test_an_async_authenticate_is_awaited_as_written_with_no_thread_hop():
    class Bearer(HttpBearer):
        async def authenticate(self, request, token):
            return threading.get_ident()

    bearer = Bearer()
    assert bearer._authenticate == bearer.authenticate


# -- a missing API key -------------------------------------------------------------------------------


@pytest.mark.parametrize('security_class', [APIKeyHeader, APIKeyQuery])
async def test_a_missing_api_key_is_a_401_without_calling_authenticate(tmp_path, security_class):
    calls: list[Any] = []

    class Key(security_class):
        param_name = 'X-Key'

        def authenticate(self, request, key):
            calls.append(key)
            return 'ann' if key.startswith('good') else None

    @API(auth=Key())
    async def things(request):
        return {'user': request.user}

    app = Panther(
        configs=settings_module(
            SECRET_KEY='s' * 64,
            URLS={'things': things},
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
        )
    )
    async with TestClient(app) as client:
        response = await client.get('/things')
    assert response.status_code == 401
    assert 'X-Key' in response.json()['detail']
    assert calls == []
