"""Per-route security objects in the example: personal API tokens for scripts and machines.

A logged-in user creates a token under ``account/`` (a URL group whose
default is ``auth=True``: the configured JWT class). Scripts then send it
either as ``Authorization: Bearer <token>`` (`ApiTokenBearer`, an
`HttpBearer`) or as ``X-API-Key: <token>`` (`ApiKey`, an `APIKeyHeader`).
Only the token's SHA-256 is stored, so a database leak does not leak
usable tokens.

Each ``authenticate`` returns the token's `User` and nothing more: the
framework's `check_principal` refuses a deactivated user (``is_active=False``)
with a 401, whichever scheme it came through, so no ``authenticate`` has to
remember to. A token whose user is gone is None (401) here.

`UserBasic` checks a username and password on every request (HTTP Basic),
counted by the login throttle like a login; a server-side session
(`SessionAuth`) starts with one Basic request to ``session/login``.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from example_app.models import User
from panther_like import API, Request, Response, status
from panther_like.db.models import Model
from panther_like.security import APIKeyHeader, HttpBasicAuth, HttpBearer, SessionAuth
from panther_like.security.session import login_session


class ApiToken(Model):
    token_hash: str
    user_id: str
    name: str = ''

    unique_fields: ClassVar[tuple[str, ...]] = ('token_hash',)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode('utf-8', 'surrogateescape')).hexdigest()


async def user_for_api_token(raw: str) -> User | None:
    if len(raw) > 256:
        return None
    token = await ApiToken.find_one(token_hash=_digest(raw))
    return None if token is None else await User.find_one(id=token.user_id)


class ApiTokenBearer(HttpBearer):
    """``Authorization: Bearer <api token>``."""

    async def authenticate(self, request, token):
        return await user_for_api_token(token)


class ApiKey(APIKeyHeader):
    """``X-API-Key: <api token>``."""

    param_name = 'X-API-Key'

    async def authenticate(self, request, key):
        return await user_for_api_token(key)


class UserBasic(HttpBasicAuth):
    """``Authorization: Basic`` with an account's username and password."""

    async def authenticate(self, request, username, password):
        user = await User.find_by_username(username)
        if user is None:
            await User.verify_password_dummy(password)  # an unknown username costs what a wrong password does
            return None
        return user if await user.verify_password(password) else None  # inactive: refused by check_principal


@API(methods=['POST'])  # no auth here: the 'account/' group's default (auth=True) applies
async def create_api_token(request: Request):
    """Create a personal API token (shown once)."""
    data = request.data if isinstance(request.data, dict) else {}
    name = data.get('name') if isinstance(data.get('name'), str) else ''
    raw = secrets.token_urlsafe(32)
    await ApiToken.insert_one(token_hash=_digest(raw), user_id=request.user.id, name=name[:64])
    return Response({'api_token': raw}, status_code=status.HTTP_201_CREATED)


@API(methods=['GET'])  # inherits the group's default
async def profile(request: Request):
    """The logged-in user's profile."""
    return {'id': request.user.id, 'username': request.user.username}


@API(auth=None, methods=['GET'])  # opts out of the group's default
async def account_help(request: Request):
    """How to get an API token (public)."""
    return {'detail': 'POST /account/api-tokens with a Bearer JWT, then send the token as a Bearer or X-API-Key'}


@API(auth=ApiTokenBearer(), methods=['GET'])
async def reports(request: Request):
    """A report for scripts: Bearer API token only."""
    return {'owner': request.user.username, 'reports': []}


@API(auth=[ApiTokenBearer(), ApiKey()], methods=['GET'])
async def machine_me(request: Request):
    """Who this API token belongs to: Bearer or X-API-Key."""
    return {'username': request.user.username}


@API(auth=UserBasic(), methods=['GET'])
async def basic_me(request: Request):
    """Who these Basic credentials belong to."""
    return {'id': request.user.id, 'username': request.user.username}


@API(auth=UserBasic(throttle=False), methods=['GET'])
async def basic_unthrottled(request: Request):
    """The same, without the login throttle (for a route a client calls many times a second)."""
    return {'id': request.user.id, 'username': request.user.username}


@API(auth=UserBasic(), methods=['POST'])
async def session_login(request: Request):
    """Start a server-side session (cookie ``sessionid``) with Basic credentials."""
    response = Response({'detail': 'Logged in'})
    await login_session(response, request.user)
    return response


@API(auth=SessionAuth(), methods=['GET'])
async def session_me(request: Request):
    """Who the session cookie belongs to."""
    return {'id': request.user.id, 'username': request.user.username}
