"""The password policy of the account routes: long enough, not the username, not a common password.

The common passwords are the 30,000 most frequent ones in real leaks, as
ranked by zxcvbn (its ``passwords`` frequency list), the estimator
Dropbox built and many sign-up forms use: a list kept up by others is
better than one written here. A password is refused when its lower-case
form is in the list, so ``Password1`` goes the way of ``password1``.
"""

from __future__ import annotations

import functools

from panther_like.db.usernames import InvalidUsername, username_key
from panther_like.exceptions import BadRequestAPIError
from panther_like.settings.accounts import AccountsSettings


class WeakPassword(BadRequestAPIError):
    """400: a new password the policy refuses; the detail says which rule."""


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS['passwords'])


def check_new_password(password: str, username: str, settings: AccountsSettings) -> None:
    """Raise `WeakPassword` (400) with the first rule `password` breaks; return when it passes."""
    if len(password) < settings.password_min_length:
        raise WeakPassword(f'The password must be at least {settings.password_min_length} characters long')
    if len(password) > settings.password_max_length:
        raise WeakPassword(f'The password must be at most {settings.password_max_length} characters long')
    folded = password.casefold()
    if folded == username.casefold() or _key(password) == _key(username):
        raise WeakPassword('The password must not be the username')
    if settings.refuse_common_passwords and password.lower() in common_passwords():
        raise WeakPassword('The password is one of the most common passwords; choose another')


def _key(text: str) -> str | None:
    try:
        return username_key(text)
    except InvalidUsername:
        return None
