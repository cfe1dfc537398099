"""What authenticates the account routes: a bearer JWT, or with cookies on, the ``access_token`` cookie.

A fixed pair rather than the project's ``AUTHENTICATION``: these routes
need a JWT (logout ends the token's session), whatever the rest of the
project uses. The header wins when both are sent; the cookie is read only
when ``ACCOUNTS['cookies']`` is on, and then with the CSRF check of
`CookieJWTAuthentication` (403 for an unsafe method without a matching
``X-CSRFToken``).
"""

from __future__ import annotations

from typing import Any

from panther_like.auth.authentication_classes import BaseAuthentication, CookieJWTAuthentication, JWTAuthentication
from panther_like.http.request import HTTPConnection
from panther_like.login_state.services import services_of


class AccountAuthentication(BaseAuthentication):
    uses_jwt = True
    #: How the OpenAPI document shows it: either scheme (the cookie only with ACCOUNTS['cookies']).
    openapi_security = (JWTAuthentication, CookieJWTAuthentication)

    @classmethod
    async def authentication(cls, request: HTTPConnection) -> Any:
        cookies_on = services_of(request).config.accounts.cookies
        if cookies_on and 'authorization' not in request.headers and request.cookies.get('access_token'):
            return await CookieJWTAuthentication.authentication(request)
        return await JWTAuthentication.authentication(request)
