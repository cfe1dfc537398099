"""The authentication classes a settings module names, under the name the settings use.

``AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'`` keeps working; the code
lives in `panther_like.auth.authentication_classes`.
"""

from panther_like.auth.authentication_classes import (
    ACCESS_JWT,
    BaseAuthentication,
    BaseJWTAuthentication,
    BearerJWT,
    CookieJWT,
    CookieJWTAuthentication,
    HeaderOrCookieJWTAuthentication,
    JWTAuthentication,
    OIDCAuthentication,
    QueryParamJWT,
    QueryParamJWTAuthentication,
)

__all__ = [
    'ACCESS_JWT',
    'BaseAuthentication',
    'BaseJWTAuthentication',
    'BearerJWT',
    'CookieJWT',
    'CookieJWTAuthentication',
    'HeaderOrCookieJWTAuthentication',
    'JWTAuthentication',
    'OIDCAuthentication',
    'QueryParamJWT',
    'QueryParamJWTAuthentication',
]
