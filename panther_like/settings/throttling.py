"""`Throttle`: how many requests a client may make to one route within a duration (Panther's API).

``@API(throttling=Throttle(rate=10, duration=timedelta(minutes=1)))`` on a
route, ``THROTTLING = Throttle(...)`` in the settings for every route that
sets none. Checked when it is written, so a bad rate is a `ConfigError` at
import, not a route that never answers. Counting is done by
`panther_like.routing.throttling`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from panther_like.exceptions import ConfigError


@dataclass(frozen=True, slots=True)
class Throttle:
    """At most `rate` requests per `duration` (a `timedelta`, or seconds) per client of one route."""

    rate: int
    duration: timedelta | int | float

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, int) or self.rate < 1:
            raise ConfigError('Throttle rate', self.rate, 'must be a whole number of requests >= 1')
        seconds = self.duration.total_seconds() if isinstance(self.duration, timedelta) else self.duration
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise ConfigError('Throttle duration', self.duration, 'must be a timedelta (or seconds) > 0')
        if math.isinf(seconds):
            raise ConfigError('Throttle duration', self.duration, 'must be finite')

    @property
    def seconds(self) -> float:
        return self.duration.total_seconds() if isinstance(self.duration, timedelta) else float(self.duration)


def throttling_setting(value: Any, setting: str = 'THROTTLING') -> Throttle | None:
    """``THROTTLING``: a `Throttle`, or None (absent) for no default limit."""
    if value is None or isinstance(value, Throttle):
        return value
    raise ConfigError(setting, value, 'must be a Throttle such as Throttle(rate=100, duration=timedelta(minutes=1))')
