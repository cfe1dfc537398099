"""The login and e-mail throttles, and Panther's per-route `Throttle`; the code lives in the layers below."""

from panther_like.login_state.services import login_throttle
from panther_like.login_state.throttle import (
    ActionLimit,
    LoginThrottle,
    TooManyAttemptsAPIError,
)
from panther_like.routing.throttling import RateLimitedAPIError
from panther_like.settings.throttling import Throttle

__all__ = [
    'ActionLimit',
    'LoginThrottle',
    'RateLimitedAPIError',
    'Throttle',
    'TooManyAttemptsAPIError',
    'login_throttle',
]
