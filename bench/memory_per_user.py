"""What a worker holds per active user: bytes per cached token and user, measured with tracemalloc.

    .venv/bin/python bench/memory_per_user.py [USERS]     # default 5,000; the project's venv will do

Builds panther_like on a temporary embedded store, creates USERS users with one
access token each (without passwords: argon2 would take the time), authenticates
every token once, as a worker does at a user's first request, and divides what the
caches hold by USERS. Every token's user is distinct, so this is the figure per
active user; a second token of a user already cached costs only the token's entry.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import tracemalloc
import types
from pathlib import Path


async def measure(users: int) -> dict[str, float]:
    from panther_like import Panther

    with tempfile.TemporaryDirectory() as tmp:
        settings = types.ModuleType('memory_settings')
        settings.SECRET_KEY = 'memory-per-user-0123456789abcdefghijklmnopqrstuv'
        settings.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
        settings.DATABASE = {'path': str(Path(tmp) / 'memory.sqlite3')}
        settings.URLS = {}
        app = Panther(configs=settings)
        await app.startup()
        try:
            model = app.config.user_model
            created = await asyncio.gather(*(model.insert_one(username=f'user-{n}') for n in range(users)))
            tokens = [
                app.tokens.issue_pair(user.id, credential_version=user.credential_version)['access_token']
                for user in created
            ]
            del created
            await app.tokens.authenticate(tokens[0])  # the first look at the feed, outside the measure
            cache = app.tokens.cache
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            for token in tokens[1:]:
                await app.tokens.authenticate(token)
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            total = sum(stat.size_diff for stat in after.compare_to(before, 'filename'))
            verified = sum(sys.getsizeof(claims) for claims, _ in cache.verified.values()) / len(cache.verified)
            return {
                'users': users,
                'cached_tokens': len(cache.verified),
                'bytes_per_active_user': total / (users - 1),
                'claims_dict_bytes': verified,
            }
        finally:
            await app.shutdown()


if __name__ == '__main__':
    result = asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
    print(
        f'{result["users"]:,} users, {result["cached_tokens"]:,} tokens cached: '
        f'{result["bytes_per_active_user"]:,.0f} bytes per active user (token, claims and user; '
        f'the claims dict alone {result["claims_dict_bytes"]:,.0f})'
    )
