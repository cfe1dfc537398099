"""A server's start-up freezes what the worker built, so full collections skip it.

`gc.freeze` is process-wide: the ASGI lifespan runs in a child Python so
that this test process (and the tests after it) keeps its own collector as is.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

from panther_like import API, Panther
from panther_like.testing import TestClient
from tests.settings import settings_module

LIFESPAN_IN_A_CHILD = textwrap.dedent("""
    import asyncio, gc, sys, types
    from panther_like import API, Panther

    @API()
    async def ping(request):
        return {'ok': True}

    settings = types.ModuleType('child_settings')
    settings.SECRET_KEY = 'k' * 32 + '0123456789abcdefghijklmnopqrstuv'
    settings.DATABASE = {'path': sys.argv[1]}
    app = Panther(settings, urls={'ping': ping})

    async def main():
        inbox = asyncio.Queue()
        for kind in ('lifespan.startup', 'lifespan.shutdown'):
            inbox.put_nowait({'type': kind})
        sent = []

        async def send(message):
            sent.append(message['type'])
            if message['type'] == 'lifespan.startup.complete':
                print('frozen at start-up:', gc.get_freeze_count())

        await app({'type': 'lifespan', 'asgi': {'version': '3.0'}}, inbox.get, send)
        print('messages:', ','.join(sent))

    print('frozen before:', gc.get_freeze_count())
    asyncio.run(main())
""")


@API()
async def ping(request):
    return {'ok': True}


def test_the_lifespan_startup_freezes_the_objects_built_so_far(tmp_path):
    run = subprocess.run(
        [sys.executable, '-c', LIFESPAN_IN_A_CHILD, str(tmp_path / 'app.sqlite3')],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = dict(line.split(': ', 1) for line in run.stdout.splitlines())
    assert lines['frozen before'] == '0'
    assert int(lines['frozen at start-up']) > 1000
    assert lines['messages'] == 'lifespan.startup.complete,lifespan.shutdown.complete'


async def test_the_test_client_leaves_the_collector_unfrozen(tmp_path):
    before = gc.get_freeze_count()
    app = Panther(
        settings_module(
            SECRET_KEY='k' * 32 + '0123456789abcdefghijklmnopqrstuv', DATABASE={'path': str(tmp_path / 'app.sqlite3')}
        ),
        urls={'ping': ping},
    )
    async with TestClient(app) as client:
        assert (await client.get('/ping')).status_code == 200
    assert gc.get_freeze_count() == before
