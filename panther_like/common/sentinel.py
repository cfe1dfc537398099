"""`UNSET`: a value that was not given, where ``None`` is a value users give on purpose."""

from __future__ import annotations

from typing import Any


class _Unset:
    """A value that was not given, as opposed to ``None`` given on purpose (``auth=None`` opts out)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return 'UNSET'


UNSET: Any = _Unset()
