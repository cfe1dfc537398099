"""An app that uses every per-route security object, served by uvicorn in the tests.

Its settings come from environment variables the fixture sets
(``SECOBJ_SECRET_KEY``, ``SECOBJ_DB_PATH``, ``SECOBJ_MONGODB_URL``), so the
same module serves the embedded store and MongoDB. The ``setup/`` routes
exist only here: they let a test make users with staff flags and sessions.
"""

from __future__ import annotations

import os
import sys
import types

from panther_like import API, GenericAPI, Group, Panther, Request, Response
from panther_like.common.sentinel import UNSET
from panther_like.db.models import BaseUser
from panther_like.exceptions import AuthenticationAPIError
from panther_like.routing.websocket import GenericWebsocket
from panther_like.security import (
    ANONYMOUS,
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HttpBasicAuth,
    HttpBearer,
    OptionalAuth,
    SessionAuth,
    SessionAuthIsStaff,
    SessionAuthSuperUser,
    login_session,
    logout_session,
)

SECRET = 'supersecret'
CALLS: dict[str, int] = {'bearer': 0}


class User(BaseUser):
    is_staff: bool = False
    is_superuser: bool = False


# -- security objects ----------------------------------------------------------------------------


class Bearer(HttpBearer):
    def authenticate(self, request, token):
        CALLS['bearer'] += 1
        if token == SECRET:
            return 'bearer-client'
        return None


class AsyncBearer(HttpBearer):
    async def authenticate(self, request, token):
        return {'token': token} if token == 'async-secret' else None


class Basic(HttpBasicAuth):
    def authenticate(self, request, username, password):
        if username == 'admin' and password == 'pa:ss wörd':
            return username
        return None


class QueryKey(APIKeyQuery):
    param_name = 'api_key'

    def authenticate(self, request, key):
        return 'query-client' if key == SECRET else None


class HeaderKey(APIKeyHeader):
    param_name = 'X-API-Key'

    def authenticate(self, request, key):
        return 'header-client' if key == SECRET else None


class OtherHeaderKey(APIKeyHeader):
    """Same class name pattern, different header: must get its own OpenAPI scheme name."""

    def authenticate(self, request, key):
        return 'other-client' if key == SECRET else None


DEFAULT_HEADER_KEY = HeaderKey()


class CookieKey(APIKeyCookie):
    def authenticate(self, request, key):
        return 'cookie-client' if key == SECRET else None


class Raises401(HttpBearer):
    """Always refuses by raising, the case that stops a Ninja list."""

    def authenticate(self, request, token):
        raise AuthenticationAPIError('first authenticator refused')


class InvalidToken(Exception):
    pass


class RaisesCustom(HttpBearer):
    def authenticate(self, request, token):
        if token == SECRET:
            return 'ok'
        raise InvalidToken


def zero_principal(request):
    return 0 if request.headers.get('x-zero') == 'yes' else None


async def async_callable(request):
    return 'async-callable' if request.query_params.get('let') == 'me' else None


# -- routes ----------------------------------------------------------------------------------------


def _principal(request: Request) -> dict:
    auth = request.auth
    if isinstance(auth, BaseUser):
        auth = {'user': auth.username}
    return {'auth': auth}


def route(auth=UNSET, **kwargs):
    """A GET route that echoes its principal."""

    @API(auth=auth, methods=kwargs.pop('methods', ['GET']), **kwargs)
    async def endpoint(request: Request):
        return _principal(request)

    return endpoint


class CookieKeyAPI(GenericAPI):
    auth = CookieKey()

    async def get(self, request):
        return _principal(request)

    async def post(self, request):
        return _principal(request)


class PlainCookie(APIKeyCookie):
    def authenticate(self, request, key):
        return 'plain-cookie' if key == SECRET else None


class NoCsrfCookieAPI(GenericAPI):
    auth = PlainCookie(csrf=False)

    async def post(self, request):
        return _principal(request)


class SessionAPI(GenericAPI):
    auth = SessionAuth()

    async def get(self, request):
        return _principal(request)

    async def post(self, request):
        return _principal(request)


@API(methods=['POST'])
async def make_user(request: Request):
    data = request.data or {}
    user = await User.insert_one(
        username=data['username'],
        password='x' * 12,
        is_staff=bool(data.get('is_staff')),
        is_superuser=bool(data.get('is_superuser')),
    )
    return {'id': user.id, **(await user.login())}


