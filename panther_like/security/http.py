"""The two ``Authorization`` header schemes: `HttpBearer` (RFC 6750) and `HttpBasicAuth` (RFC 7617).

Both read the header through `authorization_credentials`, the one parser
of ``Authorization`` in the framework (the JWT classes use `HttpBearer`
too), so every scheme agrees on what a credential is. User code in
`authenticate` only ever sees a well-formed credential: an empty bearer
token, bad base64, credentials that are not UTF-8 or a repeated header are
answered with 401 without calling it.

Every password `HttpBasicAuth` checks counts against the app's login
throttle (``LOGIN_THROTTLE``), under the same counters as ``/auth/login``:
a Basic route is a password oracle too, so guessing there locks the
guessing address out of both, and the other way round.
"""

from __future__ import annotations

import binascii
from typing import Any, ClassVar

from panther_like.db.usernames import InvalidUsername, username_key
from panther_like.exceptions import AuthenticationAPIError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.services import services_of
from panther_like.security.base import SecurityObject
from panther_like.security.challenges import REALM, bearer_challenge, quoted

#: What separates a scheme from its credentials (RFC 9110 section 11.4: ``auth-scheme 1*SP token68``).
SP = ' '
#: Optional whitespace around a field value (RFC 9110 section 5.6.3); nothing else is trimmed.
OWS = ' \t'


class MalformedAuthorization(ValueError):
    """The ``Authorization`` header is present but cannot be read; the message is the client's 401 detail."""


def authorization_credentials(request: HTTPConnection, scheme: str) -> str | None:
    """The credentials of ``Authorization: <scheme> <credentials>``; None when absent or of another scheme.

    Only SP separates the scheme from its credentials and only SP/HTAB
    around the value are optional whitespace: ``str.split()`` and
    ``str.strip()`` would also treat control characters and Unicode
    spaces (U+0085, U+00A0 ...) as separators, which proxies and WAFs in
    front of the app do not, so a header they read one way would be read
    another way here. ``Bearer<TAB>token`` is therefore not a Bearer
    credential. Raises `MalformedAuthorization` for a repeated header.
    """
    values = request.headers.getlist('authorization')
    if not values:
        return None
    if len(values) > 1:
        raise MalformedAuthorization('Send exactly one Authorization header')
    name, _, credentials = values[0].strip(OWS).partition(SP)
    if name.lower() != scheme:
        return None
    return credentials.lstrip(SP)


def plain_bearer_token(request: HTTPConnection) -> str | None:
    """The text after ``Bearer `` in a lone ``Authorization`` header, else None: a key for the token cache.

    A shortcut for the warm path, which must never accept what
    `authorization_credentials` refuses. It cannot: the cache holds only
    tokens that parser read and the token service verified, and a header
    that is ``Bearer `` followed by such a token reads as that same token
    there. Anything else (no token, spaces in it, a repeated header, another
    spelling of the scheme) finds nothing and goes the full way.
    """
    found: bytes | None = None
    for name, value in request.scope['headers']:
        if name == b'authorization':
            if found is not None:
                return None
            found = value
    if found is None or found[:7] != b'Bearer ':
        return None
    return found[7:].decode('latin-1')


class HttpBearer(SecurityObject):
    """``Authorization: Bearer <token>``; subclass and write ``authenticate(self, request, token)``.

    ``"Bearer "`` with an empty token is a 401 without calling `authenticate`:
    user code never has to guard against ``''``.
    """

    openapi_bearer_format: ClassVar[str | None] = None
    realm: ClassVar[str] = REALM

    def get_credential(self, request: HTTPConnection) -> str | None:
        try:
            token = authorization_credentials(request, 'bearer')
        except MalformedAuthorization as exc:
            raise self.invalid(str(exc)) from None
        if token is None:
            if request.headers.getlist('authorization'):
                raise self.missing('Authorization header must be "Bearer <token>"')
            return None
        if not token or SP in token:
            raise self.invalid('Authorization header must be "Bearer <token>"')
        return token

    @property
    def challenge(self) -> str:
        return bearer_challenge(self.realm)

    def invalid_challenge(self, reason: str) -> str:
        return bearer_challenge(self.realm, reason)

    def missing_detail(self) -> str:
        return 'Authorization header is missing'

    def openapi_scheme(self) -> dict[str, Any]:
        scheme: dict[str, Any] = {'type': 'http', 'scheme': 'bearer'}
        if self.openapi_bearer_format:
            scheme['bearerFormat'] = self.openapi_bearer_format
        return scheme

    def authenticate(self, request: HTTPConnection, token: str) -> Any:
        raise NotImplementedError(f'{type(self).__qualname__} must implement authenticate(request, token)')


