"""What the build-time checks ask of user callables, and how errors name them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def accepts(function: Callable[..., Any], count: int) -> bool:
    """Whether `function` can be called with `count` positional arguments (True when it cannot be told)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def qualified_name(thing: Any) -> str:
    """A name for people: ``module.qualname`` of a function or class, else of the object's class.

    A bound method is named by the class it is bound to (an inherited ``authorization`` of ``IsStaff``
    reads ``mod.IsStaff.authorization``).
    """
    if inspect.ismethod(thing):
        owner = thing.__self__ if isinstance(thing.__self__, type) else type(thing.__self__)
        return f'{owner.__module__}.{owner.__qualname__}.{thing.__name__}'
    named = thing if isinstance(thing, type) or inspect.isroutine(thing) else type(thing)
    return f'{getattr(named, "__module__", "?")}.{getattr(named, "__qualname__", repr(named))}'
