"""What the account routes take and give, as pydantic models: validated on the way in, shown in OpenAPI.

Inputs refuse unknown fields (a typo is a 400, not silently ignored),
except where a client legitimately sends more: the login form of an
OAuth2 client (``client_id``...) and signup, whose extra fields are the
user model's `editable_fields`, checked by the route.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from panther_like.db.usernames import MAX_USERNAME_LENGTH
from panther_like.settings.accounts import MAX_PASSWORD_LENGTH

MAX_TOKEN_LENGTH = 8192
MAX_SCOPE_LENGTH = 1000

Username = Field(min_length=1, max_length=MAX_USERNAME_LENGTH)
Password = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class SignupInput(BaseModel):
    """A username, a password, and any field the user model lists in ``editable_fields``."""

    model_config = ConfigDict(extra='allow')

    username: str = Username
    password: str = Password


class LoginInput(BaseModel):
    """JSON, or the form of the OAuth2 password grant (RFC 6749 section 4.3.2)."""

    model_config = ConfigDict(extra='ignore')  # client_id, client_secret: OAuth2 clients send them

    username: str = Username
    password: str = Password
    grant_type: Literal['password'] | None = None
    scope: str | None = Field(default=None, max_length=MAX_SCOPE_LENGTH)


class RefreshInput(BaseModel):
    """The refresh token; with cookies on, it may come from the ``refresh_token`` cookie instead."""

    model_config = ConfigDict(extra='forbid')

    refresh_token: str | None = Field(default=None, min_length=1, max_length=MAX_TOKEN_LENGTH)


class PasswordChangeInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    current_password: str = Password
    new_password: str = Password


class ProfileUpdate(BaseModel):
    """Any of the user model's ``editable_fields``; any other field is a 400."""

    model_config = ConfigDict(extra='allow')


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1; ``scope`` only when the login asked for scopes and was granted some.

    No tokens when they travel in cookies only: ``ACCOUNTS['cookies'] = 'only'``, or a refresh the cookie drove.
    """

    access_token: str | None = None
    refresh_token: str | None = None
    token_type: Literal['bearer']
    expires_in: int
    scope: str | None = None


class PublicUser(BaseModel):
    """The user as the account routes show it: never the password hash; the model's own fields too."""

    model_config = ConfigDict(extra='allow')

    id: str
    username: str
    date_created: datetime
    last_login: datetime | None = None
    is_active: bool
    is_verified: bool
    is_superuser: bool


class SessionInfo(BaseModel):
    """One login session (times in ISO 8601, UTC); never a token."""

    sid: str
    created: datetime
    last_used: datetime
    expires: datetime
    user_agent: str | None
    client: str | None
    current: bool


class Detail(BaseModel):
    detail: str


class SessionsEnded(BaseModel):
    detail: str
    ended: int
