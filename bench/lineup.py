"""What is benchmarked: the target apps, how each is configured, and the users and tokens it is given.

The apps themselves live in bench/targets/. Peers keep their users in an
in-process dict (bench_common.USERS, sized by ``BENCH_USERS``); panther_like
keeps them in its configured store, where bench/tasks.py creates them through
the framework. Every token is a real HS256 JWT the target verifies.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment import BENCH, TARGETS_DIR, VENV_PYTHON, log

# Where a target finds the users of the rotated-token shape.
IN_DICT = 'dict'  # a peer: the server builds BENCH_USERS users into its dict at import
IN_STORE = 'store'  # panther_like: the users exist in its store before the server starts
# Other spellings accepted by --targets (besides '-' and '_' being the same).
ALIASES = {'panther_like_embedded': 'panther_like', 'panther_like_mongodb': 'panther_like-mongo'}


@dataclass
class Target:
    name: str
    label: str
    module: str
    env: dict[str, str] = field(default_factory=dict)
    token: str = ''
    user_id: str = ''
    tokens_file: Path | None = None  # with --tokens N: N distinct tokens of one user, one a line, rotated by wrk
    workers: int = 1
    pinned: bool = True
    kind: str = 'main'  # 'main' rows of the table, or 'scale' (the --workers variants)
    users_in: str = ''  # IN_DICT, IN_STORE, or '' when the target does not run the rotated-token shape
    user_tokens: dict[int, Path] = field(default_factory=dict)  # N -> file of N tokens, one per user
    user_probes: dict[int, tuple[str, ...]] = field(default_factory=dict)  # N -> tokens checked at start

    @property
    def rotates(self) -> bool:
        return bool(self.users_in)

    def env_for(self, users: int) -> dict[str, str]:
        """The server's environment for a run with `users` users (0: the single-token session)."""
        if users and self.users_in == IN_DICT:
            return {**self.env, 'BENCH_USERS': str(users)}
        return self.env


def canonical(name: str) -> str:
    name = name.strip().replace('-', '_')
    return ALIASES.get(name, name).replace('-', '_')


