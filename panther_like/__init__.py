"""panther_like: a small, fast ASGI framework whose heart is configuration-driven authentication."""

from panther_like import status
from panther_like.api import API, GenericAPI
from panther_like.app import Panther
from panther_like.request import Request
from panther_like.response import Response
from panther_like.routing import Group

__all__ = ['API', 'GenericAPI', 'Group', 'Panther', 'Request', 'Response', 'status']
__version__ = '0.1.0'
