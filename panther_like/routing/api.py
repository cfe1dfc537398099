"""What a user declares a route with: the `@API` decorator and `GenericAPI`.

Both only record what the user declared; the app turns each into an
`HTTPEndpoint` (`panther_like.routing.endpoint`) when it is built, with its
authenticator and permissions already resolved, so serving a request is a
dict look-up and a few awaits. What an operation takes and gives is its
`Contract` (`panther_like.routing.contract`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from panther_like import status
from panther_like.auth.permissions import fresh_permission
from panther_like.common.concurrency import off_the_loop
from panther_like.common.sentinel import UNSET
from panther_like.exceptions import ConfigError
from panther_like.http.request import Request
from panther_like.routing.contract import (
    BODY_METHODS,
    DEFAULT_CONTRACT,
    GUARD_FIELDS,
    Contract,
    Handler,
    one_spelling,
    with_contract,
)
from panther_like.settings.throttling import Throttle, throttling_setting

HTTP_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')


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

    ``fresh=300`` (or ``fresh=True`` for ``ACCOUNTS['reauthentication_timeout']``)
    needs an access token whose user authenticated at most that many seconds
    ago (401 ``reauthentication_required`` otherwise; see `FreshAuthentication`).

    ``auth`` defaults to the URL group's default (`panther_like.Group`), else
    the ``DEFAULT_AUTH`` setting, else no authentication; ``auth=None`` opts
    out of both. ``methods`` defaults to every method (as in Panther).
    ``throttling=Throttle(rate=10, duration=timedelta(minutes=1))`` limits
    each client of the route (429 over it); unset, the ``THROTTLING`` setting's. ``scopes`` are JWT
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
        function: Any = UNSET,
        /,
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
        fresh: bool | int | None = None,
        throttling: Throttle | None = None,
    ) -> None:
        if function is not UNSET:
            # ``@API`` without parentheses would make the route an `API` object that is never called.
            raise ConfigError(
                'API', getattr(function, '__qualname__', function), 'use @API(...) with parentheses, e.g. @API()'
            )
        self.auth = auth
        self.methods = _check_methods(methods, 'API')
        freshness = fresh_permission(fresh, where='API')
        if freshness is not None:
            if isinstance(permissions, str | bytes):
                raise ConfigError('permissions of API', permissions, 'must be a list')
            permissions = [*(permissions or ()), freshness]
        self.permissions = permissions
        self.scopes = scopes
        self.throttling = throttling_setting(throttling, 'throttling of API')
        self.contract = Contract(
            one_spelling('input', input, 'input_model', input_model, default=None),
            one_spelling('output', output, 'output_model', output_model, default=None),
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
            throttling=self.throttling,
        )


class FunctionAPI:
    """A function decorated with `@API`; calling it calls the function."""

    #: Query parameters the OpenAPI document lists for the route (OpenAPI Parameter Objects, ``'in': 'query'``).
    openapi_parameters: tuple[Mapping[str, Any], ...] = ()

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        auth: Any,
        methods: tuple[str, ...],
        permissions: Sequence[Any] | None,
        scopes: Sequence[str] | None = None,
        contract: Contract = DEFAULT_CONTRACT,
        throttling: Throttle | None = None,
    ) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.auth = auth
        self.methods = methods
        self.permissions = permissions
        self.scopes = scopes
        self.contract = contract
        self.throttling = throttling
        #: What the app awaits: the function itself when it is async and has no contract.
        self.handler: Handler = with_contract(off_the_loop(function), contract)

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
    #: At most so many requests per duration per client (`Throttle`); None: the ``THROTTLING`` setting's.
    throttling: Throttle | None = None
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


def method_handler(cls: type[GenericAPI], method: str, declared: Contract) -> Handler:
    """Sync or async is decided once, on the class's function; each request gets a new instance."""
    name = method.lower()
    call = off_the_loop(getattr(cls, name))
    if isinstance(inspect.getattr_static(cls, name), classmethod | staticmethod):
        handle = call
    else:

        async def handle(request: Request, **path_params: str) -> Any:
            return await call(cls(), request, **path_params)

    return with_contract(handle, declared)
