"""Where the token names used to live: the JWT codec (`jwt_codec`) and the login sessions (`sessions`).

`TokenService` is the login-session service under its earlier name. `changing_password` names the
session a password change keeps going when the change goes through the account service
(`panther_like.login_state.accounts.AccountService.change_password`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from panther_like.login_state.jwt_codec import (
    ACCESS,
    CREDENTIAL_VERSION,
    JWT_SHAPE,
    MAX_TIME_CLAIM,
    MAX_TOKEN_LENGTH,
    REFRESH,
    REQUIRED_CLAIMS,
    TIME_CLAIMS,
    JWTCodec,
    is_time,
)
from panther_like.login_state.sessions import LoginSessions

TokenService = LoginSessions

__all__ = [
    'ACCESS',
    'CREDENTIAL_VERSION',
    'JWT_SHAPE',
    'MAX_TIME_CLAIM',
    'MAX_TOKEN_LENGTH',
    'REFRESH',
    'REQUIRED_CLAIMS',
    'TIME_CLAIMS',
    'JWTCodec',
    'LoginSessions',
    'PasswordChange',
    'TokenService',
    'changing_password',
    'current_password_change',
    'is_time',
]


@dataclass(slots=True)
class PasswordChange:
    """A password change under way: the session it spares, and how many sessions it ended."""

    keep: str | None = None
    ended: int = 0


_PASSWORD_CHANGE: ContextVar[PasswordChange | None] = ContextVar('panther_like_password_change', default=None)


@contextmanager
def changing_password(keep: str | None = None) -> Iterator[PasswordChange]:
    """Around a password change made through the account service: `keep` goes on; `.ended` counts the others.

    Without it a password change ends every session of the user.
    """
    change = PasswordChange(keep)
    token = _PASSWORD_CHANGE.set(change)
    try:
        yield change
    finally:
        _PASSWORD_CHANGE.reset(token)


def current_password_change() -> PasswordChange | None:
    """The `changing_password` block the caller is in, if any."""
    return _PASSWORD_CHANGE.get()
