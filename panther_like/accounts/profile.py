"""``signup``, ``me`` and ``password/change``: the account itself.

A user may set only what the user model lists in ``editable_fields``,
at signup and through ``PATCH me``: never the password (``password/change``
checks the current one), a flag (``is_active``, ``is_verified``,
``is_superuser``) or the id. Any other field is a 400 that names it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import json_only
from panther_like.accounts.email_change import request_email_change
from panther_like.accounts.notices import PASSWORD_CHANGED, send_security_notice
from panther_like.accounts.policy import check_new_password
from panther_like.accounts.recovery import mail_address, mailbox, send_verification
from panther_like.accounts.schemas import PasswordChangeInput, ProfileUpdate, PublicUser, SessionsEnded, SignupInput
from panther_like.auth.permissions import IsVerified
from panther_like.db.user import BaseUser
from panther_like.db.usernames import username_key
from panther_like.exceptions import BadRequestAPIError, ConfigError, DuplicateKeyError, ValidationAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.routing.api import API, GenericAPI
from panther_like.routing.contract import contract


def _editable(model: type[BaseUser], fields: dict[str, Any]) -> dict[str, Any]:
    refused = sorted(set(fields) - set(model.editable_fields))
    if refused:
        allowed = ', '.join(sorted(model.editable_fields)) or 'none'
        # A client chose these names: shown printable (repr) and short, at most five of them.
        named = ', '.join(name[:40] if name.isprintable() else ascii(name[:40]) for name in refused[:5])
        raise BadRequestAPIError(f'Unknown or read-only field(s): {named} (editable: {allowed})')
    return fields


def _unstorable(text: str) -> bool:
    """Control and invisible characters: left to the model, whose name-field check answers a 422 naming the field."""
    return any(unicodedata.category(ch) in ('Cc', 'Cf', 'Zl', 'Zp') for ch in text)


@API(
    auth=None,  # open: a project's DEFAULT_AUTH must not lock users out
    methods=['POST'],
    input=SignupInput,
    output=PublicUser,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: 'The username (or one that looks the same) is taken',
        429: 'Too many taken usernames from this address (Retry-After)',
    },
)
async def signup(request: Request) -> Any:
    """Create an account: 201 with the user; 409 when the canonical username is taken (throttled per address)."""
    data: SignupInput = request.validated
    model = services_of(request).config.user_model
    extra = _editable(model, dict(data.model_extra or {}))
    username_key(data.username)  # 400 with the reason, before any work
    check_new_password(data.password, data.username, services_of(request).config.accounts)
    throttle = services_of(request).throttle
    await throttle.check_signup(request)  # 429 once this address got too many 409s
    try:
        user = await model.insert_one(**extra, username=data.username, password=data.password)
    except DuplicateKeyError:
        audit.log_event('signup.taken', request=request)
        raise  # 409, and it keeps counting: it told this address that the account exists
    except ValidationAPIError:
        await throttle.signup_succeeded(request)  # a field error tells nothing about taken usernames
        raise
    await throttle.signup_succeeded(request)
    await _mail_verification_link(request, user)
    return user


def refuse_a_user_model_signup_cannot_fill(routes: Iterable[tuple[str, Any]], model: type[BaseUser]) -> None:
    """A `ConfigError` when `routes` serve ``signup`` and `model` has a required field signup cannot set.

    Signup sets the username, the password and the model's ``editable_fields``: any other field without
    a default would make every signup a 422, found by the first user rather than when the app is built.
    """
    if not any(getattr(getattr(endpoint, 'target', None), 'function', None) is _signup for _, endpoint in routes):
        return
    settable = {'username', 'password', *model.editable_fields}
    unfillable = [name for name, field in model.model_fields.items() if field.is_required() and name not in settable]
    if unfillable:
        name = f'{model.__module__}.{model.__qualname__}'
        field = unfillable[0]
        raise ConfigError(
            'USER_MODEL',
            name,
            f'{name}.{field} is required and signup cannot set it, so every signup would fail: give it a default '
            f"({field}: ... = <default>), or add it to {model.__qualname__}.editable_fields = frozenset({{'{field}'}}) "
            'so that the signup body carries it',
        )


async def _mail_verification_link(request: Request, user: Any) -> None:
    """Under ``require_verified`` a new account cannot log in to ask for the link: it gets one at signup."""
    address = mail_address(user)
    if not services_of(request).config.accounts.require_verified or user.is_verified or address is None:
        return
    if await services_of(request).throttle.count_mail(request, mailbox(address)) > 0:
        audit.log_event('verify.requested', request=request, reason='mailbox limit reached', user_id=user.id)
        return  # the account is made; the user can ask again later (verify/request with the address)
    await send_verification(request, user, address)
    audit.log_event('verify.requested', request=request, user_id=user.id)


_signup = signup.function


class Me(GenericAPI):
    """The authenticated user's own account."""

    auth = AccountAuthentication

    @contract(output=PublicUser)
    async def get(self, request: Request) -> Any:
        """The authenticated user."""
        return request.user

    @contract(
        permissions=[IsVerified(when_required=True), json_only],  # 415 for any other body, as on every JSON route
        input=ProfileUpdate,
        output=PublicUser,
        responses={
            202: 'The new e-mail address waits for its confirmation (email/confirm): the user, with pending_email',
            401: 'A new e-mail address needs a recent authentication: {"reauthentication_required": true}',
            403: 'Under ACCOUNTS["require_verified"], the account is not verified',
            409: 'The new username, or the new e-mail address (in any case), belongs to another account',
            429: 'Too many taken usernames or addresses from this address, or mails to the new one (Retry-After)',
        },
    )
    async def patch(self, request: Request) -> Any:
        """Change the fields the user model declares editable; any other field is a 400.

        A new e-mail address is not written: it answers 202, mails a confirmation link to it and a notice to
        the old one, and shows it as ``pending_email`` until ``email/confirm``.
        """
        user = request.user
        model = type(user)
        fields = _editable(model, dict(request.validated.model_extra or {}))
        pending = False
        if 'email' in fields and model.has_email():
            email = fields['email']
            if email is None or (isinstance(email, str) and not _unstorable(email)):
                del fields['email']
                # Checked before the other fields are written: a refused address leaves the account as it was.
                pending = await request_email_change(request, user, email)
            # Anything else is left to the model's own checks: a 422 naming the field.
        if fields:
            await _write(request, user, fields)
        if pending:
            return Response(PublicUser.model_validate(user.public_dict()).model_dump(mode='json'), 202)
        return user


