"""`accounts_urls`: every account route, paths relative to where the project mounts them."""

from __future__ import annotations

from typing import Any

from panther_like.accounts.devices import session_detail, sessions
from panther_like.accounts.email_change import email_change_urls
from panther_like.accounts.login import login, logout, logout_all, refresh
from panther_like.accounts.login_code import login_code_urls
from panther_like.accounts.mfa import mfa_urls
from panther_like.accounts.profile import Me, password_change, signup
from panther_like.accounts.recovery import recovery_urls

accounts_urls: dict[str, Any] = {
    'signup': signup,
    'login': login,
    'refresh': refresh,
    'logout': logout,
    'logout-all': logout_all,
    'me': Me,
    'password/change': password_change,
    'sessions': sessions,
    'sessions/<sid>': session_detail,
    **email_change_urls,  # email/confirm
    **recovery_urls,  # password/forgot, password/reset, verify/request, verify
    **mfa_urls,  # mfa, mfa/totp, mfa/totp/confirm, mfa/recovery-codes, login/mfa, reauthenticate
    **login_code_urls,  # login/code/request, login/code (ACCOUNTS['login_by_code'])
}
