"""Serving one ASGI connection: resolve, guard, handle, and turn whatever was raised into a response.

This is the one place where an error becomes HTTP. An `APIError` carries
its status; a pydantic `ValidationError` from anywhere in the request path
is the client's input failing a model (422); a domain error of a lower
layer (a taken unique key, a store that does not answer, a username no
account may have) gets its status from `DOMAIN_STATUS`; anything else is a
logged 500. A user's exception handler for the error's class, or for the
HTTP error it maps to, wins over all of these.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from panther_like import status
from panther_like.app.health import count_round_trips
from panther_like.app.lifespan import Startable, run_lifespan
from panther_like.auth.guard import AuthOverride
from panther_like.db.usernames import InvalidUsername
from panther_like.exceptions import APIError, DomainError, DuplicateKeyError, NotFoundAPIError, StoreUnavailableError
from panther_like.http.asgi import Receive, Scope, Send
from panther_like.http.client_address import TrustedProxies
from panther_like.http.request import Request, announces_body, read_body
from panther_like.http.response import HeaderValue, Response, render
from panther_like.http.validation import invalid
from panther_like.login_state.services import SCOPE_KEY as SERVICES
from panther_like.login_state.services import Services
from panther_like.routing.endpoint import HTTPEndpoint
from panther_like.routing.router import Router
from panther_like.routing.throttling import count as count_request
from panther_like.routing.websocket import WebsocketEndpoint, refuse

logger = logging.getLogger('panther_like')
INTERNAL_ERROR = {'detail': 'Internal server error'}
#: How a handler's data (anything but a `Response`) is sent: 200, no headers of its own. Shared, never changed.
DATA_RESPONSE = Response()
#: ``handler(request, exc)``, adapted once by `off_the_loop`: a `Response`, or data rendered as a 200.
ExceptionHandler = Callable[[Request | None, Exception], Awaitable[Any]]

#: The HTTP status of each domain error (the nearest class in its MRO wins).
DOMAIN_STATUS: dict[type[DomainError], int] = {
    DuplicateKeyError: status.HTTP_409_CONFLICT,
    StoreUnavailableError: status.HTTP_503_SERVICE_UNAVAILABLE,
    InvalidUsername: status.HTTP_400_BAD_REQUEST,
}


class Served(Startable, Protocol):
    """What serving a connection reads of the app (`Panther` is one)."""

    router: Router
    services: Services
    trusted_proxies: TrustedProxies
    count_round_trips: bool
    exception_handlers: Mapping[type[BaseException], ExceptionHandler]
    auth_override: AuthOverride | None


def as_api_error(exc: BaseException) -> APIError | None:
    """The HTTP error `exc` stands for: itself, its domain error's status and message, else None (a 500)."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, DomainError):
        for cls in type(exc).__mro__:
            status_code = DOMAIN_STATUS.get(cls)
            if status_code is not None:
                return APIError(exc.detail, status_code)
        return APIError(exc.detail, status.HTTP_400_BAD_REQUEST)
    return None


