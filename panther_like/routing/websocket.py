"""`GenericWebsocket`: subclass it, override `connect` and `receive`.

Authentication happens before `connect` runs. A connection that fails it
is refused during the handshake with close code 1008 (policy violation),
which uvicorn answers with HTTP 403: the socket never opens, so it can
never receive a message. Closing is idempotent, so a failing permission
and a handler that closes too cannot close twice.

Cross-site websocket hijacking: a browser sends a site's cookies with a
handshake whatever page opens the socket, and CORS does not apply. So when
the route's authentication reads a cookie (``uses_cookies``: the cookie
JWT class, `APIKeyCookie`, `SessionAuth`; a custom class or callable that
sets it counts for every cookie) and the handshake carries that cookie,
its ``Origin`` must be this site or one of ``TRUSTED_ORIGINS``
(`panther_like.http.origins`), else it is refused (403) before anything else
runs. A handshake without ``Origin`` is no browser's, and a token in the
query string or a header is not sent by a browser on its own.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from panther_like import audit, status
from panther_like.auth.chain import Authenticator
from panther_like.auth.guard import AuthOverride, Guard
from panther_like.common.concurrency import off_the_loop
from panther_like.common.sentinel import UNSET
from panther_like.exceptions import APIError
from panther_like.http.asgi import Receive, Scope, Send
from panther_like.http.origins import origin_allowed
from panther_like.http.request import HTTPConnection
from panther_like.http.response import render
from panther_like.http.validation import invalid
from panther_like.login_state.services import SCOPE_KEY as SERVICES
from panther_like.login_state.services import Services
from panther_like.routing.messaging import Hub, hub_of
from panther_like.settings.config import Config

logger = logging.getLogger('panther_like')
MAX_REASON_BYTES = 123  # RFC 6455 5.5: a close frame's payload is at most 125 bytes


def _close_reason(reason: str) -> str:
    return reason.encode('utf-8')[:MAX_REASON_BYTES].decode('utf-8', 'ignore')


class ClientGone(Exception):
    """The client closed the connection while the handler was sending to it; the socket is over."""


class GenericWebsocket(HTTPConnection):
    """One websocket connection. ``self.user`` is the authenticated user when ``auth = True``.

    ``self.connection_id`` names it for `send_message_to_websocket` and
    `close_websocket_connection`, from any worker (`panther_like.routing.messaging`).
    """

    auth: Any = UNSET
    permissions: Sequence[Any] | None = None
    scopes: Sequence[str] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope)
        self._asgi_receive = receive
        self._asgi_send = send
        self.accepted = False
        self.closed = False
        #: Unguessable: whoever holds it can send to this socket, so give it only to its owner.
        self.connection_id = secrets.token_urlsafe(16)
        self._hub: Hub | None = None

    async def connect(self) -> None:
        """Called once, after authentication; the default accepts."""
        await self.accept()

    async def receive(self, data: Any) -> None:
        """Called for each message: parsed JSON when the text is JSON, else the text or bytes."""

    async def disconnect(self, code: int) -> None:
        """Called when the client goes away."""

    async def accept(self, subprotocol: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        if self.accepted or self.closed:
            return
        message: dict[str, Any] = {'type': 'websocket.accept', 'subprotocol': subprotocol}
        if headers:
            message['headers'] = [(k.lower().encode('latin-1'), v.encode('latin-1')) for k, v in headers.items()]
        await self._asgi_send(message)
        self.accepted = True
        services = self.scope.get(SERVICES)
        if isinstance(services, Services):  # served by an app: reachable by connection id from now on
            self._hub = hub_of(services)
            await self._hub.register(self)

    async def send(self, data: Any) -> None:
        if isinstance(data, bytes):
            await self._send({'type': 'websocket.send', 'bytes': data})
        elif isinstance(data, str):
            await self._send({'type': 'websocket.send', 'text': data})
        else:
            await self._send({'type': 'websocket.send', 'text': render(data).decode()})

    async def close(self, code: int = status.WS_1000_NORMAL_CLOSURE, reason: str = '') -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(ClientGone):  # the client left first: the socket is closed either way
            await self._send({'type': 'websocket.close', 'code': code, 'reason': _close_reason(reason)})

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            await self._asgi_send(message)
        except OSError as exc:  # ASGI: a send on a connection the client closed raises an OSError subclass
            self.closed = True
            raise ClientGone from exc

    async def serve(self, hooks: Hooks | None = None) -> None:
        """Run `connect`, then feed messages to `receive` until either side closes.

        `hooks`: the class's hooks adapted once (`Hooks.of`), as the endpoint passes them.
        """
        hooks = hooks or Hooks.of(type(self))
        try:
            await hooks.connect(self)
            if not self.accepted:
                await self.close(status.WS_1008_POLICY_VIOLATION, 'Connection was not accepted')
            while not self.closed:
                message = await self._asgi_receive()
                kind = message['type']
                if kind == 'websocket.receive':
                    await hooks.receive(self, _decode(message))
                elif kind == 'websocket.disconnect':
                    if self.closed:  # the server closed it (`close_websocket_connection`): no client departure
                        break
                    self.closed = True
                    await hooks.disconnect(self, message.get('code', status.WS_1000_NORMAL_CLOSURE))
        finally:
            if self._hub is not None:
                await self._hub.unregister(self)


@dataclass(frozen=True, slots=True)
class Hooks:
    """A class's ``connect``, ``receive`` and ``disconnect``, each adapted once by `off_the_loop`.

    A sync hook runs in a worker thread, like every sync piece of user code;
    it cannot await `send` there, but may return its awaitable
    (``return self.send(data)``), which is awaited on the loop.
    """

    connect: Callable[..., Awaitable[Any]]
    receive: Callable[..., Awaitable[Any]]
    disconnect: Callable[..., Awaitable[Any]]

    @classmethod
    def of(cls, target: type[GenericWebsocket]) -> Hooks:
        return cls(off_the_loop(target.connect), off_the_loop(target.receive), off_the_loop(target.disconnect))


def _decode(message: Mapping[str, Any]) -> Any:
    text = message.get('text')
    if text is None:
        return message.get('bytes') or b''
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _only_api_errors(exc: BaseException) -> APIError | None:
    """What a websocket served outside an app maps: `APIError` alone."""
    return exc if isinstance(exc, APIError) else None


class WebsocketEndpoint:
    """A websocket route as the app serves it."""

    __slots__ = ('guard', 'hooks', 'origin_cookies', 'path', 'target')

    def __init__(self, path: str, target: type[GenericWebsocket], guard: Guard) -> None:
        self.path = path
        self.target = target
        self.guard = guard
        self.hooks = Hooks.of(target)
        #: The cookies the authentication reads (``ANY_COOKIE``: some, unnamed; empty: none): a handshake
        #: carrying one must come from no foreign Origin.
        self.origin_cookies = cookies_read_by(guard.authenticator)

    @classmethod
    def build(
        cls, path: str, target: type[GenericWebsocket], config: Config, default_auth: Any = UNSET
    ) -> WebsocketEndpoint:
        """`default_auth`: the URL group's (or ``DEFAULT_AUTH``), used when the class does not set ``auth``."""
        where = f'websocket {path!r}'
        auth = default_auth if target.auth is UNSET else target.auth
        return cls(
            path, target, Guard.build(auth, target.permissions, target.scopes, config, where=where, websocket=True)
        )

    async def serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        params: dict[str, str],
        override: AuthOverride | None = None,
        as_api_error: Callable[[BaseException], APIError | None] = _only_api_errors,
    ) -> None:
        """Admit the handshake through the route's guard (refusing it before accepting), then run the socket.

        `as_api_error`: the app's mapping of what was raised to an HTTP error (an `APIError` itself, a
        domain error's status); what it maps closes with its detail, anything else with 1011.
        """
        first = await receive()
        if first['type'] != 'websocket.connect':
            return
        connection = self.target(scope, receive, send)
        connection.path_params = params
        if self.origin_cookies and self._carries_a_credential_cookie(connection) and not origin_allowed(connection):
            audit.log_event('auth.failure', request=connection, reason='cross-site websocket (foreign Origin)')
            await connection.close(
                status.WS_1008_POLICY_VIOLATION, 'Cross-site websocket connection refused (Origin is not this site)'
            )
            return
        try:
            await self.guard.admit(connection, override)
        except Exception as exc:  # a custom authenticator's own error: refuse, log, never leave the handshake hanging
            error = as_api_error(exc)
            if error is None:
                logger.exception('websocket %s: authentication failed with an error', self.path)
            await _close_for(connection, error)
            return
        try:
            await connection.serve(self.hooks)
        except ClientGone:  # the client left while the handler was sending: nothing to answer, nothing failed
            logger.debug('websocket %s: the client disconnected while the handler was sending', self.path)
        except ValidationError as exc:  # a message that fails a model: the client's mistake, said in the reason
            await connection.close(status.WS_1008_POLICY_VIOLATION, invalid(exc, 'input').detail)
        except Exception as exc:
            error = as_api_error(exc)
            if error is None:
                logger.exception('websocket %s failed', self.path)
            await _close_for(connection, error)

    def _carries_a_credential_cookie(self, connection: HTTPConnection) -> bool:
        if 'cookie' not in connection.headers:
            return False
        if ANY_COOKIE in self.origin_cookies:
            return True
        cookies = connection.cookies
        return any(name in cookies for name in self.origin_cookies)


