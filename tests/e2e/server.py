"""The example project served by a real uvicorn, exactly as a user runs it.

Each server is a copy of ``configs/``, ``core/`` and ``example_app/`` in a
fresh directory with its own ``.env``, started with
``python -m uvicorn example_app.main:app`` in that directory and stopped
by PID. Servers are session-scoped (one per backend / worker layout) so the
suite stays fast (the fixtures are in conftest.py); every test makes its own users.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.servers import child_pids, free_port
from tests.uvicorn import UvicornProcess

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIRS = ('configs', 'core', 'example_app')
# Settings the example reads; an inherited value would win over the .env file (see load_env).
ENV_SETTINGS = (
    'SECRET_KEY',
    'MONGODB_URL',
    'DB_PATH',
    'REDIS_URL',
    'REDIS_SENTINELS',
    'REDIS_SERVICE',
    'REDIS_PASSWORD',
    'REDIS_WAIT_REPLICAS',
    'STORE_ROUND_TRIPS_HEADER',
    'LOGIN_MAX_FAILURES',
    'LOGIN_MAX_FAILURES_PER_ADDRESS',
    'LOGIN_THROTTLE_WINDOW',
    'TRUSTED_PROXIES',
    'SMTP_HOST',
    'SMTP_PORT',
    'SMTP_TLS',
    'SMTP_USERNAME',
    'SMTP_PASSWORD',
    'MAIL_FROM',
    'MAIL_SHOW_TOKENS',
    'RESET_URL',
    'VERIFY_URL',
    'PASSKEY_ORIGINS',
    'PASSKEY_RP_ID',
)


def random_secret(length: int = 48) -> str:
    alphabet = string.ascii_letters + string.digits
    return ''.join(secrets.choice(alphabet) for _ in range(length))


@dataclass(kw_only=True)
class ExampleServer(UvicornProcess):
    """A running example project: where it listens, its secret, its log, its processes."""

    directory: Path
    secret_key: str
    workers: int
    env_values: dict[str, str] = field(default_factory=dict)
    log_level: str = 'warning'
    uvicorn_args: tuple[str, ...] = ()
    #: Environment variables of the server process itself (the settings go in `.env`).
    process_env: dict[str, str] = field(default_factory=dict)

    # -- processes -------------------------------------------------------------------------

    def worker_pids(self) -> set[int]:
        """The worker processes (children of the uvicorn supervisor); the supervisor itself with one worker."""
        assert self.process is not None
        if self.workers == 1:
            return {self.process.pid}
        return {child for child in child_pids(self.process.pid) if _is_worker(child)}

    def serving_pid(self, response: httpx.Response) -> int:
        """The worker process holding the server side of the (still open) connection `response` came on."""
        stream = response.extensions['network_stream']
        client_port = stream.get_extra_info('client_addr')[1]
        inode = _tcp_inode(local_port=self.port, remote_port=client_port)
        assert inode is not None, f'no server-side socket for client port {client_port}'
        candidates = self.worker_pids() | {self.process.pid}
        for pid in candidates:
            if _holds_socket(pid, inode):
                return pid
        raise AssertionError(f'no process of the server holds socket inode {inode}')

    def start(self) -> None:
        args = ['--log-level', self.log_level]
        if self.workers > 1:
            args += ['--workers', str(self.workers)]
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ENV_SETTINGS and key not in ('PYTHONPATH', 'PANTHER_LIKE_CONFIGS')
        }
        env.update(self.process_env)

        def ready() -> bool:
            answered = httpx.get(self.url + '/', timeout=1.0).status_code == 200
            return answered and (self.workers == 1 or len(self.worker_pids()) == self.workers)

        self.launch('example_app.main:app', [*args, *self.uvicorn_args], cwd=self.directory, env=env, ready=ready)


def _is_worker(pid: int) -> bool:
    """A multiprocessing child running uvicorn's server (not the resource tracker)."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as cmdline:
            return b'spawn_main' in cmdline.read()
    except OSError:
        return False


def _tcp_inode(*, local_port: int, remote_port: int) -> int | None:
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    columns = row.split()
                    local, remote, inode = columns[1], columns[2], int(columns[9])
                    if (
                        int(local.rsplit(':', 1)[1], 16) == local_port
                        and int(remote.rsplit(':', 1)[1], 16) == remote_port
                        and inode
                    ):
                        return inode
        except OSError:
            continue
    return None


def _holds_socket(pid: int, inode: int) -> bool:
    target = f'socket:[{inode}]'
    try:
        descriptors = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        return False
    for fd in descriptors:
        with contextlib.suppress(OSError):
            if os.readlink(f'/proc/{pid}/fd/{fd}') == target:
                return True
    return False


def launch(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    mongodb_url: str | None = None,
    redis_url: str | None = None,
    workers: int = 1,
    log_level: str = 'warning',
    uvicorn_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    process_env: dict[str, str] | None = None,
) -> Iterator[ExampleServer]:
    directory = tmp_path_factory.mktemp(f'e2e_{name}')
    for project_dir in PROJECT_DIRS:
        shutil.copytree(
            REPO / project_dir, directory / project_dir, ignore=shutil.ignore_patterns('__pycache__', '*.pyc')
        )
    secret_key = random_secret()
    if mongodb_url:
        base = mongodb_url.rstrip('/')
        base = base.rsplit('/', 1)[0] if base.count('/') > 2 else base
        mongodb_url = f'{base}/e2e_{uuid.uuid4().hex[:12]}'
    values = {
        'SECRET_KEY': secret_key,
        'MONGODB_URL': mongodb_url or '',
        'DB_PATH': str(directory / 'example.sqlite3'),
        'REDIS_URL': redis_url or '',
        **(extra_env or {}),
    }
    (directory / '.env').write_text(''.join(f'{key}={value}\n' for key, value in values.items()))
    server = ExampleServer(
        name=name,
        directory=directory,
        port=free_port(),
        secret_key=secret_key,
        workers=workers,
        log_file=directory / 'uvicorn.log',
        env_values=values,
        log_level=log_level,
        uvicorn_args=tuple(uvicorn_args),
        process_env=dict(process_env or {}),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_no_traceback()
