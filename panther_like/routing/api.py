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
from panther_like.auth.guard import Guard
from panther_like.common.concurrency import as_async
from panther_like.common.sentinel import UNSET
from panther_like.exceptions import ConfigError, MethodNotAllowedAPIError
from panther_like.http.request import FORM_CONTENT_TYPE, Request
from panther_like.http.response import Response
from panther_like.http.validation import invalid, validation_problems
from panther_like.routing.router import PARAMETER
from panther_like.settings.config import Config

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
        if self._output is not None and result is not None:
            public = getattr(result, 'public_dict', None)  # a stored model's secret fields never reach the output
            try:
                result = self._output.validate_python(public() if public is not None else result, from_attributes=True)
            except ValidationError as exc:
                raise OutputContractError(
                    f'the handler returned what its output model refuses: {validation_problems(exc)}'
                ) from None
        return Response(result, self.status_code)


DEFAULT_CONTRACT = Contract()


class OutputContractError(Exception):
    """A handler returned what its own output model refuses: a bug in the server, so a logged 500.

    Not a pydantic `ValidationError` on purpose: the app turns those into a 422 (the client sent
    something wrong), and a client is not to blame for what a handler returns.
    """


def _one_spelling(name: str, value: Any, alias: str, alias_value: Any, default: Any = UNSET) -> Any:
    """``input`` or Panther's ``input_model`` (``output``/``output_model``): either, not both; else `default`."""
    if value is not UNSET and alias_value is not UNSET:
        raise TypeError(f'give {name}= or {alias}=, not both')
    chosen = alias_value if value is UNSET else value
    return default if chosen is UNSET else chosen


def _with_contract(call: Handler, declared: Contract) -> Handler:
    """`call` checked by `declared`; without a contract, `call` itself (no frame in between)."""
    if declared == DEFAULT_CONTRACT:
        return call

    async def handle(request: Request, **path_params: str) -> Response:
        declared.read(request)
        return declared.respond(await call(request, **path_params))

    return handle


#: What `@contract` may set about who calls the method (the rest is the `Contract`).
GUARD_FIELDS = ('auth', 'permissions', 'scopes')


