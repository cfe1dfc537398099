"""``panther-like run --server granian``: the example project served by granian, as a user runs it.

A real ``panther-like run`` in a copy of the example project, driven over TCP
with httpx: sign up, log in, use the token. Without the optional extra the
command says which extra to install, in one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port
from tests.test_cli_commands import CLI, cli_env, copy_example

pytestmark = pytest.mark.server
PASSWORD = 'a long and uncommon passphrase 93'


@pytest.fixture(scope='module')
def project(tmp_path_factory) -> Path:
    return copy_example(tmp_path_factory.mktemp('granian'))


@pytest.fixture(scope='module')
def granian_url(project: Path) -> Iterator[str]:
    port = free_port()
    log = (project / 'granian.log').open('w')
    process = subprocess.Popen(
        [str(CLI), 'run', '--server', 'granian', '--port', str(port), '--log-level', 'warning'],
        cwd=project,
        env=cli_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f'http://127.0.0.1:{port}'
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f'{url}/ready', timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError('granian never became ready:\n' + (project / 'granian.log').read_text())
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: only what it started
            process.wait(timeout=20)
        log.close()


def test_granian_serves_the_example_and_a_user_logs_in(granian_url):
    with httpx.Client(base_url=granian_url, timeout=10) as client:
        signup = client.post('/auth/signup', json={'username': 'gran', 'password': PASSWORD})
        assert signup.status_code == 201, signup.text
        login = client.post('/auth/login', json={'username': 'gran', 'password': PASSWORD})
        assert login.status_code == 200, login.text
        me = client.get('/auth/me', headers={'Authorization': f'Bearer {login.json()["access_token"]}'})
        assert me.status_code == 200, me.text
        assert me.json()['username'] == 'gran'


def test_without_the_granian_extra_run_names_the_extra_in_one_line(project, tmp_path):
    # sitecustomize runs first in the command's interpreter: granian then cannot be found, as if not installed.
    (tmp_path / 'sitecustomize.py').write_text("import sys\nsys.modules['granian'] = None\n")
    result = subprocess.run(
        [str(CLI), 'run', '--server', 'granian', '--port', str(free_port())],
        cwd=project,
        env={**cli_env(), 'PYTHONPATH': str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "optional extra 'granian'" in result.stderr
    assert 'Traceback' not in result.stderr + result.stdout
