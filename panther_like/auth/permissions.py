"""Permissions: what decides, once a caller is known, whether it may use a route (403 otherwise).

``permissions=[...]`` takes classes or objects with ``authorization(request)``
(Panther's shape) or plain callables, sync or async; a falsy answer is a 403.
``scopes=[...]`` is the OAuth 2 form of the same question, asked of the
scopes the caller's JWT grants. Each becomes ``async (request) -> None``,
built once when the app is built.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panther_like.auth.chain import panther5_callable
from panther_like.common.concurrency import off_the_loop
from panther_like.common.imports import import_string
from panther_like.common.introspection import accepts, qualified_name
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError, ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.jwt_codec import AUTH_TIME, is_time
from panther_like.login_state.services import services_of

Permission = Callable[[HTTPConnection], Awaitable[None]]

#: Set in a connection's ASGI scope by a test client (`panther_like.testing.TestClient.force_authenticate`) when it
#: forced the user: that user counts as authenticated just now. Only code in the process can put it there.
FORCED_AUTHENTICATION = 'panther_like.auth.forced'

SCOPE_TOKEN = re.compile(r'[\x21\x23-\x5B\x5D-\x7E]+')  # RFC 6749 section 3.3


def check_scopes(scopes: Sequence[str] | None, *, where: str) -> tuple[str, ...]:
    if scopes is None:
        return ()
    if isinstance(scopes, str | bytes) or not isinstance(scopes, Sequence):
        raise ConfigError(f'scopes of {where}', scopes, "must be a list such as ['read:items']")
    for scope in scopes:
        if not isinstance(scope, str) or not SCOPE_TOKEN.fullmatch(scope):
            raise ConfigError(f'scopes of {where}', scope, f'{scope!r} is not a valid scope (RFC 6749 section 3.3)')
    return tuple(scopes)


def principal_scopes(principal: Any) -> frozenset[str]:
    """The scopes a principal was granted: its JWT's ``scope`` (space-separated) or ``scp`` (list) claim.

    Read from the claims the JWT classes attach (`BaseUser.attach_token_claims`),
    from a dict principal, or from a ``scopes`` attribute of any other principal.
    """
    claims = getattr(principal, '_token_claims', None)
    if claims is None and isinstance(principal, dict):
        claims = principal
    granted = claims.get('scope', claims.get('scp')) if isinstance(claims, dict) else getattr(principal, 'scopes', None)
    if isinstance(granted, str):
        return frozenset(granted.split())
    if isinstance(granted, list | tuple | set | frozenset):
        return frozenset(item for item in granted if isinstance(item, str))
    return frozenset()


def scope_guard(scopes: tuple[str, ...]) -> Permission:
    """403 with ``WWW-Authenticate: Bearer error="insufficient_scope"`` (RFC 6750 section 3.1) unless granted."""
    required = frozenset(scopes)
    challenge = f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'

    async def permit(request: HTTPConnection) -> None:
        if not required <= principal_scopes(request.user):
            raise AuthorizationAPIError(
                f'Insufficient scope: needs {" ".join(scopes)}', headers={'WWW-Authenticate': challenge}
            )

    return permit


def build_permissions(permissions: Sequence[Any] | None, *, where: str) -> tuple[Permission, ...]:
    """Each permission: a class or object with ``authorization(request)``, or a callable; falsy means 403."""
    if permissions is None:
        return ()
    if isinstance(permissions, str) or _one_permission(permissions):
        permissions = [permissions]  # ``permissions=IsAdmin``: one permission, as Panther allows
    if isinstance(permissions, bytes) or not isinstance(permissions, Sequence):
        raise ConfigError(f'permissions of {where}', permissions, 'must be a list')
    return tuple(_permission(item, where) for item in permissions)


def _one_permission(value: Any) -> bool:
    return isinstance(value, type) or (
        not isinstance(value, Sequence) and (callable(value) or hasattr(value, 'authorization'))
    )


def _permission(item: Any, where: str) -> Permission:
    if isinstance(item, str):
        try:
            item = import_string(item)
        except ImportError as exc:
            raise ConfigError(f'permissions of {where}', item, f'cannot import {item!r} ({exc})') from None
    setting = f'permissions of {where}'
    if isinstance(item, type) and panther5_callable(item, 'authorization'):
        try:
            item = item()  # Panther 5: ``class IsAdmin: async def __call__(self, request)``, one shared instance
        except Exception as exc:
            raise ConfigError(
                setting, qualified_name(item), f'{item.__qualname__}() failed ({type(exc).__name__}: {exc})'
            ) from None
    if isinstance(item, type):
        if not hasattr(item, 'authorization'):
            raise ConfigError(
                setting,
                qualified_name(item),
                f'{item.__qualname__} is a class without an authorization(request) method; write '
                'def authorization(cls, request) (a classmethod, sync or async) returning True to allow',
            )
        static = inspect.getattr_static(item, 'authorization', None)
        if isinstance(static, classmethod | staticmethod):
            function = getattr(item, 'authorization')  # noqa: B009 (a class, typed as type)
        else:
            try:
                function = item().authorization
            except Exception as exc:
                raise ConfigError(
                    setting,
                    qualified_name(item),
                    f'{item.__qualname__}() failed ({type(exc).__name__}: {exc}); make authorization a classmethod, '
                    'or give an instance',
                ) from None
    elif hasattr(item, 'authorization'):
        function = item.authorization
    elif callable(item):
        function = item
    else:
        raise ConfigError(setting, item, f'{item!r} has no authorization(request) method and is not callable')
    if not accepts(function, 1):
        raise ConfigError(
            setting,
            qualified_name(item),
            f'{qualified_name(function)} cannot be called with one argument: it is called with the request',
        )
    check = off_the_loop(function)

    async def permit(request: HTTPConnection) -> None:
        if not await check(request):
            raise AuthorizationAPIError()

    return permit


class ReauthenticationRequired(AuthenticationAPIError):
    """401 ``{"detail", "reauthentication_required": true}``: prove who you are again (``POST reauthenticate``)."""

    detail = 'This needs a recent authentication: re-authenticate and try again'

    def body(self) -> dict[str, object]:
        return {'detail': self.detail, 'reauthentication_required': True}


class FreshAuthentication:
    """A permission: the caller's access token must come from an authentication at most `max_age` seconds old.

    ``permissions=[FreshAuthentication]`` uses ``ACCOUNTS['reauthentication_timeout']``;
    ``permissions=[FreshAuthentication(60)]`` sets its own; ``@API(auth=True, fresh=300)`` is
    the same. The age is the token's ``auth_time`` (a login or ``POST reauthenticate``, kept
    through refreshes): a token without one, or a caller that no JWT authenticated, is refused.
    A user forced by the test client (`FORCED_AUTHENTICATION`) counts as authenticated just now.
    """

    def __init__(self, max_age: int | None = None) -> None:
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 1):
            raise ConfigError('fresh', max_age, f'{max_age!r} must be a whole number of seconds >= 1, or True')
        self.max_age = max_age

    async def authorization(self, request: HTTPConnection) -> bool:
        if request.scope.get(FORCED_AUTHENTICATION) is True:
            return True
        services = services_of(request)
        max_age = self.max_age or services.config.accounts.reauthentication_timeout
        claims = getattr(request.user, '_token_claims', None)
        auth_time = claims.get(AUTH_TIME) if isinstance(claims, dict) else None
        if auth_time is None or not is_time(auth_time) or services.clock.time() - auth_time > max_age:
            raise ReauthenticationRequired()
        return True


def fresh_permission(fresh: bool | int | None, *, where: str) -> FreshAuthentication | None:
    """What ``@API(fresh=...)`` adds to the permissions: True for the setting's timeout, a number of seconds."""
    if fresh is None or fresh is False:
        return None
    if fresh is True:
        return FreshAuthentication()
    if isinstance(fresh, int) and fresh >= 1:
        return FreshAuthentication(fresh)
    raise ConfigError(f'fresh of {where}', fresh, f'{fresh!r} must be True or a whole number of seconds >= 1')


class IsSuperuser:
    """A permission: the authenticated user's ``is_superuser`` is true (403 otherwise).

    For routes whose ``auth=`` finds a user (the JWT classes, ``auth=True``): an
    anonymous caller, or a principal without the flag, is refused.
    ``permissions=[IsSuperuser]`` or ``permissions=IsSuperuser``.
    """

    @classmethod
    async def authorization(cls, request: HTTPConnection) -> bool:
        return getattr(request.user, 'is_superuser', False) is True


NOT_VERIFIED = 'Verify your e-mail address first: ask for a link with POST verify/request'


class IsVerified:
    """A permission: the caller's ``is_verified`` must be True (403 otherwise, saying so).

    ``permissions=[IsVerified]`` on a project's own routes. ``IsVerified(when_required=True)``
    asks only while ``ACCOUNTS['require_verified']`` is on: what the account routes use, so a
    project that does not require verification sees no difference.
    """

    def __init__(self, *, when_required: bool = False) -> None:
        self.when_required = when_required

    async def authorization(self, request: HTTPConnection) -> bool:
        if self.when_required and not services_of(request).config.accounts.require_verified:
            return True
        if not getattr(request.user, 'is_verified', False):
            raise AuthorizationAPIError(NOT_VERIFIED)
        return True
