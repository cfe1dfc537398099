"""The Markdown tables of a report: medians of one invocation, and their ratios to the raw app's.

Every ratio divides medians measured in the same invocation, so the drift of
a shared machine's load cancels out; absolute req/s are shown but not compared
across sections.
"""

from __future__ import annotations

from typing import Any

from lineup import Target
from measuring import ROUTES, Measurements, shape_key

RAW = 'raw'
LIMIT = 'limit'
STARLETTE = 'starlette'


def ratio(a: float | None, b: float | None) -> str:
    return f'{a / b:.2f}' if a and b else '-'


def fmt_rps(value: float | None) -> str:
    return f'{value:,.0f}' if value else '-'


def fmt_lat(results: Measurements, target: str, key: str) -> str:
    p50, p99 = results.median(target, key, 'p50'), results.median(target, key, 'p99')
    return f'{p50:.2f} / {p99:.2f}' if p50 is not None and p99 is not None else '-'


def rss_text(results: Measurements, target: str, users: int = 0) -> str:
    value = results.rss_median(target, users)
    return '-' if value is None else f'{value:.1f}'


def errors_text(results: Measurements, target: str, keys: tuple[str, ...]) -> str:
    errors = sum(r.errors for key in keys for r in results.runs.get((target, key), []))
    return f'**{errors} (FLAGGED)**' if errors else '0'


def _main(targets: list[Target]) -> list[Target]:
    return [t for t in targets if t.kind == 'main']


def summary_table(targets: list[Target], results: Measurements, headline: int | None) -> str:
    """The figures the performance goals are stated in, one row per target."""
    raw_public = results.median(RAW, '/public', 'rps')
    raw_private = results.median(RAW, '/private', 'rps')
    head = (
        '| target | `/public` x raw | `/private`, one token, x raw `/private` | `/private`, one token, '
        'x raw `/public` |'
    )
    rule = '| --- | ---: | ---: | ---: |'
    if headline:
        head += f' `/private`, {headline:,} users, x raw same route | x Starlette same route |'
        rule += ' ---: | ---: |'
        rotated = shape_key('/private', headline)
        raw_rotated = results.median(RAW, rotated, 'rps')
        starlette_rotated = results.median(STARLETTE, rotated, 'rps')
    lines = [head, rule]
    for target in _main(targets):
        public = results.median(target.name, '/public', 'rps')
        private = results.median(target.name, '/private', 'rps')
        row = (
            f'| {target.label} | {ratio(public, raw_public)} | {ratio(private, raw_private)} | '
            f'{ratio(private, raw_public)} |'
        )
        if headline:
            mine = results.median(target.name, rotated, 'rps')
            row += f' {ratio(mine, raw_rotated)} | {ratio(mine, starlette_rotated)} |'
        lines.append(row)
    return '\n'.join(lines)