class HttpBasicAuth(SecurityObject):
    """``Authorization: Basic base64(user:password)``; write ``authenticate(self, request, username, password)``.

    Base64 is decoded strictly (no stray characters, correct padding) and
    the result as UTF-8 (RFC 7617 ``charset="UTF-8"``); the password may
    contain ``:``, the username may not. `realm` names the protection space
    in the ``WWW-Authenticate: Basic realm="..."`` challenge.

    Each request is throttled like a login for its username (the same
    counters as ``/auth/login``): `authenticate` returning None or raising
    `AuthenticationAPIError` is a failed attempt; past the limits the
    address gets 429 with ``Retry-After``, before `authenticate` runs, even
    with the right password. A principal returned starts the address over.
    ``throttle = False`` (a class attribute, or ``HttpBasicAuth(throttle=False)``)
    turns this off, for a route whose credentials are not guessable passwords
    (long random keys), or that is throttled in front of the app.
    """

    realm: str = REALM
    #: Count the passwords checked here against the login throttle (see the class docstring).
    throttle: bool = True

    def __init__(self, realm: str | None = None, *, throttle: bool | None = None) -> None:
        if realm is not None:
            self.realm = realm
        if throttle is not None:
            self.throttle = throttle

    def get_credential(self, request: HTTPConnection) -> tuple[str, str] | None:
        try:
            encoded = authorization_credentials(request, 'basic')
        except MalformedAuthorization as exc:
            raise self.invalid(str(exc)) from None
        if encoded is None:
            return None
        try:
            decoded = binascii.a2b_base64(encoded.encode('ascii'), strict_mode=True).decode('utf-8')
        except (UnicodeError, binascii.Error, ValueError):
            raise self.invalid('Basic credentials are not valid base64 of UTF-8 text') from None
        username, separator, password = decoded.partition(':')
        if not separator:
            raise self.invalid('Basic credentials must be "username:password"')
        return username, password

    def authenticate_arguments(self, credential: tuple[str, str]) -> tuple[str, str]:
        return credential

    async def resolve(self, request: HTTPConnection) -> Any:
        if not self.throttle:
            return await super().resolve(request)
        credential = self.get_credential(request)
        if credential is None:
            raise self.missing()
        subject = throttle_subject(credential[0])
        throttle = services_of(request).throttle
        await throttle.check(request, subject)  # 429 for this address, before any password is checked
        try:
            principal = await self._authenticate(request, *credential)
        except AuthenticationAPIError as exc:
            await throttle.record_failure(request, subject)
            raise self.challenged(exc) from None
        # Any other exception: the reserved attempt keeps counting, as a failure would.
        if principal is None:
            await throttle.record_failure(request, subject)
            raise self.invalid('Invalid credentials')
        await throttle.reset(request, subject)  # the password held, even when the account is then refused
        return await self.checked(request, principal)

    @property
    def challenge(self) -> str:
        return f'Basic realm="{quoted(self.realm)}", charset="UTF-8"'

    def missing_detail(self) -> str:
        return 'Authorization header with Basic credentials is missing'

    def openapi_scheme(self) -> dict[str, Any]:
        # The realm is part of the scheme: two realms are two sets of credentials in the docs page.
        return {'type': 'http', 'scheme': 'basic', 'description': f'HTTP Basic, realm "{self.realm}"'}

    def authenticate(self, request: HTTPConnection, username: str, password: str) -> Any:  # type: ignore[override]
        raise NotImplementedError(f'{type(self).__qualname__} must implement authenticate(request, username, password)')

    def __repr__(self) -> str:
        return f'{type(self).__qualname__}(realm={self.realm!r})'


def throttle_subject(username: str) -> str:
    """What the login throttle counts a username as: its canonical key, as ``/auth/login`` does."""
    try:
        return username_key(username)
    except InvalidUsername:
        return username  # a name no account can have: counted as typed, like an unknown one at login