async def serve(app: Served, scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point (`Panther.__call__`). HTTP is served here, in one coroutine per request."""
    scope['app'] = app
    scope[SERVICES] = app.services
    if scope['type'] != 'http':
        if scope['type'] == 'websocket':
            app.trusted_proxies.apply(scope)
            await _websocket(app, scope, receive, send)
        elif scope['type'] == 'lifespan':
            await run_lifespan(app, receive, send)
        return
    app.trusted_proxies.apply(scope)
    if app.count_round_trips:
        send = count_round_trips(app.services, send)
    method = scope['method']
    cors = app.services.config.cors
    origin = None
    if cors is not None:
        origin = _single_header(scope, b'origin')
        asked = _single_header(scope, b'access-control-request-method') if method == 'OPTIONS' else None
        if origin is not None and asked is not None:  # a preflight: answered before routing and auth
            code, headers = cors.preflight(origin, asked, _single_header(scope, b'access-control-request-headers'))
            refused = None if code == status.HTTP_204_NO_CONTENT else {'detail': 'Cross-origin request not allowed'}
            preflight = Response(refused, code, headers)
            await preflight.send(send, preflight.body)
            return
    request = None
    limits = None
    try:
        match = app.router.resolve(scope['path'])
        if match is None or not isinstance(match[0], HTTPEndpoint):
            raise NotFoundAPIError()
        endpoint, params = match
        serving = endpoint.serving.get(method)
        if serving is None:
            raise endpoint.not_allowed(method)
        handler, guard, throttle = serving
        request = Request(scope, b'', params)  # positional: a keyword costs more than the call's other work
        if guard is not None and (app.auth_override is not None or not guard.admit_from_memory(request)):
            await guard.admit(request, app.auth_override)
        if throttle is not None:
            limits = await count_request(throttle, endpoint.path, request)
        if announces_body(scope):  # read only once the caller is let through
            request.body = await read_body(receive)
        result = await (handler(request, **params) if params else handler(request))  # no empty ** to unpack
        if isinstance(result, Response):
            response = result
            body = response.body
        else:  # data: rendered as it is, sent with the headers every JSON 200 has
            response = DATA_RESPONSE
            body = render(result)
    except Exception as exc:
        response, body = await error_response(app.exception_handlers, exc, request, method, scope['path'])
    sent_headers: dict[str, HeaderValue] | None = None
    if limits is not None or cors is not None:
        sent_headers = dict(response.headers)  # a copy: a handler may return one shared Response
        if limits is not None:
            sent_headers.update(limits)
        if cors is not None:
            cors.decorate(sent_headers, origin)
    await response.send(send, body if method != 'HEAD' else b'', len(body), sent_headers)  # positional, as above


def _single_header(scope: Scope, name: bytes) -> str | None:
    """The value of header `name` when it was sent exactly once (a repeated CORS header is no answer)."""
    found = None
    for key, value in scope['headers']:
        if key == name:
            if found is not None:
                return None
            found = value.decode('latin-1')
    return found


async def error_response(
    handlers: Mapping[type[BaseException], ExceptionHandler],
    exc: Exception,
    request: Request | None,
    method: str,
    path: str,
) -> tuple[Response, bytes]:
    """The response for what a request raised: its exception handler's, an HTTP error's, else a logged 500.

    A handler breaking its own output model raises `OutputContractError`, not a pydantic
    `ValidationError`, so it stays a 500: a client is not to blame for what a handler returns.
    """
    handler = _exception_handler(handlers, exc)
    if handler is None:
        mapped = invalid(exc, 'input') if isinstance(exc, ValidationError) else as_api_error(exc)
        if mapped is not None and mapped is not exc:
            exc = mapped
            handler = _exception_handler(handlers, exc)
    if handler is not None:
        return await _handled(handler, request, exc, method, path)
    if isinstance(exc, APIError):
        response = Response(exc.body(), exc.status_code, exc.headers)
    else:
        logger.exception('Unhandled error while serving %s %s', method, path)
        response = Response(INTERNAL_ERROR, 500)
    return response, response.body


def _exception_handler(
    handlers: Mapping[type[BaseException], ExceptionHandler], exc: Exception
) -> ExceptionHandler | None:
    if not handlers:
        return None
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


async def _handled(
    handler: ExceptionHandler, request: Request | None, exc: Exception, method: str, path: str
) -> tuple[Response, bytes]:
    try:
        result = await handler(request, exc)
        response = result if isinstance(result, Response) else Response(result)
        return response, response.body
    except Exception:
        logger.exception('Exception handler %r failed while serving %s %s', handler, method, path)
        response = Response(INTERNAL_ERROR, 500)
        return response, response.body


async def _websocket(app: Served, scope: Scope, receive: Receive, send: Send) -> None:
    match = app.router.resolve(scope['path'])
    if match is None or not isinstance(match[0], WebsocketEndpoint):
        if (await receive())['type'] == 'websocket.connect':
            await send(refuse('Not found'))
        return
    endpoint, params = match
    await endpoint.serve(scope, receive, send, params, app.auth_override, as_api_error)
