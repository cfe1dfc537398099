"""`AccountService`: what the account routes, the CLI and scripts do to an account, in one place.

Login (throttled, the same answer and work for an unknown username as for
a wrong password, a stored hash with outdated argon2 parameters rewritten),
refresh, logout, logout everywhere, password change and reset, and telling
every worker's cache that a user changed.

A password change ends every earlier session through the user's credential
version (`panther_like.db.user`), which any ``user.update(password=...)``
replaces, so one made by a script that never calls this service ends them
too. What the service adds: the session that asked for the change goes on
(`change_password(keep=sid)`), the others are ended at once instead of at
their next use, and `SessionAuth` sessions are deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from panther_like import audit
from panther_like.crypto.passwords import hash_password
from panther_like.db.backend import Database
from panther_like.db.user import new_credential_version
from panther_like.db.usernames import InvalidUsername, username_key
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError, ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.session_registry import end_web_sessions
from panther_like.login_state.sessions import LoginSessions
from panther_like.login_state.throttle import LoginThrottle
from panther_like.login_state.tokens import current_password_change
from panther_like.settings.config import Config

INVALID_CREDENTIALS = 'Invalid username or password'


class AccountService:
    """The account operations of one app; built once with its sessions, throttle and database."""

    def __init__(
        self, config: Config, database: Database, sessions: LoginSessions | None, throttle: LoginThrottle
    ) -> None:
        self.config = config
        self.user_model: Any = config.user_model
        self.database = database
        self._sessions = sessions
        self.throttle = throttle

    @property
    def sessions(self) -> LoginSessions:
        if self._sessions is None:
            raise ConfigError(
                'JWTConfig', None, 'no JWT key is configured: set SECRET_KEY or JWTConfig["key"] in the settings module'
            )
        return self._sessions

    # -- logging in and out -------------------------------------------------------------------

    async def check_credentials(self, request: HTTPConnection, username: str, password: str) -> Any:
        """The user `username` names if `password` is theirs and they may log in; else 401, 403 or 429.

        Throttled per canonical username and client address before any password is checked. A
        stored hash made with outdated argon2 parameters is rewritten (`BaseUser.rehash_password`).
        """
        try:
            key: str | None = username_key(username)
        except InvalidUsername:
            key = None  # cannot exist: answered like any unknown username
        throttle = self.throttle
        await throttle.check(request, key or username)
        user = None if key is None else await self.user_model.find_one(username_key=key)
        if user is None:
            await self.user_model.verify_password_dummy(password)
        if user is None or not await user.verify_password(password):
            await throttle.record_failure(request, key or username, user_id=user.id if user else None)
            raise AuthenticationAPIError(INVALID_CREDENTIALS)
        assert key is not None  # a user was found by it
        await throttle.reset(request, key)
        if not user.is_active:
            audit.log_event('login.refused', request=request, reason='account disabled', user_id=user.id)
            raise AuthorizationAPIError('This account is disabled')
        if self.config.accounts.require_verified and not user.is_verified:
            audit.log_event('login.refused', request=request, reason='not verified', user_id=user.id)
            raise AuthorizationAPIError('Verify your e-mail address before logging in')
        if user.password_needs_rehash():
            await user.rehash_password(password)
        return user

    async def login(
        self, user: Any, *, scopes: Sequence[str] | None = None, request: HTTPConnection | None = None
    ) -> dict[str, str]:
        """A new login session for `user` (checked already): its token pair."""
        return await self.sessions.login(user, scopes=scopes, request=request)

    async def refresh(self, refresh_token: str, *, request: HTTPConnection | None = None) -> dict[str, str]:
        return await self.sessions.refresh(refresh_token, request=request)

    async def logout(self, claims: dict[str, Any], *, request: HTTPConnection | None = None) -> None:
        await self.sessions.logout(claims, request=request)

    async def logout_everywhere(self, user_id: str, *, request: HTTPConnection | None = None) -> int:
        """End every login session of the user; how many ended."""
        return await self.sessions.end_sessions(user_id, request=request)

    # -- passwords ----------------------------------------------------------------------------

    async def change_password(self, user: Any, raw: str, *, keep: str | None = None) -> int:
        """Set `raw` as the password; every session of the user ends but `keep`; returns how many login sessions ended.

        `keep` defaults to the session a surrounding `changing_password(keep=...)` names.
        """
        change = current_password_change()
        if keep is None and change is not None:
            keep = change.keep
        version = new_credential_version()
        if keep is not None and self._sessions is not None:
            await self._sessions.carry_session(keep, version)  # before the change: it is never refused
        hashed = await asyncio.to_thread(hash_password, raw)
        await user.update(password=hashed, credential_version=version)
        await end_web_sessions(self.database, user.id)
        ended = 0
        if self._sessions is not None:
            ended = await self._sessions.end_sessions(user.id, keep=keep)
        if change is not None:
            change.ended += ended
        return ended

    async def reset_password(self, user: Any, raw: str) -> int:
        """A forgotten password replaced: every session of the user ends; returns how many login sessions ended."""
        return await self.change_password(user, raw)

    # -- caches -------------------------------------------------------------------------------

    async def user_changed(self, user_id: str) -> None:
        """A user was changed outside the models (a database shell): every worker forgets its copy."""
        if self._sessions is not None:
            await self._sessions.user_changed(user_id)
