"""`accounts_urls`: every account route, paths relative to where the project mounts them."""

from __future__ import annotations

from typing import Any

from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import json_only, json_or_form_only, same_site_only
from panther_like.accounts.devices import session_detail, sessions
from panther_like.accounts.email_change import email_change_urls
from panther_like.accounts.login import login, logout, logout_all, refresh
from panther_like.accounts.login_code import login_code_urls
from panther_like.accounts.mfa import mfa_urls
from panther_like.accounts.passkeys import passkey_urls
from panther_like.accounts.profile import Me, password_change, signup
from panther_like.accounts.providers import provider_urls
from panther_like.accounts.recovery import recovery_urls
from panther_like.accounts.users import users_urls
from panther_like.auth.permissions import IsVerified
from panther_like.pages import pages_urls
from panther_like.routing.api import FunctionAPI

#: The routes that start a session or mail a link: another site must not reach them with the victim's cookies.
SAME_SITE_ROUTES = frozenset({'login', 'signup', 'refresh', 'password/forgot', 'passkeys/login'})

_accounts_urls: dict[str, Any] = {
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
    **users_urls,  # users, users/<user_id> (superusers only)
    **provider_urls,  # providers, providers/exchange, providers/<name>[/login, /link, /callback]
    **pages_urls,  # ui/login, ui/security... (ACCOUNTS['pages']; a 404 while it is off)
    **passkey_urls,  # passkeys, passkeys/register, passkeys/login (+ /options), passkeys/<id> (ACCOUNTS['webauthn'])
}


#: What an unverified user may still do under ``ACCOUNTS['require_verified']``: get verified, see who they are, leave.
UNVERIFIED_ROUTES = frozenset({'verify', 'verify/request', 'logout', 'logout-all'})


def _verified_only(path: str, route: Any) -> Any:
    """`route`, refused (403) to an unverified user while ``ACCOUNTS['require_verified']`` is on.

    Only the routes that need a login: the others (signup, login...) have no user to ask about.
    """
    if isinstance(route, list | tuple):  # one path, several functions (``mfa/totp``: POST and DELETE)
        return [_verified_only(path, function) for function in route]
    if not isinstance(route, FunctionAPI) or route.auth is not AccountAuthentication or path in UNVERIFIED_ROUTES:
        return route
    gated = FunctionAPI(
        route.function,
        auth=route.auth,
        methods=route.methods,
        permissions=[IsVerified(when_required=True), *(route.permissions or ())],
        scopes=route.scopes,
        contract=route.contract,
        throttling=route.throttling,
    )
    gated.__dict__.update({key: value for key, value in vars(route).items() if key not in vars(gated)})
    return gated


_accounts_urls = {path: _verified_only(path, route) for path, route in _accounts_urls.items()}


def _guarded(path: str, route: Any) -> Any:
    """`route` with the guards of `panther_like.accounts.cookies`, checked before its body is read.

    A `GenericAPI` method that reads a body lists `json_only` in its own ``@contract(permissions=...)``.
    """
    if isinstance(route, list | tuple):  # one path, several functions (``mfa/totp``: POST and DELETE)
        return [_guarded(path, function) for function in route]
    if not isinstance(route, FunctionAPI) or route.contract.input is None:
        return route
    guards: list[Any] = [same_site_only] if path in SAME_SITE_ROUTES else []
    guards.append(json_or_form_only if route.contract.form else json_only)
    guarded = FunctionAPI(
        route.function,
        auth=route.auth,
        methods=route.methods,
        permissions=[*guards, *(route.permissions or ())],
        scopes=route.scopes,
        contract=route.contract,
        throttling=route.throttling,
    )
    # What was marked on the route itself (login's OAuth2 token endpoint, for /docs) stays marked.
    guarded.__dict__.update({key: value for key, value in vars(route).items() if key not in vars(guarded)})
    return guarded


accounts_urls: dict[str, Any] = {path: _guarded(path, route) for path, route in _accounts_urls.items()}
