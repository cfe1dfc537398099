"""MongoDB or Redis down, killed or frozen under a real uvicorn: a fast 503, no loss, no crash, self-recovery.

The example runs with users in MongoDB (nx-27017) and revocations and
login counters in Redis, both started for this module only, so stopping
them disturbs no other test. Redis runs with an fsync'd append-only file,
as a Redis that holds revocations must: a revocation is a write that may
not be lost. Every test puts the servers back before it ends.

"Slow" is simulated with SIGSTOP: the port still accepts connections (the
kernel does), but nothing answers, which is what a wedged or overloaded
server looks like to a client.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import User, assert_refused, new_user
from tests.e2e.server import ExampleServer, launch
from tests.servers import ServerHandle, ServerUnavailable, start_mongo_wire, start_redis

pytestmark = pytest.mark.server

# Bounds on "fast": the framework's client timeouts are 2 s (server selection, Redis sockets) and 3 s for a
# whole MongoDB operation (timeoutMS), plus slack for a loaded CI machine.
DOWN_BOUND = 4.0
FROZEN_BOUND = 5.0
RECOVERY_BOUND = 20.0
CACHE_SLACK = 1.2  # the longest a worker may reuse a verified user or a "not revoked" answer


def start_durable_redis(tmpdir: Path) -> ServerHandle:
    """The suite's own redis-server (`tests.servers.start_redis`), fsyncing every write: a crash loses none."""
    try:
        return start_redis(tmpdir, extra_args=('--appendfsync', 'always'))
    except ServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass
class Stack:
    server: ExampleServer
    mongodb: ServerHandle
    redis: ServerHandle

    def restore(self) -> None:
        for handle in (self.mongodb, self.redis):
            if handle.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(handle.pid, signal.SIGCONT)
            handle.start()


@pytest.fixture(scope='module')
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    mongodb = start_mongo_wire(tmp_path_factory.mktemp('deps_mongodb'))
    redis = start_durable_redis(tmp_path_factory.mktemp('deps_redis'))
    try:
        for server in launch(tmp_path_factory, 'deps', mongodb_url=mongodb.url, redis_url=redis.url):
            yield Stack(server, mongodb, redis)
    finally:
        mongodb.stop()
        redis.stop()


@pytest.fixture
def deps(stack: Stack) -> Iterator[Stack]:
    """The stack, put back together after each test whatever the test did to it."""
    try:
        yield stack
    finally:
        stack.restore()
        wait_until_served(stack.server)


def wait_until_served(server: ExampleServer) -> None:
    deadline = time.monotonic() + RECOVERY_BOUND
    with server.client() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if client.post('/auth/login', json={'username': 'nobody-x', 'password': 'x'}).status_code in (401, 429):
                    return
            time.sleep(0.2)
    raise AssertionError('the example did not recover')


def timed_get(server: ExampleServer, path: str, user: User) -> tuple[httpx.Response, float]:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        started = time.monotonic()
        response = client.get(path, headers=user.bearer)
        return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, elapsed: float, bound: float, store: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers['content-type'].startswith('application/json')
    body = response.json()
    assert set(body) == {'detail'} and store in body['detail'], body
    assert elapsed < bound, f'{elapsed:.1f}s to answer 503 (bound {bound}s)'


def freeze(handle: ServerHandle) -> None:
    assert handle.pid is not None
    os.kill(handle.pid, signal.SIGSTOP)


def test_mongodb_stopped_gives_a_fast_503(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'mstop')
    deps.mongodb.stop()
    time.sleep(CACHE_SLACK)
    assert_unavailable(*timed_get(deps.server, '/me', user), DOWN_BOUND, 'MongoDB')


def test_mongodb_killed_gives_a_fast_503(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'mkill')
    deps.mongodb.kill()
    time.sleep(CACHE_SLACK)
    assert_unavailable(*timed_get(deps.server, '/me', user), DOWN_BOUND, 'MongoDB')


def test_mongodb_frozen_gives_a_bounded_503(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'mfreeze')
    freeze(deps.mongodb)
    time.sleep(CACHE_SLACK)
    assert_unavailable(*timed_get(deps.server, '/me', user), FROZEN_BOUND, 'MongoDB')


def test_login_while_mongodb_is_down_is_a_503_not_a_401(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'mlogin')
    deps.mongodb.kill()
    with deps.server.client() as client:
        started = time.monotonic()
        response = client.post('/auth/login', json={'username': user.username, 'password': user.password})
    assert_unavailable(response, time.monotonic() - started, DOWN_BOUND, 'MongoDB')


def test_redis_stopped_gives_a_fast_503_instead_of_skipping_the_revocation_check(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'rstop')
    deps.redis.stop()
    time.sleep(CACHE_SLACK)
    assert_unavailable(*timed_get(deps.server, '/me', user), DOWN_BOUND, 'Redis')


def test_redis_frozen_gives_a_bounded_503(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'rfreeze')
    freeze(deps.redis)
    time.sleep(CACHE_SLACK)
    assert_unavailable(*timed_get(deps.server, '/me', user), FROZEN_BOUND, 'Redis')


def test_the_process_survives_outages_and_recovers_by_itself(deps: Stack) -> None:
    pid = deps.server.process.pid
    with deps.server.client() as client:
        user = new_user(client, 'recover')
    deps.mongodb.kill()
    deps.redis.kill()
    time.sleep(CACHE_SLACK)
    response, _ = timed_get(deps.server, '/me', user)
    assert response.status_code == 503
    deps.mongodb.start()
    deps.redis.start()
    deadline = time.monotonic() + RECOVERY_BOUND
    while (response := timed_get(deps.server, '/me', user)[0]).status_code != 200:
        assert response.status_code == 503, response.text
        assert time.monotonic() < deadline, 'no recovery without a restart'
        time.sleep(0.2)
    assert deps.server.process.poll() is None and deps.server.process.pid == pid


def test_users_written_before_a_mongodb_crash_are_still_there(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'durable')
    deps.mongodb.kill()
    deps.mongodb.start()
    wait_until_served(deps.server)
    with deps.server.client() as client:
        response = client.post('/auth/login', json={'username': user.username, 'password': user.password})
    assert response.status_code == 200, response.text


def test_revocations_written_before_a_redis_crash_still_hold(deps: Stack) -> None:
    with deps.server.client() as client:
        user = new_user(client, 'revokedurable')
        assert client.post('/auth/logout', headers=user.bearer).status_code == 200
    deps.redis.kill()
    deps.redis.start()
    wait_until_served(deps.server)
    response, _ = timed_get(deps.server, '/me', user)
    assert_refused(response, credential=user.access_token)


def test_a_websocket_is_told_to_retry_later_while_redis_is_down(deps: Stack) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with deps.server.client() as client:
        user = new_user(client, 'wsdown')
    deps.redis.kill()
    time.sleep(CACHE_SLACK)
    url = f'{deps.server.ws_url}/ws/echo?authorization={user.access_token}'
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=FROZEN_BOUND).close()
    assert refused.value.response.status_code == 403  # uvicorn's answer to a close before accept
    assert time.monotonic() - started < DOWN_BOUND
