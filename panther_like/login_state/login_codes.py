"""One-time login codes sent by mail (``ACCOUNTS['login_by_code']``): short, typed by hand, tried three times.

A code is 8 characters of an alphabet without look-alikes (no 0/O, 1/I/L,
U), about 39 bits: far too few to survive unlimited guessing, which is why
each code allows 3 tries and lives 3 minutes, and the sends are throttled.
One row per user in `LOGIN_CODES_COLLECTION`: ``{_id: user_id, digest,
tries, until}``; a new code replaces the earlier one.

Stored as an HMAC under a key derived from ``SECRET_KEY`` (SHA-256 when there
is none): 39 bits would fall quickly to anyone holding a copy of the rows
and a plain hash.

Each try is claimed before the code is compared, by a conditional update
(``tries`` still what was read), so racing requests cannot get more than 3
tries between them; a right code is spent by deleting its row, which only
one request can do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.login_state.revocation import ExpiredRowPurge

LOGIN_CODES_COLLECTION = 'panther_like_login_codes'
CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789'
CODE_LENGTH = 8
CODE_LIFE = 180
MAX_TRIES = 3


def normalize_login_code(code: Any) -> str | None:
    """The code as issued (upper case, no spaces or dashes), or None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 32:
        return None
    plain = code.replace(' ', '').replace('-', '').upper()
    if len(plain) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in plain):
        return None
    return plain


class LoginCodes:
    def __init__(self, database: Database, secret_key: str | None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._key = hashlib.sha256(b'panther_like login codes\x00' + (secret_key or '').encode()).digest()
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)

    def _rows(self) -> Any:
        return self._database.collection(LOGIN_CODES_COLLECTION)

    def _digest(self, user_id: str, code: str) -> str:
        return hmac.new(self._key, f'{user_id}\x00{code}'.encode(), hashlib.sha256).hexdigest()

    async def issue(self, user_id: str) -> str:
        """A new code for the user, replacing any earlier one."""
        code = ''.join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        await self._write(user_id, self._digest(user_id, code), self._clock.time() + CODE_LIFE)
        return code

    async def issue_nothing(self) -> None:
        """The store work of `issue`, for an address no one has: the answer must not tell."""
        await self._write('decoy:' + secrets.token_hex(8), '', self._clock.time())

    async def _write(self, row_id: str, digest: str, until: float) -> None:
        rows = self._rows()
        await rows.delete_one({'_id': row_id})
        await rows.insert_one({'_id': row_id, 'digest': digest, 'tries': 0, 'until': until})
        await self._purge_expired(rows)

    async def verify(self, user_id: str, code: Any) -> bool:
        """Whether `code` is the user's current code; a right one is spent, a wrong one uses up a try."""
        plain = normalize_login_code(code)
        rows = self._rows()
        row = await rows.find_one({'_id': user_id})
        if row is None or row['until'] <= self._clock.time() or row['tries'] >= MAX_TRIES:
            return False
        if not await rows.update_one(
            {'_id': user_id, 'digest': row['digest'], 'tries': row['tries']}, {'tries': row['tries'] + 1}
        ):
            return False  # another try got there first
        if plain is None or not hmac.compare_digest(row['digest'], self._digest(user_id, plain)):
            return False
        return bool(await rows.delete_one({'_id': user_id, 'digest': row['digest']}))
