"""Small helpers a settings module and the framework share."""

from __future__ import annotations

import importlib
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

_BOOLEANS = {'true': True, 'false': False}


class _Unset:
    """A value that was not given, as opposed to ``None`` given on purpose (``auth=None`` opts out)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return 'UNSET'


UNSET: Any = _Unset()


class Clock:
    """Wall time (for expiry times that other hosts compare) and monotonic time (for local intervals).

    The token service and the stores read time only through a clock they
    are given, so a test can move time forward instead of sleeping.
    """

    __slots__ = ()

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = Clock()


def as_async(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """`function` as a coroutine function, deciding sync or async once rather than on every call.

    Users may write handlers, ``authenticate`` methods, permissions and
    exception handlers either way; the framework adapts each once, when the
    app is built, and then always awaits. A sync function that returns an
    awaitable (a lambda around a coroutine, say) is awaited too.
    """
    if inspect.iscoroutinefunction(function):
        return function

    async def call(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return call


def load_env(path: str | os.PathLike[str], *, override: bool = False) -> dict[str, Any]:
    """Read a ``.env`` file of ``KEY=VALUE`` lines and return the values.

    Why the details: a settings module reads secrets from here, so it must be
    strict about where they come from (a missing file is an error rather than
    a silent empty config) and predictable about types (``true``/``false``
    become bools, everything else stays a string; quotes around a value are
    removed). Values are also exported to ``os.environ``; a variable that is
    already set in the environment wins over the file unless ``override`` is
    true, so a deployment (or a test) can change one value without editing the
    file. ``#`` starts a comment line; an optional ``export`` prefix is allowed.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f'load_env: {str(file)!r} does not exist (copy .env.example to .env?)')
    values: dict[str, Any] = {}
    for number, raw_line in enumerate(file.read_text(encoding='utf-8').splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('export '):
            line = line[len('export '):].lstrip()
        key, separator, value = line.partition('=')
        key = key.strip()
        if not separator or not key.isidentifier():
            raise ValueError(f'load_env: {str(file)!r} line {number}: expected KEY=VALUE')
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
            value = value[1:-1]
        if override or key not in os.environ:
            os.environ[key] = value
        text = os.environ[key]
        values[key] = _BOOLEANS.get(text.lower(), text)
    return values


def import_string(dotted_path: str) -> Any:
    """Import ``package.module.Name`` and return ``Name``.

    Raises ``ImportError`` whose message says which part failed; the config
    loader wraps it in a ``ConfigError`` that names the setting.
    """
    if not isinstance(dotted_path, str) or not dotted_path:
        raise ImportError('expected a dotted path such as "package.module.Name"')
    module_path, _, name = dotted_path.rpartition('.')
    if not module_path or not name:
        raise ImportError('expected a dotted path such as "package.module.Name", with at least one dot')
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        raise ImportError(str(exc)) from exc
    except Exception as exc:  # a module that fails while importing: name the error, not a traceback
        raise ImportError(f'importing {module_path!r} failed: {type(exc).__name__}: {exc}') from exc
    try:
        return getattr(module, name)
    except AttributeError:
        raise ImportError(f'module {module_path!r} has no attribute {name!r}') from None
