"""How a page's form reaches the account logic: the JSON account route itself, called in-process.

A page handler turns its form into the JSON body the route takes and hands
the request to the app again, under the route's path, with the browser's
cookies, ``Origin`` and ``Host``. So every check the JSON route makes
(validation, the password policy, throttles, the CSRF token of a logged-in
session, recent authentication, the same-site rule) is the one a page gets,
and no account logic lives twice. The cookies the route sets (a login's,
a logout's) are handed on to the browser with the page's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from panther_like.http.asgi import Message, Scope
from panther_like.http.request import Request
from panther_like.security.csrf import CSRF_HEADER

#: Headers of the browser's request the inner call keeps; the forwarding headers are left out on
#: purpose: the client address is already resolved in the scope and must not be resolved twice.
KEPT_HEADERS = frozenset({b'host', b'origin', b'cookie', b'user-agent', b'accept-language'})


@dataclass(slots=True)
class Answer:
    """What a JSON account route answered: its status, its body (parsed) and the cookies it set."""

    status: int
    body: Any
    set_cookies: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def detail(self) -> str:
        """The route's message in words a page can show (a validation error names its fields)."""
        body = self.body if isinstance(self.body, Mapping) else {}
        errors = body.get('errors')
        if isinstance(errors, list) and errors:
            parts = []
            for error in errors[:5]:
                if isinstance(error, Mapping):
                    where = '.'.join(str(part) for part in error.get('loc') or ())
                    parts.append(f'{where}: {error.get("msg")}' if where else str(error.get('msg')))
            return '; '.join(parts)
        detail = body.get('detail')
        return detail if isinstance(detail, str) and detail else f'The request was refused ({self.status})'

    def flag(self, name: str) -> bool:
        return isinstance(self.body, Mapping) and self.body.get(name) is True


async def call_route(
    request: Request,
    mount: str,
    route: str,
    method: str = 'POST',
    body: Mapping[str, Any] | None = None,
    *,
    csrf: str | None = None,
) -> Answer:
    """Serve ``method mount+route`` with `body` as JSON, as the browser's own request would be served.

    `csrf`: the token the page's form carried, sent as the ``X-CSRFToken`` header: the route checks it
    against the session like any other request authenticated by the cookie.
    """
    scope: Scope = dict(request.scope)
    path = mount + route
    headers = [(key, value) for key, value in scope.get('headers') or () if key in KEPT_HEADERS]
    headers.append((b'accept', b'application/json'))
    payload = b''
    if body is not None:
        payload = orjson.dumps(dict(body))
        headers += [(b'content-type', b'application/json'), (b'content-length', str(len(payload)).encode())]
    if csrf:
        headers.append((CSRF_HEADER.lower().encode(), csrf.encode('utf-8', 'surrogateescape')))
    scope.update(
        method=method,
        path=path,
        raw_path=path.encode('utf-8', 'surrogateescape'),
        query_string=b'',
        headers=headers,
    )
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {'type': 'http.disconnect'}
        sent = True
        return {'type': 'http.request', 'body': payload, 'more_body': False}

    answer = Answer(500, None)
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        if message['type'] == 'http.response.start':
            answer.status = message['status']
            for key, value in message.get('headers') or ():
                if key.lower() == b'set-cookie':
                    answer.set_cookies.append(value.decode('latin-1'))
        elif message['type'] == 'http.response.body':
            chunks.append(message.get('body', b''))

    await request.app(scope, receive, send)
    raw = b''.join(chunks)
    try:
        answer.body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        answer.body = None
    return answer
