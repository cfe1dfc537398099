"""The configuration-driven authentication classes named by ``AUTHENTICATION``.

A class here is a template: `authentication(request)` returns the user or
raises `AuthenticationAPIError`. The JWT classes are built on the
per-route security objects (`panther_like.security`): each names, in
`credential`, the security object that reads its token (the
``Authorization`` header, a query parameter, a cookie) and writes its
``WWW-Authenticate`` challenge, so a Bearer header is parsed by one parser
and challenged by one writer whichever kind of ``auth=`` a route uses.
Verifying the token, checking revocation and finding the user is the
app's login-session service (`panther_like.login_state.services.services_of`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from panther_like.db.user import bound_sessions
from panther_like.exceptions import AuthenticationAPIError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.services import services_of
from panther_like.security.apikey import CSRF_COOKIE, CSRF_HEADER, APIKeyCookie, APIKeyQuery
from panther_like.security.base import SecurityObject
from panther_like.security.challenges import bearer_challenge
from panther_like.security.csrf import jwt_binding
from panther_like.security.http import HttpBearer, plain_bearer_token
from panther_like.security.oidc import OIDCBearer

ACCESS_JWT = 'An access JWT'


class BaseAuthentication:
    """Subclass and implement ``authentication(cls, request)`` (a classmethod or an instance method).

    Return the user (any value but ``None``), or raise
    `AuthenticationAPIError` with a short reason; returning ``None`` means
    "not authenticated" and becomes a 401. ``request`` is a `Request` or,
    for ``WS_AUTHENTICATION``, the `GenericWebsocket`.
    """

    #: Whether the class needs JWT settings (the app checks a key exists at build time).
    uses_jwt: ClassVar[bool] = False
    #: Whether it reads a cookie: a websocket handshake it admits must then come from no foreign Origin.
    uses_cookies: ClassVar[bool] = False
    #: Whether it needs ``OIDC_RESOURCE`` (the app checks it is set at build time).
    uses_oidc: ClassVar[bool] = False

    @classmethod
    async def authentication(cls, request: HTTPConnection) -> Any:
        raise NotImplementedError(f'{cls.__qualname__} must implement authentication(request)')


# -- where a JWT is read from -------------------------------------------------------------------


class _AccessToken(SecurityObject):
    """The decision every JWT credential shares: the app's token service verifies the token.

    `resolve` is the template's, with the call to `authenticate` written out:
    it runs on every authenticated request, and the service never answers None.
    """

    async def authenticate(self, request: HTTPConnection, token: str) -> Any:
        return await services_of(request).login_sessions.authenticate(token, request)

    def short_reading(self, request: HTTPConnection) -> str | None:
        """A reading of the token that can only find tokens `get_credential` read: a key for the cache.

        A kind that writes none has no warm path (a cookie, say, whose CSRF check runs on every request).
        """
        return None

    def warm_path(self) -> Callable[[HTTPConnection], Any] | None:
        """`remembered`, when it may stand in for `resolve` on a warm request; else None.

        It may when the kind has a `short_reading` and this object reads and decides as the class
        that declared it does: a subclass that adds a check to `get_credential`, `resolve` or
        `authenticate` gets its check run on every request, warm or not.
        """
        kind = type(self)
        declared = next(cls for cls in kind.__mro__ if 'short_reading' in vars(cls))
        if declared is _AccessToken:
            return None
        for name in ('get_credential', 'resolve', 'authenticate'):
            if inspect.getattr_static(kind, name) is not inspect.getattr_static(declared, name):
                return None
        return self.remembered

    def remembered(self, request: HTTPConnection) -> Any:
        """The user of the request's token from this worker's memory, else None: then `resolve` decides."""
        token = self.short_reading(request)
        if token is None:
            return None
        return services_of(request).login_sessions.remembered(token, request)

    async def resolve(self, request: HTTPConnection) -> Any:
        token = self.get_credential(request)
        if token is None:
            raise self.missing()
        try:
            return await services_of(request).login_sessions.authenticate(token, request)
        except AuthenticationAPIError as exc:
            raise self.challenged(exc) from None


class BearerJWT(_AccessToken, HttpBearer):
    """An access JWT in ``Authorization: Bearer <jwt>`` (RFC 6750 section 2.1)."""

    openapi_bearer_format = 'JWT'

    def short_reading(self, request: HTTPConnection) -> str | None:
        return plain_bearer_token(request)


class QueryParamJWT(_AccessToken, APIKeyQuery):
    """An access JWT in a query parameter (RFC 6750 section 2.3): how a browser websocket sends one.

    The token alone (``?authorization=<jwt>``) or, as Panther's documentation
    shows, with its scheme (``?authorization=Bearer%20<jwt>``).
    """

    def get_credential(self, request: HTTPConnection) -> str | None:
        value = super().get_credential(request)
        if value is None or ' ' not in value:
            return value
        scheme, _, token = value.partition(' ')
        if scheme.lower() != 'bearer' or not token or ' ' in token:
            raise self.invalid(f"Malformed query parameter {self.param_name!r}: send the token or 'Bearer <token>'")
        return token

    @property
    def challenge(self) -> str:
        return bearer_challenge()

    def invalid_challenge(self, reason: str) -> str:
        return bearer_challenge(invalid_reason=reason)

    def missing_detail(self) -> str:
        return f'Query parameter {self.param_name!r} is missing'

    def openapi_scheme(self) -> dict[str, Any]:
        return {**super().openapi_scheme(), 'description': ACCESS_JWT}


class CookieJWT(_AccessToken, APIKeyCookie):
    """An access JWT in a cookie; a ``refresh_token`` cookie alone is not a credential.

    A browser sends cookies with requests other sites make it send, so by default an
    unsafe method also needs header ``X-CSRFToken`` equal to cookie ``csrftoken`` (403
    otherwise); ``CookieJWT('access_token', csrf=False)`` opts out.
    """

    def missing_detail(self) -> str:
        return f'Cookie {self.param_name!r} is missing'

    def csrf_binding(self, key: str) -> str | None:
        return jwt_binding(key)  # the login session: one token across refreshes

    def openapi_scheme(self) -> dict[str, Any]:
        description = ACCESS_JWT
        if self.csrf:
            description += (
                f'; POST, PUT, PATCH and DELETE also need header {CSRF_HEADER} equal to cookie {CSRF_COOKIE!r}'
            )
        return {**super().openapi_scheme(), 'description': description}


# -- the classes a settings module names --------------------------------------------------------


class CredentialAuthentication(BaseAuthentication):
    """An authentication class made of one security object, `credential`, which reads the token and decides.

    The class is what a settings module names; the object does the work, so the same check serves
    ``AUTHENTICATION`` and a route's ``auth=`` alike, with one OpenAPI scheme.
    """

    #: The security object that finds the token and writes the challenge.
    credential: ClassVar[SecurityObject]

    @classmethod
    async def authentication(cls, request: HTTPConnection) -> Any:
        # A refusal is written to the audit log once, by the route's authenticator.
        return await cls.credential.resolve(request)

    @classmethod
    def openapi_scheme(cls) -> dict[str, Any]:
        return cls.credential.openapi_scheme()


class BaseJWTAuthentication(CredentialAuthentication):
    """Reads the token with `credential`, then lets the app's `TokenService` decide.

    A 401 carries the credential's challenge: without an error code when no
    token was sent, with ``error="invalid_token"`` and the reason otherwise.
    """

    uses_jwt = True

    @classmethod
    async def refresh(cls, refresh_token: str) -> dict[str, str]:
        """Exchange a refresh token (good once) for a new pair; see `LoginSessions.refresh`."""
        return await bound_sessions().refresh(refresh_token)

    @classmethod
    async def login(cls, user: Any) -> dict[str, str]:
        return await bound_sessions().login(user)


class JWTAuthentication(BaseJWTAuthentication):
    """``Authorization: Bearer <jwt>``: scheme case-insensitive, exactly two parts, one header."""

    credential = BearerJWT()


class QueryParamJWTAuthentication(BaseJWTAuthentication):
    """``?authorization=<jwt>``: how a browser websocket, which cannot set headers, sends a token."""

    credential = QueryParamJWT('authorization')


class CookieJWTAuthentication(BaseJWTAuthentication):
    """Cookie ``access_token``; POST, PUT, PATCH and DELETE also need ``X-CSRFToken`` == cookie ``csrftoken``.

    A refusal of the CSRF check is a 403 with a JSON reason. To opt out (an API whose
    cookies no browser holds), subclass with ``credential = CookieJWT('access_token', csrf=False)``.
    A ``refresh_token`` cookie alone is not a credential.
    """

    credential = CookieJWT('access_token')
    uses_cookies = True


class HeaderOrCookieJWTAuthentication(BaseJWTAuthentication):
    """``Authorization: Bearer <jwt>`` when sent, else cookie ``access_token`` (with its CSRF check).

    One class for a browser (the cookie) and an API client (the header) on the same
    routes. The header wins when both are sent, so a client that sends one is judged
    by it alone; with neither, the 401 carries the Bearer challenge. The cookie is
    read as `CookieJWTAuthentication` reads it: POST, PUT, PATCH and DELETE also need
    ``X-CSRFToken`` equal to cookie ``csrftoken``.
    """

    credential = JWTAuthentication.credential
    uses_cookies = True
    #: How the OpenAPI document shows it: either scheme will do.
    openapi_security = (JWTAuthentication, CookieJWTAuthentication)

    @classmethod
    async def authentication(cls, request: HTTPConnection) -> Any:
        if 'authorization' not in request.headers and request.cookies.get('access_token'):
            return await CookieJWTAuthentication.credential.resolve(request)
        return await JWTAuthentication.credential.resolve(request)


class OIDCAuthentication(CredentialAuthentication):
    """An identity provider's access token in ``Authorization: Bearer <jwt>``; see ``OIDC_RESOURCE``.

    ``request.user`` is the local account linked to the token's issuer and subject (made on first
    sight with ``OIDC_RESOURCE['provision']``); a refused token is a 401 with the Bearer challenge,
    a provider whose keys cannot be read a 503.
    """

    uses_oidc = True
    credential = OIDCBearer()
