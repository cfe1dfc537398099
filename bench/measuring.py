"""Load with wrk, read what it says, and interleave the runs so that drift hits every target alike.

Two shapes of traffic on GET /private:

- one token: every request carries the same token (``--tokens N``: N tokens
  of one user, rotated), measured on the same server as GET /public;
- N users: N distinct users, one token each, rotated per request by
  rotate_tokens.lua, each N on a fresh server (so its RSS is that of N users).

Repetitions are round-robin: every target runs a shape before any target
runs the next one, and the whole sequence repeats ``--runs`` times; each
figure is the median over the repetitions.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from environment import BENCH, log
from first_pass import present_each_token_once
from lineup import Target
from servers import cpu_seconds, start_server

WRK_CPU = '1'
ROTATE_LUA = BENCH / 'rotate_tokens.lua'
ROUTES = ('/public', '/private')
UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3}


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
        rps=float(rps.group(1)),
        p50=_ms(p50.group(1)),
        p99=_ms(p99.group(1)),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        output=output,
    )


def wrk_command(
    port: int, path: str, token: str | Path | None, seconds: float, opts: argparse.Namespace, pinned: bool
) -> tuple[list[str], dict[str, str] | None]:
    """The wrk command line and environment: a token file means wrk rotates over its tokens in order.

    wrk takes whole seconds only: a duration is rounded, to 1 s at least.
    """
    duration = max(1, round(seconds))
    command = ['wrk', f'-t{opts.threads}', f'-c{opts.connections}', f'-d{duration}s', '--timeout', '5s', '--latency']
    env = None
    if isinstance(token, Path):
        command += ['-s', str(ROTATE_LUA)]
        env = {**os.environ, 'BENCH_TOKENS_FILE': str(token)}
    elif token:
        command += ['-H', f'Authorization: Bearer {token}']
    command.append(f'http://127.0.0.1:{port}{path}')
    if pinned:
        command = ['taskset', '-c', WRK_CPU, *command]
    return command, env


def run_wrk(
    port: int, path: str, token: str | Path | None, seconds: float, opts: argparse.Namespace, pinned: bool
) -> WrkResult:
    command, env = wrk_command(port, path, token, seconds, opts, pinned)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, env=env)
    if result.returncode != 0:
        raise RuntimeError(f'wrk failed ({result.returncode}): {result.stderr}{result.stdout}')
    return parse_wrk(result.stdout)


# -- the shapes and their results -----------------------------------------------------------------


def shape_key(route: str, users: int = 0) -> str:
    """How a result is filed: '/public', '/private' (one token), '/private@1000' (1,000 users rotated)."""
    return f'{route}@{users}' if users else route


def session_routes(users: int) -> tuple[str, ...]:
    """The routes measured on one server start: both for the single-token session, /private for N users."""
    return ('/private',) if users else ROUTES


def traffic(target: Target, route: str, users: int) -> str | Path | None:
    """What wrk sends: no token, one token, or a file of tokens to rotate over."""
    if route == '/public':
        return None
    if users:
        return target.user_tokens[users]
    return target.tokens_file or target.token


@dataclass
class Measurements:
    runs: dict[tuple[str, str], list[WrkResult]] = field(default_factory=dict)
    # (target, users) -> per run, one value per worker; users 0 is the single-token session
    rss: dict[tuple[str, int], list[list[float]]] = field(default_factory=dict)

    def add(self, target: str, key: str, result: WrkResult) -> None:
        self.runs.setdefault((target, key), []).append(result)

    def median(self, target: str, key: str, attribute: str) -> float | None:
        values = [getattr(r, attribute) for r in self.runs.get((target, key), [])]
        return statistics.median(values) if values else None

    def errors(self, target: str) -> int:
        return sum(r.errors for (name, _), runs in self.runs.items() if name == target for r in runs)

    def rss_median(self, target: str, users: int = 0) -> float | None:
        """Median over runs of the mean RSS per worker, in MiB."""
        per_worker = [statistics.mean(run) for run in self.rss.get((target, users), []) if run]
        return statistics.median(per_worker) if per_worker else None


def measure(targets: list[Target], opts: argparse.Namespace, tmp: Path) -> Measurements:
    """Every shape of every target, ``opts.runs`` times, round-robin over the targets."""
    results = Measurements()
    for rep in range(1, opts.runs + 1):
        for users in (0, *opts.users):
            for target in targets:
                if users and not (target.rotates and target.kind == 'main'):
                    continue
                measure_session(target, users, rep, opts, tmp, results)
    return results


def measure_session(
    target: Target, users: int, rep: int, opts: argparse.Namespace, tmp: Path, results: Measurements
) -> None:
    """One server start: warm up and measure each route of the session, then read the RSS, then stop it."""
    tag = f'r{rep}' + (f'-u{users}' if users else '')
    server = start_server(target, tmp, tag, env=target.env_for(users), probes=target.user_probes.get(users, ()))
    try:
        for route in session_routes(users):
            key = shape_key(route, users)
            token = traffic(target, route, users)
            if users:  # steady state: every user has been seen once, as a worker in production has
                failed = present_each_token_once(server.port, route, token)
                if failed:
                    raise RuntimeError(f'{target.name}: {failed} of {users} tokens were refused in the first pass')
            if opts.warmup > 0:
                run_wrk(server.port, route, token, opts.warmup, opts, target.pinned)
            workers = server.worker_pids()
            before = cpu_seconds(workers)
            result = run_wrk(server.port, route, token, opts.duration, opts, target.pinned)
            result.cpu_seconds = cpu_seconds(workers) - before
            results.add(target.name, key, result)
            flag = f'  !! {result.non_2xx} non-2xx, {result.socket_errors} socket errors' if result.errors else ''
            log(
                f'run {rep}/{opts.runs} {target.name:22} {key:15} {result.rps:10,.0f} req/s  '
                f'p50 {result.p50:.2f} ms  p99 {result.p99:.2f} ms  '
                f'{result.per_cpu_second:,.0f} req/CPU-s ({result.cpu_seconds:.1f} CPU-s){flag}'
            )
        results.rss.setdefault((target.name, users), []).append(server.rss_per_worker())
    finally:
        server.stop()
