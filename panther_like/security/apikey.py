"""API keys in a query parameter, a header or a cookie: `APIKeyQuery`, `APIKeyHeader`, `APIKeyCookie`.

Subclass one, set `param_name` (default ``"key"``, as in Ninja) and write
``authenticate(self, request, key)``. A key sent twice is refused (which
copy would be the real one?), an empty one counts as absent.

`APIKeyCookie` defends against cross-site request forgery by default
(see `panther_like.security.csrf`): for an unsafe method the request must
carry header ``X-CSRFToken`` equal to cookie ``csrftoken``, both holding
the token bound to the key (`APIKeyCookie.csrf_token`), and come from no
foreign ``Origin``; otherwise 403. The check runs only when the key cookie
is present, so a list like ``[cookie_key, bearer]`` still lets a
header-authenticated client through. A websocket handshake that carries
the key cookie is refused when its ``Origin`` is foreign, ``csrf=False``
or not: a browser sends the cookie whichever page opens the socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from panther_like.audit import register_credential_param
from panther_like.exceptions import ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.services import bound_services
from panther_like.security.base import AuthErrorResponse, SecurityObject
from panther_like.security.csrf import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SAFE_METHODS,
    check_csrf,
    check_origin,
    csrf_secret,
    csrf_token,
)


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
        if getattr(self, 'openapi_in', None) == 'query':  # a key in a URL reaches access logs: mask it there
            register_credential_param(self.param_name)

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
    """A cookie; ``APIKeyCookie(csrf=False)`` turns the CSRF token check off (see the module docstring)."""

    openapi_in = 'cookie'
    uses_cookies = True
    csrf: bool = True
    openapi_responses: Mapping[int, Any] = {401: AuthErrorResponse, 403: AuthErrorResponse}

    def __init__(self, param_name: str | None = None, *, csrf: bool = True) -> None:
        super().__init__(param_name)
        self.csrf = csrf
        if not csrf:
            self.openapi_responses = {401: AuthErrorResponse}

    def bind(self, config: Any) -> None:
        if self.csrf and csrf_secret(config) is None:
            raise ConfigError(
                'SECRET_KEY',
                None,
                f'{self!r} checks CSRF tokens, which are derived from SECRET_KEY: '
                'set it in the settings module (or pass csrf=False)',
            )

    def get_credential(self, request: HTTPConnection) -> str | None:
        key = request.cookies.get(self.param_name) or None
        if key is not None:
            if getattr(request, 'method', None) is None:  # a websocket handshake: csrf=False or not
                check_origin(request)
            elif self.csrf:
                check_csrf(request, self.csrf_binding(key))
        return key

    def csrf_binding(self, key: str) -> str | None:
        """What this credential's CSRF token is bound to (None: nothing; unsafe requests are refused)."""
        return f'cookie:{self.param_name}:{key}'

    def csrf_token(self, key: str, config: Any = None) -> str:
        """The ``csrftoken`` to set next to a key cookie you issue (`config`: the app's, by default)."""
        binding = self.csrf_binding(key)
        if binding is None:
            raise ValueError('this credential names no session to bind a CSRF token to')
        return csrf_token(config if config is not None else bound_services().config, binding)

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


__all__ = [
    'CSRF_COOKIE',
    'CSRF_HEADER',
    'SAFE_METHODS',
    'APIKeyBase',
    'APIKeyCookie',
    'APIKeyHeader',
    'APIKeyQuery',
    'check_csrf',
]
