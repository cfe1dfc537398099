"""``login``, ``refresh``, ``logout``, ``logout-all``: a session's life, for API clients and browsers alike.

Login answers an unknown username and a wrong password with the same 401
and the same work (a dummy password check), so neither the body nor the
timing tells which usernames exist; failures are throttled per canonical
username and per client address before any password is checked.
"""

from __future__ import annotations

from typing import Any

from panther_like import audit
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import REFRESH_COOKIE, delete_session_cookies, set_session_cookies
from panther_like.accounts.schemas import Detail, LoginInput, RefreshInput, SessionsEnded, TokenResponse
from panther_like.db.usernames import InvalidUsername, username_key
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError, BadRequestAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.routing.api import API
from panther_like.security.csrf import check_csrf, jwt_binding

INVALID_CREDENTIALS = 'Invalid username or password'


def token_response(request: Request, route: str, pair: dict[str, str], scope: str | None = None) -> Response:
    """The OAuth2 token response (RFC 6749 section 5.1), plus the cookies when they are on."""
    body: dict[str, Any] = {
        'access_token': pair['access_token'],
        'refresh_token': pair['refresh_token'],
        'token_type': 'bearer',
        'expires_in': int(request.app.config.jwt.life_time.total_seconds()),
    }
    if scope:
        body['scope'] = scope
    # RFC 6749 section 5.1: a response holding tokens must not be cached.
    response = Response(body, headers={'Cache-Control': 'no-store', 'Pragma': 'no-cache'})
    if request.app.config.accounts.cookies:
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
        401: 'Invalid username or password',
        403: 'Account disabled or not verified',
        429: 'Too many failed attempts (Retry-After)',
    },
)
async def login(request: Request) -> Response:
    """Log in with a username and a password: a new session's token pair."""
    data: LoginInput = request.validated
    model = request.app.config.user_model
    try:
        key: str | None = username_key(data.username)
    except InvalidUsername:
        key = None  # cannot exist: answered like any unknown username
    throttle = request.app.login_throttle
    await throttle.check(request, key or data.username)
    user = None if key is None else await model.find_one(username_key=key)
    if user is None:
        await model.verify_password_dummy(data.password)
    if user is None or not await user.verify_password(data.password):
        await throttle.record_failure(request, key or data.username, user_id=user.id if user else None)
        raise AuthenticationAPIError(INVALID_CREDENTIALS)
    await throttle.reset(request, key)
    if not user.is_active:
        audit.log_event('login.refused', request=request, reason='account disabled', user_id=user.id)
        raise AuthorizationAPIError('This account is disabled')
    if request.app.config.accounts.require_verified and not user.is_verified:
        audit.log_event('login.refused', request=request, reason='not verified', user_id=user.id)
        raise AuthorizationAPIError('Verify your e-mail address before logging in')
    scopes = _granted_scopes(user, data.scope)
    pair = await request.app.tokens.login(user, scopes=scopes or None, request=request)
    return token_response(request, 'login', pair, ' '.join(scopes))


# /docs' Authorize button logs in here with the OAuth2 password flow (see panther_like.openapi.document).
login.openapi_oauth2_token_endpoint = True


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
    if token is None and request.app.config.accounts.cookies:
        token = request.cookies.get(REFRESH_COOKIE) or None
        if token is not None:
            check_csrf(request, jwt_binding(token))
    if token is None:
        where = ' or the refresh_token cookie' if request.app.config.accounts.cookies else ''
        raise BadRequestAPIError(f'Send "refresh_token" in a JSON body{where}')
    pair = await request.app.tokens.refresh(token, request=request)  # a refusal is audited there
    return token_response(request, 'refresh', pair)


def _ended(request: Request, route: str, body: dict[str, Any]) -> Response:
    response = Response(body)
    if request.app.config.accounts.cookies:
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
    ended = await request.app.tokens.end_sessions(request.user.id)
    return _ended(request, 'logout-all', {'detail': 'Logged out of every session', 'ended': ended})


__all__ = ['INVALID_CREDENTIALS', 'login', 'logout', 'logout_all', 'refresh', 'token_response']
