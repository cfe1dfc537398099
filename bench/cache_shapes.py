"""The authentication path in-process, on the traffic shapes of bench/run.py: µs per request.

    .venv/bin/python bench/cache_shapes.py [USERS]    # default 1,000; the project's venv will do

No server and no wrk; CPU time of this process (threads included), which is steadier
than wall time on a shared machine. Each request builds a `Request` from a scope
and awaits the route's authenticator, as a worker does, on a temporary embedded
store. Shapes: one token again and again; USERS users, one token each, in turn;
the same with ``max_entries`` USERS / 2 (a working set twice the cache). It
isolates the framework's own work; the server's share (uvicorn, httptools) is
only in bench/run.py's figures.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROUNDS = 5
SCOPE_KEY = 'panther_like.services'


def scope(token: str, app: Any) -> dict[str, Any]:
    return {
        'app': app,
        'type': 'http',
        'method': 'GET',
        'path': '/private',
        'raw_path': b'/private',
        'query_string': b'',
        'headers': [(b'host', b'127.0.0.1'), (b'authorization', f'Bearer {token}'.encode())],
        'client': ('127.0.0.1', 50000),
        SCOPE_KEY: app.services,  # what the app's dispatch adds to every scope
    }


async def shapes(users: int, max_entries: int | None) -> dict[str, float]:
    from panther_like import API, Panther
    from panther_like.http.request import Request

    @API(auth=True, methods=['GET'])
    async def private(request: Any) -> dict[str, str]:
        return {'id': request.user.id}

    with tempfile.TemporaryDirectory() as tmp:
        settings = types.ModuleType('shape_settings')
        settings.SECRET_KEY = 'cache-shapes-0123456789abcdefghijklmnopqrstuvwxyz'
        settings.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
        settings.DATABASE = {'path': str(Path(tmp) / 'shapes.sqlite3')}
        settings.URLS = {'private': private}
        if max_entries is not None:
            settings.AUTH_CACHE = {'max_entries': max_entries, 'revocation_ttl': 1.0}
        else:
            settings.AUTH_CACHE = {'revocation_ttl': 1.0}
        app = Panther(configs=settings)
        await app.startup()
        try:
            model = app.config.user_model
            created = await asyncio.gather(*(model.insert_one(username=f'user-{n}') for n in range(users)))
            tokens = [
                app.tokens.issue_pair(u.id, credential_version=u.credential_version)['access_token'] for u in created
            ]
            authenticator = app.router.resolve('/private')[0].guard.authenticator
            scopes = [scope(token, app) for token in tokens]

            async def per_request(sequence: list[dict[str, Any]]) -> float:
                start = time.process_time()
                for one in sequence:
                    await authenticator(Request(one))
                return (time.process_time() - start) / len(sequence) * 1e6

            one = [scopes[0]] * (10 * users)
            rotated = list(itertools.islice(itertools.cycle(scopes), 10 * users))
            await per_request(rotated)  # every token seen once (or the cache settled)
            return {
                'one token': statistics.median([await per_request(one) for _ in range(ROUNDS)]),
                'rotated': statistics.median([await per_request(rotated) for _ in range(ROUNDS)]),
            }
        finally:
            await app.shutdown()


async def main(users: int) -> None:
    in_cache = await shapes(users, None)
    half = await shapes(users, users // 2)
    print(f'one token: {in_cache["one token"]:.1f} µs per request')
    print(f'{users:,} users rotated, all in cache: {in_cache["rotated"]:.1f} µs')
    print(f'{users:,} users rotated, max_entries {users // 2:,}: {half["rotated"]:.1f} µs')
    print(
        f'ratios: rotated / one token {in_cache["one token"] / in_cache["rotated"]:.2f}; '
        f'working set twice the cache / in cache {in_cache["rotated"] / half["rotated"]:.2f} (rate ratio)'
    )


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
