"""The ``mfa_token`` a password step hands to the second step of a login.

A login by a user with a confirmed second factor stops after the password:
the answer is a 401 with an ``mfa_token`` instead of a session. The second
step (``POST login/mfa``) presents it with a code.

What it is: 32 random bytes (43 URL-safe characters), not a JWT, so no
authentication class can ever take it for an access token. The store keeps
its SHA-256 digest as the row id (the raw token exists only in the answer;
see `panther_like.login_state.one_time_tokens` for why a fast unsalted
hash is right for random tokens), with the user, the scopes the password
step was granted, how the first step was made (its OIDC ``amr``: ``pwd``, or
``otp`` for a code mailed by ``login/code``), when it expires (5 minutes at most), and a digest of the
user's password hash and credential version: a password change between
the two steps kills it.

Single use: `spend` claims it in the revocation store (a unique insert in
the database, ``SET NX`` in Redis), so of two concurrent second steps at
most one wins. A wrong code does not spend it: the login throttle limits
the tries, as for passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.exceptions import AuthenticationAPIError
from panther_like.login_state.jwt_codec import ONE_TIME_CODE, PASSWORD
from panther_like.login_state.revocation import ExpiredRowPurge, RevocationStore

MFA_TOKENS_COLLECTION = 'panther_like_mfa_tokens'
MFA_TOKEN_LIFE = 300
TOKEN_SHAPE = re.compile(r'[A-Za-z0-9_-]{43}')
#: What a login with a confirmed factor offers for its second step.
MFA_METHODS = ('totp', 'recovery_code')
#: Offered too when the user has a passkey (`panther_like.accounts.passkeys`).
WEBAUTHN_METHOD = 'webauthn'
#: RFC 8176: the ``amr`` value that says several factors were used (with each of them listed too).
MULTIPLE_FACTORS = 'mfa'


class MFARequired(AuthenticationAPIError):
    """401 of a good password step when a second factor is set up: no session yet, an ``mfa_token`` instead."""

    detail = 'A second factor is required: send the mfa_token with a code to login/mfa'

    def __init__(self, mfa_token: str, methods: list[str]) -> None:
        super().__init__()
        self.mfa_token = mfa_token
        self.methods = methods

    def body(self) -> dict[str, object]:
        return {'detail': self.detail, 'mfa_required': True, 'mfa_token': self.mfa_token, 'methods': self.methods}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()


def _binding(user: Any) -> str:
    return _digest(f'{user.password}\x00{user.credential_version}')


@dataclass(frozen=True, slots=True)
class PasswordStep:
    """A password step an ``mfa_token`` stands for: whose, with what scopes, until when. Not yet spent."""

    key: str
    user_id: str
    scopes: tuple[str, ...]
    until: float
    binding: str
    #: How the first step was made (``amr`` values); the second step adds its own.
    first: tuple[str, ...] = (PASSWORD,)

    def still_holds(self, user: Any) -> bool:
        """Whether `user` still has the password and credential version the step was made with."""
        return hmac.compare_digest(self.binding, _binding(user))


def second_step_amr(step: PasswordStep, second: str = ONE_TIME_CODE) -> tuple[str, ...]:
    """The ``amr`` of a login completed by a second step: the first step's, the second's (``otp`` for a TOTP or
    a recovery code: both one-time codes; ``hwk`` for a passkey), and ``mfa``, since two factors were used."""
    methods = [*step.first]
    for method in (second, MULTIPLE_FACTORS):
        if method not in methods:
            methods.append(method)
    return tuple(methods)


class MFATokens:
    def __init__(self, database: Database, claims: RevocationStore, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._claims = claims
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)

    def _rows(self) -> Any:
        return self._database.collection(MFA_TOKENS_COLLECTION)

    async def issue(self, user: Any, scopes: list[str], first: Sequence[str] = (PASSWORD,)) -> str:
        """A token for the second step of `user`'s login, whose first step (`first`: ``amr`` values) granted
        `scopes`."""
        token = secrets.token_urlsafe(32)
        rows = self._rows()
        await rows.insert_one(
            {
                '_id': _digest(token),
                'user_id': user.id,
                'scopes': ' '.join(scopes),
                'first': ' '.join(first),
                'binding': _binding(user),
                'until': self._clock.time() + MFA_TOKEN_LIFE,
            }
        )
        await self._purge_expired(rows)
        return token

    async def find(self, token: Any) -> PasswordStep | None:
        """The password step `token` stands for; None if it is malformed, unknown, spent or expired."""
        if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
            return None
        row = await self._rows().find_one({'_id': _digest(token)})
        if row is None or row['until'] <= self._clock.time():
            return None
        scopes = tuple(row['scopes'].split()) if row.get('scopes') else ()
        first = tuple(row['first'].split()) if isinstance(row.get('first'), str) and row['first'] else (PASSWORD,)
        return PasswordStep(row['_id'], row['user_id'], scopes, row['until'], row['binding'], first)

    async def spend(self, step: PasswordStep) -> bool:
        """Use the token up: True for exactly one caller, however many present it at once."""
        won = await self._claims.claim_once(f'mfa-token:{step.key}', step.until)
        await self._rows().delete_one({'_id': step.key})
        return won
