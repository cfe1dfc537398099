"""Processes the benchmark starts, and what it reads about them from /proc.

Every process is started here and stopped by its own PID (SIGTERM, then
SIGKILL): other work shares this machine, so nothing is ever stopped by name
or port. The uvicorn worker is pinned to `SERVER_CPU` with taskset, so wrk
(pinned to the other CPU) never competes with it for a core.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from environment import TARGETS_DIR, VENV

if TYPE_CHECKING:
    from lineup import Target

SERVER_CPU = '0'
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.2):
            return True
    except OSError:
        return False


def alive(pid: int) -> bool:
    """True while `pid` runs; a zombie child of ours is reaped and counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f'/proc/{pid}/stat') as stat:
            if stat.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                return False
    except (OSError, IndexError):
        return False
    return True


def stop_pid(pid: int | None) -> None:
    """SIGTERM, wait, then SIGKILL: only the process we started, by its PID."""
    if pid is None or not alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while alive(pid) and time.monotonic() < deadline + STOP_TIMEOUT:
            time.sleep(0.05)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return '\n'.join(path.read_text(errors='replace').splitlines()[-lines:])
    except OSError:
        return '(no log)'


# -- the stores' servers --------------------------------------------------------------------------


@dataclass
class Daemon:
    """nx-27017 or redis-server: daemonizes itself and writes a PID file."""

    name: str
    url: str
    port: int
    pid_file: Path
    log_file: Path
    pid: int | None = None

    def start(self, command: list[str]) -> Daemon:
        result = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(f'{self.name} failed: {result.stderr or result.stdout}\n{tail(self.log_file)}')
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                self.pid = int(self.pid_file.read_text().strip())
            if self.pid and accepts(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f'{self.name} did not listen on {self.port}:\n{tail(self.log_file)}')

    def stop(self) -> None:
        stop_pid(self.pid)
        self.pid = None


def start_mongo_wire(tmp: Path) -> Daemon:
    """nx-27017 with its own --data-dir (as tests/servers.py start_mongo_wire does)."""
    base = tmp / 'nx-27017'
    base.mkdir()
    port = free_port()
    daemon = Daemon('nx-27017', f'mongodb://127.0.0.1:{port}', port, base / 'nx.pid', base / 'nx.log')
    return daemon.start(
        [
            str(VENV / 'bin' / 'nx-27017'),
            '-d',
            '--host',
            '127.0.0.1',
            '-p',
            str(port),
            '--data-dir',
            str(base / 'data'),
            '--pid-file',
            str(daemon.pid_file),
            '--log-file',
            str(daemon.log_file),
        ]
    )


def start_redis(tmp: Path) -> Daemon:
    base = tmp / 'redis'
    base.mkdir()
    port = free_port()
    daemon = Daemon('redis-server', f'redis://127.0.0.1:{port}/0', port, base / 'redis.pid', base / 'redis.log')
    return daemon.start(
        [
            shutil.which('redis-server') or 'redis-server',
            '--port',
            str(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'yes',
            '--daemonize',
            'yes',
            '--pidfile',
            str(daemon.pid_file),
            '--logfile',
            str(daemon.log_file),
            '--dir',
            str(base),
        ]
    )


# -- /proc readings -------------------------------------------------------------------------------


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes()
    except OSError:
        return b''


def children(pid: int) -> list[int]:
    found = []
    for entry in Path('/proc').iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / 'stat').read_text()
            except OSError:
                continue
            if int(stat.rsplit(')', 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes, from /proc/PID/stat."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# -- the uvicorn worker ---------------------------------------------------------------------------


def http_get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f'http://127.0.0.1:{port}{path}')
    if token:
        request.add_header('Authorization', f'Bearer {token}')
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Server:
    target: Target
    port: int
    process: subprocess.Popen
    log_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn itself, or its spawned workers with --workers."""
        if self.target.workers == 1:
            return [self.pid]
        return [pid for pid in children(self.pid) if b'spawn_main' in _cmdline(pid)]

    def rss_per_worker(self) -> list[float]:
        return [value for pid in self.worker_pids() if (value := rss_mib(pid)) is not None]

    def stop(self) -> None:
        workers = self.worker_pids() if self.target.workers > 1 else []
        stop_pid(self.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        for pid in workers:  # normally gone with the master; never leave one behind
            stop_pid(pid)


def start_server(
    target: Target, tmp: Path, tag: str, *, env: dict[str, str] | None = None, probes: Iterable[str] = ()
) -> Server:
    """uvicorn serving `target`, answering /public; then /private must take its token and every probe token."""
    port = free_port()
    log_file = tmp / f'uvicorn-{target.name}-{tag}.log'
    command = [
        str(VENV / 'bin' / 'uvicorn'),
        f'{target.module}:app',
        '--app-dir',
        str(TARGETS_DIR),
        '--host',
        '127.0.0.1',
        '--port',
        str(port),
        '--loop',
        'uvloop',
        '--http',
        'httptools',
        '--no-access-log',
        '--log-level',
        'warning',
    ]
    if target.workers > 1:
        command += ['--workers', str(target.workers)]
    if target.pinned:
        command = ['taskset', '-c', SERVER_CPU, *command]
    process_env = {**os.environ, **(target.env if env is None else env)}
    with open(log_file, 'wb') as out:
        process = subprocess.Popen(command, cwd=tmp, env=process_env, stdout=out, stderr=out)
    server = Server(target, port, process, log_file)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'{target.name}: uvicorn exited ({process.returncode}):\n{tail(log_file)}')
        if accepts(port):
            with contextlib.suppress(OSError):
                status, _ = http_get(port, '/public')
                if status == 200 and (target.workers == 1 or len(server.worker_pids()) >= target.workers):
                    break
        time.sleep(0.1)
    else:
        server.stop()
        raise RuntimeError(f'{target.name}: not serving on {port} after {START_TIMEOUT:.0f}s:\n{tail(log_file)}')
    for token in (target.token, *probes):
        status, body = http_get(port, '/private', token)
        if status != 200:
            server.stop()
            raise RuntimeError(f'{target.name}: /private with a prepared token gave {status} {body[:300]!r}')
    return server
