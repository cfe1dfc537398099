"""Where ``load_env`` and ``import_string`` were first documented; they live in `panther_like.settings.env`
and `panther_like.common.imports` now, and this name keeps working."""

from panther_like.common.imports import import_string
from panther_like.settings.env import load_env

__all__ = ['import_string', 'load_env']
