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
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panther_like import audit
from panther_like.common.clock import SYSTEM_CLOCK
from panther_like.crypto.passwords import hash_password
from panther_like.db.backend import Database
from panther_like.db.user import new_credential_version
from panther_like.db.usernames import InvalidUsername, username_key
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError, ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.factor_summary import HINT_FIELD, FactorSummary
from panther_like.login_state.jwt_codec import ONE_TIME_CODE, PASSWORD
from panther_like.login_state.login_codes import LoginCodes
from panther_like.login_state.mfa_tokens import MFA_METHODS, WEBAUTHN_METHOD, MFATokens, second_step_amr
from panther_like.login_state.passkeys import Passkeys
from panther_like.login_state.second_factors import SecondFactors
from panther_like.login_state.session_registry import end_web_sessions
from panther_like.login_state.sessions import LoginSessions
from panther_like.login_state.throttle import LoginThrottle
from panther_like.login_state.tokens import current_password_change
from panther_like.login_state.trusted_browsers import TrustedBrowsers
from panther_like.settings.config import Config

INVALID_CREDENTIALS = 'Invalid username or password'
INVALID_MFA_TOKEN = 'The mfa_token is invalid, expired or already used; log in again'
INVALID_CODE = 'Invalid code'


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
        clock = sessions.clock if sessions is not None else SYSTEM_CLOCK
        self.factor_summary = FactorSummary(database, config.user_model.collection_name, self._any_factor_stored)
        self.second_factors = SecondFactors(config, database, self.factor_summary, clock=clock)
        self.login_codes = LoginCodes(database, config.secret_key, clock=clock)
        days, secret_key = config.accounts.trust_browser_days, config.secret_key
        self.trusted_browsers = (
            TrustedBrowsers(secret_key, days, self.second_factors, clock=clock) if days and secret_key else None
        )
        self._mfa_tokens = MFATokens(database, sessions.revocations, clock=clock) if sessions is not None else None
        self.passkeys = Passkeys(database, self.factor_summary, clock=clock)

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
        self.refuse_barred(request, user)
        if user.password_needs_rehash():
            await user.rehash_password(password)
        return user

    def refuse_barred(self, request: HTTPConnection, user: Any) -> None:
        """A 403 for a user who proved who they are but may not log in: disabled, or (``require_verified``)
        with an address not yet verified. Every way of logging in asks this once the proof is good."""
        if not user.is_active:
            audit.log_event('login.refused', request=request, reason='account disabled', user_id=user.id)
            raise AuthorizationAPIError('This account is disabled')
        if self.config.accounts.require_verified and not user.is_verified:
            audit.log_event('login.refused', request=request, reason='not verified', user_id=user.id)
            raise AuthorizationAPIError('Verify your e-mail address before logging in')

    async def login(
        self,
        user: Any,
        *,
        scopes: Sequence[str] | None = None,
        request: HTTPConnection | None = None,
        amr: Sequence[str] = (PASSWORD,),
    ) -> dict[str, str]:
        """A new login session for `user` (checked already): its token pair."""
        return await self.sessions.login(user, scopes=scopes, request=request, amr=amr)

    # -- the second step of a login, and step-up --------------------------------------------------

    async def password_step(
        self,
        request: HTTPConnection,
        user: Any,
        scopes: list[str],
        trusted: str | None = None,
        first: Sequence[str] = (PASSWORD,),
    ) -> str | None:
        """After a good first step: an ``mfa_token`` for the second step if the user has a factor, else None.

        `trusted`: the browser's ``mfa_trusted`` cookie; a live one skips the second step. `first`: how the
        first step was made (``amr`` values: the password, or a mailed code), which the second step's tokens keep.
        """
        if self._mfa_tokens is None or not await self._asks_second_step(user):
            return None
        browsers = self.trusted_browsers
        if trusted is not None and browsers is not None and await browsers.trusts(user, trusted):
            audit.log_event('login.trusted_browser', request=request, user_id=user.id)
            return None
        audit.log_event('login.mfa_required', request=request, user_id=user.id)
        return await self._mfa_tokens.issue(user, scopes, first)

    async def _asks_second_step(self, user: Any) -> bool:
        """`has_second_factor`, skipped when the user's hint says they hold none (`login_state.factor_summary`)."""
        if not self.factor_summary.may_have(user):
            return False
        if getattr(user, HINT_FIELD, None) is None:  # stored before the hint: look once, and record what was found
            if not await self._any_factor_stored(user.id):
                await self.factor_summary.found_none(user.id)
                return False
            await self.factor_summary.adding(user.id)
        return await self.has_second_factor(user.id)

    async def _any_factor_stored(self, user_id: str) -> bool:
        """A confirmed TOTP factor or a passkey row, whatever the settings (what the hint summarises)."""
        return await self.second_factors.confirmed(user_id) or bool(await self.passkeys.count(user_id))

    async def forget_second_factors(self, user_id: str) -> None:
        """Delete the user's TOTP factor, recovery codes and passkeys (the user is being deleted)."""
        await self.passkeys.forget_user(user_id)
        await self.second_factors.remove(user_id)

    async def has_passkey(self, user_id: str) -> bool:
        """Whether the user holds a passkey this app accepts (none while ``ACCOUNTS['webauthn']`` is off)."""
        return self.config.accounts.webauthn is not None and bool(await self.passkeys.count(user_id))

    async def has_second_factor(self, user_id: str) -> bool:
        """A confirmed TOTP factor or a passkey: either makes a password login ask for the second step.

        A passkey counts because it is a factor of its own (something held, unlocked by the device):
        a user who added one expects a stolen password alone to open nothing.
        """
        return await self.second_factors.confirmed(user_id) or await self.has_passkey(user_id)

    async def second_step_methods(self, user: Any) -> list[str]:
        """What the ``mfa_required`` answer offers: a TOTP code if set up, a recovery code, a passkey if held."""
        totp, recovery = MFA_METHODS
        methods = [totp, recovery] if await self.second_factors.confirmed(user.id) else [recovery]
        if await self.has_passkey(user.id):
            methods.append(WEBAUTHN_METHOD)
        return methods

    async def second_step(
        self, request: HTTPConnection, mfa_token: str, code: str | None, recovery_code: str | None
    ) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
        """The user, scopes and ``amr`` of a first step completed by a good code; else 401 (or 429 when throttled).

        A wrong code counts in the login throttle like a wrong password; the token survives it.
        """

        async def proof(user: Any) -> bool:
            return await self.check_second_factor(request, user, code, recovery_code)

        return await self.second_step_by(request, mfa_token, proof)

    async def second_step_user(self, mfa_token: Any) -> str:
        """Whose password step `mfa_token` stands for, while it is live; else 401."""
        step = None if self._mfa_tokens is None else await self._mfa_tokens.find(mfa_token)
        if step is None:
            raise AuthenticationAPIError(INVALID_MFA_TOKEN)
        return step.user_id

    async def second_step_by(
        self,
        request: HTTPConnection,
        mfa_token: str,
        proof: Callable[[Any], Awaitable[bool]],
        method: str = ONE_TIME_CODE,
        refusal: str = INVALID_CODE,
    ) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
        """`second_step` with any second factor: `proof` says whether the user proved it (``amr`` `method`)."""
        tokens = self._mfa_tokens
        step = None if tokens is None else await tokens.find(mfa_token)
        if tokens is None or step is None:
            raise AuthenticationAPIError(INVALID_MFA_TOKEN)
        user = await self.user_model.find_one(id=step.user_id)
        if user is None or not step.still_holds(user) or not user.is_active:
            raise AuthenticationAPIError(INVALID_MFA_TOKEN)
        subject = user.username_key or user.username
        await self.throttle.check(request, subject)
        if not await proof(user):
            await self.throttle.record_failure(request, subject, user_id=user.id)
            audit.log_event('login.failure', request=request, reason='wrong second factor', user_id=user.id)
            raise AuthenticationAPIError(refusal)
        if not await tokens.spend(step):
            raise AuthenticationAPIError(INVALID_MFA_TOKEN)
        await self.throttle.reset(request, subject)
        return user, step.scopes, second_step_amr(step, method)

    async def check_second_factor(
        self, request: HTTPConnection, user: Any, code: str | None, recovery_code: str | None
    ) -> bool:
        """Whether `code` (TOTP) or `recovery_code` is good for `user` now; either is used up."""
        factors = self.second_factors
        if code is not None:
            return await factors.verify_totp(user.id, code)
        if recovery_code is not None and await factors.use_recovery_code(user.id, recovery_code):
            audit.log_event('mfa.recovery_code_used', request=request, user_id=user.id)
            return True
        return False

    async def confirm_second_factor(
        self, request: HTTPConnection, user: Any, code: str | None, recovery_code: str | None
    ) -> bool:
        """`check_second_factor` for a logged-in user (removing a factor, say), throttled like a login.

        A stolen access token must not be a way to try every code.
        """
        subject = user.username_key or user.username
        await self.throttle.check(request, subject)
        if not await self.check_second_factor(request, user, code, recovery_code):
            await self.throttle.record_failure(request, subject, user_id=user.id)
            return False
        await self.throttle.reset(request, subject)
        return True

    async def reauthenticate(
        self, request: HTTPConnection, user: Any, *, password: str | None, code: str | None
    ) -> dict[str, str]:
        """A new pair for the caller's session with a fresh ``auth_time``, if `password` or `code` is theirs.

        Throttled like a login: a stolen access token is no way to guess the password.
        """

        async def proof() -> bool:
            if password is not None:
                return bool(await user.verify_password(password))
            return await self.second_factors.verify_totp(user.id, code)

        if password is not None:
            return await self.reauthenticate_by(request, user, proof, PASSWORD, INVALID_CREDENTIALS)
        return await self.reauthenticate_by(request, user, proof, ONE_TIME_CODE, INVALID_CODE)

    async def reauthenticate_by(
        self, request: HTTPConnection, user: Any, proof: Callable[[], Awaitable[bool]], amr: str, refusal: str
    ) -> dict[str, str]:
        """`reauthenticate` with any proof (a passkey, say): `proof` says whether it holds; ``amr`` `amr`."""
        claims = user._token_claims
        if not isinstance(claims, dict):
            raise AuthenticationAPIError('Re-authentication needs a login session (an access token)')
        subject = user.username_key or user.username
        await self.throttle.check(request, subject)
        if not await proof():
            await self.throttle.record_failure(request, subject, user_id=user.id)
            audit.log_event('reauthenticate.failure', request=request, user_id=user.id)
            raise AuthenticationAPIError(refusal)
        await self.throttle.reset(request, subject)
        return await self.sessions.reauthenticate(user, claims, [amr], request=request)

    async def refresh(self, refresh_token: str, *, request: HTTPConnection | None = None) -> dict[str, str]:
        return await self.sessions.refresh(refresh_token, request=request)

    async def logout(self, claims: dict[str, Any], *, request: HTTPConnection | None = None) -> None:
        await self.sessions.logout(claims, request=request)

    async def logout_everywhere(self, user_id: str, *, request: HTTPConnection | None = None) -> int:
        """End every login session of the user; how many ended. Every trusted browser asks for a code again."""
        await self.second_factors.forget_trusted_browsers(user_id)
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

    # -- administration ---------------------------------------------------------------------------

    async def end_every_session(self, user_id: str, *, request: HTTPConnection | None = None) -> int:
        """A deactivated or deleted account: its login sessions and `SessionAuth` sessions end at once."""
        await end_web_sessions(self.database, user_id)
        if self._sessions is None:
            return 0
        return await self.logout_everywhere(user_id, request=request)