ANY_COOKIE = '*'


def cookies_read_by(authenticator: Authenticator | None) -> frozenset[str]:
    """The cookie names the sources of `authenticator` read; ``ANY_COOKIE`` for a source flagged ``uses_cookies``
    that names none (a custom class or callable)."""
    if authenticator is None:
        return frozenset()
    names: set[str] = set()
    for source in authenticator.sources:
        credential = getattr(source, 'credential', None)  # a JWT class reads through its credential
        reader = credential if getattr(credential, 'uses_cookies', False) else source
        if not getattr(reader, 'uses_cookies', False):
            continue
        name = getattr(reader, 'param_name', None) if getattr(reader, 'openapi_in', None) == 'cookie' else None
        names.add(name if isinstance(name, str) and name else ANY_COOKIE)
    return frozenset(names)


async def _close_for(connection: GenericWebsocket, error: APIError | None) -> None:
    """Close with the HTTP error's detail, or 1011 for an error that is not the client's."""
    if error is None:
        await connection.close(status.WS_1011_INTERNAL_ERROR, 'Internal error')
    else:
        await connection.close(_close_code(error), error.detail)


def _close_code(exc: APIError) -> int:
    """1013 (try again later) for an unavailable store, else 1008 (policy violation)."""
    if exc.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        return status.WS_1013_TRY_AGAIN_LATER
    return status.WS_1008_POLICY_VIOLATION


def is_websocket_class(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, GenericWebsocket)


def refuse(reason: str) -> dict[str, Any]:
    return {'type': 'websocket.close', 'code': status.WS_1008_POLICY_VIOLATION, 'reason': _close_reason(reason)}
