"""Password reset and address verification by mail: the links that prove someone reads a mailbox.

``password/forgot`` answers 202 with the same body, after the same work,
whether or not the account exists: it is throttled per account name and
per client address before anything is looked up, an unknown name makes
the same kind of store write a real token does (`OneTimeTokens.issue_nothing`),
and the mail leaves after the response (`Outbox`), so neither the body
nor the time taken says which accounts exist. A token that could not be
stored is never mailed: the store failing is a 503.

``password/reset`` and ``verify`` check everything a token must satisfy
(known, unexpired, of this purpose, still bound to what it was issued
for, and for ``verify`` with a logged-in caller, issued to them) before
spending it, and answer every refusal with the same 400, leaving the
token, the password and the sessions as they were. A reset ends every
session of the user: whoever knew the old password is out. Of several
reset links of one user, one can ever be used: spending it kills the
others at once (`OneTimeTokens.spend`), even when they arrive together.

A verification link names the address it was sent to (its canonical key,
in the token's binding) and marks the account verified in one conditional
write that applies only while that is still the account's address
(`BaseUser.mark_address_verified`): an address changed at the same moment
is never verified by a link that went to the old one.

Mail goes to the user model's ``email`` field when it has one, else to
the username when that is an address. Whatever sends it, one mailbox (its
canonical address) gets at most what `LoginThrottle.count_mail` allows,
counted in the shared throttle store: past that, ``password/forgot`` and
``verify/request`` without a login still answer their 202 but send nothing,
and a logged-in ``verify/request`` is a 429. ``verify/request`` without a
login takes ``{"email"}`` and, like ``password/forgot``, answers the same
202 after the same work whether or not an unverified account has it.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.notices import PASSWORD_RESET as NOTICE_PASSWORD_RESET
from panther_like.accounts.notices import send_security_notice
from panther_like.accounts.policy import check_new_password
from panther_like.db.addresses import find_key
from panther_like.exceptions import AuthenticationAPIError, BadRequestAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.one_time_tokens import PASSWORD_RESET, VERIFY_EMAIL, Grant
from panther_like.login_state.services import services_of
from panther_like.login_state.throttle import TooManyAttemptsAPIError
from panther_like.mail import Message, is_address
from panther_like.routing.api import API
from panther_like.security.optional import OptionalAuth
from panther_like.settings.accounts import MAX_PASSWORD_LENGTH

MAX_NAME_LENGTH = 254
MAX_TOKEN_LENGTH = 128
INVALID_LINK = 'This link is invalid or has expired; ask for a new one'
RESET_ON_ITS_WAY = 'If that account exists and has an e-mail address, a password reset link is on its way to it'
VERIFY_ON_ITS_WAY = 'A verification link is on its way to your e-mail address'
VERIFY_REQUESTED = 'If an unverified account has that address, a verification link is on its way to it'
#: What a decoy token is bound to: no user has this password hash and address.
_NOBODY = '\x00nobody'


# -- what the routes take ------------------------------------------------------------------------


class ForgotPasswordInput(BaseModel):
    """The account: ``username``, or ``email`` when the user model has that field. Exactly one."""

    model_config = ConfigDict(extra='forbid')

    username: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)
    email: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)

    @model_validator(mode='after')
    def _exactly_one(self) -> Self:
        if (self.username is None) == (self.email is None):
            raise ValueError('send either "username" or "email"')
        return self


class ResetPasswordInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class VerifyRequestInput(BaseModel):
    """Nothing when logged in; without a login, the address of the account to verify."""

    model_config = ConfigDict(extra='forbid')

    email: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)


class VerifyInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


# -- helpers ------------------------------------------------------------------------------------


def mail_address(user: Any) -> str | None:
    """Where mail for `user` goes: its ``email`` field if the model has one, else its username if that is an
    address; None when there is nowhere to send it."""
    candidate = user.email if 'email' in type(user).model_fields else user.username
    return candidate if is_address(candidate) else None


def mailbox(address: str) -> str:
    """The canonical address: what counts as one mailbox, whatever the case it is written in."""
    return find_key(address) or unicodedata.normalize('NFKC', address).casefold()


def _reset_binding(user: Any, address: str) -> str:
    # A new password hash, or a new address, makes every earlier reset link of the user worthless.
    return f'{user.password}\x00{mailbox(address)}'


def _verify_binding(address: str) -> str:
    """The link verifies this mailbox and no other."""
    return f'verify\x00{mailbox(address)}'


def _throttle_subject(field: str, value: str) -> str:
    """``Ann``, ``ANN`` and a fullwidth ``Ann`` count as one subject: changing the case does not buy more mail."""
    if field == 'email':
        return f'email:{mailbox(value)}'
    return f'{field}:{unicodedata.normalize("NFKC", value).casefold()}'


def _duration(life_time: timedelta) -> str:
    minutes = round(life_time.total_seconds() / 60)
    if minutes < 120:
        return f'{max(minutes, 1)} minute{"s" if minutes != 1 else ""}'
    hours = round(minutes / 60)
    return f'{hours} hours'


def _message(
    to: str, subject: str, url: str | None, token: str, *, action: str, life_time: timedelta, ignore: str
) -> Message:
    if url is None:
        how = f'Enter this code to {action}:\n\n    {token}'
    else:
        how = f'Open this link to {action}:\n\n    {url}{token}'
    text = f'{how}\n\nIt works once, within {_duration(life_time)}. {ignore}\n'
    return Message(to=to, subject=subject, text=text, sensitive=(token,))


def link_message(
    to: str, subject: str, url: str | None, token: str, *, action: str, life_time: timedelta, ignore: str
) -> Message:
    """The mail of a one-time link (its token alone when no URL is set), as the routes here send it; for the
    other routes that mail one (the confirmation of an address change)."""
    return _message(to, subject, url, token, action=action, life_time=life_time, ignore=ignore)


def _refuse(request: Request, event: str, reason: str, grant: Grant | None) -> BadRequestAPIError:
    audit.log_event(event, request=request, reason=reason, user_id=grant.user_id if grant else None)
    return BadRequestAPIError(INVALID_LINK)


# -- the routes ---------------------------------------------------------------------------------


@API(
    auth=None,  # open: a project's DEFAULT_AUTH must not lock users out
    methods=['POST'],
    input=ForgotPasswordInput,
    status_code=status.HTTP_202_ACCEPTED,
    responses={429: 'Too many reset requests for this account or from this address (Retry-After)'},
)
async def forgot_password(request: Request) -> Response:
    """Ask for a password reset link: always 202, whether or not the account exists."""
    data: ForgotPasswordInput = request.validated
    model = services_of(request).config.user_model
    field, value = ('username', data.username) if data.username is not None else ('email', data.email or '')
    if field == 'email' and 'email' not in model.model_fields:
        raise BadRequestAPIError('Accounts here have no e-mail field: send {"username": ...}')
    await services_of(request).throttle.limit(request, PASSWORD_RESET, _throttle_subject(field, value))
    # Found by canonical form: ``Bob`` and its fullwidth twin are one account, ``Ann@Example.com`` is ann@example.com.
    user = await (model.find_by_username(value) if field == 'username' else model.find_by_email(value))
    address = mail_address(user) if user is not None and user.is_active else None
    store, settings = services_of(request).one_time_tokens, services_of(request).config.account_emails
    # Past the mailbox's limit: the same 202, without the mail (a 429 here would say the account exists).
    held = address is not None and await services_of(request).throttle.count_mail(request, mailbox(address)) > 0
    if user is None or address is None or held:
        await store.issue_nothing(PASSWORD_RESET, binding=_NOBODY)
        reason = (
            'no such account'
            if user is None
            else 'mailbox limit reached'
            if held
            else 'account inactive or without an address'
        )
        audit.log_event('password_reset.requested', request=request, reason=reason, user_id=user.id if user else None)
    else:
        token = await store.issue(
            user.saved_id,
            PASSWORD_RESET,
            binding=_reset_binding(user, address),
            life_time=settings.reset_life_time.total_seconds(),
        )
        message = _message(
            address,
            'Reset your password',
            settings.reset_url,
            token,
            action='choose a new password',
            life_time=settings.reset_life_time,
            ignore='If you did not ask for it, ignore this message: your password stays as it is.',
        )
        services_of(request).outbox.post(message, kind=PASSWORD_RESET, user_id=user.id, request=request)
        audit.log_event('password_reset.requested', request=request, user_id=user.id)
    return Response({'detail': RESET_ON_ITS_WAY}, status.HTTP_202_ACCEPTED)


@API(
    auth=None,  # open: a project's DEFAULT_AUTH must not lock users out
    methods=['POST'],
    input=ResetPasswordInput,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={400: 'The link is invalid, spent or expired, or the new password breaks the password policy'},
)
async def reset_password(request: Request) -> Response:
    """Set a new password with the token from the mail; every session of the user ends."""
    data: ResetPasswordInput = request.validated
    store = services_of(request).one_time_tokens
    grant = await store.find(data.token, PASSWORD_RESET)
    if grant is None:
        raise _refuse(request, 'password_reset.failure', 'unknown, spent or expired token', None)
    user = await services_of(request).config.user_model.find_one(id=grant.user_id)
    address = mail_address(user) if user is not None else None
    if user is None or not user.is_active or address is None or not grant.binds(_reset_binding(user, address)):
        raise _refuse(request, 'password_reset.failure', 'the account changed since the token was issued', grant)
    # Refused: the token still works with a better password.
    check_new_password(data.new_password, user.username, services_of(request).config.accounts)
    if not await store.spend(grant):
        raise _refuse(request, 'password_reset.failure', 'token already used', grant)
    ended = await services_of(request).accounts.reset_password(user, data.new_password)  # every session ends
    await store.discard(user.saved_id, PASSWORD_RESET)
    audit.log_event('password_reset', request=request, user_id=user.id, sessions_ended=ended)
    send_security_notice(request, user, NOTICE_PASSWORD_RESET, route='password/reset')
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def send_verification(request: Request, user: Any, address: str) -> None:
    """Mail `user` a link that verifies `address`: signup under ``require_verified``, and ``verify/request``."""
    settings = services_of(request).config.account_emails
    token = await services_of(request).one_time_tokens.issue(
        user.id, VERIFY_EMAIL, binding=_verify_binding(address), life_time=settings.verify_life_time.total_seconds()
    )
    message = _message(
        address,
        'Confirm your e-mail address',
        settings.verify_url,
        token,
        action='confirm that this address is yours',
        life_time=settings.verify_life_time,
        ignore='If you did not create an account, ignore this message.',
    )
    services_of(request).outbox.post(message, kind=VERIFY_EMAIL, user_id=user.id, request=request)


async def _request_verification_by_address(request: Request, email: str) -> Response:
    """Without a login (an unverified user cannot log in under ``require_verified``): always the same 202."""
    model = services_of(request).config.user_model
    if 'email' not in model.model_fields:
        raise BadRequestAPIError('Accounts here have no e-mail field: log in and send no body')
    throttle = services_of(request).throttle
    await throttle.limit(request, VERIFY_EMAIL, _throttle_subject('email', email))
    user = await model.find_by_email(email)
    address = mail_address(user) if user is not None and user.is_active and not user.is_verified else None
    # Past the mailbox's limit: the same 202, without the mail (a 429 here would say the account exists).
    held = address is not None and await throttle.count_mail(request, mailbox(address)) > 0
    if user is None or address is None or held:
        await services_of(request).one_time_tokens.issue_nothing(VERIFY_EMAIL, binding=_NOBODY)
        reason = 'no such account' if user is None else 'mailbox limit reached' if held else 'nothing to verify'
        audit.log_event('verify.requested', request=request, reason=reason, user_id=user.id if user else None)
    else:
        await send_verification(request, user, address)
        audit.log_event('verify.requested', request=request, user_id=user.id)
    return Response({'detail': VERIFY_REQUESTED}, status.HTTP_202_ACCEPTED)


@API(
    auth=OptionalAuth(AccountAuthentication),
    methods=['POST'],
    input=VerifyRequestInput,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        400: 'No address to verify, or already verified (logged in)',
        401: 'Neither logged in nor an "email" sent',
        429: 'Too many verification requests',
    },
)
async def request_verification(request: Request) -> Response:
    """Mail a link that proves the account's e-mail address belongs to its user.

    Logged in: the caller's own address (400 when there is none or it is verified already). Without a
    login, ``{"email"}``: always 202, whether or not an unverified account has that address.
    """
    data: VerifyRequestInput = request.validated
    user = request.user
    if user is None:
        if data.email is None:
            raise AuthenticationAPIError('Log in, or send the account\'s {"email": ...}')
        return await _request_verification_by_address(request, data.email)
    address = mail_address(user)
    if address is None:
        raise BadRequestAPIError('This account has no e-mail address to verify')
    if user.is_verified:
        raise BadRequestAPIError('This account is already verified')
    throttle = services_of(request).throttle
    await throttle.limit(request, VERIFY_EMAIL, f'user:{user.id}')
    retry_after = await throttle.count_mail(request, mailbox(address))
    if retry_after:
        raise TooManyAttemptsAPIError(retry_after, 'e-mails to this address')
    await send_verification(request, user, address)
    return Response({'detail': VERIFY_ON_ITS_WAY}, status.HTTP_202_ACCEPTED)


@API(
    auth=OptionalAuth(AccountAuthentication),
    methods=['POST'],
    input=VerifyInput,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={400: 'The link is invalid, spent or expired'},
)
async def verify_email(request: Request) -> Response:
    """Mark the address verified with the token from the mail (logged in or not: the token names the user)."""
    data: VerifyInput = request.validated
    store = services_of(request).one_time_tokens
    grant = await store.find(data.token, VERIFY_EMAIL)
    if grant is None:
        raise _refuse(request, 'verify.failure', 'unknown, spent or expired token', None)
    if request.user is not None and request.user.id != grant.user_id:
        raise _refuse(request, 'verify.failure', "another user's token", grant)
    user = await services_of(request).config.user_model.find_one(id=grant.user_id)
    address = mail_address(user) if user is not None else None
    if user is None or address is None or not grant.binds(_verify_binding(address)):
        raise _refuse(request, 'verify.failure', 'the address changed since the token was issued', grant)
    if not await store.spend(grant):
        raise _refuse(request, 'verify.failure', 'token already used', grant)
    # Only while this is still the account's address, in the same write that sets the flag.
    if not await user.mark_address_verified(address):
        raise _refuse(request, 'verify.failure', 'the address changed while the token was used', grant)
    await store.discard(user.saved_id, VERIFY_EMAIL)
    audit.log_event('verify', request=request, user_id=user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


#: Paths relative to where the account routes are mounted (``'auth/'``).
recovery_urls: dict[str, Any] = {
    'password/forgot': forgot_password,
    'password/reset': reset_password,
    'verify/request': request_verification,
    'verify': verify_email,
}
