"""Settings modules built on the fly, as if a user had written a ``configs.py``.

`Panther(configs=...)` accepts a module object; tests describe the settings
they need in one call instead of keeping a file per combination.
"""

from __future__ import annotations

import itertools
import types
from typing import Any

_module_ids = itertools.count()


def settings_module(**settings: Any) -> types.ModuleType:
    """A fresh module whose attributes are `settings` (``SECRET_KEY=...``, ``URLS=...``)."""
    module = types.ModuleType(f'tests_settings_{next(_module_ids)}')
    for name, value in settings.items():
        setattr(module, name, value)
    return module