def contract(
    *,
    input: Any = UNSET,
    output: Any = UNSET,
    status_code: Any = UNSET,
    form: Any = UNSET,
    responses: Any = UNSET,
    input_model: Any = UNSET,
    output_model: Any = UNSET,
    auth: Any = UNSET,
    permissions: Any = UNSET,
    scopes: Any = UNSET,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@contract(input_model=..., output_model=..., status_code=..., auth=...)`` on a `GenericAPI` method.

    What `@API` takes, for one method. What it leaves out comes from the
    class: ``input_model``/``output_model``, ``auth``, ``permissions``,
    ``scopes``; ``input_model=None`` or ``auth=None`` opts this method out
    of the class's. So a class may serve a public ``get`` and a ``post``
    marked ``@contract(auth=True)``.
    """
    declared = {
        'input': _one_spelling('input', input, 'input_model', input_model),
        'output': _one_spelling('output', output, 'output_model', output_model),
        'status_code': status_code,
        'form': form,
        'responses': responses,
    }
    declared = {name: value for name, value in declared.items() if value is not UNSET}
    guarded = {
        name: value for name, value in zip(GUARD_FIELDS, (auth, permissions, scopes), strict=True) if value is not UNSET
    }
    # Checked now, so a wrong declaration fails at import like `@API`'s (form=True may rely on the class's model).
    trial = {**declared, 'responses': MappingProxyType(dict(declared.get('responses') or {}))}
    if trial.get('form') and trial.get('input') is None:
        trial['input'] = _Placeholder if 'input' not in declared else None
    Contract(**trial)

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        target = method.__func__ if isinstance(method, classmethod | staticmethod) else method
        target.__panther_contract__ = MappingProxyType(declared)
        target.__panther_guard__ = MappingProxyType(guarded)
        return method

    return mark


class _Placeholder(BaseModel):
    """Stands for the class's input model while a `@contract` with ``form=True`` alone is checked."""


class API:
    """``@API(auth=True, methods=['GET'], permissions=[...], scopes=[...])`` on a function ``(request, **path_params)``.

    ``auth`` defaults to the URL group's default (`panther_like.Group`), else
    the ``DEFAULT_AUTH`` setting, else no authentication; ``auth=None`` opts
    out of both. ``methods`` defaults to every method. ``scopes`` are JWT
    scopes the caller's token must grant (403 otherwise). ``input_model``
    (or ``input``), ``output_model`` (or ``output``), ``status_code``,
    ``form`` and ``responses``: see `Contract`.

    Several functions may share one path when their methods differ:
    ``{'notes/': [list_notes, create_note]}`` with ``@API(methods=['GET'])``
    and ``@API(methods=['POST'], auth=True)``: a public read and a protected
    write on one URL.
    """

    def __init__(
        self,
        *,
        auth: Any = UNSET,
        methods: Sequence[str] | None = None,
        permissions: Sequence[Any] | None = None,
        scopes: Sequence[str] | None = None,
        input: Any = UNSET,
        output: Any = UNSET,
        status_code: int = status.HTTP_200_OK,
        form: bool = False,
        responses: Mapping[int, str] | None = None,
        input_model: Any = UNSET,
        output_model: Any = UNSET,
    ) -> None:
        self.auth = auth
        self.methods = _check_methods(methods, 'API')
        self.permissions = permissions
        self.scopes = scopes
        self.contract = Contract(
            _one_spelling('input', input, 'input_model', input_model, default=None),
            _one_spelling('output', output, 'output_model', output_model, default=None),
            status_code,
            form,
            MappingProxyType(dict(responses or {})),
        )

    def __call__(self, function: Callable[..., Any]) -> FunctionAPI:
        if not callable(function):
            raise TypeError('@API() must decorate a function')
        return FunctionAPI(
            function,
            auth=self.auth,
            methods=self.methods,
            permissions=self.permissions,
            scopes=self.scopes,
            contract=self.contract,
        )


class FunctionAPI:
    """A function decorated with `@API`; calling it calls the function."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        auth: Any,
        methods: tuple[str, ...],
        permissions: Sequence[Any] | None,
        scopes: Sequence[str] | None = None,
        contract: Contract = DEFAULT_CONTRACT,
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
    leak between requests. ``input_model`` validates the body of ``post``,
    ``put`` and ``patch`` into ``request.validated_data``; ``output_model``
    filters what every method returns; ``@contract(...)`` on a method
    overrides either, and may give that method its own ``auth``.
    """

    auth: Any = UNSET
    permissions: Sequence[Any] | None = None
    scopes: Sequence[str] | None = None
    input_model: type[BaseModel] | None = None
    output_model: Any = None

    @classmethod
    def defined_methods(cls) -> tuple[str, ...]:
        return tuple(m for m in HTTP_METHODS if callable(getattr(cls, m.lower(), None)))

    @classmethod
    def _declared(cls, method: str, marker: str) -> Mapping[str, Any]:
        function = inspect.getattr_static(cls, method.lower())
        if isinstance(function, classmethod | staticmethod):
            function = function.__func__
        return getattr(function, marker, MappingProxyType({}))

    @classmethod
    def contract_of(cls, method: str) -> Contract:
        """The class's models (the input only for a body method), overridden by the method's `@contract`."""
        declared = cls._declared(method, '__panther_contract__')
        return Contract(
            declared.get('input', cls.input_model if method.upper() in BODY_METHODS else None),
            declared.get('output', cls.output_model),
            declared.get('status_code', status.HTTP_200_OK),
            declared.get('form', False),
            MappingProxyType(dict(declared.get('responses') or {})),
        )

    @classmethod
    def guard_of(cls, method: str) -> dict[str, Any]:
        """``auth``, ``permissions`` and ``scopes`` of `method`: its `@contract`'s, else the class's."""
        declared = cls._declared(method, '__panther_guard__')
        return {name: declared.get(name, getattr(cls, name)) for name in GUARD_FIELDS}


#: The methods whose body an input model reads (a GET or DELETE body has no defined meaning).
BODY_METHODS = ('POST', 'PUT', 'PATCH')


def _method_handler(cls: type[GenericAPI], method: str, declared: Contract) -> Handler:
    """Sync or async is decided once, on the class's function; each request gets a new instance."""
    name = method.lower()
    call = as_async(getattr(cls, name))
    if isinstance(inspect.getattr_static(cls, name), classmethod | staticmethod):
        handle = call
    else:

        async def handle(request: Request, **path_params: str) -> Any:
            return await call(cls(), request, **path_params)

    return _with_contract(handle, declared)


# -- path parameters against handlers --------------------------------------------------------------


def _parameters(function: Callable[..., Any], bound: bool) -> list[inspect.Parameter] | None:
    """The parameters after ``request`` (and ``self``); None when the signature cannot be read."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    if bound and parameters and parameters[0].kind is not inspect.Parameter.VAR_POSITIONAL:
        parameters = parameters[1:]  # self
    if not parameters:
        return []
    if parameters[0].kind is inspect.Parameter.VAR_POSITIONAL:
        return None  # (*args, ...): takes the request and whatever else positionally; nothing to check
    return parameters[1:]  # request


def check_path_parameters(
    path: str, names: Sequence[str], function: Callable[..., Any], label: str, *, bound: bool = False
) -> None:
    """`ConfigError` when the handler would raise `TypeError` on every request of `path`.

    A path parameter the handler does not take, or a parameter the handler
    requires that the path does not give; ``**kwargs`` takes any.
    """
    parameters = _parameters(function, bound)
    if parameters is None:
        return
    by_name = {p.name: p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    for name in names:
        if name not in by_name and not takes_any:
            raise ConfigError(
                'URLS',
                path,
                f'route {path!r} has path parameter {name!r}, but its handler '
                f'{label} does not take it (its parameters: '
                f'{", ".join(by_name) or "none"}; rename one or add **kwargs)',
            )
    for parameter in parameters:
        required = parameter.default is inspect.Parameter.empty and parameter.kind in (
            parameter.POSITIONAL_OR_KEYWORD,
            parameter.KEYWORD_ONLY,
            parameter.POSITIONAL_ONLY,
        )
        if required and parameter.name not in names:
            raise ConfigError(
                'URLS',
                path,
                f'handler {label} of route {path!r} requires {parameter.name!r}, '
                'which the path does not give (add <' + parameter.name + '> to the '
                'path or a default to the parameter)',
            )


def _label(function: Any) -> str:
    return getattr(function, '__qualname__', None) or getattr(function, '__name__', None) or repr(function)


# -- the endpoint ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of a route: who may call it, what it takes and gives, and what declared it."""

    guard: Guard
    contract: Contract = DEFAULT_CONTRACT
    #: The `FunctionAPI` or `GenericAPI` class that serves it (its docstring, its OpenAPI flags).
    source: Any = None
    scopes: tuple[str, ...] = ()


class HTTPEndpoint:
    """One route as the app serves it: handlers by method, then each method's guard.

    `guard` is the route's guard when every method has the same one; `guards`
    holds each method's (a path may have a public GET and a protected POST).
    """

    __slots__ = ('allow', 'guard', 'guards', 'handlers', 'operations', 'path', 'target')

    def __init__(
        self,
        path: str,
        target: Any,
        handlers: dict[str, Handler],
        guard: Guard,
        operations: Mapping[str, Operation] | None = None,
    ) -> None:
        self.path = path
        self.target = target
        if 'GET' in handlers:
            handlers.setdefault('HEAD', handlers['GET'])
        self.handlers = handlers
        self.allow = ', '.join(handlers)
        self.guard = guard
        scopes = tuple(getattr(target, 'scopes', None) or ())
        operations = dict(operations or {})
        for method in handlers:
            operations.setdefault(
                method,
                operations.get('GET')
                if method == 'HEAD' and 'GET' in operations
                else Operation(guard, DEFAULT_CONTRACT, target, scopes),
            )
        self.operations = operations
        self.guards = {method: operation.guard for method, operation in operations.items()}

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
        names = tuple(PARAMETER.findall(path))

        def guard(auth: Any, permissions: Any, scopes: Any) -> Guard:
            return Guard.build(default_auth if auth is UNSET else auth, permissions, scopes, config, where=where)

        handlers: dict[str, Handler] = {}
        operations: dict[str, Operation] = {}
        if isinstance(target, FunctionAPI) or (isinstance(target, list | tuple) and target):
            functions = [target] if isinstance(target, FunctionAPI) else list(target)
            for function in functions:
                if not isinstance(function, FunctionAPI):
                    raise ConfigError(
                        'URLS',
                        function,
                        f'{function!r} at {where} is not an @API function (a list of routes holds @API functions only)',
                    )
                check_path_parameters(path, names, function.function, _label(function.function))
                shared = [method for method in function.methods if method in handlers]
                if shared:
                    raise ConfigError(
                        'URLS',
                        path,
                        f'{where}: {_label(function.function)} and another function '
                        f'both answer {", ".join(shared)}; give each its own methods=',
                    )
                operation = Operation(
                    guard(function.auth, function.permissions, function.scopes),
                    function.contract,
                    function,
                    tuple(function.scopes or ()),
                )
                for method in function.methods:
                    handlers[method] = function.handler
                    operations[method] = operation
        elif isinstance(target, type) and issubclass(target, GenericAPI):
            built: dict[tuple[Any, ...], Guard] = {}  # methods with the same auth share one guard
            for method in target.defined_methods():
                name = method.lower()
                static = isinstance(inspect.getattr_static(target, name), classmethod | staticmethod)
                check_path_parameters(
                    path, names, getattr(target, name), f'{target.__qualname__}.{name}', bound=not static
                )
                declared = target.contract_of(method)
                rules = target.guard_of(method)
                key = tuple(id(rules[field]) for field in GUARD_FIELDS)
                if key not in built:
                    built[key] = guard(rules['auth'], rules['permissions'], rules['scopes'])
                handlers[method] = _method_handler(target, method, declared)
                operations[method] = Operation(built[key], declared, target, tuple(rules['scopes'] or ()))
        else:
            raise ConfigError('URLS', target, f'{target!r} at {where} is not an @API function or a GenericAPI')
        first = next(iter(operations.values()), None)
        route_guard = first.guard if first is not None else guard(getattr(target, 'auth', UNSET), None, None)
        return cls(path, target, handlers, route_guard, operations)
