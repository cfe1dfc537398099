"""Panther 5.5 with its own JWTAuthentication (python-jose decode); `get_user` reads a dict.

Panther needs a global AUTHENTICATION for its JWT settings to load, and then
runs that class on every route (on /public it finds no header and returns
None). It lets a request without a token through as anonymous, so /private
raises its AuthenticationAPIError (401) itself when there is no user.
"""

# No `from __future__ import annotations`: Panther finds the `request` parameter by its annotation.
from bench_common import PUBLIC_BODY, USERS
from bench_common import SECRET_KEY as _KEY
from panther import Panther
from panther.app import API
from panther.authentications import JWTAuthentication
from panther.exceptions import AuthenticationAPIError
from panther.request import Request
from panther.response import Response


class DictUser:
    def __init__(self, id: str, username: str) -> None:
        self.id = id
        self.username = username


DICT_USERS = {user_id: DictUser(**fields) for user_id, fields in USERS.items()}


class DictJWTAuthentication(JWTAuthentication):
    @classmethod
    async def get_user(cls, payload: dict) -> DictUser:
        user = DICT_USERS.get(payload.get('user_id'))
        if user is None:
            raise cls.exception('User not found')
        return user


@API(methods=['GET'])
async def public(request: Request) -> Response:
    return Response(data=PUBLIC_BODY)


@API(methods=['GET'])
async def private(request: Request) -> Response:
    if request.user is None:
        raise AuthenticationAPIError
    return Response(data={'id': request.user.id, 'username': request.user.username})


AUTHENTICATION = f'{__name__}.DictJWTAuthentication'
SECRET_KEY = _KEY
URLS = {'public': public, 'private': private}
app = Panther(__name__, configs=__name__, urls=URLS)
