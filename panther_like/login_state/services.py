"""`Services`: what the app builds once and hands down, so nothing reaches back up to the app.

`Panther` builds one `Services` from its `Config` (`build_services`) and
binds it to every endpoint, security object and authentication class as
they are built, and to the models (their database and the login
sessions). Request-time code that has only the request reads it with
`services_of`: the app puts it in the ASGI scope under `SCOPE_KEY`.

This module sits below every user of it (security, auth, routing, the
account routes, the app, the CLI), so they depend on it and never on the
app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.db.model import bind_models
from panther_like.exceptions import ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.accounts import AccountService
from panther_like.login_state.fast_state import FastState, open_fast_state
from panther_like.login_state.jwt_codec import JWTCodec
from panther_like.login_state.oidc import OIDCVerifier
from panther_like.login_state.one_time_tokens import OneTimeTokens
from panther_like.login_state.provisioning import bind_user_model
from panther_like.login_state.session_registry import SessionRegistry
from panther_like.login_state.sessions import LoginSessions
from panther_like.login_state.throttle import ActionLimit, LoginThrottle
from panther_like.settings.config import Config

if TYPE_CHECKING:
    from panther_like.mail.outbox import Outbox

#: Where the app puts its `Services` in each connection's ASGI scope.
SCOPE_KEY = 'panther_like.services'


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """The services of one app; built once, never changed."""

    config: Config
    database: Database
    fast_state: FastState
    #: None without a JWT key (``SECRET_KEY`` or ``JWTConfig['key']``).
    codec: JWTCodec | None
    sessions: LoginSessions | None
    throttle: LoginThrottle
    one_time_tokens: OneTimeTokens
    outbox: Outbox
    accounts: AccountService
    clock: Clock = SYSTEM_CLOCK
    #: None without ``OIDC_RESOURCE``: the identity providers whose tokens `OIDCAuthentication` accepts.
    oidc: OIDCVerifier | None = None

    @property
    def login_sessions(self) -> LoginSessions:
        """The login sessions; a `ConfigError` when there is no JWT key."""
        if self.sessions is None:
            raise ConfigError(
                'JWTConfig', None, 'no JWT key is configured: set SECRET_KEY or JWTConfig["key"] in the settings module'
            )
        return self.sessions


def build_services(config: Config, database: Database, outbox: Outbox, *, clock: Clock = SYSTEM_CLOCK) -> Services:
    """Every service of the app, over `database` and the fast state the settings choose; binds the models."""
    fast = open_fast_state(config, database, clock=clock)
    codec = JWTCodec(config.jwt, clock=clock) if config.jwt else None
    sessions = (
        LoginSessions(
            codec,
            fast.revocations,
            config.user_model,
            config.auth_cache,
            changes=fast.changes,
            sessions=SessionRegistry(database, clock=clock),
            clock=clock,
            refresh_grace=config.accounts.refresh_grace,
        )
        if codec is not None
        else None
    )
    throttle = LoginThrottle(config.login_throttle, fast.throttle)
    services = Services(
        config=config,
        database=database,
        fast_state=fast,
        codec=codec,
        sessions=sessions,
        throttle=throttle,
        one_time_tokens=OneTimeTokens(database, fast.revocations, clock=clock),
        outbox=outbox,
        accounts=AccountService(config, database, sessions, throttle),
        clock=clock,
        oidc=None
        if config.oidc_resource is None
        else OIDCVerifier(config.oidc_resource, config.user_model, clock=clock),
    )
    bind_models(database, sessions=sessions)
    bind_user_model(config.user_model)
    global _bound
    _bound = services
    return services


_bound: Services | None = None


def bound_services() -> Services:
    """The services of the app built last, for the few public helpers that are given no request.

    ``login_session(response, user)`` and ``APIKeyCookie.csrf_token(key)`` are called from a
    handler or a script with neither; one process serves one app, so this is one slot.
    """
    if _bound is None:
        raise RuntimeError('no panther_like app has been built in this process; build Panther(...) first')
    return _bound


def services_of(connection: HTTPConnection) -> Services:
    """The services of the app serving `connection`."""
    services: Services = connection.scope[SCOPE_KEY]
    return services


#: The limits `login_throttle.limit` applies unless it is given others.
EVERY_ACTION = ActionLimit()


class _RequestThrottle:
    """``login_throttle``: the throttle of the app serving the request, for views to call."""

    @staticmethod
    def _of(request: HTTPConnection) -> LoginThrottle:
        return services_of(request).throttle

    async def check(self, request: HTTPConnection, username: str) -> None:
        await self._of(request).check(request, username)

    async def record_failure(self, request: HTTPConnection, username: str, *, user_id: str | None = None) -> None:
        await self._of(request).record_failure(request, username, user_id=user_id)

    async def reset(self, request: HTTPConnection, username: str) -> None:
        await self._of(request).reset(request, username)

    async def limit(
        self, request: HTTPConnection, action: str, subject: str, limit: ActionLimit = EVERY_ACTION
    ) -> None:
        await self._of(request).limit(request, action, subject, limit)


login_throttle = _RequestThrottle()
