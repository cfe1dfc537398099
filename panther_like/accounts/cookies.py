"""Browser sessions: the cookies login and refresh set when ``ACCOUNTS['cookies']`` is on.

- ``access_token``: HttpOnly (page scripts cannot read it, so an XSS cannot
  carry it away), SameSite=Lax, Path=/; every route reads it.
- ``refresh_token``: HttpOnly, SameSite=Strict, and a Path limited to the
  refresh route, so the long-lived token travels on one request only.
- ``csrftoken``: readable by the page, which echoes it in ``X-CSRFToken`` on
  POST, PUT, PATCH and DELETE; another site can make the browser send the
  cookies but cannot read this one to write the header (double submit).
  Its value is an HMAC of the login session (``sid``) under the app's key
  (`panther_like.security.csrf`): the same across refreshes of one login,
  and not one a sibling subdomain that plants a cookie can make.

Two guards keep other sites out of the routes that start a session
(`same_site_only`, `json_only`): in cookie mode a foreign ``Origin`` is a
403 on login, signup, refresh and forgot-password (else a page elsewhere
could log the victim into the attacker's account: login CSRF), and a
JSON route refuses any other content type with a 415, since ``text/plain``
and forms are what another site may send without a preflight.

All three are ``Secure`` unless ``ACCOUNTS['cookie_secure']`` is False (a
site served over plain http; browsers treat ``localhost`` as secure).
The refresh route's path is derived from the path of the request, so the
account routes work wherever the project mounts them.
"""

from __future__ import annotations

from panther_like import status
from panther_like.exceptions import APIError, AuthorizationAPIError
from panther_like.http.origins import origin_allowed
from panther_like.http.request import FORM_CONTENT_TYPE, Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.security.csrf import CSRF_COOKIE, csrf_token, jwt_binding

ACCESS_COOKIE = 'access_token'
REFRESH_COOKIE = 'refresh_token'
JSON_CONTENT_TYPE = 'application/json'
#: What a guarded account route answers for another origin, in cookie mode.
FOREIGN_ORIGIN = 'Cross-site request refused: the Origin is neither this site nor in TRUSTED_ORIGINS'


def same_site_only(request: Request) -> bool:
    """A permission: with cookies on, a request from a foreign ``Origin`` is a 403 (login CSRF)."""
    if services_of(request).config.accounts.cookies and not origin_allowed(request):
        raise AuthorizationAPIError(FOREIGN_ORIGIN)
    return True


def _has_body(request: Request) -> bool:
    length = request.headers.get('content-length')
    return bool(request.headers.get('content-type') or request.headers.get('transfer-encoding')) or (
        length is not None and length.strip() not in ('', '0')
    )


def json_only(request: Request) -> bool:
    """A permission: a body that is not ``application/json`` is a 415 (a simple cross-site request is not one)."""
    if _has_body(request) and request.content_type != JSON_CONTENT_TYPE:
        raise APIError('Send the body as application/json', status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    return True


def json_or_form_only(request: Request) -> bool:
    """`json_only`, with the OAuth2 form a token endpoint must take (``login``)."""
    if _has_body(request) and request.content_type not in (JSON_CONTENT_TYPE, FORM_CONTENT_TYPE):
        raise APIError(
            'Send the body as application/json or application/x-www-form-urlencoded',
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    return True


def mount_of(request: Request, route: str) -> str:
    """``/auth/`` for a request to ``/auth/login`` served by the route named ``login``."""
    path = request.path.rstrip('/')
    if path.endswith('/' + route):
        return path[: len(path) - len(route)]
    return '/'


def refresh_path(request: Request, route: str) -> str:
    return mount_of(request, route) + 'refresh'


def set_session_cookies(response: Response, request: Request, route: str, pair: dict[str, str]) -> None:
    """Set the three cookies for `pair`; ``csrftoken`` is the login session's, so open pages go on working."""
    services = services_of(request)
    secure = services.config.accounts.cookie_secure
    codec = services.login_sessions.codec
    access_life, refresh_life = codec.life, codec.refresh_life
    response.set_cookie(ACCESS_COOKIE, pair['access_token'], max_age=access_life, secure=secure, samesite='lax')
    response.set_cookie(
        REFRESH_COOKIE,
        pair['refresh_token'],
        max_age=refresh_life,
        path=refresh_path(request, route),
        secure=secure,
        samesite='strict',
    )
    binding = jwt_binding(pair['access_token'])
    if binding is None:  # never: the token service always writes the session into the token
        raise RuntimeError('an access token without a login session (sid)')
    csrf = csrf_token(services.config, binding)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=refresh_life, secure=secure, httponly=False, samesite='lax')


def delete_session_cookies(response: Response, request: Request, route: str) -> None:
    secure = services_of(request).config.accounts.cookie_secure
    response.delete_cookie(ACCESS_COOKIE, secure=secure)
    response.delete_cookie(REFRESH_COOKIE, path=refresh_path(request, route), secure=secure, samesite='strict')
    response.delete_cookie(CSRF_COOKIE, secure=secure, httponly=False)