async def _write(request: Request, user: BaseUser, fields: dict[str, Any]) -> None:
    if 'username' not in fields:
        await user.update(**fields)  # a field the model refuses is a 422 naming it
        return
    # A 409 tells that a name is someone's: counted like signup's, per client address.
    throttle = services_of(request).throttle
    await throttle.check_signup(request)
    try:
        await user.update(**fields)
    except DuplicateKeyError:
        audit.log_event('profile.taken', request=request, user_id=user.id)
        raise  # 409, and it keeps counting
    except Exception:
        await throttle.signup_succeeded(request)  # a field error tells nothing about other accounts
        raise
    await throttle.signup_succeeded(request)


@API(
    auth=AccountAuthentication,
    fresh=True,
    methods=['POST'],
    input=PasswordChangeInput,
    output=SessionsEnded,
    responses={
        401: 'Not logged in, or not recently: {"reauthentication_required": true}',
        429: 'Too many wrong current passwords (Retry-After)',
    },
)
async def password_change(request: Request) -> Any:
    """Change the password (needs a recent authentication); every other session of the user ends (`SessionAuth`
    ones too), this one goes on."""
    data: PasswordChangeInput = request.validated
    user = request.user
    check_new_password(data.new_password, user.username, services_of(request).config.accounts)
    throttle = services_of(request).throttle
    subject = user.username_key or user.username
    await throttle.check(request, subject)
    if not await user.verify_password(data.current_password):
        await throttle.record_failure(request, subject, user_id=user.id)
        raise BadRequestAPIError('The current password is incorrect')
    await throttle.reset(request, subject)
    # Without claims (a test's force_authenticate), there is no current session to keep.
    keep = (user._token_claims or {}).get('sid')
    ended = await services_of(request).accounts.change_password(user, data.new_password, keep=keep)
    send_security_notice(request, user, PASSWORD_CHANGED, route='password/change')
    return {'detail': 'Password changed; every other session has ended', 'ended': ended}
