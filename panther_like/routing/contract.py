"""What one operation takes and gives: the `Contract`, and ``@contract`` for a `GenericAPI` method.

An operation may declare what it takes and gives: ``@API(input=Model,
output=Model, status_code=201)``, or ``@contract(...)`` on a `GenericAPI`
method. The body is validated into ``request.validated`` before the
handler runs (a 422 naming each field otherwise, never a 500), what the
handler returns is checked against ``output``, and the OpenAPI document
shows both schemas. One declaration serves the handler, the client and the
document, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from panther_like import status
from panther_like.common.sentinel import UNSET
from panther_like.http.request import FORM_CONTENT_TYPE, Request
from panther_like.http.response import Response
from panther_like.http.validation import invalid, validation_problems

#: ``await handler(request, **path_params)``: a `Response`, or data the app renders as a 200.
Handler = Callable[..., Awaitable[Any]]
#: The methods whose body an input model reads (a GET or DELETE body has no defined meaning).
BODY_METHODS = ('POST', 'PUT', 'PATCH')


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


def one_spelling(name: str, value: Any, alias: str, alias_value: Any, default: Any = UNSET) -> Any:
    """``input`` or Panther's ``input_model`` (``output``/``output_model``): either, not both; else `default`."""
    if value is not UNSET and alias_value is not UNSET:
        raise TypeError(f'give {name}= or {alias}=, not both')
    chosen = alias_value if value is UNSET else value
    return default if chosen is UNSET else chosen


def with_contract(call: Handler, declared: Contract) -> Handler:
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
        'input': one_spelling('input', input, 'input_model', input_model),
        'output': one_spelling('output', output, 'output_model', output_model),
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
        setattr(target, '__panther_contract__', MappingProxyType(declared))  # noqa: B010 (read by GenericAPI)
        setattr(target, '__panther_guard__', MappingProxyType(guarded))  # noqa: B010
        return method

    return mark


class _Placeholder(BaseModel):
    """Stands for the class's input model while a `@contract` with ``form=True`` alone is checked."""
