"""What guards a route: `auth=` and `permissions=` turned into plain async callables, once.

Whatever a user writes in ``auth=`` (``True``, a class, its dotted path, a
security object, a callable, a list of these) becomes one `Authenticator`: ``async (request) -> principal``
that raises `AuthenticationAPIError` (401). Permissions become
``async (request) -> None`` that raise `AuthorizationAPIError` (403). The
request path then never inspects what kind of thing it was given, and a
mistake in ``auth=`` is a `ConfigError` when the app is built.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from panther_like import audit
from panther_like.authentications import BaseAuthentication
from panther_like.config import Config
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError, ConfigError
from panther_like.security.base import SecurityObject
from panther_like.security.optional import ANONYMOUS, OptionalAuth
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
    """Normalise one ``auth=`` value; None means the route is public.

    Takes ``True``, an authentication class or its dotted path, a security
    object (or its class), any callable, `OptionalAuth`, or a list of these
    tried in order (`ANONYMOUS` last makes it optional). The returned
    authenticator carries an `AuthSpec` (``.spec``) for the OpenAPI document.
    """
    guard = _guard(auth, config, where=where, websocket=websocket)
    return None if guard is None else _audited(guard)


def _guard(auth: Any, config: Config, *, where: str, websocket: bool) -> Authenticator | None:
    """`build_authenticator` without the audit line, for the items of a list (audited once, as a whole)."""
    if auth is UNSET or auth is None or auth is False:
        return None
    if isinstance(auth, OptionalAuth):
        auth = auth.as_list()
    if isinstance(auth, list | tuple):
        return _chain_guard(auth, config, where=where, websocket=websocket)
    if auth is ANONYMOUS:
        raise ConfigError(f'auth of {where}', auth, 'ANONYMOUS only makes sense as the last item of an auth list')
    return _single_guard(auth, config, where=where, websocket=websocket)


def _audited(authenticate: Authenticator) -> Authenticator:
    """Write one audit line for each request a route refuses (401), whatever kind of ``auth=`` it has."""
    scheme = ' | '.join(_source_name(source) for source in authenticate.spec.sources)  # type: ignore[attr-defined]

    @functools.wraps(authenticate)
    async def audited(request: Any) -> Any:
        try:
            return await authenticate(request)
        except AuthenticationAPIError as exc:
            audit.log_event('auth.failure', request=request, reason=exc.detail, scheme=scheme,
                            user_id=getattr(exc, 'user_id', None))
            raise

    return audited


def _source_name(source: Any) -> str:
    return getattr(source, '__name__', None) or type(source).__name__


def _single_guard(auth: Any, config: Config, *, where: str, websocket: bool) -> Authenticator:
    source = auth
    if auth is True:
        setting = 'WS_AUTHENTICATION' if websocket else 'AUTHENTICATION'
        cls = config.ws_authentication if websocket else config.authentication
        if cls is None:
            flag = 'auth = True' if websocket else 'auth=True'
            raise ConfigError(setting, None, f'{where} has {flag} but {setting} is not set in the settings module')
        return _with_spec(_class_guard(cls, config, setting=setting, where=where), (cls,))
    if isinstance(auth, str):
        try:
            auth = import_string(auth)
        except ImportError as exc:
            raise ConfigError(f'auth of {where}', auth, f'cannot import {auth!r} ({exc})') from None
        if auth is None or auth is True or isinstance(auth, str | list | tuple | OptionalAuth):
            raise ConfigError(f'auth of {where}', source, f'{source!r} names {auth!r}, not an authenticator')
    if isinstance(auth, type) and issubclass(auth, SecurityObject):
        auth = auth()  # ``auth=MyBearer`` for ``auth=MyBearer()``: the class has no state to share
    if isinstance(auth, SecurityObject):
        auth.bind(config)
        return _with_spec(security_object_guard(auth), (auth,))
    if isinstance(auth, type):
        if not issubclass(auth, BaseAuthentication):
            raise ConfigError(
                f'auth of {where}', auth,
                f'{auth.__qualname__} is not a subclass of panther_like.authentications.BaseAuthentication',
            )
        return _with_spec(_class_guard(auth, config, setting=f'auth of {where}', where=where), (auth,))
    if callable(auth):
        return _with_spec(callable_guard(auth), (auth,))
    raise ConfigError(
        f'auth of {where}', source,
        f'{source!r} is not True, None, an authentication class, its dotted path, a security object, '
        'a callable or a list of these',
    )


def security_object_guard(security: SecurityObject) -> Authenticator:
    async def authenticate(request: Any) -> Any:
        return await security.resolve(request)

    return authenticate


def _chain_guard(items: Sequence[Any], config: Config, *, where: str, websocket: bool) -> Authenticator | None:
    """Each item in order; the first principal wins.

    A 401 from one item lets the next try (in Ninja an exception in the
    first authenticator ends the request); a 403 or any other exception
    stops the chain, so a refusal is never masked by a later success.
    """
    items = list(items)
    optional = bool(items) and items[-1] is ANONYMOUS
    if optional:
        items.pop()
    if not items:
        raise ConfigError(f'auth of {where}', [], 'an auth list needs at least one authenticator')
    guards: list[Authenticator] = []
    sources: list[Any] = []
    for item in items:
        if item is None or item is False or item is UNSET or item is ANONYMOUS:
            raise ConfigError(
                f'auth of {where}', item, f'{item!r} cannot be an item of an auth list (ANONYMOUS may only be last)'
            )
        guard = _guard(item, config, where=where, websocket=websocket)
        assert guard is not None
        if guard.spec.optional:  # type: ignore[attr-defined]
            raise ConfigError(f'auth of {where}', item, 'an optional authenticator can only be the whole auth value')
        guards.append(guard)
        sources.extend(guard.spec.sources)  # type: ignore[attr-defined]
    if len(guards) == 1 and not optional:
        return guards[0]

    async def authenticate(request: Any) -> Any:
        failures: list[AuthenticationAPIError] = []
        for guard in guards:
            try:
                return await guard(request)
            except AuthenticationAPIError as exc:
                failures.append(exc)
        if optional:
            return None
        raise merge_failures(failures)

    return _with_spec(authenticate, tuple(sources), optional=optional)


def merge_failures(failures: Sequence[AuthenticationAPIError]) -> AuthenticationAPIError:
    """One 401 for a whole list: the most specific reason, and every scheme's challenge.

    A credential that was sent and refused says more than a credential that
    was not sent, so its reason wins; each ``WWW-Authenticate`` challenge is
    kept (several header values, RFC 9110 section 11.6.1) so a client learns
    every scheme it may use.
    """
    if len(failures) == 1:
        return failures[0]
    chosen = next((exc for exc in failures if not getattr(exc, 'missing_credentials', False)), failures[0])
    merged = AuthenticationAPIError(chosen.detail, chosen.status_code)
    challenges: list[str] = []
    for exc in failures:
        for name, value in exc.headers.items():
            if name.lower() == 'www-authenticate':
                for challenge in value if isinstance(value, list | tuple) else (value,):
                    if challenge not in challenges:
                        challenges.append(challenge)
            else:
                merged.headers.setdefault(name, value)
    if challenges:
        merged.headers['WWW-Authenticate'] = challenges[0] if len(challenges) == 1 else challenges  # type: ignore[assignment]
    return merged


@dataclass(frozen=True)
class AuthSpec:
    """What an authenticator was built from: the OpenAPI document reads it, the request path never does."""

    sources: tuple[Any, ...]
    optional: bool = False


def _with_spec(authenticator: Authenticator, sources: tuple[Any, ...], *, optional: bool = False) -> Authenticator:
    authenticator.spec = AuthSpec(sources, optional)  # type: ignore[attr-defined]
    return authenticator


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

    async def permit(request: Any) -> None:
        if not required <= principal_scopes(request.user):
            raise AuthorizationAPIError(
                f'Insufficient scope: needs {" ".join(scopes)}', headers={'WWW-Authenticate': challenge}
            )

    return permit


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
