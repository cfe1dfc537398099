"""Two uvicorn workers, one logout: every worker honours it (revocation in the embedded store, or in Redis).

Each request goes on a fresh connection, and the tests check which worker
process served it, so both workers are exercised, not just one of them.

The worker that handles a logout refuses the token at once; another worker
learns it from the change feed, which it reads once per
``AUTH_CACHE['revocation_ttl']`` (0.5 s by default, never more than
`MAX_REVOCATION_TTL`, 1 s), and refuses it within that bound. The same holds
for a user deactivated by another process. The tests hold the framework to
the bound.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import httpx
import pytest

from panther_like import BaseUser, Panther
from panther_like.settings.config import MAX_REVOCATION_TTL
from panther_like.testing import TestClient
from tests.e2e.helpers import User, assert_refused, new_user, served_by
from tests.e2e.server import ExampleServer
from tests.settings import settings_module

pytestmark = pytest.mark.server

REQUESTS = 24
MAX_REQUESTS = 400


def me_on_fresh_connections(server: ExampleServer, token: str, *, expected: int) -> set[int]:
    """GET /me with `token` on fresh connections, until at least REQUESTS went out and both workers answered."""
    workers: set[int] = set()
    sent = 0
    while sent < REQUESTS or (workers != server.worker_pids() and sent < MAX_REQUESTS):
        with server.client() as client:
            response = client.get('/me', headers={'Authorization': f'Bearer {token}'})
            workers.add(server.serving_pid(response))
        sent += 1
        if expected == 401:
            assert_refused(response, credential=token)
        else:
            assert response.status_code == expected, (sent, response.text)
    assert workers == server.worker_pids(), f'{sent} fresh connections reached only workers {workers}'
    return workers


def test_server_has_two_workers(multiworker_server: ExampleServer) -> None:
    assert len(multiworker_server.worker_pids()) == 2


def test_logout_is_honoured_by_every_worker(multiworker_server: ExampleServer) -> None:
    server = multiworker_server
    with server.client() as client:
        user: User = new_user(client, 'workers')
    # Both workers see the token while it is valid (whatever they remember about it)...
    me_on_fresh_connections(server, user.access_token, expected=200)
    with server.client() as client:
        response = client.post('/auth/logout', headers=user.bearer)
        assert response.status_code == 200, response.text
    # ...and, once the revocation bound has passed, every worker refuses it on every new connection.
    time.sleep(MAX_REVOCATION_TTL)
    me_on_fresh_connections(server, user.access_token, expected=401)


def test_logout_on_one_worker_is_honoured_by_that_worker_at_once(multiworker_server: ExampleServer) -> None:
    server = multiworker_server
    first, _ = sorted(server.worker_pids())
    with server.client() as client:
        user = new_user(client, 'sameworker')
    with served_by(server, pid=first) as one:
        assert one.get('/me', headers=user.bearer).status_code == 200
        assert one.post('/auth/logout', headers=user.bearer).status_code == 200
        response = one.get('/me', headers=user.bearer)
        assert server.serving_pid(response) == first
        assert_refused(response, credential=user.access_token)


def seconds_until_refused(client: httpx.Client, token: str) -> float:
    """Poll GET /me with `token` until it is refused; how long that took (a 200 after the bound fails)."""
    started = time.monotonic()
    while True:
        response = client.get('/me', headers={'Authorization': f'Bearer {token}'})
        elapsed = time.monotonic() - started
        if response.status_code != 200:
            assert_refused(response, credential=token)
            return elapsed
        assert elapsed <= MAX_REVOCATION_TTL, f'a revoked token was still accepted after {elapsed:.2f} s'
        time.sleep(0.02)


def test_logout_on_one_worker_is_honoured_by_the_other_within_the_bound(multiworker_server: ExampleServer) -> None:
    server = multiworker_server
    first, second = sorted(server.worker_pids())
    with server.client() as client:
        user = new_user(client, 'crossworker')
    with served_by(server, pid=second) as other:
        assert other.get('/me', headers=user.bearer).status_code == 200  # the other worker has seen it valid
        with served_by(server, pid=first) as one:
            response = one.post('/auth/logout', headers=user.bearer)
            assert response.status_code == 200, response.text
            assert server.serving_pid(response) == first
        assert seconds_until_refused(other, user.access_token) <= MAX_REVOCATION_TTL
        assert server.serving_pid(other.get('/me', headers=user.bearer)) == second


def test_refresh_reuse_is_detected_across_workers(multiworker_server: ExampleServer) -> None:
    server = multiworker_server
    first, second = sorted(server.worker_pids())
    with server.client() as client:
        user = new_user(client, 'reuseworkers')
    with served_by(server, pid=first) as one:
        response = one.post('/auth/refresh', json={'refresh_token': user.refresh_token})
        assert response.status_code == 200, response.text
        assert server.serving_pid(response) == first
        pair = response.json()
        # The successor is used: from now on the first refresh token is a reuse, not a second tab.
        response = one.post('/auth/refresh', json={'refresh_token': pair['refresh_token']})
        assert response.status_code == 200, response.text
        pair = response.json()
        assert one.get('/me', headers={'Authorization': f'Bearer {pair["access_token"]}'}).status_code == 200
    with served_by(server, pid=second) as other:
        # The new pair is good on the other worker too, until the old refresh token comes back.
        assert other.get('/me', headers={'Authorization': f'Bearer {pair["access_token"]}'}).status_code == 200
        reuse = other.post('/auth/refresh', json={'refresh_token': user.refresh_token})
        assert server.serving_pid(reuse) == second
        assert_refused(reuse, credential=user.refresh_token, challenge=False)
    # The whole session is gone, on every worker, once the revocation bound has passed.
    time.sleep(MAX_REVOCATION_TTL)
    me_on_fresh_connections(server, pair['access_token'], expected=401)
    for pid in (first, second):
        with served_by(server, pid=pid) as client:
            response = client.post('/auth/refresh', json={'refresh_token': pair['refresh_token']})
            assert_refused(response, credential=pair['refresh_token'], challenge=False)


def test_one_refresh_token_raced_on_both_workers_gives_one_successor(multiworker_server: ExampleServer) -> None:
    """Two tabs refreshing with the same token on two workers: both get the one successor pair."""
    server = multiworker_server
    first, second = sorted(server.worker_pids())
    with server.client() as client:
        user = new_user(client, 'raceworkers')
    with (
        served_by(server, pid=first) as one,
        served_by(server, pid=second) as other,
        concurrent.futures.ThreadPoolExecutor(2) as pool,
    ):
        futures = [
            pool.submit(c.post, '/auth/refresh', json={'refresh_token': user.refresh_token}) for c in (one, other)
        ]
        responses: list[httpx.Response] = [future.result() for future in futures]
        assert {server.serving_pid(r) for r in responses} == {first, second}
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert responses[0].json() == responses[1].json()


class _ExampleUser(BaseUser):
    """The example project's user collection, seen from another process (its class is also named User)."""

    collection_name = 'User'


def deactivate_from_another_process(server: ExampleServer, user_id: str) -> None:
    """What an admin tool or a third worker on the same stores does: ``user.update(is_active=False)``."""
    values = server.env_values
    settings = settings_module(
        SECRET_KEY=server.secret_key,
        DATABASE={'path': values['DB_PATH']},
        REDIS={'url': values['REDIS_URL'] or None},
        USER_MODEL=_ExampleUser,
    )

    async def deactivate() -> None:
        async with TestClient(Panther(settings, urls={})):
            user = await _ExampleUser.find_one(id=user_id)
            await user.update(is_active=False)

    asyncio.run(deactivate())


def test_a_user_deactivated_by_another_process_is_refused_by_every_worker_within_the_bound(
    multiworker_server: ExampleServer,
) -> None:
    server = multiworker_server
    with server.client() as client:
        user = new_user(client, 'deactivated')
    me_on_fresh_connections(server, user.access_token, expected=200)  # both workers hold the user
    deactivate_from_another_process(server, user.id)
    time.sleep(MAX_REVOCATION_TTL)
    me_on_fresh_connections(server, user.access_token, expected=401)
