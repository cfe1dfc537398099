"""One command that benchmarks panther_like against its peers: ``python3 bench/run.py``.

In one invocation it
1. creates bench/.venv and installs the pinned peers (requirements*.txt) and this repository,
   and installs Debian's ``wrk`` (and ``redis-server``) with apt-get when missing;
2. re-runs itself inside bench/.venv, checks every target in-process (good and bad tokens),
   starts nx-27017 (MongoDB wire protocol) and redis-server on free 127.0.0.1 ports, creates a
   real panther_like user in each store, and the users of the rotated-token shape (``--users``);
3. for each repetition, for each shape, for each target in turn (round-robin, so load drift hits
   all alike): starts ONE uvicorn worker pinned to CPU 0, warms up, runs ``wrk --latency`` pinned
   to CPU 1 (counting the CPU time the worker spent, from /proc/PID/stat), reads the worker's
   VmRSS, stops it by PID. Shapes: GET /public then GET /private with one token on one server;
   then GET /private with N users, one token each, rotated per request, on a fresh server per N;
   the ``--workers 2`` variants (panther_like on MongoDB with Redis revocation, 1 vs 2 workers)
   run unpinned, server and wrk alike;
4. times panther_like's authentication path in-process (µs per call); with ``--profile``, samples
   a panther_like worker with py-spy while wrk loads it;
5. prints the tables (medians over the repetitions, ratios to the raw ASGI app of the same
   invocation; req/s, and requests per CPU-second of the server, which other load on the shared
   CPUs disturbs much less) and adds a dated section to bench/RESULTS.md.

``--quick``: 3 s per wrk run, one repetition, 1,000 users (a smoke test). ``--check``: only the
in-process correctness check of every target (no wrk). ``--help`` for the rest; bench/README.md
for the modules and the command lines of each shape.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from environment import (
    RESULTS,
    ROOT,
    VENV_PYTHON,
    ensure_apt,
    ensure_profiler,
    ensure_venv,
    loadavg,
    log,
)
from lineup import build_targets, canonical, check_targets, run_task
from measuring import measure
from profiling import parse_profile_shape, profile_worker
from reporting import report, write_results
from servers import start_mongo_wire, start_redis

FULL_USERS = '1000,10000,100000'
QUICK_USERS = '1000'


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
        names = ['raw', 'limit', 'starlette', 'fastapi', 'panther', 'panther-db', 'panther_like']
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
        targets = build_targets(opts, tmp, mongo.url, redis.url if redis else None)
        users = ', '.join(f'{n:,}' for n in opts.users) or 'none'
        log(
            f'targets: {", ".join(t.name for t in targets)}; users rotated on /private: {users}; '
            f'{opts.runs} run(s) x {opts.duration:g} s per shape'
        )
        results = measure(targets, opts, tmp)
        costs = []
        if any(t.name.startswith('panther_like') for t in targets) and not opts.no_auth_cost:
            log('timing the authentication path in-process')
            calls, distinct = (5_000, 500) if opts.quick else (20_000, 2_000)
            costs.append(
                run_task(
                    ['auth-cost', str(calls), str(distinct)], {'BENCH_EMBEDDED_PATH': str(tmp / 'cost.sqlite3')}, tmp
                )
            )
            costs.append(
                run_task(
                    ['auth-cost', str(calls), str(distinct)], {'BENCH_MONGODB_URL': f'{mongo.url}/bench_cost'}, tmp
                )
            )
        profile = None
        if opts.profile:
            target = next(t for t in targets if canonical(t.name) == canonical(opts.profile_target))
            route, profile_users = parse_profile_shape(opts.profile_route)
            log(f'profiling {target.name} on {opts.profile_route} for {opts.profile_seconds} s with py-spy')
            profile = profile_worker(target, route, profile_users, opts.profile_seconds, opts, tmp)
        text = report(opts, targets, results, costs, started, load_before, profile)
        print(text)
        if not opts.no_write:
            write_results(text, Path(opts.results))
            log(f'added to {opts.results}')
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


def parse_user_counts(text: str) -> list[int]:
    """'1000,10k,100_000' -> [1000, 10000, 100000]; 'none' or '0' -> [] (no rotated-token shape)."""
    counts: list[int] = []
    for part in text.replace('_', '').lower().split(','):
        part = part.strip()
        if part in ('', 'none', '0'):
            continue
        match = re.fullmatch(r'(\d+)(k?)', part)
        if not match:
            raise ValueError(f'{part!r} is not a user count')
        count = int(match.group(1)) * (1000 if match.group(2) else 1)
        if count not in counts:
            counts.append(count)
    return counts


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='bench/run.py', description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--quick', action='store_true', help=f'smoke test: -d3s, 1 run, 1 s warm-up, --users {QUICK_USERS} unless given'
    )
    parser.add_argument('--check', action='store_true', help='only check every target in-process (no wrk)')
    parser.add_argument('--duration', type=float, help='seconds per wrk run (default 10; 3 with --quick)')
    parser.add_argument('--runs', type=int, help='interleaved repetitions; the median is reported (default 3)')
    parser.add_argument('--warmup', type=float, default=1.0, help='seconds of unrecorded wrk before each run')
    parser.add_argument('--connections', type=int, default=64)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--tokens',
        type=int,
        default=1,
        help='distinct /private tokens (same user, one session each) rotated by wrk in the one-token shape; default 1',
    )
    parser.add_argument(
        '--users',
        help='user counts of the rotated-token shape: /private with N users, one token '
        f'each, rotated per request (default {FULL_USERS}; {QUICK_USERS} with '
        '--quick; "none" skips the shape)',
    )
    parser.add_argument('--workers', type=int, default=2, help='workers of the scaling variant (1 skips it)')
    parser.add_argument(
        '--targets',
        help='comma-separated subset (raw is always included); '
        'panther_like_embedded and panther_like_mongodb are accepted aliases',
    )
    parser.add_argument('--no-auth-cost', action='store_true', help="skip timing panther_like's auth path in-process")
    parser.add_argument(
        '--profile',
        action='store_true',
        help='after measuring, sample a panther_like worker with py-spy under wrk (installs py-spy)',
    )
    parser.add_argument('--profile-target', default='panther_like', help='target to profile (default panther_like)')
    parser.add_argument(
        '--profile-route',
        default='/public',
        help='/public (default), /private (one token) or /private@N (N of --users)',
    )
    parser.add_argument('--profile-seconds', type=int, help='seconds of sampling (default 10; 5 with --quick)')
    parser.add_argument('--results', default=str(RESULTS), help='Markdown file to add the section to')
    parser.add_argument('--no-write', action='store_true', help='print only; do not touch RESULTS.md')
    parser.add_argument('--reinstall', action='store_true', help='reinstall bench/.venv packages')
    parser.add_argument('--keep-tmp', action='store_true', help='keep the temporary directory (server logs, profile)')
    opts = parser.parse_args(argv)
    opts.duration = opts.duration or (3.0 if opts.quick else 10.0)
    opts.runs = opts.runs or (1 if opts.quick else 3)
    opts.profile_seconds = opts.profile_seconds or (5 if opts.quick else 10)
    if opts.tokens < 1:
        parser.error('--tokens must be at least 1')
    try:
        opts.users = parse_user_counts(
            opts.users if opts.users is not None else QUICK_USERS if opts.quick else FULL_USERS
        )
    except ValueError as exc:
        parser.error(f'--users: {exc}')
    if opts.profile:
        if not canonical(opts.profile_target).startswith('panther_like'):
            parser.error('--profile-target must be a panther_like target (panther_like or panther_like-mongo)')
        try:
            _, users = parse_profile_shape(opts.profile_route)
        except ValueError as exc:
            parser.error(f'--profile-route: {exc}')
        if users and users not in opts.users:
            parser.error(f'--profile-route {opts.profile_route}: {users} is not one of --users')
        if opts.targets and canonical(opts.profile_target) not in map(canonical, opts.targets.split(',')):
            opts.targets += f',{opts.profile_target}'
    return opts


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    if os.environ.get('BENCH_IN_VENV') != '1':
        ensure_venv(force=opts.reinstall)
        if opts.profile:
            ensure_profiler()
        if not opts.check:
            ensure_apt('wrk', 'wrk')
            if opts.workers > 1:
                ensure_apt('redis-server', 'redis-server')
        env = {
            **os.environ,
            'BENCH_IN_VENV': '1',
            'BENCH_COMMAND': ' '.join(['python3', os.path.relpath(__file__, ROOT), *argv]),
        }
        os.execve(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *argv], env)
    return in_venv_main(opts)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
