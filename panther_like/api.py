"""HTTP endpoints: the `@API` decorator, `GenericAPI`, and the `HTTPEndpoint` the router holds.

`@API` and `GenericAPI` only record what the user declared; the app turns
each into an `HTTPEndpoint` when it is built, with its authenticator and
permissions already resolved, so serving a request is a dict look-up and
a few awaits.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from panther_like.config import Config
from panther_like.exceptions import ConfigError, MethodNotAllowedAPIError
from panther_like.guard import Guard
from panther_like.request import Request
from panther_like.utils import UNSET, as_async

HTTP_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
#: ``await handler(request, **path_params)``: what a handler returned, a `Response` or data for one.
Handler = Callable[..., Awaitable[Any]]


def _check_methods(methods: Iterable[str] | None, where: str) -> tuple[str, ...]:
    if methods is None:
        return HTTP_METHODS
    if isinstance(methods, str) or not isinstance(methods, Iterable):
        raise ConfigError(f'methods of {where}', methods, "must be a list such as ['GET', 'POST']")
    checked = []
    for method in methods:
        name = method.upper() if isinstance(method, str) else method
        if name not in HTTP_METHODS:
            raise ConfigError(f'methods of {where}', method, f'{method!r} is not one of {", ".join(HTTP_METHODS)}')
        checked.append(name)
    return tuple(checked)


class API:
    """``@API(auth=True, methods=['GET'], permissions=[...], scopes=[...])`` on a function ``(request, **path_params)``.

    ``auth`` defaults to the URL group's default (`panther_like.Group`), else
    the ``DEFAULT_AUTH`` setting, else no authentication; ``auth=None`` opts
    out of both. ``methods`` defaults to every method. ``scopes`` are JWT
    scopes the caller's token must grant (403 otherwise).
    """

    def __init__(
        self, *, auth: Any = UNSET, methods: Sequence[str] | None = None, permissions: Sequence[Any] | None = None,
        scopes: Sequence[str] | None = None,
    ) -> None:
        self.auth = auth
        self.methods = _check_methods(methods, 'API')
        self.permissions = permissions
        self.scopes = scopes

    def __call__(self, function: Callable[..., Any]) -> FunctionAPI:
        if not callable(function):
            raise TypeError('@API() must decorate a function')
        return FunctionAPI(
            function, auth=self.auth, methods=self.methods, permissions=self.permissions, scopes=self.scopes
        )


class FunctionAPI:
    """A function decorated with `@API`; calling it calls the function."""

    def __init__(
        self, function: Callable[..., Any], *, auth: Any, methods: tuple[str, ...], permissions: Sequence[Any] | None,
        scopes: Sequence[str] | None = None,
    ) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.auth = auth
        self.methods = methods
        self.permissions = permissions
        self.scopes = scopes
        #: What the app awaits: the function itself when it is async (no frame in between).
        self.handler: Handler = as_async(function)

    async def __call__(self, request: Request, **path_params: str) -> Any:
        return await self.handler(request, **path_params)


class GenericAPI:
    """Subclass and define ``async def get(self, request, **path_params)`` (and post, put, patch, delete).

    A new instance serves each request, so attributes set on ``self`` never
    leak between requests.
    """

    auth: Any = UNSET
    permissions: Sequence[Any] | None = None
    scopes: Sequence[str] | None = None

    @classmethod
    def defined_methods(cls) -> tuple[str, ...]:
        return tuple(m for m in HTTP_METHODS if callable(getattr(cls, m.lower(), None)))


def _method_handler(cls: type[GenericAPI], method: str) -> Handler:
    """Sync or async is decided once, on the class's function; each request gets a new instance."""
    name = method.lower()
    call = as_async(getattr(cls, name))
    if isinstance(inspect.getattr_static(cls, name), classmethod | staticmethod):
        async def handle(request: Request, **path_params: str) -> Any:
            return await call(request, **path_params)
    else:
        async def handle(request: Request, **path_params: str) -> Any:
            return await call(cls(), request, **path_params)

    return handle


class HTTPEndpoint:
    """One route as the app serves it: handlers by method, then its guards."""

    __slots__ = ('allow', 'guard', 'handlers', 'path', 'target')

    def __init__(self, path: str, target: Any, handlers: dict[str, Handler], guard: Guard) -> None:
        self.path = path
        self.target = target
        if 'GET' in handlers:
            handlers.setdefault('HEAD', handlers['GET'])
        self.handlers = handlers
        self.allow = ', '.join(handlers)
        self.guard = guard

    def handler_for(self, method: str) -> Handler:
        handler = self.handlers.get(method)
        if handler is None:
            raise MethodNotAllowedAPIError(
                f'Method {method} is not allowed on this route', headers={'Allow': self.allow}
            )
        return handler

    @classmethod
    def build(cls, path: str, target: Any, config: Config, default_auth: Any = UNSET) -> HTTPEndpoint:
        """`default_auth`: the URL group's (or ``DEFAULT_AUTH``), used when the route does not set ``auth``."""
        where = f'route {path!r}'
        if isinstance(target, FunctionAPI):
            handlers: dict[str, Handler] = dict.fromkeys(target.methods, target.handler)
        elif isinstance(target, type) and issubclass(target, GenericAPI):
            handlers = {method: _method_handler(target, method) for method in target.defined_methods()}
        else:
            raise ConfigError('URLS', target, f'{target!r} at {where} is not an @API function or a GenericAPI')
        auth = default_auth if target.auth is UNSET else target.auth
        guard = Guard.build(auth, target.permissions, target.scopes, config, where=where)
        return cls(path, target, handlers, guard)
