"""`Panther`: the ASGI application, built once from a settings module.

Building does all the work that can fail because of configuration: load
and check the settings, import the routes, resolve every route's guard,
choose the store. What is left for a request is: the client's address
behind a trusted proxy (``TRUSTED_PROXIES``), resolve, 405,
authenticate (401) and permit (403), read the body, handle, render. A
websocket goes the same way up to its guard, then is accepted or refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from panther_like.app import lifespan
from panther_like.app.dispatch import ExceptionHandler, serve
from panther_like.app.health import Drain, mount_health
from panther_like.audit import install_log_redaction
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.auth.chain import build_authenticator
from panther_like.auth.guard import AuthOverride
from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.common.concurrency import off_the_loop
from panther_like.common.sentinel import UNSET
from panther_like.db.connection import open_database
from panther_like.db.models import BaseUser
from panther_like.db.user_collection import check_collection_name
from panther_like.exceptions import ConfigError
from panther_like.login_state.services import Services, build_services
from panther_like.mail import ConsoleMailer, Mailer, Outbox
from panther_like.openapi.page import mount_docs
from panther_like.routing.endpoint import HTTPEndpoint
from panther_like.routing.router import Group, Router
from panther_like.routing.websocket import WebsocketEndpoint, is_websocket_class
from panther_like.settings import config as config_module
from panther_like.settings.config import Config, not_a_subclass, redact_url, require_subclass


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
        self.exception_handlers: dict[type[BaseException], ExceptionHandler] = {
            cls: off_the_loop(handler) for cls, handler in (exception_handlers or {}).items()
        }
        self.router = Router.build(self._urls(urls), self._endpoint, default_auth=self._default_auth())
        _check_account_routes(self.router, self.config)
        mount_docs(self.router, self.config.openapi)
        mount_health(self.router, self.config.health)
        #: What SIGTERM does (`panther-like run --drain-seconds`); ``drain.draining`` turns readiness off.
        self.drain = Drain()
        self.count_round_trips = self.config.health.enabled and self.config.health.round_trips
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
        routes: Mapping[str, Any] = config_module.import_setting(
            'URLS', urls, expect=(Mapping, Group), kind='a dict of routes'
        )
        return routes

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

    #: The ASGI entry point (`panther_like.app.dispatch`); a class attribute, so serving a request awaits no wrapper.
    __call__ = serve

    async def startup(self) -> None:
        """Connect the stores (`panther_like.app.lifespan.startup`); a server's lifespan calls it."""
        await lifespan.startup(self.services)

    async def shutdown(self) -> None:
        """Drain the outbox and close the stores (`panther_like.app.lifespan.shutdown`)."""
        await lifespan.shutdown(self.services)


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
    return build_services(
        config, database, Outbox(_mailer_class(config).from_options(config.mailer_options)), clock=clock
    )


def _mailer_class(config: Config) -> type[Mailer]:
    mailer = config.mailer or ConsoleMailer
    if not issubclass(mailer, Mailer):
        raise not_a_subclass('MAILER', mailer, Mailer)
    return mailer


def _check_account_routes(router: Router, config: Config) -> None:
    """What the account routes need of the settings; a project that does not import them pays no import."""
    if 'panther_like.accounts' not in sys.modules:  # then no route of it is mounted
        return
    from panther_like.accounts.profile import refuse_a_user_model_signup_cannot_fill

    refuse_a_user_model_signup_cannot_fill(router.routes, config.user_model)


def _check_setting_classes(config: Config) -> None:
    """Each class a setting names extends the base its layer defines; a JWT class has a key."""
    authentication = require_subclass('AUTHENTICATION', config.authentication, BaseAuthentication)
    ws_authentication = require_subclass('WS_AUTHENTICATION', config.ws_authentication, BaseAuthentication)
    require_subclass('USER_MODEL', config.user_model, BaseUser)
    check_collection_name(config.user_model)
    _mailer_class(config)
    for setting, cls in (('AUTHENTICATION', authentication), ('WS_AUTHENTICATION', ws_authentication)):
        if cls is not None and cls.uses_jwt and config.jwt is None:
            raise ConfigError(
                setting,
                f'{cls.__module__}.{cls.__qualname__}',
                f"{cls.__qualname__} needs a key: set SECRET_KEY or JWTConfig['key'] in the settings module",
            )
