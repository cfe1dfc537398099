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

All three are ``Secure`` unless ``ACCOUNTS['cookie_secure']`` is False (a
site served over plain http; browsers treat ``localhost`` as secure).
The refresh route's path is derived from the path of the request, so the
account routes work wherever the project mounts them.
"""

from __future__ import annotations

from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.security.csrf import CSRF_COOKIE, csrf_token, jwt_binding

ACCESS_COOKIE = 'access_token'
REFRESH_COOKIE = 'refresh_token'


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
