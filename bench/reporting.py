"""The dated Markdown section one invocation prints and prepends to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from environment import KEY_PACKAGES, loadavg, machine, versions
from lineup import Target
from measuring import WRK_CPU, Measurements, shape_key
from profiling import Profile, profile_text
from report_tables import (
    LIMIT,
    RAW,
    all_runs,
    auth_cost_text,
    cpu_table,
    growth_table,
    main_table,
    scale_table,
    summary_table,
    users_table,
)
from servers import SERVER_CPU

HEADER = (
    '# Benchmark results\n\n'
    'Written by `python3 bench/run.py` (what it measures and how: bench/README.md); each run prepends a dated '
    'section, older sections are kept below the newer ones. Every ratio divides medians measured in the same '
    'invocation: compare ratios within a section, not req/s across sections (other work shares the machine).\n\n'
)


def goals(targets: list[Target], results: Measurements, counts: list[int], metric: str = 'rps') -> str:
    """The performance goals, as ratios of this invocation, for each panther_like target.

    The limit (``targets/limit_app.py``: each token verified once, then a dict) is what a cached design
    can reach on this server; the raw callable (every token verified) is the reference where first
    sights dominate (100,000 users). The working-set goal compares ``panther_like-ws`` (max_entries half
    the first user count) with panther_like on the same traffic (every token in its cache).
    """

    def median(target: str, key: str) -> float | None:
        return results.median(target, key, metric)

    raw_public = median(RAW, '/public')
    lines = []
    for target in targets:
        if target.kind != 'main' or not target.name.startswith('panther_like'):
            continue
        public = median(target.name, '/public')
        private = median(target.name, '/private')
        checks = [
            ('/public ≥ 0.90 x raw /public', public, raw_public, 0.90),
            ('/private (one token) ≥ 0.85 x limit', private, median(LIMIT, '/private'), 0.85),
        ]
        if 1000 in counts:
            key = shape_key('/private', 1000)
            checks.append(('/private 1,000 users ≥ 0.80 x limit', median(target.name, key), median(LIMIT, key), 0.80))
        if 100_000 in counts:
            key = shape_key('/private', 100_000)
            checks.append(('/private 100,000 users ≥ 0.70 x raw', median(target.name, key), median(RAW, key), 0.70))
        if counts and target.name == 'panther_like-ws':
            key = shape_key('/private', counts[0])
            checks.append(
                (
                    f'/private {counts[0]:,} users, twice max_entries, ≥ 0.5 x all in cache',
                    median(target.name, key),
                    median('panther_like', key),
                    0.5,
                )
            )
        parts = []
        for text, value, reference, bound in checks:
            if value and reference:
                parts.append(f'{text}: {value / reference:.2f} ({"met" if value / reference >= bound else "NOT met"})')
        lines.append(f'- {target.label}: ' + '; '.join(parts))
    return '\n'.join(lines)


def _mode(opts: argparse.Namespace) -> str:
    mode = 'quick (smoke test)' if opts.quick else 'full'
    if opts.tokens > 1:
        mode += f', {opts.tokens:,} tokens'
    if opts.users:
        mode += ', users ' + ' / '.join(f'{n:,}' for n in opts.users)
    if opts.targets:
        mode += f', targets {opts.targets}'
    return mode


def report(
    opts: argparse.Namespace,
    targets: list[Target],
    results: Measurements,
    costs: list[dict[str, Any]],
    started: dt.datetime,
    load_before: str,
    profile: Profile | None = None,
) -> str:
    info = machine()
    installed = versions()
    key = ', '.join(f'{name} {installed[name]}' for name in KEY_PACKAGES if name in installed)
    others = ', '.join(f'{n} {v}' for n, v in sorted(installed.items()) if n not in KEY_PACKAGES)
    counts = list(opts.users)
    headline = counts[0] if counts else None
    token_text = (
        'the same token on every request'
        if opts.tokens == 1
        else f'{opts.tokens:,} distinct tokens of the same user (one login each) rotated by a wrk Lua script'
    )
    sections = [
        f'## {started:%Y-%m-%d %H:%M} UTC: {_mode(opts)}',
        f'Command: `{os.environ.get("BENCH_COMMAND", "python3 bench/run.py")}`  ',
        f'wrk: `-t{opts.threads} -c{opts.connections} -d{opts.duration:g}s --latency` (warm-up {opts.warmup:g} s '
        f'before each), median of {opts.runs} interleaved run(s); one uvicorn worker (`--loop uvloop --http httptools '
        f'--no-access-log --log-level warning`) pinned to CPU {SERVER_CPU}, wrk pinned to CPU {WRK_CPU}, 127.0.0.1.  ',
        f'Machine: `{info["uname"]}`; {info["cpu"]}; Python {info["python"]}; {info["wrk"]}; {info["redis"]}.  ',
        f'Repository: {info["git"]}. Load average before / after: {load_before} / {loadavg()} '
        '(other work shares these 2 CPUs: compare ratios, not absolute req/s).',
        '',
        summary_table(targets, results, headline),
        '',
        '### One token',
        '',
        main_table(targets, results),
        '',
        'Ratios divide medians of this invocation. /private sends `Authorization: Bearer <HS256 JWT>` (claims '
        f'`user_id, token_type, iat, exp, jti, sid`), {token_text}; peers look the user up in an '
        'in-process dict, panther_like in its configured store (a real user made with `User.insert_one` and '
        '`user.login()`). RSS is VmRSS of the worker after its runs (median over runs). p99 latency at 64 '
        'connections on one saturated core swings several-fold from run to run: it is reported, not compared.',
    ]
    for users in counts:
        sections += [
            '',
            f'### /private, {users:,} users, one token each, rotated per request',
            '',
            users_table(targets, results, users, opts.duration),
        ]
    if counts:
        sections += [
            '',
            f'Each request carries the next of {" / ".join(f"{n:,}" for n in counts)} tokens, one per distinct '
            'user (rotate_tokens.lua). Peers build those users into their dict (`BENCH_USERS`); panther_like '
            'has them in its store, created through the framework (`User.insert_one`, without a password) with '
            "tokens issued by the app's token service. Each user count runs on a fresh worker, so its RSS is "
            'that of a worker which has served that many users. "busy" is the share of the run the worker was on '
            'a CPU. Panther with its file DB is not run in this shape ("-" above).',
        ]
        if len(counts) > 1:
            sections += ['', '### How the cost grows with users', '', growth_table(targets, results, counts)]
    sections += [
        '',
        '### The one-token runs per CPU-second of the server',
        '',
        'Requests served divided by the user + system CPU time the server worker spent during the run '
        '(`/proc/PID/stat`). Other work on the shared CPUs lowers req/s but changes this much less, so it is '
        'the steadier comparison here; "busy" is the share of the run the worker was on a CPU (well under 100% '
        'means it was starved by other load, or waiting on its store: nx-27017 runs outside the worker and its '
        'CPU is not counted).',
        '',
        cpu_table(targets, results, opts.duration),
    ]
    goal_lines = goals(targets, results, counts)
    if goal_lines:
        sections += [
            '',
            '### Goals, by req/s (ratios of this invocation)',
            '',
            goal_lines,
            '',
            'The same, by requests per server CPU-second:',
            '',
            goals(targets, results, counts, 'per_cpu_second'),
        ]
    scale = scale_table(targets, results)
    if scale:
        sections += [
            '',
            f'### Scaling: --workers {opts.workers}, Redis revocation (MongoDB store: nx-27017)',
            '',
            'Server and wrk are **not** pinned here (the 2 workers need both CPUs, and wrk shares them), so these '
            'rows compare with each other, not with the pinned table above.',
            '',
            scale,
        ]
    if profile is not None:
        shape = profile.route + (f'@{profile.users}' if profile.users else '')
        sections += ['', f'### Profile: {profile.target.label}, GET {shape} under wrk', '', profile_text(profile)]
    if costs:
        sections += ['', '### panther_like authentication path, in-process', '', auth_cost_text(costs)]
    sections += [
        '',
        '### Versions',
        '',
        key + '.',
        '',
        '<details><summary>all runs and every package</summary>\n',
        all_runs(targets, results),
        '',
        others,
        '\n</details>',
        '',
    ]
    return '\n'.join(sections)


def write_results(text: str, path: Path) -> None:
    """Put `text` first, below the header, keeping every older section."""
    old = path.read_text() if path.exists() else ''
    start = old.find('\n## ')
    body = old[start + 1 :] if old.startswith('# ') and start >= 0 else ('' if old.startswith('# ') else old)
    path.write_text(HEADER + text + ('\n' + body if body.strip() else ''))
