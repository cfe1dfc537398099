"""Security notices: a short mail to the owner when something changes how their account is entered.

Why: whoever changed it may not be the owner. The notice says what
happened, when, from which address and browser, and points to the
session list, where a session that is not theirs can be ended. It carries
no link and no token, so there is nothing in it to phish with.

On by default; ``ACCOUNTS['security_notices'] = False`` turns them off. A
user without an address gets none. The mail leaves after
the response (`Outbox`), so it never slows the request or fails it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from panther_like.accounts.cookies import mount_of
from panther_like.http.request import Request
from panther_like.login_state.services import services_of
from panther_like.mail import Message, is_address

PASSWORD_CHANGED = 'password_changed'
PASSWORD_RESET = 'password_reset'
FACTOR_ADDED = 'factor_added'
FACTOR_REMOVED = 'factor_removed'
RECOVERY_CODES_REGENERATED = 'recovery_codes_regenerated'
RECOVERY_CODE_USED = 'recovery_code_used'
EMAIL_CHANGE_REQUESTED = 'email_change_requested'
EMAIL_REMOVED = 'email_removed'
PASSKEY_ADDED = 'passkey_added'
PASSKEY_REMOVED = 'passkey_removed'

#: what -> (subject, the first sentence of the text)
NOTICES: dict[str, tuple[str, str]] = {
    PASSWORD_CHANGED: ('Your password was changed', 'The password of your account was changed.'),
    PASSWORD_RESET: ('Your password was reset', 'The password of your account was reset with a link sent by mail.'),
    FACTOR_ADDED: ('A second factor was added', 'An authenticator app was set up as a second factor of your account.'),
    FACTOR_REMOVED: ('A second factor was removed', 'The authenticator app of your account was removed.'),
    RECOVERY_CODES_REGENERATED: (
        'New recovery codes were made',
        'A new set of recovery codes was made for your account; the earlier codes no longer work.',
    ),
    RECOVERY_CODE_USED: ('A recovery code was used', 'One of the recovery codes of your account was used.'),
    EMAIL_CHANGE_REQUESTED: (
        'A change of your e-mail address was asked for',
        'Someone signed in to your account asked to change its e-mail address; a confirmation link went to the new '
        'address, and the change is made only once that link is opened.',
    ),
    EMAIL_REMOVED: ('Your e-mail address was removed', 'The e-mail address of your account was removed.'),
    PASSKEY_ADDED: ('A passkey was added', 'A passkey was added to your account: it can sign in without a password.'),
    PASSKEY_REMOVED: ('A passkey was removed', 'A passkey of your account was removed.'),
}


def _address(user: Any) -> str | None:
    """Where the notice goes: as for a password reset, the ``email`` field, else a username that is an address."""
    candidate = user.email if 'email' in type(user).model_fields else user.username
    return candidate if is_address(candidate) else None


def send_security_notice(request: Request, user: Any, what: str, *, route: str, to: str | None = None) -> None:
    """Mail `user` that `what` happened, through request `request` to the account route `route`; to the
    account's address, or to `to` (an address it had)."""
    services = services_of(request)
    address = to if to is not None else _address(user)
    if not services.config.accounts.security_notices or address is None:
        return
    subject, happened = NOTICES[what]
    when = datetime.fromtimestamp(services.clock.time(), UTC).strftime('%Y-%m-%d %H:%M:%S UTC')
    client = request.client[0] if request.client else 'unknown'
    agent = request.headers.get('user-agent') or 'unknown'
    sessions = f'{mount_of(request, route)}sessions'
    text = (
        f'{happened}\n\n'
        f'    When:    {when}\n'
        f'    From:    {client}\n'
        f'    Browser: {agent[:200]}\n\n'
        f'If this was you, there is nothing to do. If not, change your password now and review where your '
        f'account is signed in (the session list, {sessions}), ending any session you do not know.\n'
    )
    message = Message(to=address, subject=subject, text=text)
    services.outbox.post(message, kind=f'notice.{what}', user_id=user.id, request=request)
