"""Under uvicorn with 4 workers: route throttling counts one budget, and websocket messages reach any worker's socket.

Run on the embedded store (messages through the change feed) and with
Redis (through pub/sub).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import websockets

from tests.security_objects.server import REPO, UvicornServer
from tests.servers import free_port

pytestmark = pytest.mark.server
WORKERS = 4


@dataclass(kw_only=True)
class WorkersServer(UvicornServer):
    def start(self) -> None:
        import os

        env = {key: value for key, value in os.environ.items() if key != 'PANTHER_LIKE_CONFIGS'}
        env.update(self.env, PYTHONPATH=str(REPO))
        self.launch(
            self.app,
            ['--log-level', self.log_level, '--workers', str(WORKERS)],
            cwd=REPO,
            env=env,
            ready=lambda: httpx.get(self.url + '/pid', timeout=1.0).status_code == 200,
        )


def _every_worker_answers(server: WorkersServer, timeout: float = 30.0) -> None:
    """Wait until requests on new connections have been served by every worker."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < WORKERS and time.monotonic() < deadline:
        with server.client() as client:
            seen.add(client.get('/pid').json()['pid'])
    assert len(seen) == WORKERS, f'only {len(seen)} workers answered'


@pytest.fixture(scope='module', params=['embedded', 'redis'])
def server(request, tmp_path_factory) -> Iterator[WorkersServer]:
    directory = tmp_path_factory.mktemp(f'parity_{request.param}')
    env = {'PARITY_DB_PATH': str(directory / 'db.sqlite3')}
    if request.param == 'redis':
        env['PARITY_REDIS_URL'] = request.getfixturevalue('redis_url')
    server = WorkersServer(
        name=f'parity ({request.param})',
        app='tests.parity_app:app',
        port=free_port(),
        log_file=directory / 'uvicorn.log',
        env=env,
    )
    server.start()
    try:
        _every_worker_answers(server)
        yield server
    finally:
        server.stop()
    server.assert_no_traceback()


def test_a_route_throttle_is_one_budget_across_workers(server):
    codes = []
    for _ in range(12):
        with server.client() as client:  # a new connection each time: any worker may serve it
            response = client.get('/limited')
        codes.append(response.status_code)
    assert codes.count(200) == 5
    assert codes.count(429) == 7
    assert response.headers['retry-after'] and response.headers['x-ratelimit-remaining'] == '0'


async def _open_on_every_worker(server: WorkersServer, limit: int = 200) -> list[tuple[object, str, int]]:
    """Sockets until every worker holds at least one (at most `limit`: which worker accepts is the kernel's call)."""
    sockets: list[tuple[object, str, int]] = []
    while len({pid for _, _, pid in sockets}) < WORKERS and len(sockets) < limit:
        ws = await websockets.connect(server.ws_url + '/ws')
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        sockets.append((ws, hello['connection_id'], hello['pid']))
    return sockets


async def test_thirty_messages_to_sockets_spread_across_workers_all_arrive(server):
    sockets = await _open_on_every_worker(server)
    try:
        # Messages must cross workers: at least two of them hold sockets (the kernel may starve one).
        assert len({pid for _, _, pid in sockets}) >= 2
        expected: dict[str, list[str]] = {connection_id: [] for _, connection_id, _ in sockets}
        senders: set[int] = set()
        for number in range(30):
            _, connection_id, _ = sockets[number % len(sockets)]
            text = f'message {number}'
            expected[connection_id].append(text)
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                response = await client.post('/send', json={'connection_id': connection_id, 'data': text})
            assert response.status_code == 200
            senders.add(response.json()['pid'])
        for ws, connection_id, _ in sockets:
            received = [await asyncio.wait_for(ws.recv(), 10) for _ in expected[connection_id]]
            assert received == expected[connection_id]
        assert len(senders) > 1  # sent from several workers, not only the sockets' own
    finally:
        for ws, _, _ in sockets:
            await ws.close()
