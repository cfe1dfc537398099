"""`HTTPEndpoint`: one route as the app serves it, built from what `@API` or `GenericAPI` declared.

Building resolves each method's guard and contract, and checks that every
handler takes the route's path parameters, so that a mistake fails when
the app is built rather than on every request of the route.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panther_like.auth.guard import Guard
from panther_like.common.sentinel import UNSET
from panther_like.exceptions import ConfigError, MethodNotAllowedAPIError
from panther_like.routing.api import FunctionAPI, GenericAPI, method_handler
from panther_like.routing.contract import DEFAULT_CONTRACT, GUARD_FIELDS, Contract, Handler
from panther_like.routing.router import PARAMETER
from panther_like.settings.config import Config
from panther_like.settings.throttling import Throttle, throttling_setting

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


def _takes_request(function: Callable[..., Any], bound: bool) -> bool:
    """Whether `function` takes one positional argument (two with ``self``); True when it cannot be told."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    needed = 2 if bound else 1
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return True
    return sum(p.kind in positional for p in parameters) >= needed


def check_path_parameters(
    path: str, names: Sequence[str], function: Callable[..., Any], label: str, *, bound: bool = False
) -> None:
    """`ConfigError` when the handler would raise `TypeError` on every request of `path`.

    A path parameter the handler does not take, or a parameter the handler
    requires that the path does not give; ``**kwargs`` takes any.
    """
    if not _takes_request(function, bound):
        raise ConfigError(
            'URLS',
            path,
            f'handler {label} of route {path!r} cannot take the request: it is called as '
            f'{label}(request, **path_params); add a request parameter',
        )
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
    #: The request limit per client (the route's ``throttling=``, else ``THROTTLING``); None: no limit.
    throttle: Throttle | None = None


class HTTPEndpoint:
    """One route as the app serves it: handlers by method, then each method's guard.

    `guard` is the route's guard when every method has the same one; `guards`
    holds each method's (a path may have a public GET and a protected POST).
    """

    __slots__ = ('allow', 'guard', 'guards', 'handlers', 'operations', 'path', 'serving', 'target')

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
            if method not in operations:
                get = operations.get('GET') if method == 'HEAD' else None
                operations[method] = get or Operation(guard, DEFAULT_CONTRACT, target, scopes)
        self.operations = operations
        self.guards = {method: operation.guard for method, operation in operations.items()}
        #: What serving a method takes, in one look-up per request: its handler, its guard (None when it
        #: admits everyone, so a public route awaits none) and its request limit.
        self.serving: dict[str, tuple[Handler, Guard | None, Throttle | None]] = {
            method: (
                handler,
                None if operations[method].guard.admits_everyone else operations[method].guard,
                operations[method].throttle,
            )
            for method, handler in handlers.items()
        }

    def not_allowed(self, method: str) -> MethodNotAllowedAPIError:
        """The 405 for `method`, with the ``Allow`` header a client needs to try again."""
        return MethodNotAllowedAPIError(f'Method {method} is not allowed on this route', headers={'Allow': self.allow})

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
                    function.throttling or config.throttling,
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
                handlers[method] = method_handler(target, method, declared)
                throttle = throttling_setting(target.throttling, f'throttling of {target.__qualname__}')
                operations[method] = Operation(
                    built[key], declared, target, tuple(rules['scopes'] or ()), throttle or config.throttling
                )
        else:
            raise ConfigError('URLS', target, f'{target!r} at {where} is not an @API function or a GenericAPI')
        first = next(iter(operations.values()), None)
        route_guard = first.guard if first is not None else guard(getattr(target, 'auth', UNSET), None, None)
        return cls(path, target, handlers, route_guard, operations)
