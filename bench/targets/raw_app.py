"""A hand-written ASGI callable: orjson for bodies, PyJWT on /private, the user from a dict."""

from __future__ import annotations

import orjson
from bench_common import PUBLIC_BODY, bearer_token, private_body, user_for_token

JSON_HEADERS = [(b'content-type', b'application/json')]
PUBLIC = orjson.dumps(PUBLIC_BODY)
NOT_FOUND = orjson.dumps({'detail': 'Not found'})
UNAUTHORIZED = orjson.dumps({'detail': 'Unauthorized'})


async def _send(send, status: int, body: bytes) -> None:
    await send(
        {
            'type': 'http.response.start',
            'status': status,
            'headers': [*JSON_HEADERS, (b'content-length', str(len(body)).encode())],
        }
    )
    await send({'type': 'http.response.body', 'body': body})


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
        user = user_for_token(token) if token else None
        if user is None:
            await _send(send, 401, UNAUTHORIZED)
        else:
            await _send(send, 200, orjson.dumps(private_body(user)))
    else:
        await _send(send, 404, NOT_FOUND)
