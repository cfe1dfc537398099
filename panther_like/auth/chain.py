"""What a route's ``auth=`` becomes: one `Authenticator`, built once when the app is built.

Users may write ``True`` (the ``AUTHENTICATION`` setting), an
authentication class or its dotted path, a security object (or its class),
any callable, `OptionalAuth`, or a list of these tried in order. Each is
normalised here into a small object with the same shape: the things it was
built from (`sources`, which the OpenAPI document and the CLI read),
whether anonymous is acceptable (`optional`), and ``await
authenticator(connection)`` returning the principal or raising a 401. The
request path never asks what kind of ``auth=`` it was given, and a mistake
in ``auth=`` is a `ConfigError` when the app is built.

Whatever kind of ``auth=`` admits a deactivated account (``is_active=False``)
refuses it with a 401: the JWT classes in the token service, security
objects in their template (`SecurityObject.check_principal`), custom
classes and callables here (`panther_like.security.base.refuse_disabled`).

The template: `Authenticator.__call__` writes the audit line of a refusal,
once, whatever the kind; subclasses only `authenticate`. A list calls its
items' `authenticate`, not their ``__call__``, so a refused request is
audited once, not once per item.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panther_like import audit
from panther_like.auth.authentication_classes import BaseAuthentication, BaseJWTAuthentication
from panther_like.common.concurrency import off_the_loop
from panther_like.common.imports import import_string
from panther_like.common.introspection import accepts, qualified_name
from panther_like.common.sentinel import UNSET
from panther_like.exceptions import AuthenticationAPIError, ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.security.apikey import APIKeyBase
from panther_like.security.base import CredentialsMissing, SecurityObject, refuse_disabled
from panther_like.security.http import HttpBasicAuth, HttpBearer
from panther_like.security.optional import ANONYMOUS, OptionalAuth
from panther_like.settings.config import Config

#: The ``authenticate`` of the framework's templates, which only say that a subclass must write one.
_UNWRITTEN_AUTHENTICATE = tuple(
    cls.__dict__['authenticate'] for cls in (SecurityObject, APIKeyBase, HttpBearer, HttpBasicAuth)
)


class Authenticator:
    """``await authenticator(connection)`` -> the principal, or raise `AuthenticationAPIError` (401)."""

    __slots__ = ('optional', 'remembered', 'sources')

    def __init__(self, sources: tuple[Any, ...], *, optional: bool = False) -> None:
        self.sources = sources
        self.optional = optional
        #: ``remembered(connection)``: the principal when memory alone can say it (no coroutine), else None,
        #: and then the authenticator is awaited. Only kinds that remember what they verified have one.
        self.remembered: Callable[[HTTPConnection], Any] | None = None

    async def __call__(self, connection: HTTPConnection) -> Any:
        try:
            return await self.authenticate(connection)
        except AuthenticationAPIError as exc:
            audit.log_event(
                'auth.failure', request=connection, reason=exc.detail, scheme=self.scheme, user_id=exc.user_id
            )
            raise

    def authenticate(self, connection: HTTPConnection) -> Awaitable[Any]:
        """The principal (awaitable), or a 401; what the subclass decides."""
        raise NotImplementedError

    @property
    def scheme(self) -> str:
        """The sources' short names, for the audit log."""
        return ' | '.join(getattr(source, '__name__', None) or type(source).__name__ for source in self.sources)

    def describe(self) -> str:
        """The sources' full names, for people (``panther-like routes``)."""
        return ' | '.join(qualified_name(source) for source in self.sources)

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.describe()}{" (optional)" if self.optional else ""}>'


class ClassAuthenticator(Authenticator):
    """A `BaseAuthentication` subclass: its ``authentication`` (class, static or instance method)."""

    __slots__ = ('_call',)

    def __init__(self, cls: type[BaseAuthentication]) -> None:
        super().__init__((cls,))
        if issubclass(cls, BaseJWTAuthentication) and _inherits_authentication(cls, BaseJWTAuthentication):
            # What BaseJWTAuthentication.authentication would call (it never answers None), without
            # the frames in between on every request.
            self._call: Callable[[HTTPConnection], Awaitable[Any]] = cls.credential.resolve
            warm_path = getattr(cls.credential, 'warm_path', None)
            self.remembered = warm_path() if warm_path is not None else None
            return
        if isinstance(inspect.getattr_static(cls, 'authentication', None), classmethod | staticmethod):
            method = cls.authentication
        else:
            method = cls().authentication  # one instance, shared: the class is the unit of configuration
        self._call = _none_refused(off_the_loop(method))

    def authenticate(self, connection: HTTPConnection) -> Awaitable[Any]:
        return self._call(connection)


