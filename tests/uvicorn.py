"""A real uvicorn process for the tests: started, polled until it answers, stopped by PID.

Two kinds of server build on it: the example project copied into a fresh
directory (tests/e2e/server.py) and a test app module served in place
(tests/security_objects/server.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import ServerUnavailable, terminate, wait_until_serving
from tests.tiers import require_a_tier

START_TIMEOUT = 20.0
#: uvicorn's command line, with cheap password hashes when the environment asks for them.
BOOT = Path(__file__).with_name('fast_hash_uvicorn.py')


@dataclass(kw_only=True)
class UvicornProcess:
    """Where a uvicorn listens, its log, and the process (in a session of its own)."""

    name: str
    port: int
    log_file: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def ws_url(self) -> str:
        return f'ws://127.0.0.1:{self.port}'

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors='replace')
        except OSError:
            return '(no log file)'

    def client(self, **kwargs) -> httpx.Client:
        """A new client, hence a new connection: with several workers, any of them may serve it."""
        return httpx.Client(base_url=self.url, timeout=10.0, **kwargs)

    def launch(self, app: str, args: list[str], *, cwd: Path, env: dict[str, str], ready: Callable[[], bool]) -> None:
        """Run uvicorn with `app` on our port and wait until `ready()` says it serves."""
        require_a_tier('uvicorn')
        command = [sys.executable, '-P', str(BOOT), app, '--host', '127.0.0.1', '--port', str(self.port), *args]
        # Cheap password hashes unless the caller asks for real ones (``PANTHER_LIKE_FAST_PASSWORD_HASH=0``):
        # BOOT switches them on in uvicorn and in each of its workers.
        env = {'PANTHER_LIKE_FAST_PASSWORD_HASH': '1', **env, 'PYTHONUNBUFFERED': '1'}
        with open(self.log_file, 'ab') as log:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def serving() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return ready()
            return False

        try:
            wait_until_serving(
                self.process,
                serving,
                what=f'{self.name}: uvicorn',
                log=lambda: self.log()[-3000:],
                timeout=START_TIMEOUT,
            )
        except ServerUnavailable:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM to uvicorn (it stops its workers); SIGKILL to its process group after a timeout."""
        process, self.process = self.process, None
        terminate(process, kill=_kill_group)

    def assert_no_traceback(self) -> None:
        """Every failure the tests provoke is a 4xx; nothing may reach the log as a traceback."""
        log = self.log()
        assert 'Traceback' not in log, f'{self.name}: the server logged a traceback:\n{log[-5000:]}'


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
