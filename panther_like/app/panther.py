"""`Panther`: the ASGI application, built once from a settings module.

Building does all the work that can fail because of configuration: load
and check the settings, import the routes, resolve every route's guard,
choose the store. What is left for a request is: the client's address
behind a trusted proxy (``TRUSTED_PROXIES``), resolve, 405,
authenticate (401) and permit (403), read the body, handle, render. A
websocket goes the same way up to its guard, then is accepted or refused.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from panther_like.app.health import Drain, count_round_trips, mount_health
from panther_like.audit import install_log_redaction
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.auth.chain import build_authenticator
from panther_like.auth.guard import AuthOverride
from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.common.concurrency import as_async
from panther_like.common.sentinel import UNSET
from panther_like.db.connection import open_database
from panther_like.db.models import BaseUser
from panther_like.exceptions import APIError, ConfigError, NotFoundAPIError, StoreUnavailableError
from panther_like.http.request import Request, announces_body, read_body
from panther_like.http.response import Response
from panther_like.http.validation import invalid
from panther_like.login_state.services import SCOPE_KEY as SERVICES
from panther_like.login_state.services import Services, build_services
from panther_like.mail import ConsoleMailer, Mailer, Outbox
from panther_like.openapi.page import mount_docs
from panther_like.routing.api import HTTPEndpoint
from panther_like.routing.router import Group, Router
from panther_like.routing.websocket import WebsocketEndpoint, is_websocket_class, refuse
from panther_like.settings import config as config_module
from panther_like.settings.config import Config, redact_url, require_subclass

logger = logging.getLogger('panther_like')
INTERNAL_ERROR = {'detail': 'Internal server error'}


class Panther:
    """``app = Panther(configs='configs')``; serve with ``uvicorn package.module:app``.

    ``configs`` is a settings module or its name (default: the
    ``PANTHER_LIKE_CONFIGS`` environment variable, else ``configs``);
    ``urls`` overrides the ``URLS`` setting. Raises `ConfigError` for any
    configuration mistake. One app per process: building it binds the
    models and tokens to this app's store and keys.

    ``exception_handlers`` maps an exception class to ``handler(request,
    exc) -> Response`` (sync or async): whatever a handler, a permission or
    an ``authenticate`` raises reaches the handler of its nearest class,
    Ninja's ``@api.exception_handler``. ``request`` is None when the error
    happened before the request was read (404, 405).

    ``auth_override`` is for tests (`panther_like.testing`): when set, it is
    called with each connection a route's authenticator would check, and a
    user it returns stands in for authentication (permissions still run).
    ``clock`` is for tests too: the token service and the stores read time
    only from it, so a test can move time forward instead of sleeping.
    """

    #: See the class docstring; None in production.
    auth_override: AuthOverride | None = None

    def __init__(
        self,
        configs: str | ModuleType | None = None,
        *,
        urls: Mapping[str, Any] | str | None = None,
        exception_handlers: Mapping[type[BaseException], Callable[[Any, Any], Any]] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.config: Config = config_module.load(configs)
        self.clock = clock
        _check_setting_classes(self.config)
        self.exception_handlers = {cls: as_async(handler) for cls, handler in (exception_handlers or {}).items()}
        self.router = Router.build(self._urls(urls), self._endpoint, default_auth=self._default_auth())
        mount_docs(self.router, self.config.openapi)
        mount_health(self.router, self.config.health)
        #: What SIGTERM does (`panther-like run --drain-seconds`); ``drain.draining`` turns readiness off.
        self.drain = Drain()
        self._count_round_trips = self.config.health.enabled and self.config.health.round_trips
        self.services = _build_services(self.config, clock)
        # The services under the names the app has always shown them (scripts, tests, start-up and shutdown).
        self.database = self.services.database
        self.redis = self.services.fast_state.redis
        self.revocations = self.services.fast_state.revocations
        self.changes = self.services.fast_state.changes
        self.tokens = self.services.sessions
        self.login_throttle = self.services.throttle
        self.one_time_tokens = self.services.one_time_tokens
        self.outbox = self.services.outbox
        self.mailer: Mailer = self.outbox.mailer
        self.trusted_proxies = self.config.trusted_proxies
        install_log_redaction()

    def _urls(self, urls: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
        urls = self.config.urls if urls is None else urls
        if urls is None:
            raise ConfigError('URLS', None, 'no routes: set URLS in the settings module or pass Panther(urls=...)')
        return config_module.import_setting('URLS', urls, expect=(Mapping, Group), kind='a dict of routes')

    def _default_auth(self) -> Any:
        """``DEFAULT_AUTH``, checked once here so a mistake names the setting rather than a route."""
        default = self.config.default_auth
        if default is None:
            return UNSET
        try:
            build_authenticator(default, self.config, where='DEFAULT_AUTH')
        except ConfigError as exc:
            raise ConfigError('DEFAULT_AUTH', default, exc.reason) from None
        return default

    def _endpoint(self, path: str, target: Any, default_auth: Any = UNSET) -> HTTPEndpoint | WebsocketEndpoint:
        if is_websocket_class(target):
            return WebsocketEndpoint.build(path, target, self.config, default_auth)
        return HTTPEndpoint.build(path, target, self.config, default_auth)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The ASGI entry point. HTTP is served here, not in a method of its own: one coroutine fewer per request."""
        scope['app'] = self
        scope[SERVICES] = self.services
        if scope['type'] != 'http':
            if scope['type'] == 'websocket':
                self.trusted_proxies.apply(scope)
                await self._websocket(scope, receive, send)
            elif scope['type'] == 'lifespan':
                await self._lifespan(receive, send)
            return
        self.trusted_proxies.apply(scope)
        if self._count_round_trips:
            send = count_round_trips(self.services, send)
        method = scope['method']
        request = None
        try:
            match = self.router.resolve(scope['path'])
            if match is None or not isinstance(match[0], HTTPEndpoint):
                raise NotFoundAPIError()
            endpoint, params = match
            handler = endpoint.handler_for(method)
            guard = endpoint.guards[method]
            request = Request(scope)
            request.path_params = params
            if not guard.admits_everyone:
                await guard.admit(request, self.auth_override)
            if announces_body(scope):  # read only once the caller is let through
                request.body = await read_body(receive)
            result = await handler(request, **params)
            response = result if isinstance(result, Response) else Response(result)
            body = response.body
        except Exception as exc:
            response, body = await self._error_response(exc, request, method, scope['path'])
        await response.send(send, body if method != 'HEAD' else b'', content_length=len(body))

    async def _error_response(
        self, exc: Exception, request: Request | None, method: str, path: str
    ) -> tuple[Response, bytes]:
        """The response for what a request raised: its exception handler's, an API error's, else a logged 500.

        A pydantic `ValidationError` from anywhere in the request path (a model a handler builds,
        a model write) is the client's input failing a model: the 422 with the field errors, as
        for a body. A handler breaking its own output model raises `OutputContractError` instead,
        which stays a 500.
        """
        handler = self._exception_handler(exc) if self.exception_handlers else None
        if handler is None and isinstance(exc, ValidationError):
            exc = invalid(exc, 'input')
            handler = self._exception_handler(exc) if self.exception_handlers else None
        if handler is not None:
            return await self._handled(handler, request, exc, method, path)
        if isinstance(exc, APIError):
            response = Response(exc.body(), exc.status_code, exc.headers)
        else:
            logger.exception('Unhandled error while serving %s %s', method, path)
            response = Response(INTERNAL_ERROR, 500)
        return response, response.body

    def _exception_handler(self, exc: Exception) -> Callable[[Any, Any], Any] | None:
        for cls in type(exc).__mro__:
            handler = self.exception_handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def _handled(
        self, handler: Callable[[Any, Any], Any], request: Any, exc: Exception, method: str, path: str
    ) -> tuple[Response, bytes]:
        try:
            result = await handler(request, exc)
            response = result if isinstance(result, Response) else Response(result)
            return response, response.body
        except Exception:
            logger.exception('Exception handler %r failed while serving %s %s', handler, method, path)
            response = Response(INTERNAL_ERROR, 500)
            return response, response.body

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = self.router.resolve(scope['path'])
        if match is None or not isinstance(match[0], WebsocketEndpoint):
            if (await receive())['type'] == 'websocket.connect':
                await send(refuse('Not found'))
            return
        endpoint, params = match
        await endpoint.serve(scope, receive, send, params, self.auth_override)

    async def startup(self) -> None:
        """Connect the store; an unreachable one is logged, not fatal: requests get 503 until it is back.

        A store whose users predate canonical usernames is refused with a `ConfigError` that says
        how to migrate it: serving it would let ``Bob`` sign up next to ``bob``, and would not find
        those users at login.
        """
        if self.redis is not None:
            await self.redis.check_persistence()  # a Redis that forgets logouts on restart is refused
        try:
            await self.database.connect()
            legacy = await self.config.user_model.count_without_username_key()
        except StoreUnavailableError as exc:
            logger.warning('store not reachable at start-up: %s', exc.detail)
            return
        if legacy:
            model = self.config.user_model
            raise ConfigError(
                'USER_MODEL',
                f'{model.__module__}.{model.__qualname__}',
                f'{legacy} stored user(s) have no canonical username key (they were created before usernames '
                'were normalised); run `panther-like migrate-usernames` once, then start again',
            )

    async def shutdown(self) -> None:
        await self.outbox.drain()
        if self.redis is not None:
            await self.redis.close()
        await self.database.close()

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                try:
                    self.drain.install()
                    await self.startup()
                except Exception as exc:
                    await send({'type': 'lifespan.startup.failed', 'message': f'{type(exc).__name__}: {exc}'})
                    return
                _freeze_startup_objects()
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                try:
                    await self.shutdown()
                finally:
                    await send({'type': 'lifespan.shutdown.complete'})
                return


