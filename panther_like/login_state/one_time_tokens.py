"""Single-use tokens for links sent by mail: password reset, address verification, address change.

What is stored: never the token. The raw token (32 random bytes, 43
URL-safe characters) exists only in the mail; the store keeps its
SHA-256 digest as the row id, with the user it was issued to, its purpose,
when it expires and a digest of what it is bound to. Someone who reads
the store (a backup, a log of queries) learns nothing they can use.

Why SHA-256 and not argon2: a slow, salted hash protects secrets that
people choose, which are few enough to guess; it makes each guess cost.
A token of 256 random bits cannot be guessed whatever each guess costs,
so a fast hash loses nothing, and it is unsalted on purpose: the digest
is the key the row is found by, in one indexed read. A salted hash would
need the row first, and a slow one would hand anyone who can send
requests a way to burn the server's CPU.

Why the purpose is inside the digest: a reset token presented for
verification (or the reverse) finds no row at all, so the wrong route can
neither use it nor spend it.

Why a binding: a token stays good only while what it was issued for is
unchanged. A reset token is bound to the password hash (and the address),
so once the password changes, by this reset or any other way, every
other reset link of the user is dead; a verification token is bound to
the address it was sent to, so it cannot verify an address set later.

Single use, even under a race: `spend` is the app's revocation store's
`claim_once` (a unique insert in the database, ``SET NX`` in Redis), so of
two concurrent uses exactly one wins. Check everything first (`find`,
the user, the binding), then `spend`, then act only if it returned True;
a token refused for any reason is left as it was.

One reset per password, even under a race: two different reset links of
one user carry the same binding (the same password hash), and checking the
binding before the new password is written cannot tell two links used at
the same moment apart. So spending a reset token also claims its binding,
in the same atomic store operation kind: of all the user's reset links
issued for one password, exactly one can ever be spent; the others are
dead at that instant, before the password has even changed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.login_state.revocation import ExpiredRowPurge, RevocationStore

TOKENS_COLLECTION = 'panther_like_one_time_tokens'
PASSWORD_RESET = 'password_reset'
VERIFY_EMAIL = 'verify_email'
CHANGE_EMAIL = 'change_email'
PURPOSES = frozenset({PASSWORD_RESET, VERIFY_EMAIL, CHANGE_EMAIL})
#: Purposes of which one token per binding can ever be spent: a reset ends every other link of the user.
EXCLUSIVE_PURPOSES = frozenset({PASSWORD_RESET})
TOKEN_BYTES = 32
#: What `secrets.token_urlsafe(TOKEN_BYTES)` makes; anything else is refused before the store is asked.
TOKEN_SHAPE = re.compile(r'[A-Za-z0-9_-]{43}')


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()


def _key(purpose: str, token: str) -> str:
    return _digest(f'{purpose}:{token}')


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token that was found grants: to whom, for what, until when. Not yet spent."""

    key: str
    user_id: str
    purpose: str
    until: float
    binding: str

    def binds(self, value: str) -> bool:
        """Whether the token was issued for `value` (compared in constant time)."""
        return hmac.compare_digest(self.binding, _digest(value))


class OneTimeTokens:
    """The store of one app; see the module docstring."""

    def __init__(self, database: Database, claims: RevocationStore, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._claims = claims
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)
        self._index_ready = False

    async def _rows(self) -> Any:
        rows = self._database.collection(TOKENS_COLLECTION)
        if not self._index_ready:
            await rows.create_index('user_id')
            self._index_ready = True
        return rows

    async def issue(self, user_id: str, purpose: str, *, binding: str, life_time: float) -> str:
        """A new token for `user_id`, good once for `life_time` seconds; raises if it could not be stored.

        Stored before it is returned: a token the store does not know is never mailed.
        """
        _check_purpose(purpose)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self._store(_key(purpose, token), user_id, purpose, binding, self._clock.time() + life_time)
        return token

    async def issue_nothing(self, purpose: str, *, binding: str) -> None:
        """The work of `issue`, a row write included, for a request that must not show it was refused.

        The row is expired from the start and no one ever saw its token, so it grants nothing;
        the purge removes it with the others.
        """
        _check_purpose(purpose)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self._store(_key(purpose, token), '', purpose, binding, self._clock.time())

    async def _store(self, key: str, user_id: str, purpose: str, binding: str, until: float) -> None:
        rows = await self._rows()
        await rows.insert_one(
            {
                '_id': key,
                'user_id': user_id,
                'purpose': purpose,
                'binding': _digest(binding),
                'until': until,
            }
        )
        await self._purge_expired(rows)

    async def find(self, token: Any, purpose: str) -> Grant | None:
        """What `token` grants for `purpose`; None if it is malformed, unknown, spent, expired or of another purpose."""
        _check_purpose(purpose)
        if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
            return None
        row = await (await self._rows()).find_one({'_id': _key(purpose, token)})
        if row is None or not row.get('user_id') or row['until'] <= self._clock.time():
            return None
        return Grant(
            key=row['_id'], user_id=row['user_id'], purpose=purpose, until=row['until'], binding=row['binding']
        )

    async def spend(self, grant: Grant) -> bool:
        """Use the token up: True for exactly one caller, however many present it at once.

        For `EXCLUSIVE_PURPOSES` (a reset), True for exactly one of all the tokens bound to the same
        value for the user, too (see the module docstring).
        """
        won = await self._claims.claim_once(f'one-time:{grant.key}', grant.until)
        await (await self._rows()).delete_one({'_id': grant.key})
        if won and grant.purpose in EXCLUSIVE_PURPOSES:
            # Held while this token could still be used: long enough to cover its own reset. Once that reset has
            # written the new password, the binding of every other token is wrong anyway; had it failed, the
            # other links work again afterwards.
            bound = _digest(f'{grant.purpose}:{grant.user_id}:{grant.binding}')
            won = await self._claims.claim_once(f'one-time-binding:{bound}', grant.until)
        return won

    async def discard(self, user_id: str, purpose: str) -> int:
        """Forget every token of `user_id` for `purpose` (the links already mailed stop working)."""
        _check_purpose(purpose)
        deleted: int = await (await self._rows()).delete_many({'user_id': user_id, 'purpose': purpose})
        return deleted


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f'unknown one-time token purpose {purpose!r} (known: {", ".join(sorted(PURPOSES))})')
