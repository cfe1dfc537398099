"""Trust this browser (``ACCOUNTS['trust_browser_days']``): a signed cookie that skips the second step of a login.

After a login completed with a code, the user may ask that this browser
not be asked again for N days. The cookie (``mfa_trusted``, HttpOnly,
SameSite=Strict, sent only to the login routes) holds the user id, its
expiry and the user's trust epoch, signed with an HMAC under a key
derived from ``SECRET_KEY`` together with the user's credential version.
It skips only the code: the password is still asked for.

Why it dies with the sessions: a password change replaces the credential
version, and "log out everywhere" or removing the factor draws a new trust
epoch (kept in the factor's row), so every cookie issued before stops
working at once, on every worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.login_state.second_factors import SecondFactors

TRUSTED_COOKIE = 'mfa_trusted'
MAX_COOKIE_LENGTH = 512


class TrustedBrowsers:
    def __init__(self, secret_key: str, days: int, factors: SecondFactors, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._key = hashlib.sha256(b'panther_like trusted browsers\x00' + secret_key.encode()).digest()
        self.life = days * 86400
        self._factors = factors
        self._clock = clock

    def _signature(self, payload: str, user: Any) -> str:
        message = f'{payload}\x00{user.credential_version}'.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def issue(self, user: Any) -> str | None:
        """The cookie value that trusts this browser for `user`; None when the user has no factor."""
        epoch = await self._factors.trust_epoch(user.id)
        if epoch is None:
            return None
        payload = f'{user.id}\x00{int(self._clock.time()) + self.life}\x00{epoch}'
        encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip('=')
        return f'{encoded}.{self._signature(payload, user)}'

    async def trusts(self, user: Any, cookie: Any) -> bool:
        """Whether `cookie` is a live, untampered trust of this browser by `user`, issued since the last reset."""
        if not isinstance(cookie, str) or len(cookie) > MAX_COOKIE_LENGTH or cookie.count('.') != 1:
            return False
        encoded, signature = cookie.split('.')
        try:
            payload = base64.urlsafe_b64decode(encoded + '=' * (-len(encoded) % 4)).decode()
        except ValueError:
            return False
        if not hmac.compare_digest(signature, self._signature(payload, user)):
            return False
        parts = payload.split('\x00')
        if len(parts) != 3:
            return False
        user_id, until, epoch = parts
        if user_id != user.id or not until.isdigit() or int(until) <= self._clock.time():
            return False
        current = await self._factors.trust_epoch(user.id)
        return current is not None and hmac.compare_digest(epoch, current)