def _build_services(config: Config, clock: Clock) -> Services:
    """Open the store and build every service the app hands down (and bind the models to them)."""
    try:
        database = open_database(config.database)
    except ValueError as exc:  # a MongoDB URL that does not parse; the message hides any password
        raise ConfigError(
            "DATABASE['url']",
            redact_url(config.database.get('url')),
            f'{exc}; expected a URL such as mongodb://user:password@host:27017/dbname',
        ) from None
    mailer_class = config.mailer or ConsoleMailer
    return build_services(config, database, Outbox(mailer_class.from_options(config.mailer_options)), clock=clock)


def _freeze_startup_objects() -> None:
    """Keep what the worker built at start-up out of every later garbage collection.

    A serving worker holds tens of thousands of objects from start-up
    (modules, classes, the router, the settings) that live as long as it
    does, and every full collection used to walk all of them: a pause of
    about 20 ms, several times a second under load, which every request in
    flight waits out. Frozen (`gc.freeze`), they are skipped; objects made
    later are collected as before. Done once, when a server starts the app
    (the ASGI lifespan), never by tests that start apps themselves.
    """
    gc.collect()
    gc.freeze()


def _check_setting_classes(config: Config) -> None:
    """Each class a setting names extends the base its layer defines; a JWT class has a key."""
    require_subclass('AUTHENTICATION', config.authentication, BaseAuthentication)
    require_subclass('WS_AUTHENTICATION', config.ws_authentication, BaseAuthentication)
    require_subclass('USER_MODEL', config.user_model, BaseUser)
    require_subclass('MAILER', config.mailer, Mailer)
    for setting, cls in (('AUTHENTICATION', config.authentication), ('WS_AUTHENTICATION', config.ws_authentication)):
        if cls is not None and cls.uses_jwt and config.jwt is None:
            raise ConfigError(
                setting,
                f'{cls.__module__}.{cls.__qualname__}',
                f"{cls.__qualname__} needs a key: set SECRET_KEY or JWTConfig['key'] in the settings module",
            )
