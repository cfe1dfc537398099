"""A verified change of address: ``PATCH me {"email"}`` asks for it, ``email/confirm`` makes it.

Why not write the address at once: whoever holds a session (a stolen
token, a browser left open) could otherwise point the account at their own
mailbox and then reset the password through it. So the change needs a
recent authentication (step-up), its link goes to the *new* mailbox (which
proves the new address is the user's, and so counts as verified), and the
*old* one gets a security notice, so the owner hears of it while the old
address still works.

Until the link is used the account keeps its address; ``pending_email``
shows the one asked for. The link is single use and bound to the user, to
the address the account had and to the one asked for: a later change
(another ``PATCH``, a confirmed change) makes it worthless, and only the
last change asked for can be confirmed. The write that applies it is one
conditional write (`BaseUser.replace_email`), so a change racing another,
or the address taken by someone else meanwhile (a 409, by the unique
``email_key``), never leaves two accounts with one mailbox or an address
that nobody confirmed.

A change of case only (``Ann@`` for ``ann@``) is the same mailbox: it is
written at once. Removing the address (``null``) also is, with step-up and
a notice to the old address: there is nothing to confirm.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.notices import EMAIL_CHANGE_REQUESTED, EMAIL_REMOVED, send_security_notice
from panther_like.accounts.recovery import INVALID_LINK, MAX_TOKEN_LENGTH, link_message, mail_address, mailbox
from panther_like.auth.permissions import FreshAuthentication
from panther_like.db.addresses import address_key
from panther_like.db.user import BaseUser
from panther_like.exceptions import BadRequestAPIError, DuplicateKeyError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.one_time_tokens import CHANGE_EMAIL
from panther_like.login_state.services import services_of
from panther_like.login_state.throttle import TooManyAttemptsAPIError
from panther_like.routing.api import API
from panther_like.security.optional import OptionalAuth

CONFIRM_ON_ITS_WAY = 'A confirmation link is on its way to the new address; the change is made once it is opened'


class EmailConfirmInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


def _binding(user_id: str, old_key: str | None, new_key: str) -> str:
    return f'change\x00{user_id}\x00{old_key or ""}\x00{new_key}'


async def request_email_change(request: Request, user: BaseUser, email: Any) -> bool:
    """Start the change of `user`'s address to `email` (``PATCH me``); True when it waits for a confirmation,
    False when it was written at once (the same mailbox in another case, or no address)."""
    model = type(user)
    new_key = None if email is None else address_key(email)  # 400 with the reason, before any work
    if new_key is not None and new_key == user.email_key:
        if email != getattr(user, 'email', None) and not await user.replace_email(email, expected_key=user.email_key):
            raise BadRequestAPIError('The e-mail address changed meanwhile; read it again')
        return False
    if new_key is None and getattr(user, 'email', None) is None:
        return False  # no address, and none asked for: nothing changes
    await FreshAuthentication().authorization(request)  # 401 reauthentication_required
    services = services_of(request)
    old_key = user.email_key
    if new_key is None:
        old = mail_address(user)
        if not await user.replace_email(None, expected_key=old_key):
            raise BadRequestAPIError('The e-mail address changed meanwhile; read it again')
        audit.log_event('email.removed', request=request, user_id=user.id)
        await _notice(request, user, EMAIL_REMOVED, old=old)
        return False
    if await model.find_by_email(email) is not None:
        # Tells that the address is someone's, as signup does: counted like signup's 409s, per client address.
        await services.throttle.check_signup(request)
        audit.log_event('profile.taken', request=request, user_id=user.id)
        raise DuplicateKeyError('email')
    retry_after = await services.throttle.count_mail(request, mailbox(email))
    if retry_after:
        raise TooManyAttemptsAPIError(retry_after, 'e-mails to this address')
    settings = services.config.account_emails
    token = await services.one_time_tokens.issue(
        user.saved_id,
        CHANGE_EMAIL,
        binding=_binding(user.saved_id, old_key, new_key),
        life_time=settings.verify_life_time.total_seconds(),
    )
    await user.update(pending_email=email)
    message = link_message(
        email,
        'Confirm your new e-mail address',
        settings.verify_url,
        token,
        action='make this the e-mail address of your account',
        life_time=settings.verify_life_time,
        ignore='If you did not ask for it, ignore this message: the account keeps its address.',
    )
    services.outbox.post(message, kind=CHANGE_EMAIL, user_id=user.id, request=request)
    audit.log_event('email.change_requested', request=request, user_id=user.id)
    await _notice(request, user, EMAIL_CHANGE_REQUESTED, old=mail_address(user))
    return True


async def _notice(request: Request, user: BaseUser, what: str, *, old: str | None) -> None:
    """The notice to the old address, within that mailbox's limit on mail (past it, none goes)."""
    if old is None or not services_of(request).config.accounts.security_notices:
        return
    if await services_of(request).throttle.count_mail(request, mailbox(old)):
        return
    send_security_notice(request, user, what, route='email/confirm', to=old)


def _refuse(request: Request, reason: str, user_id: str | None) -> BadRequestAPIError:
    audit.log_event('email.confirm_failure', request=request, reason=reason, user_id=user_id)
    return BadRequestAPIError(INVALID_LINK)


@API(
    auth=OptionalAuth(AccountAuthentication),
    methods=['POST'],
    input=EmailConfirmInput,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        400: 'The link is invalid, spent or expired, or the account changed since it was sent',
        409: 'The new address belongs to another account by now',
    },
)
async def confirm_email_change(request: Request) -> Response:
    """Make the address change the link was mailed for (logged in or not: the token names the user)."""
    services = services_of(request)
    store = services.one_time_tokens
    grant = await store.find(request.validated.token, CHANGE_EMAIL)
    if grant is None:
        raise _refuse(request, 'unknown, spent or expired token', None)
    if request.user is not None and request.user.id != grant.user_id:
        raise _refuse(request, "another user's token", grant.user_id)
    model = services.config.user_model
    user = await model.find_one(id=grant.user_id)
    pending = user.pending_email if user is not None else None
    if (
        user is None
        or pending is None
        or not grant.binds(_binding(user.saved_id, user.email_key, address_key(pending)))
    ):
        raise _refuse(request, 'the account changed since the token was issued', grant.user_id)
    holder = await model.find_by_email(pending)
    if holder is not None and holder.id != user.id:
        audit.log_event('email.confirm_failure', request=request, reason='address taken', user_id=user.id)
        raise DuplicateKeyError('email')  # the link stays good: the other account may let the address go
    if not await store.spend(grant):
        raise _refuse(request, 'token already used', user.id)
    # Only while the account still has the address and the pending change the link was sent for.
    if not await user.replace_email(pending, expected_key=user.email_key, pending=pending):
        raise _refuse(request, 'the account changed while the token was used', user.id)
    await store.discard(user.saved_id, CHANGE_EMAIL)
    audit.log_event('email.changed', request=request, user_id=user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


#: Paths relative to where the account routes are mounted (``'auth/'``).
email_change_urls: dict[str, Any] = {'email/confirm': confirm_email_change}
