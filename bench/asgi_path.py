"""CPU per request of each target's own ASGI callable, without a server: what the framework adds.

    .venv/bin/python bench/asgi_path.py [ROUNDS] [--profile public|private]

Calls the limit, the raw callable and panther_like (embedded store, in a
temporary directory) in this process with an ASGI scope, a ``receive`` that
hands over an empty body and a ``send`` that drops what it is given: these
two stand in for the server on purpose, since the server's own cost is what
this leaves out. Shapes: ``/public``, and ``/private`` with one token.
Prints the median of ROUNDS (default 5) rounds of 20,000 requests, in µs of
CPU (``time.process_time``) per request. Under wrk, a server adds its own
cost to each of these; the ratio of two targets there is
``(server + a) / (server + b)``.

``--profile`` prints a cProfile of panther_like on that shape instead.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

TARGETS = Path(__file__).with_name('targets')
sys.path.insert(0, str(TARGETS))
REQUESTS = 20_000

App = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def scope(path: str, token: str | None) -> dict[str, Any]:
    headers = [(b'host', b'127.0.0.1:8000'), (b'user-agent', b'wrk'), (b'accept', b'*/*')]
    if token is not None:
        headers.append((b'authorization', f'Bearer {token}'.encode()))
    return {
        'type': 'http',
        'asgi': {'version': '3.0', 'spec_version': '2.3'},
        'http_version': '1.1',
        'method': 'GET',
        'scheme': 'http',
        'path': path,
        'raw_path': path.encode(),
        'root_path': '',
        'query_string': b'',
        'headers': headers,
        'client': ('127.0.0.1', 50000),
        'server': ('127.0.0.1', 8000),
        'state': {},
    }


async def receive() -> dict[str, Any]:
    return {'type': 'http.request', 'body': b'', 'more_body': False}


class Sent:
    """Keeps the status of the last response start, so a round can check it answered as expected."""

    status = 0

    async def __call__(self, message: dict[str, Any]) -> None:
        if message['type'] == 'http.response.start':
            self.status = message['status']


async def round_of(app: App, request_scope: dict[str, Any]) -> float:
    sent = Sent()
    start = time.process_time()
    for number in range(REQUESTS):
        if number % 100 == 0:
            # A server returns to its event loop between requests; without this the worker's look at the
            # change feed, begun in the background, would never run, and every request would wait on it.
            await asyncio.sleep(0)
        await app(dict(request_scope), receive, sent)
    spent = time.process_time() - start
    if sent.status != 200:
        raise SystemExit(f'{request_scope["path"]} answered {sent.status}')
    return spent / REQUESTS * 1e6


async def lifespan(app: App) -> None:
    messages = iter([{'type': 'lifespan.startup'}])

    async def lifespan_receive() -> dict[str, Any]:
        try:
            return next(messages)
        except StopIteration:
            await asyncio.Event().wait()  # keep the lifespan task waiting, as a server does
            raise

    async def lifespan_send(message: dict[str, Any]) -> None:
        return None

    asyncio.get_running_loop().create_task(app({'type': 'lifespan'}, lifespan_receive, lifespan_send))
    await asyncio.sleep(0.2)


async def panther_like_target() -> tuple[App, str]:
    os.environ['BENCH_EMBEDDED_PATH'] = str(Path(tempfile.mkdtemp()) / 'asgi_path.sqlite3')
    import panther_like_app

    app = panther_like_app.app
    await lifespan(app)
    user = await app.config.user_model.insert_one(username='bench', password='bench-password-1')
    return app, (await user.login())['access_token']


async def main() -> None:
    rounds = int(next((a for a in sys.argv[1:] if a.isdigit()), 5))
    profile_shape = sys.argv[sys.argv.index('--profile') + 1] if '--profile' in sys.argv else None
    import bench_common
    import limit_app
    import raw_app

    peer_token = bench_common.make_token()
    ours, our_token = await panther_like_target()
    if profile_shape is not None:
        request_scope = scope('/' + profile_shape, our_token if profile_shape == 'private' else None)
        await round_of(ours, request_scope)
        profile = cProfile.Profile()
        profile.enable()
        await round_of(ours, request_scope)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats('tottime').print_stats(30)
        print(out.getvalue())
        return
    lineup = {'limit': (limit_app.app, peer_token), 'raw': (raw_app.app, peer_token), 'panther_like': (ours, our_token)}
    print(f'{"target":<14}{"/public µs":>12}{"/private µs":>13}   (median of {rounds} rounds of {REQUESTS:,})')
    for name, (app, token) in lineup.items():
        public = statistics.median([await round_of(app, scope('/public', None)) for _ in range(rounds)])
        private = statistics.median([await round_of(app, scope('/private', token)) for _ in range(rounds)])
        print(f'{name:<14}{public:>12.2f}{private:>13.2f}')


if __name__ == '__main__':
    asyncio.run(main())
