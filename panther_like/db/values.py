"""What may reach a store: values both backends keep exactly and compare alike.

Every document, ``$set`` and filter passes through here before either
backend sees it, so MongoDB and the embedded store cannot disagree about
what was stored or what a filter matched:

* No string (value or key, at any depth) may contain NUL. SQLite's JSON
  functions treat it as the end of the string: ``'root\\x00pwned'`` would
  compare equal to ``'root'`` in a filter and clash with it in a unique
  index, while MongoDB keeps both apart.
* Integers fit in 64 signed bits (BSON's widest), floats are finite (JSON,
  which the embedded store writes, has no infinity or NaN).
* Leaves are str, int, float, bool or None; containers are dicts with str
  keys and lists. In a document a key never starts with ``$`` nor holds a
  ``.``: MongoDB reads those as operators and paths.

A refusal is `InvalidStoreValue`: a 422 whose ``errors`` name where the value
was, never the value itself (it may be a password or a probe).
"""

from __future__ import annotations

import math
from typing import Any

from panther_like.exceptions import ValidationAPIError
from panther_like.http.validation import summary

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class InvalidStoreValue(ValidationAPIError, ValueError):
    """422: a value no store is given (NUL, a number out of range, an operator where a plain value belongs...).

    Also a `ValueError`, for code that calls the model layer outside a request.
    """


def problem(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {'loc': loc, 'msg': msg, 'type': kind}


def refuse(what: str, problems: list[dict[str, Any]]) -> InvalidStoreValue:
    """The 422 for `problems`, in the shape of `panther_like.http.validation.invalid`."""
    return InvalidStoreValue(f'Invalid {what}: {summary(problems, whole=what)}', problems)


def _leaf_problem(value: Any) -> tuple[str, str] | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return ('must not contain a NUL character', 'string_nul') if '\x00' in value else None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return 'must be an integer between -2**63 and 2**63-1', 'int_out_of_range'
    if isinstance(value, float):
        return None if math.isfinite(value) else ('must be a finite number', 'finite_number')
    return f'cannot be stored (a {type(value).__name__})', 'unsupported_type'


def _key_problem(key: Any, *, document: bool) -> tuple[str, str] | None:
    if not isinstance(key, str):
        return 'keys must be strings', 'key_type'
    if '\x00' in key:
        return 'a key must not contain a NUL character', 'key_nul'
    if document and (key.startswith('$') or '.' in key):
        return "a key must not start with '$' or contain '.'", 'key_reserved'
    return None


def find_problems(value: Any, *, document: bool, loc: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Every problem in `value` (a document when `document`, else a filter, which may hold operators)."""
    problems: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found = _key_problem(key, document=document)
            if found is not None:
                # The key itself is not echoed: it names the position only when it is clean.
                problems.append(problem([*loc, '<key>'], *found))
                continue
            problems.extend(find_problems(item, document=document, loc=(*loc, key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            problems.extend(find_problems(item, document=document, loc=(*loc, index)))
    else:
        found = _leaf_problem(value)
        if found is not None:
            problems.append(problem(list(loc), *found))
    return problems


def check_document(document: dict[str, Any], what: str = 'document') -> None:
    """Raise `InvalidStoreValue` unless both stores would keep `document` exactly."""
    problems = find_problems(document, document=True)
    if problems:
        raise refuse(what, problems)


def check_filter(filter: dict[str, Any], what: str = 'filter') -> None:
    """Raise `InvalidStoreValue` for a filter holding NUL or a value no store keeps (operators are allowed)."""
    problems = find_problems(filter, document=False)
    if problems:
        raise refuse(what, problems)
