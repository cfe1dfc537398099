"""What bench/run.py runs in a fresh process of the bench venv, one job per process.

Each job prints one JSON object on its last stdout line:

    python bench/tasks.py prepare panther_like [N]  # create the user in the configured store, log in (N times)
    python bench/tasks.py prepare panther_db        # create the user in Panther's file DB
    python bench/tasks.py users panther_like N FILE # N more users in the store, one token each into FILE
    python bench/tasks.py auth-cost                 # in-process cost of panther_like's auth path
    python bench/tasks.py check TARGET              # the app answers /public and /private correctly

A fresh process per job because panther_like binds its store process-wide and
Panther keeps a global config: two apps in one process would share them.
The store and Redis come from the environment (see targets/panther_like_settings.py).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

TARGETS_DIR = Path(__file__).resolve().parent / 'targets'
if str(TARGETS_DIR) not in sys.path:
    sys.path.insert(0, str(TARGETS_DIR))

# target name -> module under bench/targets/ (the ASGI callable is `app`)
MODULES = {
    'raw': 'raw_app',
    'limit': 'limit_app',
    'starlette': 'starlette_app',
    'fastapi': 'fastapi_app',
    'panther': 'panther_app',
    'panther-db': 'panther_db_app',
    'panther_like': 'panther_like_app',
    'panther_like-mongo': 'panther_like_app',
    'panther_like-ws': 'panther_like_app',
}
USERNAME = 'bench'
PASSWORD = 'bench password 0123'


def load_app(target: str) -> Any:
    return importlib.import_module(MODULES[target]).app


async def _panther_like_user(app: Any) -> tuple[Any, dict[str, str]]:
    """A real user in the app's store (created once) and a fresh login for it."""
    user_model = app.config.user_model
    user = await user_model.find_one(username=USERNAME)
    if user is None:
        user = await user_model.insert_one(username=USERNAME, password=PASSWORD)
    return user, await user.login()


async def prepare_panther_like(count: int = 1) -> dict[str, Any]:
    """The user, and `count` access tokens of it (one login each: distinct sessions)."""
    app = load_app('panther_like')
    await app.startup()
    try:
        user, tokens = await _panther_like_user(app)
        access = [tokens['access_token']] + [(await user.login())['access_token'] for _ in range(count - 1)]
    finally:
        await app.shutdown()
    return {'user_id': user.id, 'token': access[0], 'tokens': access}


async def prepare_panther_db() -> dict[str, Any]:
    load_app('panther-db')
    from panther.db.models import BaseUser

    user = await BaseUser.find_one(username=USERNAME)
    if user is None:
        user = await BaseUser.insert_one(username=USERNAME, password='unused')
    return {'user_id': str(user.id)}


async def prepare_users(count: int, out: str, batch: int = 500) -> dict[str, Any]:
    """`count` users in the configured store (bench-user-0, 1, ...) and one access token each, into `out`.

    Made through the framework: `User.insert_one` (no password: hashing 100,000
    passwords with argon2 would take longer than the benchmark) and the app's
    token service (`user.login()` would add a store write per user, and the
    session it records is not what is measured). Users already there are
    reused, so a second call on the same store only issues tokens.
    """
    from bench_common import rotated_username

    app = load_app('panther_like')
    await app.startup()
    started = time.perf_counter()
    try:
        user_model = app.config.user_model
        existing = {user.username: user for user in await user_model.find()}
        names = [rotated_username(n) for n in range(count)]
        missing = [name for name in names if name not in existing]
        for start in range(0, len(missing), batch):
            created = await asyncio.gather(
                *(user_model.insert_one(username=name) for name in missing[start : start + batch])
            )
            existing.update((user.username, user) for user in created)
        tokens = [
            app.tokens.issue_pair(existing[name].id, credential_version=existing[name].credential_version)[
                'access_token'
            ]
            for name in names
        ]
    finally:
        await app.shutdown()
    Path(out).write_text('\n'.join(tokens) + '\n')
    return {'created': len(missing), 'existing': count - len(missing), 'seconds': time.perf_counter() - started}


def _scope(token: str, app: Any = None) -> dict[str, Any]:
    """A scope as uvicorn builds it, with ``app`` set as the app sets it (request-time code reads request.app)."""
    return {
        'app': app,
        'type': 'http',
        'asgi': {'version': '3.0'},
        'http_version': '1.1',
        'method': 'GET',
        'scheme': 'http',
        'path': '/private',
        'raw_path': b'/private',
        'query_string': b'',
        'root_path': '',
        'client': ('127.0.0.1', 50000),
        'server': ('127.0.0.1', 8000),
        'headers': [
            (b'host', b'127.0.0.1:8000'),
            (b'user-agent', b'wrk'),
            (b'accept', b'*/*'),
            (b'authorization', f'Bearer {token}'.encode()),
        ],
        # What the app's dispatch adds to every scope: request-time code finds the app's services there.
        **({'panther_like.services': app.services} if app is not None else {}),
    }