@API(methods=['POST'])
async def session_login(request: Request):
    user = await User.find_one(username=(request.data or {}).get('username'))
    if user is None:
        raise AuthenticationAPIError('no such user')
    response = Response({'detail': 'logged in'})
    await login_session(response, user, max_age=int((request.data or {}).get('max_age', 3600)))
    return response


@API(auth=SessionAuth(), methods=['POST'])
async def session_logout(request: Request):
    response = Response({'detail': 'logged out'})
    await logout_session(request, response)
    return response


class EchoWebsocket(GenericWebsocket):
    auth = HeaderKey()

    async def connect(self):
        await self.accept()
        await self.send({'auth': self.auth})


class CookieWebsocket(GenericWebsocket):
    auth = CookieKey()

    async def connect(self):
        await self.accept()
        await self.send({'auth': self.auth})


class GroupWebsocket(GenericWebsocket):
    """Sets no auth: the group's default protects it."""

    async def connect(self):
        await self.accept()
        await self.send({'auth': self.auth})


def deny_all(request):
    return False


group_urls = {
    'inherits': route(),
    'overrides': route(HeaderKey()),
    'public': route(None),
    'nested/': Group({'deeper': route()}),
    'island/': Group({'open': route(), 'reprotected/': Group({'inner': route()}, auth=HeaderKey())}, auth=None),
    'plain/': {'dict': route()},
    'ws': GroupWebsocket,
}

url_routing = {
    '': route(None),
    'bearer': route(Bearer()),
    'bearer-class': route(Bearer),
    'async-bearer': route(AsyncBearer()),
    'basic': route(Basic()),
    'basic-realm': route(Basic(realm='admin area')),
    'query-key': route(QueryKey()),
    'header-key': route(HeaderKey()),
    'other-header-key': route(OtherHeaderKey(param_name='X-Other-Key')),
    'cookie-key': CookieKeyAPI,
    'cookie-no-csrf': NoCsrfCookieAPI,
    'callable-zero': route(zero_principal),
    'callable-async': route(async_callable),
    'list': route([Raises401(), HeaderKey(), Basic()]),
    'list-403': route([CookieKey(), HeaderKey()], methods=['POST']),
    'optional': route(OptionalAuth(Bearer())),
    'optional-list': route([HeaderKey(), ANONYMOUS]),
    'custom-exception': route(RaisesCustom()),
    'jwt': route(True),
    'scoped': route(True, scopes=['read:items']),
    'scoped-two': route(True, scopes=['read:items', 'write:items']),
    'permission': route(HeaderKey(), permissions=[deny_all]),
    'session': SessionAPI,
    'staff': route(SessionAuthIsStaff()),
    'superuser': route(SessionAuthSuperUser()),
    'ws/key': EchoWebsocket,
    'ws/cookie': CookieWebsocket,
    'group/': Group(group_urls, auth=Bearer()),
    'setup/user': make_user,
    'setup/calls': API(methods=['GET'])(lambda request: dict(CALLS)),
    'setup/session-login': session_login,
    'setup/session-logout': session_logout,
}


def _settings() -> types.ModuleType:
    settings = types.ModuleType('secobj_settings')
    settings.SECRET_KEY = os.environ.get('SECOBJ_SECRET_KEY', 'a-test-secret-key-that-is-long-enough')
    settings.DATABASE = {
        'url': os.environ.get('SECOBJ_MONGODB_URL') or None,
        'path': os.environ.get('SECOBJ_DB_PATH') or None,
    }
    settings.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
    settings.USER_MODEL = f'{__name__}.User'
    settings.OPENAPI = {'title': 'Security objects under test', 'version': '1.0.0'}
    if os.environ.get('SECOBJ_DEFAULT_AUTH'):
        settings.DEFAULT_AUTH = f'{__name__}.DEFAULT_HEADER_KEY'
    sys.modules[settings.__name__] = settings
    return settings


def _on_invalid_token(request, exc):
    return Response({'detail': 'Invalid token supplied'}, 401, {'X-Handled-By': 'InvalidToken handler'})


app = Panther(configs=_settings(), urls=url_routing, exception_handlers={InvalidToken: _on_invalid_token})
