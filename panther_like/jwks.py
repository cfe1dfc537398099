"""The JWKS route: this name keeps working; the code lives in `panther_like.routing.jwks`."""

from panther_like.routing.jwks import (
    jwks,
)

__all__ = [
    'jwks',
]
