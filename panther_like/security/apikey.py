"""API keys in a query parameter, a header or a cookie: `APIKeyQuery`, `APIKeyHeader`, `APIKeyCookie`.

Subclass one, set `param_name` (default ``"key"``, as in Ninja) and write
``authenticate(self, request, key)``. A key sent twice is refused (which
copy would be the real one?), an empty one counts as absent.

`APIKeyCookie` defends against cross-site request forgery by default: a
browser attaches cookies to requests that other sites trigger, so for an
unsafe method (anything but GET, HEAD, OPTIONS, TRACE) the request must
also carry header ``X-CSRFToken`` equal to cookie ``csrftoken`` (the
double-submit pattern), compared in constant time; otherwise 403. The check
runs only when the key cookie is present, so a list like
``[cookie_key, bearer]`` still lets a header-authenticated client through.
For a websocket handshake (which CORS does not protect) it requires the
``Origin`` header, when sent, to name the same host as ``Host``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from panther_like.exceptions import AuthorizationAPIError
from panther_like.request import HTTPConnection
from panther_like.security.base import AuthErrorResponse, SecurityObject

SAFE_METHODS = frozenset({'GET', 'HEAD', 'OPTIONS', 'TRACE'})
CSRF_COOKIE = 'csrftoken'
CSRF_HEADER = 'X-CSRFToken'


class APIKeyBase(SecurityObject):
    """What the three API-key objects share: a parameter name and `authenticate(request, key)`."""

    #: A class default that ``APIKeyHeader('X-Key')`` overrides per object.
    param_name: str = 'key'
    openapi_in: ClassVar[str]

    def __init__(self, param_name: str | None = None) -> None:
        if param_name is not None:
            if not isinstance(param_name, str) or not param_name:
                raise ValueError('param_name must be a non-empty string')
            self.param_name = param_name

    def _single(self, values: list[str]) -> str | None:
        if not values or not values[0]:
            return None
        if len(values) > 1:
            raise self.invalid(f'Send {self.param_name!r} once')
        return values[0]

    def missing_detail(self) -> str:
        return f'API key {self.param_name!r} is missing ({self.openapi_in})'

    def openapi_scheme(self) -> dict[str, Any]:
        return {'type': 'apiKey', 'in': self.openapi_in, 'name': self.param_name}

    def authenticate(self, request: HTTPConnection, key: str) -> Any:
        raise NotImplementedError(f'{type(self).__qualname__} must implement authenticate(request, key)')

    def __repr__(self) -> str:
        return f'{type(self).__qualname__}(param_name={self.param_name!r})'


class APIKeyQuery(APIKeyBase):
    """``?key=...`` (or `param_name`)."""

    openapi_in = 'query'

    def get_credential(self, request: HTTPConnection) -> str | None:
        return self._single(request.query_params.getlist(self.param_name))


class APIKeyHeader(APIKeyBase):
    """A request header, for example ``X-API-Key: ...``; the name is case-insensitive."""

    openapi_in = 'header'

    def get_credential(self, request: HTTPConnection) -> str | None:
        return self._single(request.headers.getlist(self.param_name))

    @property
    def challenge(self) -> str:
        # Not a registered scheme, but RFC 9110 wants a challenge on every 401; FastAPI sends the same.
        return 'APIKey'


class APIKeyCookie(APIKeyBase):
    """A cookie; ``APIKeyCookie(csrf=False)`` turns the CSRF check off (see the module docstring)."""

    openapi_in = 'cookie'
    csrf: bool = True
    openapi_responses: Mapping[int, Any] = {401: AuthErrorResponse, 403: AuthErrorResponse}

    def __init__(self, param_name: str | None = None, *, csrf: bool = True) -> None:
        super().__init__(param_name)
        self.csrf = csrf
        if not csrf:
            self.openapi_responses = {401: AuthErrorResponse}

    def get_credential(self, request: HTTPConnection) -> str | None:
        key = request.cookies.get(self.param_name) or None
        if key is not None and self.csrf:
            check_csrf(request)
        return key

    def openapi_scheme(self) -> dict[str, Any]:
        scheme = super().openapi_scheme()
        if self.csrf:
            scheme['description'] = (
                f'Cookie {self.param_name!r}; unsafe methods also need header {CSRF_HEADER} '
                f'equal to cookie {CSRF_COOKIE!r}'
            )
        return scheme

    def __repr__(self) -> str:
        return f'{type(self).__qualname__}(param_name={self.param_name!r}, csrf={self.csrf!r})'


def check_csrf(request: HTTPConnection) -> None:
    """403 unless the request is safe, or proves it was made by a page that could read our cookies."""
    method = getattr(request, 'method', None)
    if method is None:  # a websocket handshake
        _check_origin(request)
        return
    if method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, '')
    header = request.headers.getlist(CSRF_HEADER)
    if not cookie or len(header) != 1 or not header[0]:
        raise AuthorizationAPIError(f'CSRF check failed: send header {CSRF_HEADER} equal to cookie {CSRF_COOKIE!r}')
    # compare_digest on str accepts ASCII only; bytes never raise.
    if not hmac.compare_digest(cookie.encode('utf-8', 'surrogateescape'), header[0].encode('utf-8', 'surrogateescape')):
        raise AuthorizationAPIError(f'CSRF check failed: header {CSRF_HEADER} does not match cookie {CSRF_COOKIE!r}')


def _check_origin(connection: HTTPConnection) -> None:
    origins = connection.headers.getlist('origin')
    if not origins:
        return  # not a browser: nothing forged it on a user's behalf
    host = connection.headers.get('host', '')
    try:
        origin_host = urlsplit(origins[0]).netloc
    except ValueError:
        origin_host = ''
    if len(origins) != 1 or not origin_host or origin_host.lower() != host.lower():
        raise AuthorizationAPIError('Cross-site websocket connection refused (Origin does not match Host)')


__all__ = ['APIKeyBase', 'APIKeyCookie', 'APIKeyHeader', 'APIKeyQuery', 'check_csrf']
