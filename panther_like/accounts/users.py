"""``users`` and ``users/<user_id>``: a superuser lists, reads, changes and deletes accounts.

Everything else about an account belongs to its owner; these routes are the
administrator's way in, so each one is refused (403) to any other user and
every change is audited with who made it. Deactivating or deleting an account
ends every session it has at once, rather than at each token's next use.
The fields a superuser may set are the flags and the identity (username,
e-mail), checked by the model's own rules exactly as at signup; never the
password, which only its owner or a reset link changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import json_only
from panther_like.accounts.schemas import PublicUser
from panther_like.auth.permissions import IsVerified
from panther_like.db.usernames import username_key
from panther_like.exceptions import AuthorizationAPIError, BadRequestAPIError, NotFoundAPIError
from panther_like.http.request import HTTPConnection, Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.routing.api import API, GenericAPI
from panther_like.routing.contract import contract

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_ID_LENGTH = 64
MAX_FIELD_LENGTH = 254


def superuser_only(request: HTTPConnection) -> bool:
    """A permission: 403 unless the caller's ``is_superuser`` is True."""
    if not getattr(request.user, 'is_superuser', False):
        raise AuthorizationAPIError('Only a superuser may manage users')
    return True


GUARDS: list[Any] = [IsVerified(when_required=True), superuser_only]


class UserPage(BaseModel):
    """One page of users, oldest account first; `total` counts every user."""

    items: list[PublicUser]
    total: int
    limit: int
    offset: int


class UserAdminUpdate(BaseModel):
    """What a superuser may change; any other field is a 400 (422 for a wrong type)."""

    model_config = ConfigDict(extra='forbid')

    is_active: bool | None = None
    is_superuser: bool | None = None
    is_verified: bool | None = None
    username: str | None = Field(default=None, min_length=1, max_length=MAX_FIELD_LENGTH)
    email: str | None = Field(default=None, min_length=1, max_length=MAX_FIELD_LENGTH)


def _whole_number(request: Request, name: str, default: int, most: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise BadRequestAPIError(f'{name} must be a whole number >= 0')
    value = int(raw)
    if most is not None and not 1 <= value <= most:
        raise BadRequestAPIError(f'{name} must be between 1 and {most}')
    return value


@API(
    auth=AccountAuthentication,
    methods=['GET'],
    permissions=[superuser_only],  # and IsVerified under require_verified, as on every account route
    output=UserPage,
    responses={400: 'limit or offset is not a whole number in range', 403: 'The caller is not a superuser'},
)
async def users(request: Request) -> Any:
    """Every user, oldest account first (then by id): ``?limit=`` (1 to 100, 50 by default) and ``?offset=``."""
    limit = _whole_number(request, 'limit', DEFAULT_LIMIT, MAX_LIMIT)
    offset = _whole_number(request, 'offset', 0, None)
    model = services_of(request).config.user_model
    page = await model.find(sort=['date_created', 'id'], limit=limit, skip=offset)
    return {'items': page, 'total': await model.count(), 'limit': limit, 'offset': offset}


users.openapi_parameters = (
    {
        'name': 'limit',
        'in': 'query',
        'required': False,
        'description': 'How many users to show',
        'schema': {'type': 'integer', 'minimum': 1, 'maximum': MAX_LIMIT, 'default': DEFAULT_LIMIT},
    },
    {
        'name': 'offset',
        'in': 'query',
        'required': False,
        'description': 'How many users to skip, oldest first',
        'schema': {'type': 'integer', 'minimum': 0, 'default': 0},
    },
)


async def _user(request: Request, user_id: str) -> Any:
    user = None
    if len(user_id) <= MAX_ID_LENGTH:
        user = await services_of(request).config.user_model.find_one(id=user_id)
    if user is None:
        raise NotFoundAPIError('User not found')
    return user


async def _changes(user: Any, data: UserAdminUpdate) -> dict[str, Any]:
    """The fields that change, checked by the model's rules before any write (a 400 names the reason)."""
    fields = data.model_dump(exclude_none=True)
    model = type(user)
    if 'username' in fields:
        username_key(fields['username'])
    if 'email' in fields:
        if not model.has_email():
            raise BadRequestAPIError('Accounts here have no e-mail field')
        if model.email_key_of(fields['email']) != user.email_key and 'is_verified' not in fields:
            fields['is_verified'] = False  # a new mailbox is not verified until its owner answers the mail
    return {name: value for name, value in fields.items() if getattr(user, name, None) != value}


class UserDetail(GenericAPI):
    """One user, by id: read, change, delete (superusers only)."""

    auth = AccountAuthentication
    permissions = GUARDS

    @contract(output=PublicUser, responses={403: 'The caller is not a superuser', 404: 'No such user'})
    async def get(self, request: Request, user_id: str) -> Any:
        """The user."""
        return await _user(request, user_id)

    @contract(
        permissions=[*GUARDS, json_only],  # a JSON body only, as on every account route that reads one (415)
        input=UserAdminUpdate,
        output=PublicUser,
        responses={
            403: 'The caller is not a superuser',
            404: 'No such user',
            409: "The username (or one that looks the same) or the e-mail address is another account's",
        },
    )
    async def patch(self, request: Request, user_id: str) -> Any:
        """Change flags, username or e-mail; deactivating the user ends every session of theirs."""
        user = await _user(request, user_id)
        fields = await _changes(user, request.validated)
        if not fields:
            return user
        await user.update(**fields)  # a value the model refuses is a 422 naming it, a taken name a 409
        ended = None
        if fields.get('is_active') is False:
            ended = await services_of(request).accounts.end_every_session(user.id, request=request)
        audit.log_event(
            'users.update',
            request=request,
            user_id=user.id,
            by=request.user.id,
            fields=sorted(fields),
            sessions_ended=ended,
        )
        return user

    @contract(
        status_code=status.HTTP_204_NO_CONTENT,
        responses={403: 'The caller is not a superuser', 404: 'No such user'},
    )
    async def delete(self, request: Request, user_id: str) -> Response:
        """Delete the user; every session of theirs ends first, and their second factors go with them."""
        user = await _user(request, user_id)
        ended = await services_of(request).accounts.end_every_session(user.id, request=request)
        await services_of(request).accounts.forget_second_factors(user.id)
        await user.delete()
        audit.log_event('users.delete', request=request, user_id=user.id, by=request.user.id, sessions_ended=ended)
        return Response(None, status.HTTP_204_NO_CONTENT)


#: Paths relative to where the account routes are mounted (``'auth/'``).
users_urls: dict[str, Any] = {
    'users': users,
    'users/<user_id>': UserDetail,
}
