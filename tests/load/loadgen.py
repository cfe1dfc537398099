"""A bounded load test: many clients, authenticated requests, logouts mixed in, several workers.

Reports requests served, errors (anything but the expected answers) and
the longest time a revoked token was still accepted by any worker after
its logout had completed. The bar: 0 errors, at most 1 second.

Full run (starts the example project with two uvicorn workers on
127.0.0.1 and stops it afterwards)::

    .venv/bin/python -m tests.load.loadgen --clients 50 --requests 20000 --workers 2
    .venv/bin/python -m tests.load.loadgen --clients 50 --requests 20000 --workers 2 --redis redis://127.0.0.1:6379/0

or against an example already running on 127.0.0.1 (``--port 8000``).
Only 127.0.0.1 is ever targeted, and the run is bounded in requests
(at most 200,000) and time (``--max-seconds``, at most 600).

What each client does, in a loop until the request budget is spent:
GET /me with a live session's token (most of the time), GET /me with a
recently revoked token (a probe: must be 401 once the logout completed),
POST /auth/logout of a live session, or POST /auth/login for a new one.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

MAX_REQUESTS = 200_000
MAX_CLIENTS = 500
MAX_SECONDS = 600.0
MAX_REVOCATION_LAG = 1.0


@dataclasses.dataclass
class Session:
    token: str
    logout_sent: float | None = None
    logout_done: float | None = None


@dataclasses.dataclass
class Report:
    served: int = 0
    statuses: Counter = dataclasses.field(default_factory=Counter)
    errors: list[str] = dataclasses.field(default_factory=list)
    expected_401: int = 0
    logouts: int = 0
    logins: int = 0
    revoked_probes: int = 0
    max_revocation_lag: float = 0.0
    seconds: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.max_revocation_lag <= MAX_REVOCATION_LAG

    def lines(self) -> list[str]:
        latencies = sorted(self.latencies) or [0.0]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        return [
            f'requests served: {self.served} in {self.seconds:.1f}s ({self.served / max(self.seconds, 1e-9):.0f}/s)',
            f'by status: {dict(sorted(self.statuses.items()))}',
            f'errors: {len(self.errors)}' + (f' (first: {self.errors[:3]})' if self.errors else ''),
            f'expected 401s after logout: {self.expected_401} (of {self.revoked_probes} revoked-token probes)',
            f'logouts: {self.logouts}, logins: {self.logins}',
            f'max time a revoked token was still accepted: {self.max_revocation_lag * 1000:.0f} ms '
            f'(bar: {MAX_REVOCATION_LAG * 1000:.0f} ms)',
            f'latency p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms',
        ]


class Load:
    def __init__(self, base_url: str, clients: int, requests: int, max_seconds: float, seed: int = 1) -> None:
        if not base_url.startswith('http://127.0.0.1:'):
            raise ValueError('the load test only targets 127.0.0.1')
        self.base_url = base_url
        self.clients = min(clients, MAX_CLIENTS)
        self.budget = min(requests, MAX_REQUESTS)
        self.deadline = time.monotonic() + min(max_seconds, MAX_SECONDS)
        self.random = random.Random(seed)
        self.live: list[Session] = []
        self.revoked: list[Session] = []
        self.accounts: list[tuple[str, str]] = []
        self.report = Report()

    async def run(self) -> Report:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30.0) as setup:
            # One account per client, as in life: concurrent logins of one username count against the
            # login throttle while they are in flight (see panther_like/throttle.py).
            for _ in range(self.clients):
                username, password = f'load_{uuid.uuid4().hex[:12]}', uuid.uuid4().hex
                response = await setup.post('/auth/signup', json={'username': username, 'password': password})
                response.raise_for_status()
                self.accounts.append((username, password))
            for _ in range(max(self.clients, 20)):
                await self._login(setup)
        started = time.monotonic()
        clients = [httpx.AsyncClient(base_url=self.base_url, timeout=30.0, limits=limits) for _ in range(self.clients)]
        try:
            await asyncio.gather(*(self._client(client) for client in clients))
        finally:
            for client in clients:
                await client.aclose()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _take(self) -> bool:
        if self.budget <= 0 or time.monotonic() > self.deadline:
            return False
        self.budget -= 1
        return True

    async def _client(self, client: httpx.AsyncClient) -> None:
        while self._take():
            roll = self.random.random()
            if roll < 0.015 and len(self.live) > self.clients:
                await self._logout(client)
            elif roll < 0.03 or len(self.live) <= self.clients:
                await self._login(client)
            elif roll < 0.25 and self.revoked:
                await self._me(client, self.random.choice(self.revoked[-20:]))
            else:
                await self._me(client, self.random.choice(self.live))

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, **kwargs
    ) -> tuple[httpx.Response | None, float, float]:
        sent = time.monotonic()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.report.errors.append(f'{method} {path}: {type(exc).__name__}: {exc}')
            return None, sent, time.monotonic()
        done = time.monotonic()
        self.report.served += 1
        self.report.statuses[response.status_code] += 1
        self.report.latencies.append(done - sent)
        return response, sent, done

    async def _login(self, client: httpx.AsyncClient) -> None:
        username, password = self.random.choice(self.accounts)
        response, _, _ = await self._send(
            client, 'POST', '/auth/login', json={'username': username, 'password': password}
        )
        if response is None:
            return
        if response.status_code != 200:
            self.report.errors.append(f'login: {response.status_code} {response.text[:200]}')
            return
        self.report.logins += 1
        self.live.append(Session(response.json()['access_token']))

    async def _logout(self, client: httpx.AsyncClient) -> None:
        session = self.live.pop(self.random.randrange(len(self.live)))
        session.logout_sent = time.monotonic()
        self.revoked.append(session)
        response, _, done = await self._send(
            client, 'POST', '/auth/logout', headers={'Authorization': f'Bearer {session.token}'}
        )
        if response is None:
            return
        if response.status_code != 200:
            self.report.errors.append(f'logout: {response.status_code} {response.text[:200]}')
            return
        session.logout_done = done
        self.report.logouts += 1

    async def _me(self, client: httpx.AsyncClient, session: Session) -> None:
        response, sent, _ = await self._send(client, 'GET', '/me', headers={'Authorization': f'Bearer {session.token}'})
        if response is None:
            return
        status = response.status_code
        if session.logout_sent is None:
            if status != 200:
                self.report.errors.append(f'/me with a live token: {status} {response.text[:200]}')
            return
        self.report.revoked_probes += 1
        if session.logout_done is None or sent < session.logout_done:
            if status not in (200, 401):  # racing its own logout: either answer is right
                self.report.errors.append(f'/me racing a logout: {status} {response.text[:200]}')
            self.report.expected_401 += status == 401
            return
        if status == 200:
            self.report.max_revocation_lag = max(self.report.max_revocation_lag, sent - session.logout_done)
        elif status == 401:
            self.report.expected_401 += 1
        else:
            self.report.errors.append(f'/me with a revoked token: {status} {response.text[:200]}')


def run_load(base_url: str, *, clients: int, requests: int, max_seconds: float = 300.0) -> Report:
    return asyncio.run(Load(base_url, clients, requests, max_seconds).run())


class _TempDirs:
    """Enough of pytest's TempPathFactory for `launch` outside pytest."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix='panther_like_load_'))

    def mktemp(self, name: str) -> Path:
        path = self.base / name
        path.mkdir()
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--clients', type=int, default=50)
    parser.add_argument('--requests', type=int, default=20_000)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--redis', help='keep revocations in this Redis (default: the embedded store)')
    parser.add_argument('--port', type=int, help='use an example already running on 127.0.0.1:PORT')
    parser.add_argument('--max-seconds', type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.port:
        report = run_load(
            f'http://127.0.0.1:{args.port}', clients=args.clients, requests=args.requests, max_seconds=args.max_seconds
        )
    else:
        from tests.e2e.server import launch

        servers = launch(_TempDirs(), 'load', redis_url=args.redis, workers=args.workers)  # type: ignore[arg-type]
        server = next(servers)
        try:
            print(
                f'example on {server.url} with {args.workers} workers, revocations in '
                f'{"Redis" if args.redis else "the embedded store"}',
                flush=True,
            )
            report = run_load(server.url, clients=args.clients, requests=args.requests, max_seconds=args.max_seconds)
        finally:
            servers.close()
    print('\n'.join(report.lines()))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