def _none_refused(method: Callable[[HTTPConnection], Awaitable[Any]]) -> Callable[[HTTPConnection], Awaitable[Any]]:
    """A custom class's ``authentication`` returning None means "not authenticated": a 401."""

    async def call(connection: HTTPConnection) -> Any:
        user = await method(connection)
        if user is None:
            # None says "no credential of mine": with `OptionalAuth`, anonymous rather than a 401.
            raise CredentialsMissing('Authentication credentials were not provided or are invalid')
        refuse_disabled(user)
        return user

    return call


class SecurityObjectAuthenticator(Authenticator):
    """A Ninja-style security object: it extracts the credential, its ``authenticate`` decides."""

    __slots__ = ('_security',)

    def __init__(self, security: SecurityObject) -> None:
        super().__init__((security,))
        self._security = security

    async def authenticate(self, connection: HTTPConnection) -> Any:
        return await self._security.resolve(connection)


class CallableAuthenticator(Authenticator):
    """Any callable, sync or async: ``None`` means not authenticated; anything else, falsy too, is the principal."""

    __slots__ = ('_call',)

    def __init__(self, function: Callable[[Any], Any]) -> None:
        super().__init__((function,))
        self._call: Callable[[Any], Awaitable[Any]] = off_the_loop(function)

    async def authenticate(self, connection: HTTPConnection) -> Any:
        principal = await self._call(connection)
        if principal is None:
            raise CredentialsMissing('Unauthorized')
        refuse_disabled(principal)
        return principal


class ChainAuthenticator(Authenticator):
    """Each item in order; the first principal wins.

    A 401 from one item lets the next try (in Ninja an exception in the
    first authenticator ends the request); a 403 or any other exception
    stops the chain, so a refusal is never masked by a later success.
    """

    __slots__ = ('_items',)

    def __init__(self, items: Sequence[Authenticator], *, optional: bool) -> None:
        super().__init__(tuple(source for item in items for source in item.sources), optional=optional)
        self._items = tuple(items)

    async def authenticate(self, connection: HTTPConnection) -> Any:
        failures: list[AuthenticationAPIError] = []
        for item in self._items:
            try:
                return await item.authenticate(connection)
            except AuthenticationAPIError as exc:
                failures.append(exc)
        if self.optional and all(exc.missing_credentials for exc in failures):
            return None  # nothing was sent: anonymous; a credential that was sent and refused is a 401
        raise merge_failures(failures)


def merge_failures(failures: Sequence[AuthenticationAPIError]) -> AuthenticationAPIError:
    """One 401 for a whole list: the most specific reason, and every scheme's challenge.

    A credential that was sent and refused says more than a credential that
    was not sent, so its reason wins; each ``WWW-Authenticate`` challenge is
    kept (several header values, RFC 9110 section 11.6.1) so a client learns
    every scheme it may use.
    """
    if len(failures) == 1:
        return failures[0]
    chosen = next((exc for exc in failures if not exc.missing_credentials), failures[0])
    merged = AuthenticationAPIError(chosen.detail, chosen.status_code)
    challenges: list[str] = []
    for exc in failures:
        for name, value in exc.headers.items():
            if name.lower() == 'www-authenticate':
                for challenge in value if isinstance(value, list) else [value]:
                    if challenge not in challenges:
                        challenges.append(challenge)
            else:
                merged.headers.setdefault(name, value)
    if challenges:
        merged.headers['WWW-Authenticate'] = challenges[0] if len(challenges) == 1 else challenges
    return merged


# -- building ------------------------------------------------------------------------------------


def build_authenticator(auth: Any, config: Config, *, where: str, websocket: bool = False) -> Authenticator | None:
    """Normalise one ``auth=`` value; None means the route is public (``UNSET``, ``None``, ``False``)."""
    if auth is UNSET or auth is None or auth is False:
        return None
    if isinstance(auth, OptionalAuth):
        auth = auth.as_list()
    if isinstance(auth, list | tuple):
        return _chain(auth, config, where=where, websocket=websocket)
    if auth is ANONYMOUS:
        raise ConfigError(f'auth of {where}', auth, 'ANONYMOUS only makes sense as the last item of an auth list')
    return _single(auth, config, where=where, websocket=websocket)


