"""The one way the framework reads time, so a test can move it instead of sleeping."""

from __future__ import annotations

import time


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
