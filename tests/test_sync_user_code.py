"""Sync user code runs in a worker thread, so blocking I/O stalls no one; async code runs on the loop.

Handlers, ``authenticate``, auth functions, permissions, exception
handlers and websocket hooks all follow the one rule
(`panther_like.common.concurrency.off_the_loop`).

And an API key that was not sent never reaches ``authenticate``: the
request is a 401 before user code runs (use ``OptionalAuth`` for routes
that also serve anonymous callers).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from panther_like import API, GenericAPI, GenericWebsocket, Panther, Response
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.security import APIKeyHeader, APIKeyQuery, HttpBearer
from panther_like.testing import TestClient
from tests.security_objects.server import UvicornServer, serve
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
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
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
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            URLS={'things': things},
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
        )
    )
    async with TestClient(app) as client:
        response = await client.get('/things')
    assert response.status_code == 401
    assert 'X-Key' in response.json()['detail']
    assert calls == []


# -- handlers, exception handlers and websocket hooks --------------------------------------------------


def app_with(urls: dict[str, Any], tmp_path: Path, **options: Any) -> Panther:
    return Panther(
        configs=settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            URLS=urls,
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
        ),
        **options,
    )


async def test_a_sync_handler_runs_in_a_worker_thread(tmp_path):
    @API()
    def where(request):
        return {'thread': threading.get_ident()}

    async with TestClient(app_with({'where': where}, tmp_path)) as client:
        response = await client.get('/where')
    assert response.status_code == 200
    assert response.json()['thread'] != threading.get_ident()


async def test_an_async_handler_runs_on_the_event_loop(tmp_path):
    @API()
    async def where(request):
        return {'thread': threading.get_ident()}

    async with TestClient(app_with({'where': where}, tmp_path)) as client:
        response = await client.get('/where')
    assert response.json()['thread'] == threading.get_ident()


async def test_a_sync_generic_api_method_runs_in_a_worker_thread(tmp_path):
    class Where(GenericAPI):
        def get(self, request):
            return {'thread': threading.get_ident()}

    async with TestClient(app_with({'where': Where}, tmp_path)) as client:
        response = await client.get('/where')
    assert response.status_code == 200
    assert response.json()['thread'] != threading.get_ident()


async def test_a_sync_handler_that_returns_an_awaitable_has_it_awaited(tmp_path):
    async def later():
        return {'awaited': True}

    @API()
    def deferred(request):
        return later()

    async with TestClient(app_with({'deferred': deferred}, tmp_path)) as client:
        response = await client.get('/deferred')
    assert response.json() == {'awaited': True}


REQUEST_TAG: contextvars.ContextVar[str] = contextvars.ContextVar('request_tag', default='unset')


async def test_a_sync_handler_reads_the_context_variables_set_before_it(tmp_path):
    async def tagging_auth(request):
        REQUEST_TAG.set('set by auth')
        return 'ann'

    @API(auth=tagging_auth)
    def tagged(request):
        return {'tag': REQUEST_TAG.get()}

    async with TestClient(app_with({'tagged': tagged}, tmp_path)) as client:
        response = await client.get('/tagged')
    assert response.json() == {'tag': 'set by auth'}


async def test_a_sync_exception_handler_runs_in_a_worker_thread(tmp_path):
    class Refused(Exception):
        pass

    @API()
    async def refusing(request):
        raise Refused

    def handle(request, exc):
        return Response({'thread': threading.get_ident()}, 418)

    app = app_with({'refusing': refusing}, tmp_path, exception_handlers={Refused: handle})
    async with TestClient(app) as client:
        response = await client.get('/refusing')
    assert response.status_code == 418
    assert response.json()['thread'] != threading.get_ident()


async def test_sync_websocket_hooks_run_in_a_worker_thread_and_may_return_an_awaitable(tmp_path):
    class Echo(GenericWebsocket):
        def connect(self):
            return self.accept()

        def receive(self, data):
            return self.send({'echo': data, 'thread': threading.get_ident()})

    async with TestClient(app_with({'echo': Echo}, tmp_path)) as client, client.websocket('/echo') as socket:
        await socket.send_json('hi')
        reply = await socket.receive_json()
    assert reply['echo'] == 'hi'
    assert reply['thread'] != threading.get_ident()


# -- under a real server ------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def blocking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    directory = tmp_path_factory.mktemp('blocking')
    yield from serve('tests.blocking_app:app', directory, {'BLOCKING_DB_PATH': str(directory / 'db.sqlite3')})


@pytest.mark.server
def test_a_blocking_sync_handler_does_not_delay_a_route_served_meanwhile(blocking_server):
    def timed(path: str) -> tuple[int, float]:
        with blocking_server.client() as client:
            status_code = client.get(path).status_code
        return status_code, time.monotonic()

    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(timed, '/slow')
        time.sleep(0.3)  # the slow request is now blocking its handler
        asked_at = time.monotonic()
        fast = pool.submit(timed, '/fast')
        fast_status, fast_done = fast.result()
        slow_status, slow_done = slow.result()
    assert (fast_status, slow_status) == (200, 200)
    assert fast_done < slow_done, 'the fast route waited for the blocked handler: it ran on the event loop'
    assert fast_done - asked_at < slow_done - asked_at
