"""The JWKS routes: these names keep working; the code lives in `panther_like.routing.jwks`."""

from panther_like.routing.jwks import (
    jwks,
    openid_configuration,
)

__all__ = [
    'jwks',
    'openid_configuration',
]
