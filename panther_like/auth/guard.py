"""`Guard`: who may use a route, decided the same way for HTTP requests and websocket handshakes.

A route's ``auth=``, ``permissions=`` and ``scopes=`` become one `Guard`
when the app is built. `Guard.admit` runs them in order (authenticate:
401; then each permission: 403) and sets ``connection.user`` and
``connection.auth``; the app calls it before it reads a request's body and
a websocket endpoint before it accepts, so an anonymous client never makes
the server read what it then refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from panther_like.auth.chain import Authenticator, build_authenticator
from panther_like.auth.permissions import Permission, build_permissions, check_scopes, scope_guard
from panther_like.exceptions import ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.settings.config import Config

#: ``(connection) -> user or None``: a stand-in for authentication that tests install on an app
#: (`panther_like.testing.TestClient.force_authenticate`); None lets the real authenticator run.
AuthOverride = Callable[[HTTPConnection], Any]


@dataclass(frozen=True, slots=True)
class Guard:
    authenticator: Authenticator | None
    permissions: tuple[Permission, ...]

    @property
    def admits_everyone(self) -> bool:
        """No authentication and no permission: the app skips `admit` (a public route costs no coroutine)."""
        return self.authenticator is None and not self.permissions

    @classmethod
    def build(
        cls,
        auth: Any,
        permissions: Sequence[Any] | None,
        scopes: Sequence[str] | None,
        config: Config,
        *,
        where: str,
        websocket: bool = False,
    ) -> Guard:
        authenticator = build_authenticator(auth, config, where=where, websocket=websocket)
        permits = build_permissions(permissions, where=where)
        required_scopes = check_scopes(scopes, where=where)
        if required_scopes:
            if authenticator is None or authenticator.optional:
                raise ConfigError(
                    f'scopes of {where}', list(required_scopes), 'scopes need an authentication that is required'
                )
            permits = (scope_guard(required_scopes), *permits)
        return cls(authenticator, permits)

    def admit_from_memory(self, connection: HTTPConnection) -> bool:
        """Admit `connection` without awaiting anything when its authenticator remembers it; else False.

        A plain function, so the usual request of a route with no permissions costs no coroutine.
        False is never a refusal: `admit` then decides, and makes every refusal.
        """
        authenticator = self.authenticator
        if authenticator is None or authenticator.remembered is None or self.permissions:
            return False
        user = authenticator.remembered(connection)
        if user is None:
            return False
        connection.user = connection.auth = user
        return True

    async def admit(self, connection: HTTPConnection, override: AuthOverride | None = None) -> None:
        """Authenticate (401) and permit (403) `connection`, or raise."""
        authenticator = self.authenticator
        if authenticator is not None:
            user = None if override is None else override(connection)
            if user is None and authenticator.remembered is not None:
                user = authenticator.remembered(connection)  # a warm request: no coroutine below this one
            if user is None:
                user = await authenticator(connection)
            connection.user = connection.auth = user
        for permit in self.permissions:
            await permit(connection)
