"""Server-side sessions in the configured store: `SessionAuth`, its staff and superuser variants, and login.

`login_session(response, user)` creates a session and sets two cookies:
``sessionid`` (HttpOnly, Secure, SameSite=Lax: scripts cannot read it and
other sites' POSTs do not carry it) and ``csrftoken`` (readable by the
page, which echoes it in ``X-CSRFToken`` on unsafe requests; see
`panther_like.security.apikey`).

The session id is 256 random bits (`secrets.token_urlsafe(32)`). The store
keeps only its SHA-256: whoever reads a database dump or backup learns
which users had sessions, but cannot replay one. A slow hash would add
nothing, since the id is not guessable to begin with. Sessions expire after
`max_age` seconds; an expired one is deleted when it is next presented, and
each login purges the expired rest.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any, ClassVar

from panther_like.db.connection import active_database
from panther_like.exceptions import AuthorizationAPIError
from panther_like.response import Response
from panther_like.security.apikey import CSRF_COOKIE, APIKeyCookie
from panther_like.security.base import AuthErrorResponse

SESSION_COLLECTION = 'panther_like_sessions'
SESSION_COOKIE = 'sessionid'
DEFAULT_MAX_AGE = 14 * 24 * 3600  # two weeks, like Django's SESSION_COOKIE_AGE
MAX_SESSION_ID_LENGTH = 128


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode('utf-8', 'surrogateescape')).hexdigest()


def _collection() -> Any:
    return active_database().collection(SESSION_COLLECTION)


class SessionAuth(APIKeyCookie):
    """Cookie ``sessionid`` -> the `USER_MODEL` instance of a live session; CSRF-checked like `APIKeyCookie`.

    ``SessionAuth(user_model=...)`` names the model explicitly; by default
    it is the app's ``USER_MODEL``.
    """

    param_name: ClassVar[str] = SESSION_COOKIE

    def __init__(self, *, csrf: bool = True, user_model: type | None = None) -> None:
        super().__init__(csrf=csrf)
        self.user_model = user_model

    def bind(self, config: Any) -> None:
        if self.user_model is None:
            self.user_model = config.user_model

    async def authenticate(self, request: Any, key: str) -> Any:
        if len(key) > MAX_SESSION_ID_LENGTH:
            return None
        collection = _collection()
        session = await collection.find_one({'_id': _hash(key)})
        if session is None:
            return None
        if session.get('expires_at', 0) <= time.time():
            await collection.delete_one({'_id': session['_id']})
            return None
        user = await self.user_model.find_one(id=session['user_id'])  # type: ignore[union-attr]
        if user is None:
            return None
        return self.check_user(user)

    def check_user(self, user: Any) -> Any:
        """Hook for the variants: return the user, or raise `AuthorizationAPIError` (403)."""
        return user

    def missing_detail(self) -> str:
        return 'Not logged in (no session cookie)'


class SessionAuthIsStaff(SessionAuth):
    """A session of a user whose ``is_staff`` (or ``is_superuser``) is truthy; any other user gets 403."""

    openapi_responses: ClassVar[dict[int, Any]] = {401: AuthErrorResponse, 403: AuthErrorResponse}

    def check_user(self, user: Any) -> Any:
        if getattr(user, 'is_staff', False) or getattr(user, 'is_superuser', False):
            return user
        raise AuthorizationAPIError('Staff only')


class SessionAuthSuperUser(SessionAuth):
    """A session of a user whose ``is_superuser`` is truthy; any other user gets 403."""

    openapi_responses: ClassVar[dict[int, Any]] = {401: AuthErrorResponse, 403: AuthErrorResponse}

    def check_user(self, user: Any) -> Any:
        if getattr(user, 'is_superuser', False):
            return user
        raise AuthorizationAPIError('Superusers only')


def _cookie(name: str, value: str, max_age: int, *, http_only: bool, secure: bool) -> str:
    parts = [f'{name}={value}', 'Path=/', f'Max-Age={max_age}', 'SameSite=Lax']
    if http_only:
        parts.append('HttpOnly')
    if secure:
        parts.append('Secure')
    return '; '.join(parts)


def _add_cookie(response: Response, cookie: str) -> None:
    existing = response.headers.get('Set-Cookie')
    if existing is None:
        response.headers['Set-Cookie'] = cookie
    elif isinstance(existing, list):
        existing.append(cookie)
    else:
        response.headers['Set-Cookie'] = [existing, cookie]  # type: ignore[assignment]


async def login_session(
    response: Response, user: Any, *, max_age: int = DEFAULT_MAX_AGE, secure: bool = True
) -> str:
    """Start a session for `user`; set its cookies on `response`; return the session id.

    ``secure=False`` only for development over plain http on a host other
    than localhost (browsers treat localhost as secure).
    """
    if not isinstance(max_age, int) or max_age <= 0:
        raise ValueError('max_age must be a positive number of seconds')
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    collection = _collection()
    await collection.delete_many({'expires_at': {'$lt': now}})
    await collection.insert_one({
        '_id': _hash(session_id), 'user_id': str(user.id), 'created_at': now, 'expires_at': now + max_age,
    })
    _add_cookie(response, _cookie(SESSION_COOKIE, session_id, max_age, http_only=True, secure=secure))
    _add_cookie(response, _cookie(CSRF_COOKIE, secrets.token_urlsafe(32), max_age, http_only=False, secure=secure))
    return session_id


async def logout_session(request: Any, response: Response | None = None) -> bool:
    """End the session of `request` (True if there was one) and, given `response`, clear its cookies."""
    key = request.cookies.get(SESSION_COOKIE)
    deleted = bool(key) and await _collection().delete_one({'_id': _hash(key)})
    if response is not None:
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            _add_cookie(response, _cookie(name, '', 0, http_only=name == SESSION_COOKIE, secure=True))
    return deleted
