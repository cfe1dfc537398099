"""Login by e-mail code (``ACCOUNTS['login_by_code']``): ``login/code/request`` mails a code, ``login/code`` uses it.

``login/code/request`` answers 202 with the same body, after the same work
(a store write), whether or not an account has that address, and its sends
are throttled per address and per client, as ``password/forgot`` is. The
code (`panther_like.login_state.login_codes`) is 8 characters without
look-alikes, lives 3 minutes and allows 3 tries; wrong codes also count in
the login throttle. A user with a second factor still gets ``mfa_required``.
Off (404) unless the setting turns it on.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panther_like import audit, status
from panther_like.accounts.login import token_response
from panther_like.accounts.recovery import mail_address
from panther_like.accounts.schemas import TokenResponse
from panther_like.exceptions import AuthenticationAPIError, BadRequestAPIError, NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.jwt_codec import ONE_TIME_CODE
from panther_like.login_state.login_codes import CODE_LIFE
from panther_like.login_state.mfa_tokens import MFARequired
from panther_like.login_state.services import services_of
from panther_like.mail import Message
from panther_like.routing.api import API

LOGIN_CODE = 'login_code'
MAX_EMAIL_LENGTH = 254
CODE_ON_ITS_WAY = 'If an account has that address, a login code is on its way to it'
INVALID_LOGIN_CODE = 'Invalid or expired code; ask for a new one'


class LoginCodeRequest(BaseModel):
    model_config = ConfigDict(extra='forbid')

    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH)


class LoginCodeInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH)
    code: str = Field(min_length=1, max_length=32)


def _enabled(request: Request) -> Any:
    """The user model, when login by code is on and the model has an ``email`` field; else 404 or 400."""
    config = services_of(request).config
    if not config.accounts.login_by_code:
        raise NotFoundAPIError()
    if 'email' not in config.user_model.model_fields:
        raise BadRequestAPIError('Accounts here have no e-mail field')
    return config.user_model


def _subject(email: str) -> str:
    return f'email:{unicodedata.normalize("NFKC", email).casefold()}'


@API(
    auth=None,  # open: a project's DEFAULT_AUTH must not lock users out
    methods=['POST'],
    input=LoginCodeRequest,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: 'Login by code is off', 429: 'Too many codes asked for this address or from this client'},
)
async def request_login_code(request: Request) -> Response:
    """Mail a one-time login code to the address: always 202, whether or not an account has it."""
    model = _enabled(request)
    email = request.validated.email
    services = services_of(request)
    await services.throttle.limit(request, LOGIN_CODE, _subject(email))
    user = await model.find_one(email=email)
    address = mail_address(user) if user is not None and user.is_active else None
    codes = services.accounts.login_codes
    if user is None or address is None:
        await codes.issue_nothing()
        audit.log_event('login_code.requested', request=request, reason='no such active account')
    else:
        code = await codes.issue(user.saved_id)
        text = (
            f'Your login code:\n\n    {code}\n\nIt works once, within {CODE_LIFE // 60} minutes. '
            'If you did not ask for it, ignore this message: nobody can log in without it.\n'
        )
        message = Message(to=address, subject='Your login code', text=text, sensitive=(code,))
        services.outbox.post(message, kind=LOGIN_CODE, user_id=user.id, request=request)
        audit.log_event('login_code.requested', request=request, user_id=user.id)
    return Response({'detail': CODE_ON_ITS_WAY}, status.HTTP_202_ACCEPTED)


@API(
    auth=None,  # open: a project's DEFAULT_AUTH must not lock users out
    methods=['POST'],
    input=LoginCodeInput,
    output=TokenResponse,
    responses={
        401: 'Wrong, spent or expired code; or a second factor is needed: {"mfa_required": true, "mfa_token"}',
        403: 'Account disabled or not verified',
        404: 'Login by code is off',
        429: 'Too many failed attempts (Retry-After)',
    },
)
async def login_with_code(request: Request) -> Response:
    """Log in with the address and the code mailed to it: a new session's token pair, as ``login`` answers."""
    model = _enabled(request)
    data: LoginCodeInput = request.validated
    accounts = services_of(request).accounts
    user = await model.find_one(email=data.email)
    subject = (user.username_key or user.username) if user is not None else _subject(data.email)
    await accounts.throttle.check(request, subject)
    if user is None or not await accounts.login_codes.verify(user.id, data.code):
        await accounts.throttle.record_failure(request, subject, user_id=user.id if user else None)
        raise AuthenticationAPIError(INVALID_LOGIN_CODE)
    await accounts.throttle.reset(request, subject)
    accounts.refuse_barred(request, user)
    mfa_token = await accounts.password_step(request, user, [], first=(ONE_TIME_CODE,))
    if mfa_token is not None:
        raise MFARequired(mfa_token, await accounts.second_step_methods(user))
    pair = await accounts.login(user, request=request, amr=(ONE_TIME_CODE,))
    return token_response(request, 'login/code', pair)


#: Paths relative to where the account routes are mounted (``'auth/'``).
login_code_urls: dict[str, Any] = {
    'login/code/request': request_login_code,
    'login/code': login_with_code,
}
