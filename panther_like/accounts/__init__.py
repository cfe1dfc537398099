"""Ready-made account routes: mount `accounts_urls` like any URL group, ``{'auth/': accounts_urls}``.

Signup, login (JSON or the OAuth2 password grant), refresh, logout, logout
everywhere, the user's own profile, password change and the list of
sessions, configured by the ``ACCOUNTS`` setting (`AccountsSettings`):
browser cookies with CSRF protection, the password policy, whether login
waits for a verified address. See docs/accounts.md.
"""

from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.policy import WeakPassword, check_new_password
from panther_like.accounts.urls import accounts_urls

__all__ = ['AccountAuthentication', 'WeakPassword', 'accounts_urls', 'check_new_password']
