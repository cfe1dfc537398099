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

from panther_like.common.concurrency import off_the_loop
from panther_like.common.imports import import_string
from panther_like.common.introspection import accepts, qualified_name
from panther_like.exceptions import AuthorizationAPIError, ConfigError
from panther_like.http.request import HTTPConnection

Permission = Callable[[HTTPConnection], Awaitable[None]]

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
    if isinstance(permissions, str | bytes) or not isinstance(permissions, Sequence):
        raise ConfigError(f'permissions of {where}', permissions, 'must be a list')
    return tuple(_permission(item, where) for item in permissions)


def _permission(item: Any, where: str) -> Permission:
    if isinstance(item, str):
        try:
            item = import_string(item)
        except ImportError as exc:
            raise ConfigError(f'permissions of {where}', item, f'cannot import {item!r} ({exc})') from None
    setting = f'permissions of {where}'
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
