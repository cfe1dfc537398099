"""The login and e-mail throttles: this name keeps working; the code lives in `panther_like.login_state`."""

from panther_like.login_state.services import login_throttle
from panther_like.login_state.throttle import (
    ActionLimit,
    LoginThrottle,
    TooManyAttemptsAPIError,
)

__all__ = [
    'ActionLimit',
    'LoginThrottle',
    'TooManyAttemptsAPIError',
    'login_throttle',
]
