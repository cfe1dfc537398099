"""Through a real uvicorn: no start on a Redis that keeps nothing on disk; logouts outlive a Redis restart.

A Redis without persistence forgets every logout and every spent refresh
token when it restarts (a spent refresh token was then accepted again), so
the server refuses to start on one: uvicorn's lifespan start-up fails and
the process exits, with the reason and both fixes in its log. On a Redis
with an append-only file, a restart forgets nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import assert_refused, new_user
from tests.e2e.server import PROJECT_DIRS, REPO, ExampleServer, launch, random_secret
from tests.servers import ServerHandle, free_port, own_redis
from tests.tiers import require_a_tier

pytestmark = pytest.mark.server

START_TIMEOUT = 60


@pytest.fixture(scope='module')
def forgetful_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    yield from own_redis(tmp_path_factory.mktemp('e2e_forgetful'), persistence=False)


@pytest.fixture(scope='module')
def durable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    yield from own_redis(tmp_path_factory.mktemp('e2e_durable'))


@pytest.fixture(scope='module')
def durable_server(tmp_path_factory: pytest.TempPathFactory, durable_redis: ServerHandle) -> Iterator[ExampleServer]:
    yield from launch(tmp_path_factory, 'durable_redis', redis_url=durable_redis.url)


def test_the_server_refuses_to_start_on_a_redis_without_persistence(
    forgetful_redis: ServerHandle,
    tmp_path: Path,
) -> None:
    require_a_tier('uvicorn')
    for project_dir in PROJECT_DIRS:
        shutil.copytree(REPO / project_dir, tmp_path / project_dir, ignore=shutil.ignore_patterns('__pycache__'))
    (tmp_path / '.env').write_text(
        f'SECRET_KEY={random_secret()}\nDB_PATH={tmp_path / "db.sqlite3"}\nREDIS_URL={forgetful_redis.url}\n'
    )
    command = [
        sys.executable,
        '-m',
        'uvicorn',
        'example_app.main:app',
        '--host',
        '127.0.0.1',
        '--port',
        str(free_port()),
    ]
    try:
        finished = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=START_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        pytest.fail(f'the server was still running after {START_TIMEOUT} s: it started on a forgetful Redis')
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0, output
    assert 'keeps nothing on disk' in output and 'appendonly yes' in output and 'save 60 1' in output, output
    assert 'allow_no_persistence' in output, output
    assert 'Traceback' not in output, output


def test_a_spent_refresh_token_stays_spent_across_a_redis_restart(
    durable_server: ExampleServer,
    durable_redis: ServerHandle,
) -> None:
    with durable_server.client() as client:
        user = new_user(client, 'restart')
        successor = client.post('/auth/refresh', json={'refresh_token': user.refresh_token})
        assert successor.status_code == 200
        # Its successor used too, the first token is spent for good (no second tab's window).
        second = client.post('/auth/refresh', json={'refresh_token': successor.json()['refresh_token']})
        assert second.status_code == 200
        other = new_user(client, 'restartlogout')
        assert client.post('/auth/logout', headers=other.bearer).status_code == 200
    durable_redis.stop()
    durable_redis.start()
    with durable_server.client() as client:
        response = client.post('/auth/refresh', json={'refresh_token': user.refresh_token})
        if response.status_code == 503:  # the first request after the restart may meet a dropped connection
            response = client.post('/auth/refresh', json={'refresh_token': user.refresh_token})
        assert_refused(response, credential=user.refresh_token, challenge=False)
        assert_refused(client.get('/me', headers=other.bearer), credential=other.access_token)
