"""Real servers for the test suite, started on free 127.0.0.1 ports and stopped by PID.

The tests talk to these over TCP exactly as the framework does in
production; nothing is mocked. A handle can be stopped (or killed) and
started again on the same port, so a test can take a store away mid-request
and bring it back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class ServerUnavailable(RuntimeError):
    """The server binary is missing or the server did not come up; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.2):
            return True
    except OSError:
        return False


def _redis_ready(port: int) -> bool:
    """PING is answered, and not with -LOADING, which a Redis replaying its append-only file says until done."""
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5) as connection:
            connection.sendall(b'PING\r\n')
            reply = connection.recv(64)
            return bool(reply) and not reply.startswith(b'-LOADING')
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return '\n'.join(path.read_text(errors='replace').splitlines()[-lines:])
    except OSError:
        return '(no log file)'


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A daemon has exited but stays a zombie until its parent (often PID 1) reaps it;
    # count that as gone, or every stop() waits for the reaper.
    try:
        with open(f'/proc/{pid}/stat') as stat:
            if stat.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                return False
    except (OSError, IndexError):
        pass
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def child_pids(pid: int) -> list[int]:
    """The live children of `pid`, read from /proc: the workers a server process started."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ('Z', 'X'):
            found.append(int(entry))
    return found


def find_binary(name: str) -> str | None:
    """`name` next to the running interpreter (the venv) first, then on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


@dataclass
class ServerHandle:
    """A running server: `url`, `pid`, and `stop()`/`kill()`/`start()` on the same port."""

    name: str
    url: str
    port: int
    pid_file: Path
    log_file: Path
    command: list[str]
    pid: int | None = None
    #: Whether the server on this port is ready for work (beyond accepting connections), if that differs.
    ready: Callable[[int], bool] | None = None

    def start(self) -> None:
        if self.pid is not None and _alive(self.pid):
            return
        self.pid_file.unlink(missing_ok=True)
        result = subprocess.run(self.command, capture_output=True, text=True, timeout=START_TIMEOUT)
        if result.returncode != 0:
            raise ServerUnavailable(
                f'{self.name} exited with status {result.returncode}: '
                f'{(result.stderr or result.stdout).strip()[-1000:]}\n{_tail(self.log_file)}'
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.pid = _read_pid(self.pid_file)
            if self.pid is not None and _accepts(self.port) and (self.ready is None or self.ready(self.port)):
                return
            time.sleep(0.05)
        pid = _read_pid(self.pid_file)
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        raise ServerUnavailable(
            f'{self.name} did not accept connections on 127.0.0.1:{self.port} within '
            f'{START_TIMEOUT:.0f}s; last log lines:\n{_tail(self.log_file)}'
        )

    def _signal_and_wait(self, signum: int) -> None:
        pid = self.pid or _read_pid(self.pid_file)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid) and time.monotonic() < deadline + STOP_TIMEOUT:
                time.sleep(0.02)
        self.pid = None
        # Wait until the port is really closed so a following start() can bind it again.
        deadline = time.monotonic() + STOP_TIMEOUT
        while _accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), waiting until the process is gone and the port is free."""
        self._signal_and_wait(signal.SIGTERM)

    def kill(self) -> None:
        """Abrupt stop (SIGKILL), as a crash would."""
        self._signal_and_wait(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


def start_mongo_wire(tmpdir: str | os.PathLike[str], port: int | None = None) -> ServerHandle:
    """nx-27017 (a MongoDB wire-protocol server on SQLite), with its own data directory.

    It gets a --data-dir so that each logical database is its own file; in
    single-file mode collections are shared across databases.
    """
    binary = find_binary('nx-27017')
    if binary is None:
        raise ServerUnavailable('nx-27017 is not installed (pip install nx-27017)')
    base = Path(tmpdir)
    base.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    handle = ServerHandle(
        name='nx-27017',
        url=f'mongodb://127.0.0.1:{port}/panther_like_test',
        port=port,
        pid_file=base / 'nx-27017.pid',
        log_file=base / 'nx-27017.log',
        command=[
            binary,
            '-d',
            '--host',
            '127.0.0.1',
            '-p',
            str(port),
            '--data-dir',
            str(base / 'data'),
            '--pid-file',
            str(base / 'nx-27017.pid'),
            '--log-file',
            str(base / 'nx-27017.log'),
        ],
    )
    handle.start()
    return handle


def start_redis(
    tmpdir: str | os.PathLike[str],
    port: int | None = None,
    *,
    replica_of: int | None = None,
    persistence: bool = True,
    extra_args: tuple[str, ...] = (),
) -> ServerHandle:
    """redis-server, daemonized, on its own port; a replica of 127.0.0.1:`replica_of` if given.

    With an append-only file in `tmpdir` (the app refuses a Redis that keeps nothing on disk), unless
    `persistence` is False; `extra_args` are more ``--name value`` options.
    """
    binary = find_binary('redis-server')
    if binary is None:
        raise ServerUnavailable('redis-server is not installed (apt-get install redis-server)')
    base = Path(tmpdir)
    base.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    replication = ['--replicaof', '127.0.0.1', str(replica_of)] if replica_of else []
    handle = ServerHandle(
        name='redis-server',
        url=f'redis://127.0.0.1:{port}/0',
        port=port,
        pid_file=base / 'redis.pid',
        log_file=base / 'redis.log',
        command=[
            binary,
            '--port',
            str(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'yes' if persistence else 'no',
            '--appendfsync',
            'everysec',
            '--daemonize',
            'yes',
            '--pidfile',
            str(base / 'redis.pid'),
            '--logfile',
            str(base / 'redis.log'),
            '--dir',
            str(base),
            '--repl-diskless-sync-delay',
            '0',
            *replication,
            *extra_args,
        ],
        ready=_redis_ready,
    )
    handle.start()
    return handle


def own_redis(tmpdir: str | os.PathLike[str], **options) -> Iterator[ServerHandle]:
    """Body of a fixture: a redis-server of the test's own (`start_redis` `options`), stopped afterwards.

    For tests that need a Redis configured their way (no persistence, renamed commands), not the session's.
    """
    try:
        handle = start_redis(tmpdir, **options)
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        yield handle
    finally:
        handle.stop()


def forget_throttle_counts(redis_url: str) -> None:
    """Delete every throttle counter the Redis at `redis_url` holds, so a test that counts from fixed client addresses
    starts from none: the session's tests share that Redis, and so do earlier runs when ``REDIS_URL`` names one that
    lasts (run twice within a window, a count of the first run refused the second one early)."""
    import redis

    from panther_like.login_state.throttle_stores import RedisThrottleStore

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=RedisThrottleStore.PREFIX + '*', count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def start_sentinel(tmpdir: str | os.PathLike[str], primary_port: int, service: str = 'mymaster') -> ServerHandle:
    """One Redis Sentinel (quorum 1) watching the primary on 127.0.0.1:`primary_port`; it rewrites its own file."""
    binary = find_binary('redis-server')
    if binary is None:
        raise ServerUnavailable('redis-server is not installed (apt-get install redis-server)')
    base = Path(tmpdir)
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = base / 'sentinel.conf'
    config.write_text(
        f'sentinel monitor {service} 127.0.0.1 {primary_port} 1\n'
        f'sentinel down-after-milliseconds {service} 1000\n'
        f'sentinel failover-timeout {service} 5000\n'
    )
    handle = ServerHandle(
        name='redis-sentinel',
        url=f'redis://127.0.0.1:{port}',
        port=port,
        pid_file=base / 'sentinel.pid',
        log_file=base / 'sentinel.log',
        command=[
            binary,
            str(config),
            '--sentinel',
            '--port',
            str(port),
            '--bind',
            '127.0.0.1',
            '--daemonize',
            'yes',
            '--pidfile',
            str(base / 'sentinel.pid'),
            '--logfile',
            str(base / 'sentinel.log'),
            '--dir',
            str(base),
        ],
    )
    handle.start()
    return handle


def wait_until_serving(
    process: subprocess.Popen,
    serving: Callable[[], bool],
    *,
    what: str,
    log: Callable[[], str],
    timeout: float = START_TIMEOUT,
) -> None:
    """Poll `serving()` until it says yes; `ServerUnavailable` (with the log) if the child exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f'{what} exited with status {process.returncode}:\n{log()}')
        if serving():
            return
        time.sleep(0.05)
    raise ServerUnavailable(f'{what} did not serve within {timeout:.0f} s:\n{log()}')


