"""Where a worker spends its time under load: py-spy samples it while wrk runs.

py-spy attaches to the uvicorn worker by PID (``record --nonblocking``: it
reads the stacks without pausing the process, so the load is not disturbed)
and writes collapsed stacks (``--format raw``, one line per distinct stack
with its sample count). They are read here into two top-N lists: functions
running when sampled ("self") and functions anywhere on the stack ("total").
py-spy runs on wrk's CPU, never on the worker's.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from environment import PY_SPY, log
from lineup import Target
from measuring import WRK_CPU, parse_wrk, run_wrk, traffic, wrk_command
from servers import START_TIMEOUT, start_server, stop_pid

RATE = 250  # samples per second


@dataclass
class StackSamples:
    """Collapsed stacks read into counts per function."""

    samples: int = 0
    self_counts: Counter[str] = field(default_factory=Counter)
    total_counts: Counter[str] = field(default_factory=Counter)
    package_counts: Counter[str] = field(default_factory=Counter)  # self samples by the package of the function

    def share(self, count: int) -> float:
        return count / self.samples if self.samples else 0.0

    def inner_totals(self) -> Counter[str]:
        """Totals without the start-up frames that only wrap the event loop (uvicorn's main, click, ...).

        They are on every stack under the loop and never running themselves:
        listing them would fill the top of the table with no information.
        """
        most = max(self.total_counts.values(), default=0)
        return Counter(
            {frame: count for frame, count in self.total_counts.items() if count < most or self.self_counts[frame]}
        )


def package_of(frame: str) -> str:
    """'Panther._http (panther_like/app.py:122)' -> 'panther_like'; a stdlib module stands for itself."""
    match = re.search(r'\(([^()]*?)(?::-?\d+)?\)$', frame)
    path = match.group(1) if match else frame
    head = path.split('/', 1)[0]
    return head.removesuffix('.py') or '?'


def parse_collapsed(text: str) -> StackSamples:
    """py-spy's raw output: 'frame;frame;...;frame COUNT' per line, outermost frame first."""
    result = StackSamples()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(' ')
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(';')
        result.samples += count
        result.self_counts[frames[-1]] += count
        result.package_counts[package_of(frames[-1])] += count
        for frame in set(frames):
            result.total_counts[frame] += count
    return result


@dataclass
class Profile:
    target: Target
    route: str
    users: int
    seconds: int
    stacks: StackSamples
    py_spy_summary: str  # py-spy's own "Samples: N Errors: M"
    rps: float
    command: list[str]


def parse_profile_shape(text: str) -> tuple[str, int]:
    """'/public', '/private' or '/private@1000' -> (route, users)."""
    route, _, users = text.partition('@')
    if route not in ('/public', '/private') or (users and (not users.isdigit() or route != '/private')):
        raise ValueError(f'{text!r}: expected /public, /private or /private@N')
    return route, int(users or 0)


def profile_worker(
    target: Target, route: str, users: int, seconds: int, opts: argparse.Namespace, tmp: Path
) -> Profile:
    """Start the target, load `route` with wrk, and sample its worker with py-spy for `seconds`."""
    if not PY_SPY.exists():
        raise RuntimeError(f'{PY_SPY} is missing: run python3 bench/run.py --profile (it installs py-spy)')
    output = tmp / f'profile-{target.name}.txt'
    server = start_server(target, tmp, 'profile', env=target.env_for(users), probes=target.user_probes.get(users, ()))
    load = None
    try:
        token = traffic(target, route, users)
        if opts.warmup > 0:
            run_wrk(server.port, route, token, opts.warmup, opts, target.pinned)
        wrk, env = wrk_command(server.port, route, token, seconds + 2, opts, target.pinned)
        load = subprocess.Popen(wrk, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(1.0)  # sample the steady state, not wrk's first connections
        command = [
            str(PY_SPY),
            'record',
            '--pid',
            str(server.pid),
            '--duration',
            str(seconds),
            '--rate',
            str(RATE),
            '--function',
            '--format',
            'raw',
            '--output',
            str(output),
            '--nonblocking',
        ]
        spy = subprocess.run(
            ['taskset', '-c', WRK_CPU, *command], capture_output=True, text=True, timeout=seconds + START_TIMEOUT
        )
        if spy.returncode != 0 or not output.exists():
            raise RuntimeError(f'py-spy failed ({spy.returncode}): {spy.stderr[-2000:]}{spy.stdout[-2000:]}')
        stdout, stderr = load.communicate(timeout=seconds + START_TIMEOUT)
        if load.returncode != 0:
            raise RuntimeError(f'wrk failed ({load.returncode}): {stderr}{stdout}')
        summary = re.search(r'Samples: \d+ Errors: \d+', spy.stdout + spy.stderr)
        log(f'profile of {target.name} on {route}{f"@{users}" if users else ""}: {output}')
        return Profile(
            target,
            route,
            users,
            seconds,
            parse_collapsed(output.read_text()),
            summary.group(0) if summary else '?',
            parse_wrk(stdout).rps,
            command,
        )
    finally:
        if load is not None and load.poll() is None:
            stop_pid(load.pid)
            load.wait(timeout=5)
        server.stop()


def _pct(value: float) -> str:
    return f'{value:.1%}'


def profile_text(profile: Profile, top: int = 20) -> str:
    stacks = profile.stacks
    shape = profile.route + (f', {profile.users:,} users rotated' if profile.users else '')
    packages = ', '.join(f'{name} {_pct(stacks.share(count))}' for name, count in stacks.package_counts.most_common(8))
    command = ' '.join(['py-spy', *profile.command[1:3], '<worker>', *profile.command[4:-3], '--nonblocking'])
    lines = [
        f'`{command}` on the worker of {profile.target.label}, pinned to its CPU, while wrk loaded GET {shape} '
        f"({profile.rps:,.0f} req/s while sampled; py-spy ran on wrk's CPU). py-spy: {profile.py_spy_summary}; "
        f'{stacks.samples:,} samples read, of every thread of the worker (the event loop, and the embedded '
        "store's own thread when it has one). Idle samples (a thread waiting) are not counted, so shares are "
        'of the time the worker was running. Frames are grouped by function (`--function`); C code '
        "(uvloop, httptools, orjson, PyJWT's HMAC) is counted in the Python function that called it, so the "
        "self time of `Runner.run` is uvloop's own loop (sockets, scheduling). py-spy's errors are stacks it "
        'could not read without pausing the worker; they are left out.',
        '',
        f'Self time by package: {packages}.',
        '',
        f'| top {top} by self (running when sampled) | self | total |',
        '| --- | ---: | ---: |',
    ]
    for frame, count in stacks.self_counts.most_common(top):
        lines.append(f'| `{frame}` | {_pct(stacks.share(count))} | {_pct(stacks.share(stacks.total_counts[frame]))} |')
    lines += ['', f'| top {top} by total (anywhere on the stack) | total | self |', '| --- | ---: | ---: |']
    for frame, count in stacks.inner_totals().most_common(top):
        lines.append(f'| `{frame}` | {_pct(stacks.share(count))} | {_pct(stacks.share(stacks.self_counts[frame]))} |')
    return '\n'.join(lines)
