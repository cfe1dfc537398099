"""HTTP endpoints: the `@API` decorator, `GenericAPI`, and the `HTTPEndpoint` the router holds.

`@API` and `GenericAPI` only record what the user declared; the app turns
each into an `HTTPEndpoint` when it is built, with its authenticator and
permissions already resolved, so serving a request is a dict look-up and
a few awaits.

An operation may also declare what it takes and gives (a `Contract`):
``@API(input=Model, output=Model, status_code=201)``, or ``@contract(...)``
on a `GenericAPI` method. The body is validated into ``request.validated``
before the handler runs (a 422 naming each field otherwise, never a 500),
what the handler returns is checked against ``output``, and the OpenAPI
document shows both schemas. One declaration serves the handler, the
client and the document, so they cannot drift apart.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from panther_like import status
from panther_like.config import Config
from panther_like.exceptions import ConfigError, MethodNotAllowedAPIError
from panther_like.guard import Guard
from panther_like.request import FORM_CONTENT_TYPE, Request
from panther_like.response import Response
from panther_like.utils import UNSET, as_async
from panther_like.validation import invalid

HTTP_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
#: ``await handler(request, **path_params)``: a `Response`, or data the app renders as a 200.
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


@dataclass(frozen=True, slots=True)
class Contract:
    """What one operation takes and gives; see the module docstring.

    `input`: a pydantic model the body must validate into (``request.validated``).
    `form`: also accept the body as ``application/x-www-form-urlencoded`` (an OAuth2 token
    endpoint, an HTML form). `output`: a pydantic model, or any type pydantic knows
    (``list[Item]``), that a returned value is checked and rendered through.
    `status_code`: the status of a value that is not a `Response`. `responses`: other
    statuses the operation answers, with a description, documented with the
    ``{"detail": ...}`` body every error has.
    """

    input: type[BaseModel] | None = None
    output: Any = None
    status_code: int = status.HTTP_200_OK
    form: bool = False
    responses: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    _output: TypeAdapter[Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.input is not None and not (isinstance(self.input, type) and issubclass(self.input, BaseModel)):
            raise TypeError(f'input must be a pydantic model class, not {self.input!r}')
        if not isinstance(self.status_code, int) or not 200 <= self.status_code < 300:
            raise TypeError(f'status_code must be a 2xx status, not {self.status_code!r}')
        if self.form and self.input is None:
            raise TypeError('form=True needs an input model')
        if self.output is not None:  # built once: a bad output type fails at import, not per request
            object.__setattr__(self, '_output', TypeAdapter(self.output))

    def read(self, request: Request) -> None:
        """Validate the body into ``request.validated``; a 422 that names each field otherwise."""
        if self.input is None:
            return
        if self.form and request.content_type == FORM_CONTENT_TYPE:
            data: Any = request.form
        else:
            data = request.data
        try:
            request.validated = self.input.model_validate({} if data is None else data)
        except ValidationError as exc:
            raise invalid(exc) from None

    def respond(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        if self._output is not None:
            public = getattr(result, 'public_dict', None)
            result = self._output.validate_python(public() if public is not None else result, from_attributes=True)
        return Response(result, self.status_code)


DEFAULT_CONTRACT = Contract()


def _with_contract(call: Handler, declared: Contract) -> Handler:
    """`call` checked by `declared`; without a contract, `call` itself (no frame in between)."""
    if declared == DEFAULT_CONTRACT:
        return call

    async def handle(request: Request, **path_params: str) -> Response:
        declared.read(request)
        return declared.respond(await call(request, **path_params))

    return handle


def contract(
    *, input: type[BaseModel] | None = None, output: Any = None, status_code: int = status.HTTP_200_OK,
    form: bool = False, responses: Mapping[int, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@contract(input=..., output=..., status_code=...)`` on a `GenericAPI` method: what `@API` takes."""
    declared = Contract(input, output, status_code, form, MappingProxyType(dict(responses or {})))

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        target = method.__func__ if isinstance(method, classmethod | staticmethod) else method
        target.__panther_contract__ = declared
        return method

    return mark


class API:
    """``@API(auth=True, methods=['GET'], permissions=[...], scopes=[...])`` on a function ``(request, **path_params)``.

    ``auth`` defaults to the URL group's default (`panther_like.Group`), else
    the ``DEFAULT_AUTH`` setting, else no authentication; ``auth=None`` opts
    out of both. ``methods`` defaults to every method. ``scopes`` are JWT
    scopes the caller's token must grant (403 otherwise). ``input``,
    ``output``, ``status_code``, ``form`` and ``responses``: see `Contract`.
    """

    def __init__(
        self, *, auth: Any = UNSET, methods: Sequence[str] | None = None, permissions: Sequence[Any] | None = None,
        scopes: Sequence[str] | None = None, input: type[BaseModel] | None = None, output: Any = None,
        status_code: int = status.HTTP_200_OK, form: bool = False, responses: Mapping[int, str] | None = None,
    ) -> None:
        self.auth = auth
        self.methods = _check_methods(methods, 'API')
        self.permissions = permissions
        self.scopes = scopes
        self.contract = Contract(input, output, status_code, form, MappingProxyType(dict(responses or {})))

    def __call__(self, function: Callable[..., Any]) -> FunctionAPI:
        if not callable(function):
            raise TypeError('@API() must decorate a function')
        return FunctionAPI(
            function, auth=self.auth, methods=self.methods, permissions=self.permissions, scopes=self.scopes,
            contract=self.contract,
        )


class FunctionAPI:
    """A function decorated with `@API`; calling it calls the function."""

    def __init__(
        self, function: Callable[..., Any], *, auth: Any, methods: tuple[str, ...], permissions: Sequence[Any] | None,
        scopes: Sequence[str] | None = None, contract: Contract = DEFAULT_CONTRACT,
    ) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.auth = auth
        self.methods = methods
        self.permissions = permissions
        self.scopes = scopes
        self.contract = contract
        #: What the app awaits: the function itself when it is async and has no contract.
        self.handler: Handler = _with_contract(as_async(function), contract)

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

    @classmethod
    def contract_of(cls, method: str) -> Contract:
        """What `@contract` declared on the method's function, else the default (nothing checked)."""
        function = inspect.getattr_static(cls, method.lower())
        if isinstance(function, classmethod | staticmethod):
            function = function.__func__
        return getattr(function, '__panther_contract__', DEFAULT_CONTRACT)


def _method_handler(cls: type[GenericAPI], method: str) -> Handler:
    """Sync or async is decided once, on the class's function; each request gets a new instance."""
    name = method.lower()
    call = as_async(getattr(cls, name))
    if isinstance(inspect.getattr_static(cls, name), classmethod | staticmethod):
        handle = call
    else:
        async def handle(request: Request, **path_params: str) -> Any:
            return await call(cls(), request, **path_params)

    return _with_contract(handle, cls.contract_of(method))


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

    def contract_for(self, method: str) -> Contract:
        """What the operation `method` declared it takes and gives (for the OpenAPI document)."""
        target = self.target
        if isinstance(target, FunctionAPI):
            return target.contract
        if isinstance(target, type) and issubclass(target, GenericAPI):
            return target.contract_of(method)
        return DEFAULT_CONTRACT

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
