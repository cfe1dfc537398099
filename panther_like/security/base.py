"""`SecurityObject`: the Ninja-style template every per-route security object follows.

A security object does two things and keeps them apart: `get_credential`
reads where the credential lives (a header, a query parameter, a cookie),
and `authenticate(request, credential)`, which the user writes, decides
who it belongs to. Keeping extraction in the framework means every object
answers malformed input the same way (a 401, never a 500) before user code
ever sees it.

`authenticate` may be sync or async. ``None`` means "not authenticated";
any other value, falsy ones (``0``, ``''``, ``False``) included, is the
principal and becomes ``request.auth``/``request.user``. Raising
`AuthorizationAPIError` means "known but not allowed" (403) and stops a
list of authenticators; raising `AuthenticationAPIError` lets the next one
try; any other exception reaches the app's exception handlers.

Whatever `authenticate` returns then goes through `check_principal`, in
the template, so no subclass can forget it: a deactivated account
(``is_active=False``, or `BaseUser.can_authenticate` False), returned
itself or as the ``user`` of what is returned (an API-key row, say), is
refused with the 401 its bearer tokens get. Override `check_principal` to
refuse principals that are not users (a revoked machine key).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel

from panther_like.common.concurrency import off_the_loop
from panther_like.exceptions import AuthenticationAPIError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.sessions import ACCOUNT_DISABLED
from panther_like.settings.config import Config


class AuthErrorResponse(BaseModel):
    """What every 401/403 body looks like: ``{"detail": "<short reason>"}``."""

    detail: str


class CredentialsMissing(AuthenticationAPIError):
    """401 because no credential of this kind was sent at all.

    A list of authenticators reports a more specific failure (a credential
    that was sent but did not hold) in preference to this one.
    """

    missing_credentials = True


def disabled_account(principal: Any) -> Any:
    """The deactivated account `principal` is, or holds as its ``user`` attribute; None when there is none.

    An account is what has `can_authenticate` (`BaseUser`: ``is_active`` and whatever a subclass adds)
    or, failing that, an ``is_active`` attribute, which must then be truthy. Anything else (a dict, a
    string, a service object) is no account and is not refused here.
    """
    for candidate in (principal, getattr(principal, 'user', None)):
        if candidate is None:
            continue
        can_authenticate = getattr(candidate, 'can_authenticate', None)
        if callable(can_authenticate):
            if not can_authenticate():
                return candidate
        elif hasattr(candidate, 'is_active') and not candidate.is_active:
            return candidate
    return None


def refuse_disabled(principal: Any) -> None:
    """Raise the 401 a deactivated account gets (see `disabled_account`); return when it may go on."""
    account = disabled_account(principal)
    if account is not None:
        exc = AuthenticationAPIError(ACCOUNT_DISABLED)
        user_id = getattr(account, 'id', None)
        exc.user_id = user_id if isinstance(user_id, str) else None  # the audit line names the account
        raise exc


class SecurityObject:
    """Base of `HttpBearer`, `HttpBasicAuth`, the API keys and `SessionAuth`.

    Subclasses define `get_credential` (where the credential lives),
    `openapi_scheme` (how it is documented) and `challenge` (the
    ``WWW-Authenticate`` value of a 401, None when the scheme has none);
    users subclass those and write `authenticate`.
    """

    #: Responses documented on every operation that uses this object; ``{}`` documents none.
    #: Values are pydantic models or JSON schemas; several for one status are merged with ``oneOf``.
    openapi_responses: Mapping[int, Any] = {401: AuthErrorResponse}
    #: Shown under the scheme in the docs page.
    openapi_description: ClassVar[str | None] = None
    #: Whether it reads a cookie: a websocket handshake it admits must then come from no foreign Origin.
    uses_cookies: ClassVar[bool] = False

    # -- what subclasses of the framework define ------------------------------------------

    def get_credential(self, request: HTTPConnection) -> Any:
        """The credential, or None when the request carries none; raise a 401 for a malformed one."""
        raise NotImplementedError

    def openapi_scheme(self) -> dict[str, Any]:
        """The OpenAPI Security Scheme Object describing this object."""
        raise NotImplementedError

    @property
    def challenge(self) -> str | None:
        return None

    def invalid_challenge(self, reason: str) -> str | None:
        """The ``WWW-Authenticate`` value when a credential was sent but did not hold."""
        return self.challenge

    # -- what users write -----------------------------------------------------------------

    def authenticate(self, request: HTTPConnection, credential: Any) -> Any:
        raise NotImplementedError(f'{type(self).__qualname__} must implement authenticate(request, ...)')

    def check_principal(self, request: HTTPConnection, principal: Any) -> Awaitable[None] | None:
        """Refuse `principal` (what `authenticate` returned) by raising; may be sync or async.

        Called by the framework after every successful `authenticate`. The default refuses a
        deactivated account with a 401 (`disabled_account`), as its bearer tokens are refused.
        Override it to check principals that are not users, and call ``super()`` to keep that:
        raise `AuthenticationAPIError` (401, the next authenticator of a list may try) or
        `AuthorizationAPIError` (403, the request stops).
        """
        refuse_disabled(principal)
        return None

    # -- what the framework calls ---------------------------------------------------------

    def bind(self, config: Config) -> None:
        """Called once per route when the app is built, with its `Config` (see `SessionAuth`)."""

    def authenticate_arguments(self, credential: Any) -> tuple[Any, ...]:
        """What `authenticate` takes after the request; `HttpBasicAuth` spreads ``(username, password)``."""
        return (credential,)

    @cached_property
    def _authenticate(self) -> Callable[..., Awaitable[Any]]:
        # Sync or async is decided once per object, not per request.
        return off_the_loop(self.authenticate)

    async def resolve(self, request: HTTPConnection) -> Any:
        """The principal, or raise: `CredentialsMissing`/`AuthenticationAPIError` (401), 403 as raised."""
        credential = self.get_credential(request)
        if credential is None:
            raise self.missing()
        try:
            principal = await self._authenticate(request, *self.authenticate_arguments(credential))
        except AuthenticationAPIError as exc:  # raised by user code: still tell the client how to authenticate
            raise self.challenged(exc) from None
        if principal is None:
            raise self.invalid('Invalid credentials')
        return await self.checked(request, principal)

    async def checked(self, request: HTTPConnection, principal: Any) -> Any:
        """`principal` once `check_principal` let it through; a 401 it raises carries this scheme's challenge."""
        try:
            pending = self.check_principal(request, principal)
            if inspect.isawaitable(pending):
                await pending
        except AuthenticationAPIError as exc:
            raise self.challenged(exc) from None
        return principal

    async def __call__(self, request: HTTPConnection) -> Any:
        """Ninja's contract: the principal, or None when not authenticated."""
        try:
            return await self.resolve(request)
        except AuthenticationAPIError:
            return None

    def challenged(self, exc: AuthenticationAPIError) -> AuthenticationAPIError:
        """`exc` (a credential refused) with this scheme's ``WWW-Authenticate``, unless it has one."""
        challenge = self.invalid_challenge(exc.detail)
        if challenge is not None:
            exc.headers.setdefault('WWW-Authenticate', challenge)
        return exc

    def missing(self, detail: str | None = None) -> CredentialsMissing:
        exc = CredentialsMissing(detail or self.missing_detail())
        if self.challenge is not None:
            exc.headers['WWW-Authenticate'] = self.challenge
        return exc

    def invalid(self, detail: str) -> AuthenticationAPIError:
        exc = AuthenticationAPIError(detail)
        challenge = self.invalid_challenge(detail)
        if challenge is not None:
            exc.headers['WWW-Authenticate'] = challenge
        return exc

    def missing_detail(self) -> str:
        return 'Authentication credentials were not provided'

    def __repr__(self) -> str:
        return f'{type(self).__qualname__}()'


#: Ninja's name for the same thing.
AuthBase = SecurityObject