async def auth_cost(calls: int = 20_000, distinct: int = 2_000) -> dict[str, Any]:
    """µs per call of /private's authenticator and of `app.tokens.decode`, repeated and first-seen tokens.

    "repeated": the same token every call, as wrk sends it (whatever the app
    caches for a token it has verified is used). "first-seen": each call a
    token never presented before (one login each), so nothing about it can
    be cached. Each call builds a new Request from the scope, as the app does.
    """
    import jwt

    from panther_like.http.request import Request

    app = load_app('panther_like')
    await app.startup()
    try:
        user, tokens = await _panther_like_user(app)
        endpoint = app.router.resolve('/private')[0]
        authenticator = endpoint.guard.authenticator
        token = tokens['access_token']
        scope = _scope(token, app)

        async def per_call_auth(scopes: list[dict[str, Any]]) -> float:
            start = time.perf_counter()
            for one in scopes:
                await authenticator(Request(one))
            return (time.perf_counter() - start) / len(scopes) * 1e6

        def per_call_decode(tokens_: list[str]) -> float:
            start = time.perf_counter()
            for one in tokens_:
                app.tokens.codec.decode(one, 'access')
            return (time.perf_counter() - start) / len(tokens_) * 1e6

        found = await authenticator(Request(scope))
        assert found.id == user.id, 'the authenticator returned another user'
        for _ in range(2_000):  # warm-up
            await authenticator(Request(scope))
        repeated = [await per_call_auth([scope] * calls) for _ in range(3)]
        decode_repeated = [per_call_decode([token] * calls) for _ in range(3)]

        fresh = [(await user.login())['access_token'] for _ in range(2 * distinct)]
        decode_first = per_call_decode(fresh[:distinct])
        auth_first = await per_call_auth([_scope(one, app) for one in fresh[distinct:]])

        key = app.config.jwt.key
        start = time.perf_counter()
        for _ in range(calls):
            jwt.decode(token, key, algorithms=['HS256'])
        pyjwt = (time.perf_counter() - start) / calls * 1e6
        start = time.perf_counter()
        for n in range(distinct):
            jwt.encode({'user_id': user.id, 'n': n}, key, algorithm='HS256')
        pyjwt_encode = (time.perf_counter() - start) / distinct * 1e6
    finally:
        await app.shutdown()
    return {
        'store': 'mongodb' if app.config.database.get('url') else 'embedded',
        'calls': calls,
        'distinct': distinct,
        'auth_repeated_us': statistics.median(repeated),
        'decode_repeated_us': statistics.median(decode_repeated),
        'auth_first_seen_us': auth_first,
        'decode_first_seen_us': decode_first,
        'pyjwt_decode_us': pyjwt,
        'pyjwt_encode_us': pyjwt_encode,
    }


# -- correctness of a target, in-process ------------------------------------------------------


def bad_tokens(good: str, user_id: str) -> dict[str, str]:
    """Tokens every target must refuse with a 401."""
    from bench_common import make_token

    head, payload, signature = good.split('.')
    flipped = signature[:-2] + ('AA' if signature[-2:] != 'AA' else 'BB')
    return {
        'bad signature': f'{head}.{payload}.{flipped}',
        'wrong key': make_token(user_id, key='another-key-0123456789abcdef0123456789'),
        'expired': make_token(user_id, life=-10),
        'garbage': 'not-a-jwt',
    }


async def check_app(app: Any, token: str, user_id: str, *, lifespan: bool = False) -> list[str]:
    """Problems found (an empty list means the target is right): /public, /private with good and bad tokens."""
    import httpx

    problems: list[str] = []
    if lifespan:
        await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url='http://127.0.0.1') as client:
            response = await client.get('/public')
            if response.status_code != 200 or response.json() != {'message': 'hello'}:
                problems.append(f'/public: {response.status_code} {response.text[:200]}')
            response = await client.get('/private', headers={'Authorization': f'Bearer {token}'})
            if response.status_code != 200 or response.json().get('id') != user_id:
                problems.append(f'/private with a valid token: {response.status_code} {response.text[:200]}')
            elif response.json().get('username') != USERNAME:
                problems.append(f'/private returned another user: {response.text[:200]}')
            response = await client.get('/private')
            if response.status_code != 401:
                problems.append(f'/private without a token: {response.status_code}, expected 401')
            for name, bad in bad_tokens(token, user_id).items():
                response = await client.get('/private', headers={'Authorization': f'Bearer {bad}'})
                if response.status_code != 401:
                    problems.append(f'/private with a token ({name}): {response.status_code}, expected 401')
    finally:
        if lifespan:
            await app.shutdown()
    return problems


async def check(target: str) -> dict[str, Any]:
    from bench_common import USER_ID, make_token

    if target.startswith('panther_like'):
        prepared = await prepare_panther_like()
        return {'problems': await check_app(load_app(target), prepared['token'], prepared['user_id'], lifespan=True)}
    if target == 'panther-db':
        user_id = (await prepare_panther_db())['user_id']
        return {'problems': await check_app(load_app(target), make_token(user_id), user_id)}
    return {'problems': await check_app(load_app(target), make_token(USER_ID), USER_ID)}


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == 'prepare':
        count = int(argv[2]) if len(argv) > 2 else 1
        result = asyncio.run(prepare_panther_like(count) if argv[1] == 'panther_like' else prepare_panther_db())
    elif len(argv) == 4 and argv[:2] == ['users', 'panther_like']:
        result = asyncio.run(prepare_users(int(argv[2]), argv[3]))
    elif argv and argv[0] == 'auth-cost':
        result = asyncio.run(auth_cost(*(int(a) for a in argv[1:3])))
    elif len(argv) == 2 and argv[0] == 'check':
        result = asyncio.run(check(argv[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
