"""``login``, ``refresh``, ``logout``, ``logout-all``: a session's life, for API clients and browsers alike.

Login answers an unknown username and a wrong password with the same 401
and the same work (a dummy password check), so neither the body nor the
timing tells which usernames exist; failures are throttled per canonical
username and per client address before any password is checked.
"""

from __future__ import annotations

from typing import Any

from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import REFRESH_COOKIE, delete_session_cookies, set_session_cookies
from panther_like.accounts.schemas import Detail, LoginInput, RefreshInput, SessionsEnded, TokenResponse
from panther_like.exceptions import BadRequestAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.accounts import INVALID_CREDENTIALS
from panther_like.login_state.mfa_tokens import MFARequired
from panther_like.login_state.services import services_of
from panther_like.login_state.trusted_browsers import TRUSTED_COOKIE
from panther_like.routing.api import API
from panther_like.security.csrf import check_csrf, jwt_binding
from panther_like.settings.accounts import COOKIES_ONLY


def token_response(
    request: Request, route: str, pair: dict[str, str], scope: str | None = None, *, from_cookie: bool = False
) -> Response:
    """The OAuth2 token response (RFC 6749 section 5.1), plus the cookies when they are on.

    The tokens stay out of the body where page scripts would be the only readers: in the
    cookies-only mode (``ACCOUNTS['cookies'] = 'only'``), and for a refresh the cookie drove.
    """
    cookies = services_of(request).config.accounts.cookies
    body: dict[str, Any] = {}
    if cookies != COOKIES_ONLY and not from_cookie:
        body = {'access_token': pair['access_token'], 'refresh_token': pair['refresh_token']}
    body.update(token_type='bearer', expires_in=services_of(request).login_sessions.codec.life)
    if scope:
        body['scope'] = scope
    # RFC 6749 section 5.1: a response holding tokens must not be cached.
    response = Response(body, headers={'Cache-Control': 'no-store', 'Pragma': 'no-cache'})
    if cookies:
        set_session_cookies(response, request, route, pair)
    return response


def _granted_scopes(user: Any, requested: str | None) -> list[str]:
    """The scopes asked for that the user may have (`BaseUser.allowed_scopes`); the others are dropped."""
    if not requested:
        return []
    allowed = user.allowed_scopes()
    return [scope for scope in dict.fromkeys(requested.split()) if scope in allowed]


@API(
    methods=['POST'],
    input=LoginInput,
    form=True,
    output=TokenResponse,
    responses={
        401: 'Invalid username or password; or a second factor is needed: {"mfa_required": true, "mfa_token"}',
        403: 'Account disabled or not verified',
        429: 'Too many failed attempts (Retry-After)',
    },
)
async def login(request: Request) -> Response:
    """Log in with a username and a password: a new session's token pair."""
    data: LoginInput = request.validated
    accounts = services_of(request).accounts
    user = await accounts.check_credentials(request, data.username, data.password)
    scopes = _granted_scopes(user, data.scope)
    mfa_token = await accounts.password_step(request, user, scopes, request.cookies.get(TRUSTED_COOKIE))
    if mfa_token is not None:  # no session and no cookie until the second step (login/mfa)
        raise MFARequired(mfa_token, await accounts.second_step_methods(user))
    pair = await accounts.login(user, scopes=scopes or None, request=request)
    return token_response(request, 'login', pair, ' '.join(scopes))


# /docs' Authorize button logs in here with the OAuth2 password flow (see panther_like.openapi.document).
login.openapi_oauth2_token_endpoint = True  # type: ignore[attr-defined]


@API(
    methods=['POST'],
    input=RefreshInput,
    output=TokenResponse,
    responses={
        401: 'The refresh token is invalid, expired, revoked or already used',
        403: 'CSRF check failed (refresh token from the cookie)',
    },
)
async def refresh(request: Request) -> Response:
    """Exchange a refresh token (good once) for a new pair; a reused one ends its session."""
    token = request.validated.refresh_token
    from_cookie = False
    if token is None and services_of(request).config.accounts.cookies:
        token = request.cookies.get(REFRESH_COOKIE) or None
        if token is not None:
            check_csrf(request, jwt_binding(token))
            from_cookie = True
    if token is None:
        where = ' or the refresh_token cookie' if services_of(request).config.accounts.cookies else ''
        raise BadRequestAPIError(f'Send "refresh_token" in a JSON body{where}')
    pair = await services_of(request).accounts.refresh(token, request=request)  # a refusal is audited there
    return token_response(request, 'refresh', pair, from_cookie=from_cookie)


def _ended(request: Request, route: str, body: dict[str, Any]) -> Response:
    response = Response(body)
    if services_of(request).config.accounts.cookies:
        delete_session_cookies(response, request, route)
    return response


@API(auth=AccountAuthentication, methods=['POST'], output=Detail)
async def logout(request: Request) -> Response:
    """End this session: its access and refresh tokens stop working in every worker."""
    await request.user.logout()
    return _ended(request, 'logout', {'detail': 'Logged out'})


@API(auth=AccountAuthentication, methods=['POST'], output=SessionsEnded)
async def logout_all(request: Request) -> Response:
    """End every session of this user, this one included."""
    ended = await services_of(request).accounts.logout_everywhere(request.user.id, request=request)
    return _ended(request, 'logout-all', {'detail': 'Logged out of every session', 'ended': ended})


__all__ = ['INVALID_CREDENTIALS', 'login', 'logout', 'logout_all', 'refresh', 'token_response']
