"""One command that benchmarks panther_like against its peers: ``python3 bench/run.py``.

In one invocation it
1. creates bench/.venv and installs the pinned peers (requirements*.txt) and this repository,
   and installs Debian's ``wrk`` (and ``redis-server``) with apt-get when missing;
2. re-runs itself inside bench/.venv, checks every target in-process (good and bad tokens),
   starts nx-27017 (MongoDB wire protocol) and redis-server on free 127.0.0.1 ports, and
   creates a real panther_like user in each store;
3. for each repetition, for each target in turn (round-robin, so load drift hits all alike):
   starts ONE uvicorn worker pinned to CPU 0, warms up, runs ``wrk --latency`` pinned to CPU 1
   on GET /public then GET /private (counting the CPU time the worker spent, from /proc/PID/stat),
   reads the worker's VmRSS, stops it by PID;
   the ``--workers 2`` variants (panther_like on MongoDB with Redis revocation, 1 vs 2 workers)
   run unpinned, server and wrk alike;
4. times panther_like's authentication path in-process (µs per call);
5. prints the tables (medians over the repetitions, ratios to the raw ASGI app of the same
   invocation; req/s, and requests per CPU-second of the server, which other load on the shared
   CPUs disturbs much less) and appends a dated section to bench/RESULTS.md.

``--quick``: 3 s per wrk run, one repetition (a smoke test). ``--check``: only the in-process
correctness check of every target (no wrk). ``--help`` for the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / '.venv'
VENV_PYTHON = VENV / 'bin' / 'python'
TARGETS_DIR = BENCH / 'targets'
REQUIREMENTS = BENCH / 'requirements.txt'
REQUIREMENTS_NODEPS = BENCH / 'requirements-nodeps.txt'
STAMP = VENV / '.bench-installed'
RESULTS = BENCH / 'RESULTS.md'
SERVER_CPU = '0'
WRK_CPU = '1'
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
KEY_PACKAGES = (
    'uvicorn', 'uvloop', 'httptools', 'orjson', 'PyJWT', 'pydantic', 'starlette', 'fastapi', 'panther',
    'pantherdb', 'python-jose', 'panther-like', 'pymongo', 'neosqlite', 'redis', 'nx-27017', 'argon2-cffi',
)


def log(message: str) -> None:
    print(f'[bench {time.strftime("%H:%M:%S")}] {message}', file=sys.stderr, flush=True)


# -- 1. bootstrap (stdlib only, any python3 >= 3.11) --------------------------------------------


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, REQUIREMENTS_NODEPS, ROOT / 'pyproject.toml'):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(force: bool = False) -> None:
    if not VENV_PYTHON.exists():
        log(f'creating {VENV}')
        subprocess.run([sys.executable, '-m', 'venv', str(VENV)], check=True)
    if not force and STAMP.exists() and STAMP.read_text() == _stamp():
        return
    log('installing pinned packages into bench/.venv (requirements.txt, requirements-nodeps.txt, -e .)')
    pip = [str(VENV_PYTHON), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check']
    subprocess.run([*pip, '-r', str(REQUIREMENTS), '-e', str(ROOT)], check=True)
    subprocess.run([*pip, '--no-deps', '-r', str(REQUIREMENTS_NODEPS)], check=True)
    STAMP.write_text(_stamp())


def ensure_apt(binary: str, package: str) -> None:
    if shutil.which(binary):
        return
    log(f'{binary} not found: apt-get install {package}')
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    install = ['apt-get', 'install', '-y', '-q', '--no-install-recommends', package]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(['apt-get', 'update', '-q'], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    if not shutil.which(binary):
        raise SystemExit(f'{binary} is still missing after apt-get install {package}')


# -- servers started and stopped by PID ----------------------------------------------------------


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
    return daemon.start([
        str(VENV / 'bin' / 'nx-27017'), '-d', '--host', '127.0.0.1', '-p', str(port),
        '--data-dir', str(base / 'data'), '--pid-file', str(daemon.pid_file), '--log-file', str(daemon.log_file),
    ])


def start_redis(tmp: Path) -> Daemon:
    base = tmp / 'redis'
    base.mkdir()
    port = free_port()
    daemon = Daemon('redis-server', f'redis://127.0.0.1:{port}/0', port, base / 'redis.pid', base / 'redis.log')
    return daemon.start([
        shutil.which('redis-server') or 'redis-server', '--port', str(port), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', str(daemon.pid_file),
        '--logfile', str(daemon.log_file), '--dir', str(base),
    ])


# -- targets -------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    label: str
    module: str
    env: dict[str, str] = field(default_factory=dict)
    token: str = ''
    user_id: str = ''
    tokens_file: Path | None = None  # with --tokens N: N distinct tokens, one a line, rotated by wrk
    workers: int = 1
    pinned: bool = True
    kind: str = 'main'  # 'main' rows of the table, or 'scale' (the --workers variants)


def run_task(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> dict[str, Any]:
    """bench/tasks.py in a fresh venv process; its last stdout line is JSON."""
    result = subprocess.run(
        [str(VENV_PYTHON), str(BENCH / 'tasks.py'), *args], env={**os.environ, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f'tasks.py {" ".join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}')
    return json.loads(lines[-1])


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
        if self.target.workers == 1:
            return [self.pid]
        return [pid for pid in children(self.pid) if b'spawn_main' in _cmdline(pid)]

    def stop(self) -> None:
        workers = self.worker_pids() if self.target.workers > 1 else []
        stop_pid(self.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        for pid in workers:  # normally gone with the master; never leave one behind
            stop_pid(pid)


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


CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


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


def http_get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f'http://127.0.0.1:{port}{path}')
    if token:
        request.add_header('Authorization', f'Bearer {token}')
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_server(target: Target, tmp: Path, tag: str) -> Server:
    port = free_port()
    log_file = tmp / f'uvicorn-{target.name}-{tag}.log'
    command = [
        str(VENV / 'bin' / 'uvicorn'), f'{target.module}:app', '--app-dir', str(TARGETS_DIR),
        '--host', '127.0.0.1', '--port', str(port), '--loop', 'uvloop', '--http', 'httptools',
        '--no-access-log', '--log-level', 'warning',
    ]
    if target.workers > 1:
        command += ['--workers', str(target.workers)]
    if target.pinned:
        command = ['taskset', '-c', SERVER_CPU, *command]
    with open(log_file, 'wb') as out:
        process = subprocess.Popen(command, cwd=tmp, env={**os.environ, **target.env}, stdout=out, stderr=out)
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
    status, body = http_get(port, '/private', target.token)
    if status != 200:
        server.stop()
        raise RuntimeError(f'{target.name}: /private with the token gave {status} {body[:300]!r}')
    return server


# -- wrk -----------------------------------------------------------------------------------------

UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3}
ROTATE_LUA = BENCH / 'rotate_tokens.lua'


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r'([\d.]+)(us|ms|s|m)', text).groups()
    return float(number) * UNITS[unit]


@dataclass
class WrkResult:
    rps: float
    p50: float
    p99: float
    requests: int
    non_2xx: int
    socket_errors: int
    output: str = ''
    cpu_seconds: float = 0.0  # user + system CPU the server's worker(s) spent during the run

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def per_cpu_second(self) -> float:
        """Requests per CPU-second of the server: what other load on the CPU does not change much."""
        return self.requests / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r'Requests/sec:\s+([\d.]+)', output)
    p50 = re.search(r'^\s+50%\s+(\S+)', output, re.M)
    p99 = re.search(r'^\s+99%\s+(\S+)', output, re.M)
    requests = re.search(r'(\d+) requests in', output)
    if not (rps and p50 and p99 and requests):
        raise RuntimeError(f'could not parse wrk output:\n{output}')
    non_2xx = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', output)
    sockets = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', output)
    return WrkResult(
        rps=float(rps.group(1)), p50=_ms(p50.group(1)), p99=_ms(p99.group(1)), requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0, output=output,
    )


def run_wrk(
    port: int, path: str, token: str | Path | None, seconds: float, opts: argparse.Namespace, pinned: bool
) -> WrkResult:
    command = ['wrk', f'-t{opts.threads}', f'-c{opts.connections}', f'-d{seconds:g}s', '--timeout', '5s']
    command.append('--latency')
    env = None
    if isinstance(token, Path):  # a file of tokens: wrk rotates over them (one per request, in order)
        command += ['-s', str(ROTATE_LUA)]
        env = {**os.environ, 'BENCH_TOKENS_FILE': str(token)}
    elif token:
        command += ['-H', f'Authorization: Bearer {token}']
    command.append(f'http://127.0.0.1:{port}{path}')
    if pinned:
        command = ['taskset', '-c', WRK_CPU, *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, env=env)
    if result.returncode != 0:
        raise RuntimeError(f'wrk failed ({result.returncode}): {result.stderr}{result.stdout}')
    return parse_wrk(result.stdout)


# -- the run -------------------------------------------------------------------------------------

ROUTES = ('/public', '/private')


@dataclass
class Measurements:
    runs: dict[tuple[str, str], list[WrkResult]] = field(default_factory=dict)
    rss: dict[str, list[list[float]]] = field(default_factory=dict)  # target -> per run, one value per worker

    def add(self, target: str, route: str, result: WrkResult) -> None:
        self.runs.setdefault((target, route), []).append(result)

    def median(self, target: str, route: str, attribute: str) -> float | None:
        values = [getattr(r, attribute) for r in self.runs.get((target, route), [])]
        return statistics.median(values) if values else None

    def errors(self, target: str) -> int:
        return sum(r.errors for route in ROUTES for r in self.runs.get((target, route), []))


def build_targets(opts: argparse.Namespace, tmp: Path, mongo: Daemon | None, redis: Daemon | None) -> list[Target]:
    sys.path.insert(0, str(TARGETS_DIR))
    from bench_common import USER_ID, make_token

    peer_token = make_token(USER_ID)
    targets = [
        Target('raw', 'raw ASGI + orjson (PyJWT on /private)', 'raw_app'),
        Target('starlette', 'Starlette', 'starlette_app'),
        Target('fastapi', 'FastAPI (HTTPBearer)', 'fastapi_app'),
        Target('panther', 'Panther (JWTAuthentication, user in a dict)', 'panther_app'),
        Target('panther-db', 'Panther (JWTAuthentication, user in its file DB)', 'panther_db_app',
               env={'BENCH_PANTHERDB_PATH': str(tmp / 'panther.pdb')}),
        Target('panther_like', 'panther_like (embedded store)', 'panther_like_app',
               env={'BENCH_EMBEDDED_PATH': str(tmp / 'panther_like.sqlite3')}),
    ]
    if mongo is not None:
        targets.append(Target('panther_like-mongo', 'panther_like (MongoDB: nx-27017)', 'panther_like_app',
                              env={'BENCH_MONGODB_URL': f'{mongo.url}/bench'}))
    if redis is not None and mongo is not None:
        env = {'BENCH_MONGODB_URL': f'{mongo.url}/bench_scale', 'BENCH_REDIS_URL': redis.url}
        for workers in (1, opts.workers):
            targets.append(Target(f'panther_like-redis-w{workers}',
                                  f'panther_like (MongoDB + Redis revocation), {workers} worker(s), unpinned',
                                  'panther_like_app', env=env, workers=workers, pinned=False, kind='scale'))
    selected = set(opts.targets.split(',')) if opts.targets else None
    if selected:
        unknown = selected - {t.name for t in targets}
        if unknown:
            known = ', '.join(t.name for t in targets)
            raise SystemExit(f'unknown target(s): {", ".join(sorted(unknown))}; known: {known}')
        targets = [t for t in targets if t.name in selected or t.name == 'raw']
    prepared: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for target in targets:
        if target.module == 'panther_like_app':
            key = tuple(sorted(target.env.items()))
            if key not in prepared:  # one user per store; every target on that store uses its tokens
                prepared[key] = run_task(['prepare', 'panther_like', str(opts.tokens)], target.env, tmp)
            target.token, target.user_id = prepared[key]['token'], prepared[key]['user_id']
            tokens = prepared[key]['tokens']
        elif target.name == 'panther-db':
            target.user_id = run_task(['prepare', 'panther_db'], target.env, tmp)['user_id']
            tokens = [make_token(target.user_id) for _ in range(opts.tokens)]
            target.token = tokens[0]
        else:
            target.token, target.user_id = peer_token, USER_ID
            tokens = [peer_token] + [make_token(USER_ID) for _ in range(opts.tokens - 1)]
        if opts.tokens > 1:
            target.tokens_file = tmp / f'tokens-{target.name}.txt'
            target.tokens_file.write_text('\n'.join(tokens) + '\n')
    return targets


def measure(targets: list[Target], opts: argparse.Namespace, tmp: Path) -> Measurements:
    results = Measurements()
    for rep in range(1, opts.runs + 1):
        for target in targets:
            server = start_server(target, tmp, f'r{rep}')
            try:
                for route in ROUTES:
                    token = (target.tokens_file or target.token) if route == '/private' else None
                    if opts.warmup > 0:
                        run_wrk(server.port, route, token, opts.warmup, opts, target.pinned)
                    workers = server.worker_pids()
                    before = cpu_seconds(workers)
                    result = run_wrk(server.port, route, token, opts.duration, opts, target.pinned)
                    result.cpu_seconds = cpu_seconds(workers) - before
                    results.add(target.name, route, result)
                    flag = (f'  !! {result.non_2xx} non-2xx, {result.socket_errors} socket errors'
                            if result.errors else '')
                    log(f'run {rep}/{opts.runs} {target.name:22} {route:8} {result.rps:10,.0f} req/s  '
                        f'p50 {result.p50:.2f} ms  p99 {result.p99:.2f} ms  '
                        f'{result.per_cpu_second:,.0f} req/CPU-s ({result.cpu_seconds:.1f} CPU-s){flag}')
                results.rss.setdefault(target.name, []).append(
                    [value for pid in server.worker_pids() if (value := rss_mib(pid)) is not None])
            finally:
                server.stop()
    return results


def ratio(a: float | None, b: float | None) -> str:
    return f'{a / b:.2f}' if a and b else '-'


def fmt_rps(value: float | None) -> str:
    return f'{value:,.0f}' if value else '-'


def fmt_lat(results: Measurements, target: str, route: str) -> str:
    p50, p99 = results.median(target, route, 'p50'), results.median(target, route, 'p99')
    return f'{p50:.2f} / {p99:.2f}' if p50 is not None and p99 is not None else '-'


def rss_text(results: Measurements, target: str) -> str:
    runs = results.rss.get(target) or []
    per_worker = [statistics.mean(run) for run in runs if run]
    if not per_worker:
        return '-'
    return f'{statistics.median(per_worker):.1f}'


def main_table(targets: list[Target], results: Measurements) -> str:
    raw_public = results.median('raw', '/public', 'rps')
    raw_private = results.median('raw', '/private', 'rps')
    lines = [
        '| target | /public req/s | x raw /public | /public p50 / p99 ms | /private req/s | x raw /private '
        '| /private ÷ raw /public | /private p50 / p99 ms | RSS MiB per worker | errors |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ]
    for target in targets:
        if target.kind != 'main':
            continue
        public = results.median(target.name, '/public', 'rps')
        private = results.median(target.name, '/private', 'rps')
        errors = results.errors(target.name)
        lines.append(
            f'| {target.label} | {fmt_rps(public)} | {ratio(public, raw_public)} | '
            f'{fmt_lat(results, target.name, "/public")} | {fmt_rps(private)} | {ratio(private, raw_private)} | '
            f'{ratio(private, raw_public)} | {fmt_lat(results, target.name, "/private")} | '
            f'{rss_text(results, target.name)} | {f"**{errors} (FLAGGED)**" if errors else "0"} |'
        )
    return '\n'.join(lines)


def cpu_table(targets: list[Target], results: Measurements, duration: float) -> str:
    """The same runs divided by the server's own CPU time instead of wall-clock time."""
    metric = 'per_cpu_second'
    raw_public = results.median('raw', '/public', metric)
    raw_private = results.median('raw', '/private', metric)
    lines = [
        '| target | /public req per CPU-s | x raw /public | /private req per CPU-s | x raw /private '
        '| /private ÷ raw /public | server CPU busy /public, /private |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for target in targets:
        if target.kind != 'main':
            continue
        public = results.median(target.name, '/public', metric)
        private = results.median(target.name, '/private', metric)
        busy = [results.median(target.name, route, 'cpu_seconds') for route in ROUTES]
        busy_text = ', '.join(f'{b / duration:.0%}' if b is not None else '-' for b in busy)
        lines.append(
            f'| {target.label} | {fmt_rps(public)} | {ratio(public, raw_public)} | {fmt_rps(private)} | '
            f'{ratio(private, raw_private)} | {ratio(private, raw_public)} | {busy_text} |'
        )
    return '\n'.join(lines)


def scale_table(targets: list[Target], results: Measurements) -> str:
    scale = [t for t in targets if t.kind == 'scale']
    if not scale:
        return ''
    base = scale[0].name
    lines = [
        '| target | workers | /public req/s | x 1 worker | /private req/s | x 1 worker '
        '| /private p50 / p99 ms | RSS MiB per worker | errors |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ]
    for target in scale:
        public = results.median(target.name, '/public', 'rps')
        private = results.median(target.name, '/private', 'rps')
        errors = results.errors(target.name)
        lines.append(
            f'| {target.label} | {target.workers} | {fmt_rps(public)} | '
            f'{ratio(public, results.median(base, "/public", "rps"))} | {fmt_rps(private)} | '
            f'{ratio(private, results.median(base, "/private", "rps"))} | '
            f'{fmt_lat(results, target.name, "/private")} | '
            f'{rss_text(results, target.name)} | {f"**{errors} (FLAGGED)**" if errors else "0"} |'
        )
    return '\n'.join(lines)


def goals(targets: list[Target], results: Measurements, metric: str = 'rps') -> str:
    """The issue's targets, as ratios of this invocation."""
    raw_public = results.median('raw', '/public', metric)
    fastapi_private = results.median('fastapi', '/private', metric)
    lines = []
    for target in targets:
        if target.kind != 'main' or not target.name.startswith('panther_like'):
            continue
        public = results.median(target.name, '/public', metric)
        private = results.median(target.name, '/private', metric)
        checks = [
            ('/public ≥ 0.85 x raw /public', public, raw_public, 0.85),
            ('/private ≥ 0.70 x raw /public', private, raw_public, 0.70),
            ('/private ≥ 2.5 x FastAPI /private', private, fastapi_private, 2.5),
        ]
        parts = []
        for text, value, reference, bound in checks:
            if value and reference:
                parts.append(f'{text}: {value / reference:.2f} ({"met" if value / reference >= bound else "NOT met"})')
        lines.append(f'- {target.label}: ' + '; '.join(parts))
    return '\n'.join(lines)


def all_runs(targets: list[Target], results: Measurements) -> str:
    lines = []
    for target in targets:
        for route in ROUTES:
            runs = results.runs.get((target.name, route), [])
            if runs:
                values = ', '.join(
                    f'{r.rps:,.0f} req/s ({r.cpu_seconds:.1f} CPU-s, {r.per_cpu_second:,.0f} req/CPU-s)'
                    + (f' ({r.errors} errors)' if r.errors else '') for r in runs)
                lines.append(f'- {target.name} {route}: {values}')
    return '\n'.join(lines)


def auth_cost_text(costs: list[dict[str, Any]]) -> str:
    lines = [
        '| store | authenticator, same token (µs) | authenticator, first-seen token (µs) '
        '| tokens.decode, same token (µs) | tokens.decode, first-seen token (µs) | PyJWT decode (µs) '
        '| PyJWT encode (µs) |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for cost in costs:
        lines.append(
            f'| {cost["store"]} | {cost["auth_repeated_us"]:.1f} | {cost["auth_first_seen_us"]:.1f} | '
            f'{cost["decode_repeated_us"]:.1f} | {cost["decode_first_seen_us"]:.1f} | '
            f'{cost["pyjwt_decode_us"]:.1f} | {cost["pyjwt_encode_us"]:.1f} |'
        )
    if costs:
        lines.append(
            f'\n{costs[0]["calls"]:,} calls with the same token (median of 3 rounds, after 2,000 warm-up calls; '
            f'each call builds a new `Request` from a scope and awaits '
            "`app.router.resolve('/private')[0].authenticator(request)`); "
            f'{costs[0]["distinct"]:,} calls with tokens never seen before (one `user.login()` each, made before '
            'timing), for the uncached cost.'
        )
    return '\n'.join(lines)


def versions() -> dict[str, str]:
    freeze = subprocess.run([str(VENV_PYTHON), '-m', 'pip', 'list', '--format=json', '--disable-pip-version-check'],
                            capture_output=True, text=True, check=True).stdout
    return {item['name']: item['version'] for item in json.loads(freeze)}


def machine() -> dict[str, str]:
    cpu = 'unknown'
    with contextlib.suppress(OSError):
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    wrk = subprocess.run(['wrk', '-v'], capture_output=True, text=True)
    redis = subprocess.run(['redis-server', '--version'], capture_output=True, text=True) if shutil.which(
        'redis-server') else None
    git = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True)
    dirty = subprocess.run(
        ['git', '--no-optional-locks', '-C', str(ROOT), 'status', '--porcelain', '--', 'panther_like'],
        capture_output=True, text=True,
    )
    return {
        'uname': ' '.join(platform.uname()),
        'cpu': f'{cpu} x {os.cpu_count()} logical CPUs',
        'python': sys.version.split()[0],
        'wrk': (wrk.stdout + wrk.stderr).strip().splitlines()[0] if (wrk.stdout + wrk.stderr).strip() else '?',
        'redis': redis.stdout.strip() if redis else '-',
        'git': git.stdout.strip() + (' (panther_like/ has uncommitted changes)' if dirty.stdout.strip() else ''),
    }


def loadavg() -> str:
    try:
        return ' '.join(Path('/proc/loadavg').read_text().split()[:3])
    except OSError:
        return '?'


def report(opts: argparse.Namespace, targets: list[Target], results: Measurements, costs: list[dict[str, Any]],
           started: dt.datetime, load_before: str) -> str:
    info = machine()
    installed = versions()
    key = ', '.join(f'{name} {installed[name]}' for name in KEY_PACKAGES if name in installed)
    others = ', '.join(f'{n} {v}' for n, v in sorted(installed.items()) if n not in KEY_PACKAGES)
    scale = scale_table(targets, results)
    mode = ('quick (smoke test)' if opts.quick else 'full') + (f', {opts.tokens:,} tokens' if opts.tokens > 1 else '')
    token_text = ('the same token on every request' if opts.tokens == 1 else
                  f'{opts.tokens:,} distinct tokens of the same user (one login each) rotated by a wrk Lua script')
    sections = [
        f'## {started:%Y-%m-%d %H:%M} UTC: {mode}',
        f'Command: `{os.environ.get("BENCH_COMMAND", "python3 bench/run.py")}`  ',
        f'wrk: `-t{opts.threads} -c{opts.connections} -d{opts.duration:g}s --latency` (warm-up {opts.warmup:g} s '
        f'before each), median of {opts.runs} interleaved run(s); one uvicorn worker (`--loop uvloop --http httptools '
        f'--no-access-log --log-level warning`) pinned to CPU {SERVER_CPU}, wrk pinned to CPU {WRK_CPU}, 127.0.0.1.  ',
        f'Machine: `{info["uname"]}`; {info["cpu"]}; Python {info["python"]}; {info["wrk"]}; {info["redis"]}.  ',
        f'Repository: {info["git"]}. Load average before / after: {load_before} / {loadavg()} '
        '(other work shares these 2 CPUs: compare ratios, not absolute req/s).',
        '',
        main_table(targets, results),
        '',
        'Ratios divide medians of this invocation. /private sends `Authorization: Bearer <HS256 JWT>` (claims '
        f'`user_id, token_type, iat, exp, jti, sid`), {token_text}; peers look the user up in an '
        "in-process dict, panther_like in its configured store (a real user made with `User.insert_one` and "
        '`user.login()`). RSS is VmRSS of the worker after its runs (median over runs).',
    ]
    sections += [
        '', '### The same runs per CPU-second of the server', '',
        'Requests served divided by the user + system CPU time the server worker spent during the run '
        '(`/proc/PID/stat`). Other work on the shared CPUs lowers req/s but changes this much less, so it is '
        'the steadier comparison here; "busy" is the share of the run the worker was on a CPU (well under 100% '
        'means it was starved by other load, or waiting on its store: nx-27017 runs outside the worker and its '
        'CPU is not counted).', '',
        cpu_table(targets, results, opts.duration),
    ]
    goal_lines = goals(targets, results)
    if goal_lines:
        sections += ['', 'Issue 5 targets, by req/s (ratios of this invocation):', '', goal_lines,
                     '', 'The same, by requests per server CPU-second:', '', goals(targets, results, 'per_cpu_second')]
    if scale:
        sections += [
            '', f'### Scaling: --workers {opts.workers}, Redis revocation (MongoDB store: nx-27017)', '',
            'Server and wrk are **not** pinned here (the 2 workers need both CPUs, and wrk shares them), so these '
            'rows compare with each other, not with the pinned table above.', '', scale,
        ]
    if costs:
        sections += ['', '### panther_like authentication path, in-process', '', auth_cost_text(costs)]
    sections += [
        '', '### Versions', '', key + '.', '', '<details><summary>all runs and every package</summary>\n',
        all_runs(targets, results), '', others, '\n</details>', '',
    ]
    return '\n'.join(sections)


def write_results(text: str, path: Path) -> None:
    header = (
        '# Benchmark results\n\nWritten by `python3 bench/run.py` (see README, "Benchmarks"); each run appends '
        'a dated section; older sections are kept below the newer ones.\n\n'
    )
    old = path.read_text() if path.exists() else ''
    body = old[len(header):] if old.startswith(header) else old
    path.write_text(header + text + ('\n' + body if body.strip() else ''))


def check_targets(names: list[str], tmp: Path, env_for: dict[str, dict[str, str]]) -> bool:
    ok = True
    for name in names:
        try:
            problems = run_task(['check', name], env_for.get(name, {}), tmp, timeout=120)['problems']
        except RuntimeError as exc:
            problems = [str(exc)]
        ok = ok and not problems
        log(f'check {name:20} ' + ('ok' if not problems else 'FAILED:\n  ' + '\n  '.join(problems)))
    return ok


def in_venv_main(opts: argparse.Namespace) -> int:
    started = dt.datetime.now(dt.UTC)
    load_before = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix='panther-like-bench-'))
    mongo = redis = None
    try:
        check_env = {
            'panther-db': {'BENCH_PANTHERDB_PATH': str(tmp / 'check.pdb')},
            'panther_like': {'BENCH_EMBEDDED_PATH': str(tmp / 'check.sqlite3')},
        }
        names = ['raw', 'starlette', 'fastapi', 'panther', 'panther-db', 'panther_like']
        log('checking every target in-process (good token, no token, bad signature, wrong key, expired, garbage)')
        if not check_targets(names, tmp, check_env):
            log('a target answers wrongly: not measuring')
            return 1
        if opts.check:
            return 0
        mongo = start_mongo_wire(tmp)
        log(f'nx-27017 pid {mongo.pid} on {mongo.url}')
        if opts.workers > 1:
            redis = start_redis(tmp)
            log(f'redis-server pid {redis.pid} on {redis.url}')
        targets = build_targets(opts, tmp, mongo, redis)
        log(f'targets: {", ".join(t.name for t in targets)}; {opts.runs} run(s) x {opts.duration:g} s per route')
        results = measure(targets, opts, tmp)
        costs = []
        if any(t.name.startswith('panther_like') for t in targets):
            log('timing the authentication path in-process')
            calls, distinct = (5_000, 500) if opts.quick else (20_000, 2_000)
            costs.append(run_task(['auth-cost', str(calls), str(distinct)],
                                  {'BENCH_EMBEDDED_PATH': str(tmp / 'cost.sqlite3')}, tmp))
            costs.append(run_task(['auth-cost', str(calls), str(distinct)],
                                  {'BENCH_MONGODB_URL': f'{mongo.url}/bench_cost'}, tmp))
        text = report(opts, targets, results, costs, started, load_before)
        print(text)
        if not opts.no_write:
            write_results(text, Path(opts.results))
            log(f'appended to {opts.results}')
        flagged = [t.name for t in targets if results.errors(t.name)]
        if flagged:
            log(f'FLAGGED: runs with non-2xx responses or socket errors: {", ".join(flagged)}')
            return 3
        return 0
    finally:
        for daemon in (redis, mongo):
            if daemon is not None:
                daemon.stop()
        if not opts.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f'kept {tmp}')


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='bench/run.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='smoke test: -d3s, 1 run, 1 s warm-up')
    parser.add_argument('--check', action='store_true', help='only check every target in-process (no wrk)')
    parser.add_argument('--duration', type=float, help='seconds per wrk run (default 10; 3 with --quick)')
    parser.add_argument('--runs', type=int, help='interleaved repetitions; the median is reported (default 3)')
    parser.add_argument('--warmup', type=float, default=1.0, help='seconds of unrecorded wrk before each run')
    parser.add_argument('--connections', type=int, default=64)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--tokens', type=int, default=1,
                        help='distinct /private tokens (same user, one session each) rotated by wrk; default 1')
    parser.add_argument('--workers', type=int, default=2, help='workers of the scaling variant (1 skips it)')
    parser.add_argument('--targets', help='comma-separated subset (raw is always included)')
    parser.add_argument('--results', default=str(RESULTS), help='Markdown file to append to')
    parser.add_argument('--no-write', action='store_true', help='print only; do not touch RESULTS.md')
    parser.add_argument('--reinstall', action='store_true', help='reinstall bench/.venv packages')
    parser.add_argument('--keep-tmp', action='store_true', help='keep the temporary directory (server logs)')
    opts = parser.parse_args(argv)
    opts.duration = opts.duration or (3.0 if opts.quick else 10.0)
    opts.runs = opts.runs or (1 if opts.quick else 3)
    if opts.tokens < 1:
        parser.error('--tokens must be at least 1')
    return opts


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    if os.environ.get('BENCH_IN_VENV') != '1':
        ensure_venv(force=opts.reinstall)
        if not opts.check:
            ensure_apt('wrk', 'wrk')
            if opts.workers > 1:
                ensure_apt('redis-server', 'redis-server')
        env = {**os.environ, 'BENCH_IN_VENV': '1',
               'BENCH_COMMAND': ' '.join(['python3', os.path.relpath(__file__, ROOT), *argv])}
        os.execve(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *argv], env)
    return in_venv_main(opts)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
