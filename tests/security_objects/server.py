"""A real uvicorn serving any ``module:app`` of this repository, started and stopped by PID.

The example project has its own launcher (tests/e2e/server.py, which
copies the project into a fresh directory); this one serves a test app
module in place, with settings passed through the environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


@dataclass
class UvicornServer:
    app: str
    port: int
    log_file: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def ws_url(self) -> str:
        return f'ws://127.0.0.1:{self.port}'

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **kwargs)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors='replace')
        except OSError:
            return '(no log file)'

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if key not in ('PANTHER_LIKE_CONFIGS',)}
        env.update(self.env, PANTHER_LIKE_FAST_PASSWORD_HASH='1', PYTHONUNBUFFERED='1', PYTHONPATH=str(REPO))
        command = [sys.executable, '-m', 'uvicorn', self.app, '--host', '127.0.0.1', '--port', str(self.port),
                   '--log-level', 'warning']
        with open(self.log_file, 'ab') as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'uvicorn {self.app} exited ({self.process.returncode}):\n{self.log()[-3000:]}')
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.url + '/openapi.json', timeout=1.0)
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f'uvicorn {self.app}: no answer within {START_TIMEOUT:.0f}s:\n{self.log()[-3000:]}')

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def serve(app: str, directory: Path, env: dict[str, str]) -> Iterator[UvicornServer]:
    """Start, yield, stop; then fail if the server logged a traceback (every failure we provoke is a 4xx)."""
    server = UvicornServer(app=app, port=free_port(), log_file=directory / 'uvicorn.log', env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    log = server.log()
    assert 'Traceback' not in log, f'{app} logged a traceback:\n{log[-5000:]}'
