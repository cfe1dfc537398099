"""What a pydantic `ValidationError` becomes on its way to a client: a 422 naming each field.

A body, a model write (`insert_one`, `update`) and a query all fail the same
way, so a client parses one shape whatever went wrong::

    {"detail": "Invalid request body: email: Input should be a valid string",
     "errors": [{"loc": ["email"], "msg": "Input should be a valid string", "type": "string_type"}]}

``detail`` stays a sentence, like every other error the framework sends;
``errors`` is the machine-readable list. The input itself is never echoed:
it may be a password.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from panther_like.exceptions import ValidationAPIError

#: How many problems the one-line ``detail`` names; ``errors`` lists them all (up to `MAX_ERRORS`).
SUMMARY_LIMIT = 5
#: A body with thousands of wrong items must not produce a response thousands of times larger.
MAX_ERRORS = 50


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as ``{"loc": [...], "msg": ..., "type": ...}``: no input, no URL, no context."""
    return [
        {
            'loc': [part if isinstance(part, int) else str(part) for part in error['loc']],
            'msg': error['msg'],
            'type': error['type'],
        }
        for error in exc.errors(include_url=False, include_input=False, include_context=False)[:MAX_ERRORS]
    ]


def summary(errors: Iterable[Mapping[str, Any]], limit: int | None = SUMMARY_LIMIT, whole: str = 'body') -> str:
    """``"username: Field required; password: String should have at most 1024 characters"``.

    `errors` in pydantic's shape (``loc`` and ``msg``), the first `limit` (None: all); `whole` names a
    problem of the value as a whole.
    """
    return '; '.join(
        f'{".".join(str(part) for part in error["loc"]) or whole}: {error["msg"]}'
        for error in itertools.islice(errors, limit)
    )


def validation_problems(exc: ValidationError, limit: int = SUMMARY_LIMIT) -> str:
    """The `summary` of a pydantic error."""
    return summary(exc.errors(include_url=False, include_input=False, include_context=False), limit)


def invalid(exc: ValidationError, what: str = 'request body') -> ValidationAPIError:
    """The 422 for `exc`; raise it ``from None`` so no pydantic traceback reaches a log as a 500."""
    return ValidationAPIError(f'Invalid {what}: {validation_problems(exc)}', field_errors(exc))
