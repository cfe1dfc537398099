"""panther_like: a small, fast ASGI framework whose heart is configuration-driven authentication.

The names a project uses every day are importable from here; each also
lives in the module named after its concept (``panther_like.routing.websocket``,
``panther_like.auth.authentication_classes``, ``panther_like.exceptions`` ...).
"""

from panther_like import status
from panther_like.app import Panther
from panther_like.auth.authentication_classes import (
    BaseAuthentication,
    CookieJWTAuthentication,
    JWTAuthentication,
    QueryParamJWTAuthentication,
)
from panther_like.db.models import BaseUser, Model
from panther_like.exceptions import (
    APIError,
    AuthenticationAPIError,
    AuthorizationAPIError,
    BadRequestAPIError,
    ConfigError,
    NotFoundAPIError,
)
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.routing.api import API, GenericAPI
from panther_like.routing.router import Group
from panther_like.routing.websocket import GenericWebsocket
from panther_like.settings.throttling import Throttle

__all__ = [
    'API',
    'APIError',
    'AuthenticationAPIError',
    'AuthorizationAPIError',
    'BadRequestAPIError',
    'BaseAuthentication',
    'BaseUser',
    'ConfigError',
    'CookieJWTAuthentication',
    'GenericAPI',
    'GenericWebsocket',
    'Group',
    'JWTAuthentication',
    'Model',
    'NotFoundAPIError',
    'Panther',
    'QueryParamJWTAuthentication',
    'Request',
    'Response',
    'Throttle',
    'status',
]
__version__ = '0.1.0'
