"""A clock a test moves by hand, so nothing has to sleep to see time pass."""

from __future__ import annotations

import time

from panther_like.common.clock import Clock


class ManualClock(Clock):
    """Starts at the real time (PyJWT checks ``iat`` against it) and moves only when told."""

    __slots__ = ('_monotonic', '_wall')

    def __init__(self) -> None:
        self._wall = time.time()
        self._monotonic = 1000.0

    def time(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._monotonic += seconds
