"""Server-side sessions in the configured store: `SessionAuth`, its staff and superuser variants, and login.

`login_session(response, user)` creates a session and sets two cookies:
``sessionid`` (HttpOnly, Secure, SameSite=Lax: scripts cannot read it and
other sites' POSTs do not carry it) and ``csrftoken`` (readable by the
page, which echoes it in ``X-CSRFToken`` on unsafe requests): an HMAC of
the session id under the app's key, so a cookie planted by a sibling
subdomain never passes (see `panther_like.security.csrf`).

The session id is 256 random bits (`secrets.token_urlsafe(32)`). The store
keeps only its SHA-256: whoever reads a database dump or backup learns
which users had sessions, but cannot replay one. A slow hash would add
nothing, since the id is not guessable to begin with. Sessions expire after
`max_age` seconds; an expired one is deleted when it is next presented, and
each login purges the expired rest.

A session holds the user's credential version of when it started
(`panther_like.db.user`): once the password changes, however it is
changed, the session is refused and deleted when next presented.

The user is read from the store on every request, never from a cache: a
deactivated user (``is_active=False``) is refused with a 401 on the next
request, in every worker, before the staff and superuser checks. The
session is kept, so it works again if the account is reactivated.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from panther_like.exceptions import AuthorizationAPIError
from panther_like.http.request import HTTPConnection
from panther_like.http.response import Response
from panther_like.login_state.services import bound_services, services_of
from panther_like.login_state.session_registry import WEB_SESSIONS_COLLECTION
from panther_like.security.apikey import APIKeyCookie
from panther_like.security.base import AuthErrorResponse, refuse_disabled
from panther_like.security.csrf import CSRF_COOKIE, csrf_token, session_binding

SESSION_COLLECTION = WEB_SESSIONS_COLLECTION  # the rows `sessions.end_web_sessions` deletes on a password change
SESSION_COOKIE = 'sessionid'
DEFAULT_MAX_AGE = 14 * 24 * 3600  # two weeks, like Django's SESSION_COOKIE_AGE
MAX_SESSION_ID_LENGTH = 128


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode('utf-8', 'surrogateescape')).hexdigest()


def _collection(database: Any) -> Any:
    return database.collection(SESSION_COLLECTION)


class SessionAuth(APIKeyCookie):
    """Cookie ``sessionid`` -> the `USER_MODEL` instance of a live session; CSRF-checked like `APIKeyCookie`.

    ``SessionAuth(user_model=...)`` names the model explicitly; by default
    it is the app's ``USER_MODEL``.
    """

    param_name = SESSION_COOKIE

    def __init__(self, *, csrf: bool = True, user_model: type | None = None) -> None:
        super().__init__(csrf=csrf)
        self._user_model = user_model

    def bind(self, config: Any) -> None:
        super().bind(config)
        if self._user_model is None:
            self._user_model = config.user_model

    @property
    def user_model(self) -> Any:
        if self._user_model is None:
            raise RuntimeError(f'{type(self).__qualname__} is not bound to an app yet (no user_model)')
        return self._user_model

    async def authenticate(self, request: HTTPConnection, key: str) -> Any:
        if len(key) > MAX_SESSION_ID_LENGTH:
            return None
        collection = _collection(services_of(request).database)
        session = await collection.find_one({'_id': _hash(key)})
        if session is None:
            return None
        if session.get('expires_at', 0) <= time.time():
            await collection.delete_one({'_id': session['_id']})
            return None
        user = await self.user_model.find_one(id=session['user_id'])
        if user is None:
            return None
        if session.get('cv', '') != getattr(user, 'credential_version', ''):  # the password changed since
            await collection.delete_one({'_id': session['_id']})
            return None
        refuse_disabled(user)  # kept, not deleted: the session works again if the account is reactivated
        return self.check_user(user)

    def csrf_binding(self, key: str) -> str:
        return session_binding(key)

    def check_user(self, user: Any) -> Any:
        """Hook for the variants: return the user, or raise `AuthorizationAPIError` (403)."""
        return user

    def missing_detail(self) -> str:
        return 'Not logged in (no session cookie)'


class SessionAuthIsStaff(SessionAuth):
    """A session of a user whose ``is_staff`` (or ``is_superuser``) is truthy; any other user gets 403."""

    openapi_responses = {401: AuthErrorResponse, 403: AuthErrorResponse}

    def check_user(self, user: Any) -> Any:
        if getattr(user, 'is_staff', False) or getattr(user, 'is_superuser', False):
            return user
        raise AuthorizationAPIError('Staff only')


class SessionAuthSuperUser(SessionAuth):
    """A session of a user whose ``is_superuser`` is truthy; any other user gets 403."""

    openapi_responses = {401: AuthErrorResponse, 403: AuthErrorResponse}

    def check_user(self, user: Any) -> Any:
        if getattr(user, 'is_superuser', False):
            return user
        raise AuthorizationAPIError('Superusers only')


async def login_session(response: Response, user: Any, *, max_age: int = DEFAULT_MAX_AGE, secure: bool = True) -> str:
    """Start a session for `user`; set its cookies on `response`; return the session id.

    ``secure=False`` only for development over plain http on a host other
    than localhost (browsers treat localhost as secure).
    """
    if not isinstance(max_age, int) or max_age <= 0:
        raise ValueError('max_age must be a positive number of seconds')
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    services = bound_services()
    collection = _collection(services.database)
    await collection.delete_many({'expires_at': {'$lt': now}})
    await collection.insert_one(
        {
            '_id': _hash(session_id),
            'user_id': str(user.id),
            'cv': getattr(user, 'credential_version', ''),
            'created_at': now,
            'expires_at': now + max_age,
        }
    )
    response.set_cookie(SESSION_COOKIE, session_id, max_age=max_age, secure=secure)
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token(services.config, session_binding(session_id)),
        max_age=max_age,
        secure=secure,
        httponly=False,
    )
    return session_id


async def logout_session(request: HTTPConnection, response: Response | None = None) -> bool:
    """End the session of `request` (True if there was one) and, given `response`, clear its cookies."""
    key = request.cookies.get(SESSION_COOKIE)
    deleted = False
    if key:
        deleted = await _collection(services_of(request).database).delete_one({'_id': _hash(key)})
    if response is not None:
        response.delete_cookie(SESSION_COOKIE)
        response.delete_cookie(CSRF_COOKIE, httponly=False)
    return deleted
