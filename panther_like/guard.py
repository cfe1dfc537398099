"""What guards a route: `auth=` and `permissions=` turned into plain async callables, once.

Whatever a user writes in ``auth=`` (``True``, a class, its dotted path, a
callable) becomes one `Authenticator`: ``async (request) -> principal``
that raises `AuthenticationAPIError` (401). Permissions become
``async (request) -> None`` that raise `AuthorizationAPIError` (403). The
request path then never inspects what kind of thing it was given, and a
mistake in ``auth=`` is a `ConfigError` when the app is built.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panther_like.authentications import BaseAuthentication
from panther_like.config import Config
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError, ConfigError
from panther_like.utils import import_string

Authenticator = Callable[[Any], Awaitable[Any]]
Permission = Callable[[Any], Awaitable[None]]


class _Unset:
    """``auth`` was not given (as opposed to ``auth=None``, an explicit opt-out)."""

    def __repr__(self) -> str:
        return 'UNSET'


UNSET: Any = _Unset()


def _awaiting(function: Callable[[Any], Any]) -> Callable[[Any], Awaitable[Any]]:
    """Call sync and async functions alike, deciding which once instead of per request."""
    if inspect.iscoroutinefunction(function):
        return function

    async def call(request: Any) -> Any:
        result = function(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    return call


def _bound_method(cls: type, name: str) -> Callable[[Any], Any]:
    """``cls.name`` if it is a class or static method, else the method of one shared instance."""
    if isinstance(inspect.getattr_static(cls, name, None), classmethod | staticmethod):
        return getattr(cls, name)
    return getattr(cls(), name)


def authentication_class_guard(cls: type[BaseAuthentication]) -> Authenticator:
    method = _awaiting(_bound_method(cls, 'authentication'))

    async def authenticate(request: Any) -> Any:
        user = await method(request)
        if user is None:
            raise AuthenticationAPIError('Authentication credentials were not provided or are invalid')
        return user

    authenticate.authentication_class = cls  # type: ignore[attr-defined]
    return authenticate


def callable_guard(function: Callable[[Any], Any]) -> Authenticator:
    call = _awaiting(function)

    async def authenticate(request: Any) -> Any:
        principal = await call(request)
        if principal is None:  # falsy principals (0, '', False) are principals
            raise AuthenticationAPIError('Unauthorized')
        return principal

    return authenticate


def build_authenticator(auth: Any, config: Config, *, where: str, websocket: bool = False) -> Authenticator | None:
    """Normalise one ``auth=`` value; None means the route is public."""
    if auth is UNSET or auth is None or auth is False:
        return None
    if auth is True:
        setting = 'WS_AUTHENTICATION' if websocket else 'AUTHENTICATION'
        cls = config.ws_authentication if websocket else config.authentication
        if cls is None:
            flag = 'auth = True' if websocket else 'auth=True'
            raise ConfigError(setting, None, f'{where} has {flag} but {setting} is not set in the settings module')
        return _class_guard(cls, config, setting=setting, where=where)
    if isinstance(auth, str):
        try:
            auth = import_string(auth)
        except ImportError as exc:
            raise ConfigError(f'auth of {where}', auth, f'cannot import {auth!r} ({exc})') from None
    if isinstance(auth, type):
        if not issubclass(auth, BaseAuthentication):
            raise ConfigError(
                f'auth of {where}', auth,
                f'{auth.__qualname__} is not a subclass of panther_like.authentications.BaseAuthentication',
            )
        return _class_guard(auth, config, setting=f'auth of {where}', where=where)
    if callable(auth):
        return callable_guard(auth)
    raise ConfigError(
        f'auth of {where}', auth,
        f'{auth!r} is not True, None, an authentication class, its dotted path or a callable',
    )


def _class_guard(cls: type[BaseAuthentication], config: Config, *, setting: str, where: str) -> Authenticator:
    if cls.uses_jwt and config.jwt is None:
        raise ConfigError(
            'JWTConfig', None,
            f'{cls.__qualname__} (used by {where} through {setting}) needs a key: '
            "set SECRET_KEY or JWTConfig['key'] in the settings module",
        )
    return authentication_class_guard(cls)


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
    if isinstance(item, type) and hasattr(item, 'authorization'):
        check = _awaiting(_bound_method(item, 'authorization'))
    elif hasattr(item, 'authorization'):
        check = _awaiting(item.authorization)
    elif callable(item):
        check = _awaiting(item)
    else:
        raise ConfigError(
            f'permissions of {where}', item, f'{item!r} has no authorization(request) method and is not callable'
        )

    async def permit(request: Any) -> None:
        if not await check(request):
            raise AuthorizationAPIError()

    return permit