def main_table(targets: list[Target], results: Measurements) -> str:
    raw_public = results.median(RAW, '/public', 'rps')
    raw_private = results.median(RAW, '/private', 'rps')
    lines = [
        '| target | /public req/s | x raw /public | /public p50 / p99 ms | /private req/s | x raw /private '
        '| /private ÷ raw /public | /private p50 / p99 ms | RSS MiB per worker | errors |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ]
    for target in _main(targets):
        public = results.median(target.name, '/public', 'rps')
        private = results.median(target.name, '/private', 'rps')
        lines.append(
            f'| {target.label} | {fmt_rps(public)} | {ratio(public, raw_public)} | '
            f'{fmt_lat(results, target.name, "/public")} | {fmt_rps(private)} | {ratio(private, raw_private)} | '
            f'{ratio(private, raw_public)} | {fmt_lat(results, target.name, "/private")} | '
            f'{rss_text(results, target.name)} | {errors_text(results, target.name, ROUTES)} |'
        )
    return '\n'.join(lines)


def cpu_table(targets: list[Target], results: Measurements, duration: float) -> str:
    """The same runs divided by the server's own CPU time instead of wall-clock time."""
    metric = 'per_cpu_second'
    raw_public = results.median(RAW, '/public', metric)
    raw_private = results.median(RAW, '/private', metric)
    lines = [
        '| target | /public req per CPU-s | x raw /public | /private req per CPU-s | x raw /private '
        '| /private ÷ raw /public | server CPU busy /public, /private |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for target in _main(targets):
        public = results.median(target.name, '/public', metric)
        private = results.median(target.name, '/private', metric)
        busy = [results.median(target.name, route, 'cpu_seconds') for route in ROUTES]
        busy_text = ', '.join(f'{b / duration:.0%}' if b is not None else '-' for b in busy)
        lines.append(
            f'| {target.label} | {fmt_rps(public)} | {ratio(public, raw_public)} | {fmt_rps(private)} | '
            f'{ratio(private, raw_private)} | {ratio(private, raw_public)} | {busy_text} |'
        )
    return '\n'.join(lines)


def users_table(targets: list[Target], results: Measurements, users: int, duration: float) -> str:
    """/private with `users` users, one token each, rotated: ratios to raw and Starlette on the same traffic."""
    key = shape_key('/private', users)
    raw = results.median(RAW, key, 'rps')
    starlette = results.median(STARLETTE, key, 'rps')
    raw_cpu = results.median(RAW, key, 'per_cpu_second')
    lines = [
        '| target | req/s | x raw same route | x Starlette same route | x own one-token /private '
        '| p50 / p99 ms | req per CPU-s (busy) | x raw, per CPU-s | RSS MiB per worker | errors |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ]
    for target in _main(targets):
        if (target.name, key) not in results.runs:
            continue
        rps = results.median(target.name, key, 'rps')
        per_cpu = results.median(target.name, key, 'per_cpu_second')
        busy = results.median(target.name, key, 'cpu_seconds')
        lines.append(
            f'| {target.label} | {fmt_rps(rps)} | {ratio(rps, raw)} | {ratio(rps, starlette)} | '
            f'{ratio(rps, results.median(target.name, "/private", "rps"))} | {fmt_lat(results, target.name, key)} | '
            f'{fmt_rps(per_cpu)} ({"-" if busy is None else f"{busy / duration:.0%}"}) | {ratio(per_cpu, raw_cpu)} | '
            f'{rss_text(results, target.name, users)} | {errors_text(results, target.name, (key,))} |'
        )
    return '\n'.join(lines)


def growth_table(targets: list[Target], results: Measurements, counts: list[int]) -> str:
    """How req/s and RSS change with the number of users, against the first count."""
    first, rest = counts[0], counts[1:]
    lines = [
        '| target | '
        + ' | '.join(f'{n:,} users req/s' for n in counts)
        + ''.join(f' | {n:,} ÷ {first:,}' for n in rest)
        + ' | RSS MiB per worker at '
        + ' / '.join(f'{n:,}' for n in counts)
        + ' |',
        '| --- |' + ' ---: |' * (len(counts) + len(rest) + 1),
    ]
    for target in _main(targets):
        if not target.rotates:
            continue
        rps = {n: results.median(target.name, shape_key('/private', n), 'rps') for n in counts}
        cells = [fmt_rps(rps[n]) for n in counts] + [ratio(rps[n], rps[first]) for n in rest]
        rss = ' / '.join(rss_text(results, target.name, n) for n in counts)
        lines.append(f'| {target.label} | ' + ' | '.join(cells) + f' | {rss} |')
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
        lines.append(
            f'| {target.label} | {target.workers} | {fmt_rps(public)} | '
            f'{ratio(public, results.median(base, "/public", "rps"))} | {fmt_rps(private)} | '
            f'{ratio(private, results.median(base, "/private", "rps"))} | '
            f'{fmt_lat(results, target.name, "/private")} | '
            f'{rss_text(results, target.name)} | {errors_text(results, target.name, ROUTES)} |'
        )
    return '\n'.join(lines)


def all_runs(targets: list[Target], results: Measurements) -> str:
    lines = []
    for target in targets:
        for (name, key), runs in results.runs.items():
            if name != target.name:
                continue
            values = ', '.join(
                f'{r.rps:,.0f} req/s ({r.cpu_seconds:.1f} CPU-s, {r.per_cpu_second:,.0f} req/CPU-s, '
                f'p99 {r.p99:.1f} ms)' + (f' ({r.errors} errors)' if r.errors else '')
                for r in runs
            )
            lines.append(f'- {target.name} {key}: {values}')
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
