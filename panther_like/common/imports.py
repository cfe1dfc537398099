"""Dotted paths in settings, imported once when the app is built."""

from __future__ import annotations

import importlib
from typing import Any


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
