"""`pages_urls`: the account pages' paths, relative to where the account routes are mounted (``ui/...``)."""

from __future__ import annotations

from typing import Any

from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.pages import entry, security
from panther_like.pages.base import PageAPI
from panther_like.pages.render import StaticResponse, settings_of, static_file


class Static(PageAPI):
    """``pages.css`` and ``passkeys.js``: served from the package, so the pages need no other origin."""

    async def get(self, request: Request, file: str) -> Response:
        settings_of(request)
        content, content_type = static_file(file)
        return StaticResponse(content, content_type)


pages_urls: dict[str, Any] = {
    'ui/login': entry.SignIn,
    'ui/login/mfa': entry.SecondStep,
    'ui/signup': entry.SignUp,
    'ui/password/forgot': entry.ForgotPassword,
    'ui/password/reset': entry.ResetPassword,
    'ui/security': security.Security,
    'ui/password/change': security.ChangePassword,
    'ui/email': security.ChangeEmail,
    'ui/reauthenticate': security.Reauthenticate,
    'ui/logout': security.SignOut,
    'ui/logout-all': security.SignOutEverywhere,
    'ui/sessions/<sid>/end': security.EndSession,
    'ui/mfa/totp': security.BeginTOTP,
    'ui/mfa/totp/confirm': security.ConfirmTOTP,
    'ui/mfa/totp/remove': security.RemoveTOTP,
    'ui/mfa/recovery-codes': security.NewRecoveryCodes,
    'ui/passkeys/<passkey>/rename': security.RenamePasskey,
    'ui/passkeys/<passkey>/remove': security.RemovePasskey,
    'ui/static/<file>': Static,
}