def run_task(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> dict[str, Any]:
    """bench/tasks.py in a fresh venv process; its last stdout line is JSON."""
    result = subprocess.run(
        [str(VENV_PYTHON), str(BENCH / 'tasks.py'), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f'tasks.py {" ".join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}')
    return json.loads(lines[-1])


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


def all_targets(opts: argparse.Namespace, tmp: Path, mongo_url: str | None, redis_url: str | None) -> list[Target]:
    targets = [
        Target('raw', 'raw ASGI + orjson (PyJWT on /private)', 'raw_app', users_in=IN_DICT),
        Target('limit', 'the limit: raw ASGI, each token verified once, then a dict', 'limit_app', users_in=IN_DICT),
        Target('starlette', 'Starlette', 'starlette_app', users_in=IN_DICT),
        Target('fastapi', 'FastAPI (HTTPBearer)', 'fastapi_app', users_in=IN_DICT),
        Target('panther', 'Panther (JWTAuthentication, user in a dict)', 'panther_app', users_in=IN_DICT),
        Target(
            'panther-db',
            'Panther (JWTAuthentication, user in its file DB)',
            'panther_db_app',
            env={'BENCH_PANTHERDB_PATH': str(tmp / 'panther.pdb')},
        ),
        Target(
            'panther_like',
            'panther_like (embedded store)',
            'panther_like_app',
            users_in=IN_STORE,
            env={'BENCH_EMBEDDED_PATH': str(tmp / 'panther_like.sqlite3')},
        ),
    ]
    if opts.users:
        # The same store with a cache half the size of the first user count: the working set is twice max_entries.
        entries = max(1, opts.users[0] // 2)
        targets.append(
            Target(
                'panther_like-ws',
                f'panther_like (embedded store), max_entries {entries:,}',
                'panther_like_app',
                users_in=IN_STORE,
                env={
                    'BENCH_EMBEDDED_PATH': str(tmp / 'panther_like.sqlite3'),
                    'BENCH_AUTH_CACHE_ENTRIES': str(entries),
                },
            )
        )
    if mongo_url is not None:
        targets.append(
            Target(
                'panther_like-mongo',
                'panther_like (MongoDB: nx-27017)',
                'panther_like_app',
                users_in=IN_STORE,
                env={'BENCH_MONGODB_URL': f'{mongo_url}/bench'},
            )
        )
    if redis_url is not None and mongo_url is not None:
        env = {'BENCH_MONGODB_URL': f'{mongo_url}/bench_scale', 'BENCH_REDIS_URL': redis_url}
        for workers in (1, opts.workers):
            targets.append(
                Target(
                    f'panther_like-redis-w{workers}',
                    f'panther_like (MongoDB + Redis revocation), {workers} worker(s), unpinned',
                    'panther_like_app',
                    env=env,
                    workers=workers,
                    pinned=False,
                    kind='scale',
                )
            )
    return targets


def select(targets: list[Target], wanted: str | None) -> list[Target]:
    """The targets named in --targets (raw always: every ratio divides by it)."""
    if not wanted:
        return targets
    by_name = {canonical(t.name): t.name for t in targets}
    selected = {by_name.get(canonical(name), name) for name in wanted.split(',') if name.strip()}
    unknown = selected - {t.name for t in targets}
    if unknown:
        known = ', '.join(t.name for t in targets)
        raise SystemExit(
            f'unknown target(s): {", ".join(sorted(unknown))}; known: {known} (also: {", ".join(ALIASES)})'
        )
    return [t for t in targets if t.name in selected or t.name == 'raw']


def build_targets(opts: argparse.Namespace, tmp: Path, mongo_url: str | None, redis_url: str | None) -> list[Target]:
    """The selected targets, each with its user(s) created and its tokens made."""
    sys.path.insert(0, str(TARGETS_DIR))
    from bench_common import USER_ID, make_token

    targets = select(all_targets(opts, tmp, mongo_url, redis_url), opts.targets)
    peer_token = make_token(USER_ID)
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
    if opts.users:
        give_users(targets, opts.users, tmp)
    return targets


def give_users(targets: list[Target], counts: list[int], tmp: Path) -> None:
    """For each user count N, a file of N tokens (one per distinct user) for every target that rotates.

    Users are made once, for the largest N, per place they live: one set for
    every peer's dict, one per panther_like store. A smaller N takes the first
    N of them.
    """
    largest = max(counts)
    made: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for target in targets:
        if not target.rotates or target.kind != 'main':
            continue
        if target.users_in == IN_DICT:
            key: tuple[tuple[str, str], ...] = (('peers', 'dict'),)
            if key not in made:
                made[key] = peer_user_tokens(largest)
        else:
            key = tuple(sorted(target.env.items()))
            if key not in made:
                made[key] = store_user_tokens(target, largest, tmp)
        tokens = made[key]
        group = 'peers' if target.users_in == IN_DICT else target.name
        for count in counts:
            path = tmp / f'users-{group}-{count}.txt'
            if not path.exists():
                path.write_text('\n'.join(tokens[:count]) + '\n')
            target.user_tokens[count] = path
            target.user_probes[count] = (tokens[0], tokens[count - 1])


def peer_user_tokens(count: int) -> list[str]:
    """One token for each of the first `count` users the peers build into their dict (bench_common)."""
    from bench_common import make_token, rotated_user_id

    log(f'peers: {count:,} users in their dict, one token each')
    return [make_token(rotated_user_id(n)) for n in range(count)]


def store_user_tokens(target: Target, count: int, tmp: Path) -> list[str]:
    """`count` users created in the target's store through panther_like, and one access token each."""
    out = tmp / f'users-{target.name}-created.txt'
    log(f'{target.name}: creating {count:,} users in its store (User.insert_one; tokens from app.tokens)')
    result = run_task(['users', 'panther_like', str(count), str(out)], target.env, tmp, timeout=3600)
    log(
        f'{target.name}: {result["created"]:,} users created, {result["existing"]:,} already there, '
        f'in {result["seconds"]:.1f} s'
    )
    tokens = out.read_text().split()
    if len(tokens) != count:
        raise RuntimeError(f'{target.name}: expected {count} tokens, got {len(tokens)}')
    return tokens
