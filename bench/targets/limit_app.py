"""The limit of a cached design: the raw callable, but each token is verified by PyJWT once.

After the first sight a token's user is answered from a dict keyed by the exact
token string, with ``exp`` re-checked on every use (one clock read). Nothing is
evicted and nothing is revoked, so no framework that caches verified tokens
can be faster on the same server; panther_like's ratios to it say how much
its own work (revocation, eviction, the request object) costs.
"""

from __future__ import annotations

import time

import jwt
import orjson
from bench_common import ALGORITHMS, PUBLIC_BODY, SECRET_KEY, USERS, bearer_token, private_body
from raw_app import NOT_FOUND, UNAUTHORIZED, _send

PUBLIC = orjson.dumps(PUBLIC_BODY)
#: token -> (exp, the user's response body): what a second sight of the token needs.
VERIFIED: dict[str, tuple[float, bytes]] = {}


def _answer(token: str) -> bytes | None:
    cached = VERIFIED.get(token)
    if cached is not None:
        if cached[0] > time.time():
            return cached[1]
        del VERIFIED[token]
        return None
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=ALGORITHMS)
    except jwt.PyJWTError:
        return None
    user = USERS.get(claims.get('user_id')) if claims.get('token_type') == 'access' else None
    if user is None:
        return None
    body = orjson.dumps(private_body(user))
    VERIFIED[token] = (float(claims['exp']), body)
    return body


async def app(scope, receive, send):
    kind = scope['type']
    if kind == 'lifespan':
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                await send({'type': 'lifespan.shutdown.complete'})
                return
    if kind != 'http':
        return
    path = scope['path']
    if path == '/public':
        await _send(send, 200, orjson.dumps(PUBLIC_BODY))
    elif path == '/private':
        header = None
        for name, value in scope['headers']:
            if name == b'authorization':
                header = value.decode('latin-1')
                break
        token = bearer_token(header)
        body = _answer(token) if token else None
        if body is None:
            await _send(send, 401, UNAUTHORIZED)
        else:
            await _send(send, 200, body)
    else:
        await _send(send, 404, NOT_FOUND)
