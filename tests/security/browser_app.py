"""An app whose users are browsers: cookie-authenticated websockets and routes, and API keys in query strings.

Served by a real uvicorn in tests/security/test_browser_attacks.py, with
its settings from the environment (``BROWSER_SECRET_KEY``,
``BROWSER_DB_PATH`` or ``BROWSER_MONGODB_URL``, ``BROWSER_REDIS_URL``), so
one module serves every store.

- ``WS_AUTHENTICATION`` is the cookie JWT class: ``/ws/jwt`` greets by name.
- ``/ws/session``, ``/ws/key-cookie`` and ``/ws/key-cookie-no-csrf``:
  `SessionAuth` and `APIKeyCookie` handshakes; ``/ws/query`` a query-string token.
- ``/session/login`` (Bearer) starts a `SessionAuth` session, ``/key-cookie/issue``
  hands out a key cookie with its CSRF token; ``/session/note``,
  ``/key-cookie/note`` and ``/jwt/note`` are unsafe routes behind each cookie.
- ``/query/<name>``: an `APIKeyQuery` per parameter name of the access-log tests.
- ``TRUSTED_ORIGINS`` lists one front end and one wildcard domain.
"""

from __future__ import annotations

import os
import sys
import types
from datetime import timedelta

from panther_like import API, Panther, Request, Response
from panther_like.accounts import accounts_urls
from panther_like.db.models import BaseUser
from panther_like.routing.websocket import GenericWebsocket
from panther_like.security import APIKeyCookie, APIKeyQuery, SessionAuth, login_session
from tests.security.browser_names import (
    KEY_COOKIE_SECRET,
    QUERY_PARAM_NAMES,
    QUERY_SECRET,
    TRUSTED_FRONT_END,
    TRUSTED_WILDCARD,
)


class User(BaseUser):
    pass


class KeyCookie(APIKeyCookie):
    param_name = 'browser_key'

    def authenticate(self, request, key):
        return 'key-cookie-client' if key == KEY_COOKIE_SECRET else None


def _query_key(name: str) -> APIKeyQuery:
    class QueryKey(APIKeyQuery):
        def authenticate(self, request, key):
            return f'query:{name}' if key == QUERY_SECRET else None

    return QueryKey(name)


def _greeting(principal) -> str:
    return principal.username if isinstance(principal, BaseUser) else str(principal)


class Greeter(GenericWebsocket):
    async def connect(self):
        await self.accept()
        await self.send({'hello': _greeting(self.user)})


class JWTCookieSocket(Greeter):
    auth = True  # WS_AUTHENTICATION: the cookie JWT class


class SessionSocket(Greeter):
    auth = SessionAuth()


class KeyCookieSocket(Greeter):
    auth = KeyCookie()


class KeyCookieNoCSRFSocket(Greeter):
    auth = KeyCookie(csrf=False)


class QueryTokenSocket(Greeter):
    auth = 'panther_like.authentications.QueryParamJWTAuthentication'


@API(auth=True, methods=['POST'])
async def session_login(request: Request):
    response = Response({'detail': 'Session started'})
    await login_session(response, request.user, secure=False)
    return response


@API(methods=['POST'])
async def key_cookie_issue(request: Request):
    """What a site that hands out key cookies does: the key, and the CSRF token bound to it."""
    response = Response({'detail': 'Key cookie set'})
    response.set_cookie('browser_key', KEY_COOKIE_SECRET, secure=False)
    response.set_cookie('csrftoken', KeyCookie().csrf_token(KEY_COOKIE_SECRET), secure=False, httponly=False)
    return response


@API(auth=SessionAuth(), methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
async def session_note(request: Request):
    return {'user': request.user.username}


@API(auth=KeyCookie(), methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
async def key_cookie_note(request: Request):
    return {'auth': request.auth}


@API(auth='panther_like.authentications.CookieJWTAuthentication', methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
async def jwt_note(request: Request):
    return {'user': request.user.username}


def _query_route(name: str):
    @API(auth=_query_key(name), methods=['GET'])
    async def query_route(request: Request):
        return {'auth': request.auth}

    return query_route


settings = types.ModuleType('browser_settings')
settings.SECRET_KEY = os.environ['BROWSER_SECRET_KEY']
settings.DATABASE = {
    'url': os.environ.get('BROWSER_MONGODB_URL') or None,
    'path': os.environ.get('BROWSER_DB_PATH') or None,
}
settings.REDIS = {'url': os.environ.get('BROWSER_REDIS_URL') or None}
settings.USER_MODEL = User
settings.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
settings.WS_AUTHENTICATION = 'panther_like.authentications.CookieJWTAuthentication'
settings.JWTConfig = {'key': settings.SECRET_KEY, 'life_time': timedelta(hours=1)}
settings.ACCOUNTS = {'cookies': True, 'cookie_secure': False}
settings.LOGIN_THROTTLE = {'max_failures': 1000, 'max_failures_per_address': 1_000_000}
settings.TRUSTED_ORIGINS = [TRUSTED_FRONT_END, TRUSTED_WILDCARD]
settings.URLS = {
    'auth/': accounts_urls,
    'ws/jwt': JWTCookieSocket,
    'ws/session': SessionSocket,
    'ws/key-cookie': KeyCookieSocket,
    'ws/key-cookie-no-csrf': KeyCookieNoCSRFSocket,
    'ws/query': QueryTokenSocket,
    'session/login': session_login,
    'session/note': session_note,
    'key-cookie/issue': key_cookie_issue,
    'key-cookie/note': key_cookie_note,
    'jwt/note': jwt_note,
    **{f'query/{name}': _query_route(name) for name in QUERY_PARAM_NAMES},
}
sys.modules[settings.__name__] = settings

app = Panther(configs=settings)
