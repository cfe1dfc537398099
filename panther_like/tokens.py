"""The token names: they keep working; the code lives in `panther_like.login_state.jwt_codec` and `.sessions`."""

from panther_like.login_state.tokens import (
    ACCESS,
    CREDENTIAL_VERSION,
    JWT_SHAPE,
    MAX_TIME_CLAIM,
    MAX_TOKEN_LENGTH,
    REFRESH,
    REQUIRED_CLAIMS,
    TIME_CLAIMS,
    JWTCodec,
    LoginSessions,
    PasswordChange,
    TokenService,
    changing_password,
    is_time,
)

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
    'is_time',
]
