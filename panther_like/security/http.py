"""The two ``Authorization`` header schemes: `HttpBearer` (RFC 6750) and `HttpBasicAuth` (RFC 7617).

Both parse the header themselves, strictly, so that user code in
`authenticate` only ever sees a well-formed credential: an empty bearer
token, bad base64, credentials that are not UTF-8 or a repeated header are
answered with 401 without calling it.
"""

from __future__ import annotations

import binascii
from typing import Any, ClassVar

from panther_like.exceptions import AuthenticationAPIError
from panther_like.security.base import REALM, SecurityObject, quoted


def _authorization(request: Any, scheme: str) -> str | None:
    """The credentials part of ``Authorization: <scheme> <credentials>``; None if absent or another scheme."""
    values = request.headers.getlist('authorization')
    if not values:
        return None
    if len(values) > 1:
        raise AuthenticationAPIError('Send exactly one Authorization header')
    name, _, rest = values[0].strip().partition(' ')
    if name.lower() != scheme:
        return None
    return rest.strip()


class HttpBearer(SecurityObject):
    """``Authorization: Bearer <token>``; subclass and write ``authenticate(self, request, token)``.

    ``"Bearer "`` with an empty token is a 401 without calling `authenticate`
    (hattori's fix): user code never has to guard against ``''``.
    """

    openapi_bearer_format: ClassVar[str | None] = None
    realm: ClassVar[str] = REALM

    def get_credential(self, request: Any) -> str | None:
        token = _authorization(request, 'bearer')
        if token is None:
            return None
        if not token or ' ' in token:
            raise self._invalid('Authorization header must be "Bearer <token>"')
        return token

    @property
    def challenge(self) -> str:
        return f'Bearer realm="{quoted(self.realm)}"'

    def invalid_challenge(self, reason: str) -> str:
        return f'{self.challenge}, error="invalid_token", error_description="{quoted(reason)}"'

    def missing_detail(self) -> str:
        return 'Authorization header with a Bearer token is missing'

    def openapi_scheme(self) -> dict[str, Any]:
        scheme: dict[str, Any] = {'type': 'http', 'scheme': 'bearer'}
        if self.openapi_bearer_format:
            scheme['bearerFormat'] = self.openapi_bearer_format
        return scheme

    def authenticate(self, request: Any, token: str) -> Any:
        raise NotImplementedError(f'{type(self).__qualname__} must implement authenticate(request, token)')


class HttpBasicAuth(SecurityObject):
    """``Authorization: Basic base64(user:password)``; write ``authenticate(self, request, username, password)``.

    Base64 is decoded strictly (no stray characters, correct padding) and
    the result as UTF-8 (RFC 7617 ``charset="UTF-8"``); the password may
    contain ``:``, the username may not. `realm` names the protection space
    in the ``WWW-Authenticate: Basic realm="..."`` challenge.
    """

    realm: str = REALM

    def __init__(self, realm: str | None = None) -> None:
        if realm is not None:
            self.realm = realm

    def get_credential(self, request: Any) -> tuple[str, str] | None:
        encoded = _authorization(request, 'basic')
        if encoded is None:
            return None
        try:
            decoded = binascii.a2b_base64(encoded.encode('ascii'), strict_mode=True).decode('utf-8')
        except (UnicodeError, binascii.Error, ValueError):
            raise self._invalid('Basic credentials are not valid base64 of UTF-8 text') from None
        username, separator, password = decoded.partition(':')
        if not separator:
            raise self._invalid('Basic credentials must be "username:password"')
        return username, password

    async def _call_authenticate(self, request: Any, credential: tuple[str, str]) -> Any:
        username, password = credential
        result = self.authenticate(request, username, password)
        if hasattr(result, '__await__'):
            result = await result
        return result

    @property
    def challenge(self) -> str:
        return f'Basic realm="{quoted(self.realm)}", charset="UTF-8"'

    def missing_detail(self) -> str:
        return 'Authorization header with Basic credentials is missing'

    def openapi_scheme(self) -> dict[str, Any]:
        # The realm is part of the scheme: two realms are two sets of credentials in the docs page.
        return {'type': 'http', 'scheme': 'basic', 'description': f'HTTP Basic, realm "{self.realm}"'}

    def authenticate(self, request: Any, username: str, password: str) -> Any:  # type: ignore[override]
        raise NotImplementedError(
            f'{type(self).__qualname__} must implement authenticate(request, username, password)'
        )

    def __repr__(self) -> str:
        return f'{type(self).__qualname__}(realm={self.realm!r})'
