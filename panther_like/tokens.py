"""The token service: this name keeps working; the code lives in `panther_like.login_state.tokens`."""

from panther_like.login_state.tokens import (
    ACCESS,
    JWT_SHAPE,
    MAX_TIME_CLAIM,
    MAX_TOKEN_LENGTH,
    REFRESH,
    REQUIRED_CLAIMS,
    TIME_CLAIMS,
    PasswordChange,
    TokenService,
    changing_password,
    is_time,
)

__all__ = [
    'ACCESS',
    'JWT_SHAPE',
    'MAX_TIME_CLAIM',
    'MAX_TOKEN_LENGTH',
    'REFRESH',
    'REQUIRED_CLAIMS',
    'TIME_CLAIMS',
    'PasswordChange',
    'TokenService',
    'changing_password',
    'is_time',
]
