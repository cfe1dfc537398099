"""The configuration-driven authentication classes named by ``AUTHENTICATION``.

A class here is a template: `authentication(request)` returns the user or
raises `AuthenticationAPIError`. The JWT classes differ only in where the
token comes from (`get_token`); verifying it, checking revocation and
finding the user is `TokenService`'s job.

For the two bearer schemes every 401 carries a ``WWW-Authenticate``
challenge (RFC 6750 section 3): without an error code when no credentials
were sent, with ``error="invalid_token"`` and the reason otherwise.
"""

from __future__ import annotations

from typing import Any, ClassVar

from panther_like import audit
from panther_like.exceptions import AuthenticationAPIError
from panther_like.request import HTTPConnection
from panther_like.tokens import active_tokens

REALM = 'api'


class BaseAuthentication:
    """Subclass and implement ``authentication(cls, request)`` (a classmethod or an instance method).

    Return the user (any value but ``None``), or raise
    `AuthenticationAPIError` with a short reason; returning ``None`` means
    "not authenticated" and becomes a 401. ``request`` is a `Request` or,
    for ``WS_AUTHENTICATION``, the `GenericWebsocket`.
    """

    #: Whether the class needs JWT settings (the app checks a key exists at build time).
    uses_jwt: ClassVar[bool] = False

    @classmethod
    async def authentication(cls, request: HTTPConnection) -> Any:
        raise NotImplementedError(f'{cls.__qualname__} must implement authentication(request)')


class BaseJWTAuthentication(BaseAuthentication):
    """Finds the token with `get_token`, then lets `TokenService` decide."""

    uses_jwt = True
    #: Sent as ``WWW-Authenticate`` on a 401; None for schemes that are not RFC 6750 bearer methods.
    challenge: ClassVar[str | None] = f'Bearer realm="{REALM}"'

    @classmethod
    def get_token(cls, request: HTTPConnection) -> str:
        raise NotImplementedError

    @classmethod
    async def authentication(cls, request: HTTPConnection) -> Any:
        # A refusal is written to the audit log once, by the route's guard (panther_like.guard).
        try:
            token = cls.get_token(request)
        except AuthenticationAPIError as exc:
            raise cls._with_challenge(exc, error=None) from None
        try:
            return await active_tokens().authenticate(token)
        except AuthenticationAPIError as exc:
            raise cls._with_challenge(exc, error='invalid_token') from None

    @classmethod
    async def refresh(cls, refresh_token: str) -> dict[str, str]:
        """Exchange a refresh token (good once) for a new pair; see `TokenService.refresh`."""
        try:
            return await active_tokens().refresh(refresh_token)
        except AuthenticationAPIError as exc:
            audit.log_event('refresh.failure', reason=exc.detail, user_id=getattr(exc, 'user_id', None))
            raise

    @classmethod
    async def login(cls, user: Any) -> dict[str, str]:
        return await active_tokens().login(user)

    @classmethod
    def _with_challenge(cls, exc: AuthenticationAPIError, *, error: str | None) -> AuthenticationAPIError:
        if cls.challenge is not None:
            value = cls.challenge
            if error is not None:
                description = exc.detail.replace('\\', '').replace('"', "'")
                value += f', error="{error}", error_description="{description}"'
            exc.headers['WWW-Authenticate'] = value
        return exc


class JWTAuthentication(BaseJWTAuthentication):
    """``Authorization: Bearer <jwt>``: scheme case-insensitive, exactly two parts, one header."""

    keyword = 'bearer'

    @classmethod
    def get_token(cls, request: HTTPConnection) -> str:
        values = request.headers.getlist('authorization')
        if not values:
            raise AuthenticationAPIError('Authorization header is missing')
        if len(values) > 1:
            raise AuthenticationAPIError('Send exactly one Authorization header')
        # RFC 7235: only SP (and HTAB, lenient) separate scheme and token; str.split() would also split on
        # control characters and Unicode spaces that proxies and WAFs do not treat as separators.
        # partition() rather than a regex: this runs on every authenticated request.
        scheme, _, token = values[0].strip(' \t').replace('\t', ' ').partition(' ')
        token = token.lstrip(' ')
        if not token or ' ' in token or scheme.lower() != cls.keyword:
            raise AuthenticationAPIError('Authorization header must be "Bearer <token>"')
        return token


class QueryParamJWTAuthentication(BaseJWTAuthentication):
    """``?authorization=<jwt>``: how a browser websocket, which cannot set headers, sends a token."""

    param_name = 'authorization'

    @classmethod
    def get_token(cls, request: HTTPConnection) -> str:
        values = request.query_params.getlist(cls.param_name)
        if not values or not values[0]:
            raise AuthenticationAPIError(f'Query parameter {cls.param_name!r} is missing')
        if len(values) > 1:
            raise AuthenticationAPIError(f'Send query parameter {cls.param_name!r} once')
        return values[0]


class CookieJWTAuthentication(BaseJWTAuthentication):
    """Cookie ``access_token``; a ``refresh_token`` cookie alone is not a credential."""

    cookie_name = 'access_token'
    challenge = None

    @classmethod
    def get_token(cls, request: HTTPConnection) -> str:
        token = request.cookies.get(cls.cookie_name)
        if not token:
            raise AuthenticationAPIError(f'Cookie {cls.cookie_name!r} is missing')
        return token