def terminate(process: subprocess.Popen | None, kill: Callable[[subprocess.Popen], None] | None = None) -> None:
    """SIGTERM to a child this suite started, by its PID; `kill` (SIGKILL by default) if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        (kill or subprocess.Popen.kill)(process)
        process.wait(timeout=STOP_TIMEOUT)


def unavailable(message: str) -> NoReturn:
    """Skip on a developer machine that lacks a server; fail under CI, where a skip would look green."""
    if os.environ.get('CI'):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def serve(env_var: str, starter: Callable[[Path], ServerHandle], tmpdir: Path) -> Iterator[ServerHandle | None]:
    """Body of a session fixture: the server from `env_var`'s URL (yields None), else one started here.

    A missing binary or a server that will not start skips the tests that
    need it on a developer machine, and fails them under CI (env ``CI`` set),
    where a silently skipped suite would look green.
    """
    if os.environ.get(env_var):
        yield None
        return
    try:
        handle = starter(tmpdir)
    except (ServerUnavailable, OSError, subprocess.SubprocessError) as exc:
        unavailable(f'{env_var} is not set and a local server could not be started: {exc}')
    try:
        yield handle
    finally:
        handle.stop()


def fresh_database_url(mongodb_url: str, prefix: str = 't') -> str:
    """The same server with a new, empty database: tests never see each other's documents."""
    import uuid

    scheme, _, rest = mongodb_url.partition('://')
    host = rest.split('/', 1)[0].split('?', 1)[0]
    return f'{scheme}://{host}/{prefix}_{uuid.uuid4().hex[:12]}'
