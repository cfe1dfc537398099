"""The one way the framework reads time, so a test can move it instead of sleeping."""

from __future__ import annotations

from time import monotonic as _monotonic
from time import time as _wall_time


class Clock:
    """Wall time (for expiry times that other hosts compare) and monotonic time (for local intervals).

    The token service and the stores read time only through a clock they
    are given, so a test can move time forward instead of sleeping.
    """

    __slots__ = ()

    # The system's own functions, not methods that call them: a warm request reads the clock, and
    # a Python frame around a C call would cost more than the call. A test clock overrides both.
    time = staticmethod(_wall_time)
    monotonic = staticmethod(_monotonic)


SYSTEM_CLOCK = Clock()