def _chain(items: Sequence[Any], config: Config, *, where: str, websocket: bool) -> Authenticator:
    items = list(items)
    optional = bool(items) and items[-1] is ANONYMOUS
    if optional:
        items.pop()
    if not items:
        raise ConfigError(f'auth of {where}', [], 'an auth list needs at least one authenticator')
    built: list[Authenticator] = []
    for item in items:
        if item is None or item is False or item is UNSET or item is ANONYMOUS:
            raise ConfigError(
                f'auth of {where}', item, f'{item!r} cannot be an item of an auth list (ANONYMOUS may only be last)'
            )
        authenticator = build_authenticator(item, config, where=where, websocket=websocket)
        if authenticator is None or authenticator.optional:
            raise ConfigError(f'auth of {where}', item, 'an optional authenticator can only be the whole auth value')
        built.append(authenticator)
    if len(built) == 1 and not optional:
        return built[0]
    return ChainAuthenticator(built, optional=optional)


def _single(auth: Any, config: Config, *, where: str, websocket: bool) -> Authenticator:
    source = auth
    if auth is True:
        setting = 'WS_AUTHENTICATION' if websocket else 'AUTHENTICATION'
        cls = config.ws_authentication if websocket else config.authentication
        if cls is None:
            flag = 'auth = True' if websocket else 'auth=True'
            raise ConfigError(setting, None, f'{where} has {flag} but {setting} is not set in the settings module')
        return _class_authenticator(cls, config, setting=setting, where=where)
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
        if any(inspect.getattr_static(auth, 'authenticate') is unwritten for unwritten in _UNWRITTEN_AUTHENTICATE):
            raise ConfigError(
                f'auth of {where}',
                qualified_name(auth),
                f'{type(auth).__qualname__} has no authenticate method: subclass it and write '
                f'authenticate(self, request, ...) returning the principal or None',
            )
        auth.bind(config)
        return SecurityObjectAuthenticator(auth)
    if isinstance(auth, type) and panther5_callable(auth, 'authentication', BaseAuthentication):
        try:
            auth = auth()  # Panther 5: ``class MyAuth: async def __call__(self, request)``, one shared instance
        except Exception as exc:
            raise ConfigError(
                f'auth of {where}',
                qualified_name(auth),
                f'{auth.__qualname__}() failed ({type(exc).__name__}: {exc}); give an instance instead',
            ) from None
    if isinstance(auth, type):
        if not issubclass(auth, BaseAuthentication):
            raise ConfigError(
                f'auth of {where}',
                auth,
                f'{auth.__qualname__} is not a subclass of panther_like.auth.authentication_classes.BaseAuthentication',
            )
        return _class_authenticator(auth, config, setting=f'auth of {where}', where=where)
    if callable(auth):
        if not accepts(auth, 1):
            raise ConfigError(
                f'auth of {where}',
                qualified_name(auth),
                f'{qualified_name(auth)} cannot be called with one argument: an auth function is called as '
                'function(request) and returns the principal or None',
            )
        return CallableAuthenticator(auth)
    raise ConfigError(
        f'auth of {where}',
        source,
        f'{source!r} is not True, None, an authentication class, its dotted path, a security object, '
        'a callable or a list of these',
    )


def _class_authenticator(cls: type[BaseAuthentication], config: Config, *, setting: str, where: str) -> Authenticator:
    if inspect.getattr_static(cls, 'authentication') is BaseAuthentication.__dict__['authentication']:
        raise ConfigError(
            setting,
            qualified_name(cls),
            f'{cls.__qualname__} (used by {where}) has no authentication(request) method: write '
            'async def authentication(cls, request) returning the user',
        )
    if cls.uses_oidc and config.oidc_resource is None:
        raise ConfigError(
            'OIDC_RESOURCE',
            None,
            f'{cls.__qualname__} (used by {where} through {setting}) needs the identity providers',
        )
    if cls.uses_jwt and config.jwt is None:
        raise ConfigError(
            'JWTConfig',
            None,
            f'{cls.__qualname__} (used by {where} through {setting}) needs a key: '
            "set SECRET_KEY or JWTConfig['key'] in the settings module",
        )
    return ClassAuthenticator(cls)


def _inherits_authentication(cls: type, base: type) -> bool:
    return inspect.getattr_static(cls, 'authentication') is inspect.getattr_static(base, 'authentication')


def panther5_callable(cls: type, classic: str, template: type | None = None) -> bool:
    """A class written as Panther 5 writes one: its own ``__call__(self, request)`` rather than `classic`.

    A class that writes `classic` (``authentication``, ``authorization``) keeps being served by it;
    `template`'s own unwritten `classic` does not count.
    """
    if not any('__call__' in vars(base) for base in cls.__mro__[:-1]):
        return False
    written = inspect.getattr_static(cls, classic, None)
    return written is None or (template is not None and written is template.__dict__.get(classic))
