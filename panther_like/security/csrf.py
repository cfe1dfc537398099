"""Cross-site request forgery: the ``csrftoken`` a page echoes, bound to its session, and the ``Origin`` check.

A browser attaches a site's cookies to requests that other sites make it
send. So a request authenticated by a cookie must also prove that it was
made by a page of this site:

- Unsafe methods (anything but GET, HEAD, OPTIONS, TRACE) carry header
  ``X-CSRFToken`` equal to cookie ``csrftoken``, and that value must be
  the token of the session the credential belongs to:
  ``base64url(HMAC-SHA256(key, binding))``, where the key is derived from
  ``SECRET_KEY`` (else the JWT key) and the binding names the session
  (the login session ``sid`` of a JWT cookie, the ``sessionid`` of
  `SessionAuth`, the key itself for a plain `APIKeyCookie`). Why bound:
  a sibling subdomain (or a man in the middle of plain http) can set a
  ``csrftoken`` cookie for the site; with the plain double-submit pattern
  it could then choose the value the forged request echoes. A bound token
  cannot be made without the key. Both values are compared in constant
  time.
- When such a request says where it comes from (``Origin``), that must be
  this site or one of ``TRUSTED_ORIGINS`` (`panther_like.http.origins`), even
  with a correct token; ``Origin: null`` is foreign.
- A websocket handshake authenticated by a cookie has no token to send
  (browsers cannot add headers to it, and CORS does not cover it): its
  ``Origin``, when sent, must be this site or a trusted one.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from typing import Any

import orjson

from panther_like.exceptions import AuthorizationAPIError
from panther_like.http.origins import origin_allowed
from panther_like.http.request import HTTPConnection
from panther_like.login_state.services import services_of

SAFE_METHODS = frozenset({'GET', 'HEAD', 'OPTIONS', 'TRACE'})
CSRF_COOKIE = 'csrftoken'
CSRF_HEADER = 'X-CSRFToken'
_KEY_CONTEXT = b'panther_like csrf token v1'
MAX_JWT_LENGTH = 16 * 1024
MAX_SID_LENGTH = 256


def csrf_secret(config: Any) -> str | None:
    """The secret the tokens are derived from: ``SECRET_KEY``, else the JWT key; None when there is neither."""
    secret = getattr(config, 'secret_key', None)
    if not secret:
        jwt_settings = getattr(config, 'jwt', None)
        secret = getattr(jwt_settings, 'key', None)
    return secret if isinstance(secret, str) and secret else None


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    # A key of its own, so a CSRF token is never a MAC the JWT key also makes.
    return hmac.new(secret.encode('utf-8', 'surrogateescape'), _KEY_CONTEXT, hashlib.sha256).digest()


def csrf_token(config: Any, binding: str) -> str:
    """The ``csrftoken`` value of the session `binding` names, for the app whose `config` is given."""
    secret = csrf_secret(config)
    if secret is None:
        raise RuntimeError('CSRF tokens need SECRET_KEY (or a JWT key) in the settings module')
    digest = hmac.new(_derived_key(secret), binding.encode('utf-8', 'surrogateescape'), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


def session_binding(session_id: str) -> str:
    """What a `SessionAuth` session's token is bound to."""
    return 'session:' + session_id


def jwt_binding(token: str) -> str | None:
    """What a JWT's token is bound to: its login session (``sid``), the same for the access and refresh tokens.

    The claim is read without verifying the signature: it only picks the
    token the request must echo, and the same JWT is verified before it
    authenticates anyone. None when the JWT has no readable ``sid`` (it
    could not authenticate anyway).
    """
    if not isinstance(token, str) or len(token) > MAX_JWT_LENGTH or token.count('.') != 2:
        return None
    payload = token.split('.')[1]
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    sid = claims.get('sid') if isinstance(claims, dict) else None
    if not isinstance(sid, str) or not sid or len(sid) > MAX_SID_LENGTH:
        return None
    return 'sid:' + sid


def check_origin(connection: HTTPConnection) -> None:
    """403 when a browser says the request comes from a foreign origin (or several, or ``null``)."""
    if not origin_allowed(connection):
        raise AuthorizationAPIError('Cross-site request refused (Origin is not this site or a trusted origin)')


def check_csrf(request: HTTPConnection, binding: str | None) -> None:
    """403 unless the request is safe, or proves it was made by a page of this site for this session.

    `binding` names the session the cookie credential belongs to (None: it
    names none, and an unsafe request is refused). A websocket handshake is
    judged by its ``Origin`` alone.
    """
    method = getattr(request, 'method', None)
    if method is None:  # a websocket handshake
        check_origin(request)
        return
    if method in SAFE_METHODS:
        return
    check_origin(request)
    cookie = request.cookies.get(CSRF_COOKIE, '')
    header = request.headers.getlist(CSRF_HEADER)
    if not cookie or len(header) != 1 or not header[0]:
        raise AuthorizationAPIError(f'CSRF check failed: send header {CSRF_HEADER} equal to cookie {CSRF_COOKIE!r}')
    if binding is None:
        raise AuthorizationAPIError('CSRF check failed: the credential names no session')
    expected = csrf_token(services_of(request).config, binding).encode('ascii')
    # compare_digest on str accepts ASCII only; bytes never raise. Both are compared, always.
    header_ok = hmac.compare_digest(expected, header[0].encode('utf-8', 'surrogateescape'))
    cookie_ok = hmac.compare_digest(expected, cookie.encode('utf-8', 'surrogateescape'))
    if not (header_ok and cookie_ok):
        raise AuthorizationAPIError(
            f"CSRF check failed: header {CSRF_HEADER} and cookie {CSRF_COOKIE!r} must hold this session's token"
        )


__all__ = [
    'CSRF_COOKIE',
    'CSRF_HEADER',
    'SAFE_METHODS',
    'check_csrf',
    'check_origin',
    'csrf_secret',
    'csrf_token',
    'jwt_binding',
    'session_binding',
]
