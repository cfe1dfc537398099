"""Passkeys at rest: the users' credentials, their WebAuthn user handles, and the ceremonies' challenges.

A passkey is one row of `PASSKEYS_COLLECTION`, keyed by its credential id
(base64url, so it is unique by construction and is the id the routes
name): the owner, the COSE public key, the sign counter, transports, the
authenticator's AAGUID, whether it is backed up (synced), a name, when it
was made and last used. Nothing in it is secret: a public key lets nobody
sign.

The user handle (``user.id`` in WebAuthn) is 32 random bytes drawn once per
user and kept in `HANDLES_COLLECTION`: an authenticator stores it with the
passkey and shows it to any page of the RP that asks, so it must not be
the account id or an address (which would identify the person); it stays
the same for all of a user's passkeys, so an authenticator replaces the
passkey it holds for this account rather than piling up another.

Challenges: 32 random bytes per ceremony, kept 5 minutes in
`CHALLENGES_COLLECTION` under the SHA-256 of the ceremony's kind and the
challenge, with the user it was made for. The client returns nothing but
the credential: the challenge is read back from its signed
``clientDataJSON`` and looked up there, so a challenge of another kind of
ceremony finds no row. Used once: taking it is a ``delete_one``, which
only one of two racing requests wins, in any worker.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.exceptions import DuplicateKeyError
from panther_like.login_state.factor_summary import FactorSummary

PASSKEYS_COLLECTION = 'panther_like_passkeys'
HANDLES_COLLECTION = 'panther_like_passkey_handles'
CHALLENGES_COLLECTION = 'panther_like_passkey_challenges'
CHALLENGE_LIFE = 300
CHALLENGE_BYTES = 32
HANDLE_BYTES = 32
#: The ceremonies a challenge can be for: adding a passkey, a username-less login, the second step of a password
#: login, proving who you are again.
REGISTER, LOGIN, SECOND_STEP, REAUTHENTICATE = 'register', 'login', 'second_step', 'reauthenticate'
MAX_NAME_LENGTH = 64
#: RFC 8176: the ``amr`` value of a proof of possession of a hardware-bound key.
HARDWARE_KEY = 'hwk'


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as WebAuthn's JSON forms write bytes."""
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def _challenge_key(kind: str, challenge: bytes) -> str:
    return hashlib.sha256(kind.encode() + b':' + challenge).hexdigest()


@dataclass(frozen=True, slots=True)
class Passkey:
    """One stored passkey."""

    id: str
    user_id: str
    user_handle: str
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    name: str
    created: float
    last_used: float | None
    aaguid: str
    backed_up: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Passkey:
        return cls(
            id=row['_id'],
            user_id=row['user_id'],
            user_handle=row['user_handle'],
            public_key=from_b64url(row['public_key']),
            sign_count=int(row['sign_count']),
            transports=tuple(row.get('transports') or ()),
            name=row['name'],
            created=float(row['created']),
            last_used=None if row.get('last_used') is None else float(row['last_used']),
            aaguid=row.get('aaguid') or '',
            backed_up=bool(row.get('backed_up')),
        )


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge taken (used up): the bytes the answer must sign, for whom it was made (None: anyone)."""

    challenge: bytes
    user_id: str | None


class Passkeys:
    """The passkeys, user handles and challenges of one app; see the module docstring."""

    def __init__(self, database: Database, summary: FactorSummary, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._summary = summary
        self._clock = clock
        self._indexed = False

    async def _rows(self) -> Any:
        rows = self._database.collection(PASSKEYS_COLLECTION, durable=True)
        if not self._indexed:
            await rows.create_index('user_id')
            handles = self._database.collection(HANDLES_COLLECTION, durable=True)
            await handles.create_unique_index('handle')
            self._indexed = True
        return rows

    # -- user handles ----------------------------------------------------------------------------

    async def handle_of(self, user_id: str) -> str | None:
        """The user's handle (base64url), if one was drawn."""
        row = await self._database.collection(HANDLES_COLLECTION).find_one({'_id': user_id})
        return None if row is None else str(row['handle'])

    async def user_handle(self, user_id: str) -> str:
        """The user's handle (base64url), drawn the first time and the same ever after."""
        await self._rows()
        handles = self._database.collection(HANDLES_COLLECTION, durable=True)
        for _ in range(3):
            if (known := await self.handle_of(user_id)) is not None:
                return known
            handle = b64url(secrets.token_bytes(HANDLE_BYTES))
            try:
                await handles.insert_one({'_id': user_id, 'handle': handle})
            except DuplicateKeyError:
                continue  # another request drew one first: read theirs
            return handle
        raise RuntimeError('could not store a user handle')

    # -- passkeys --------------------------------------------------------------------------------

    async def of_user(self, user_id: str) -> list[Passkey]:
        """The user's passkeys, oldest first."""
        rows = await (await self._rows()).find({'user_id': user_id}, sort=[('created', 1), ('_id', 1)])
        return [Passkey.from_row(row) for row in rows]

    async def count(self, user_id: str) -> int:
        return int(await (await self._rows()).count({'user_id': user_id}))

    async def find(self, passkey_id: str) -> Passkey | None:
        row = await (await self._rows()).find_one({'_id': passkey_id})
        return None if row is None else Passkey.from_row(row)

    async def find_of_user(self, user_id: str, passkey_id: str) -> Passkey | None:
        """The passkey if it is `user_id`'s; another user's is as absent as an unknown one."""
        row = await (await self._rows()).find_one({'_id': passkey_id, 'user_id': user_id})
        return None if row is None else Passkey.from_row(row)

    async def add(
        self,
        *,
        credential_id: bytes,
        user_id: str,
        user_handle: str,
        public_key: bytes,
        sign_count: int,
        transports: tuple[str, ...],
        name: str,
        aaguid: str,
        backed_up: bool,
    ) -> Passkey | None:
        """Store a new passkey; None if its credential id is stored already (for anyone)."""
        row = {
            '_id': b64url(credential_id),
            'user_id': user_id,
            'user_handle': user_handle,
            'public_key': b64url(public_key),
            'sign_count': sign_count,
            'transports': list(transports),
            'name': name,
            'created': self._clock.time(),
            'last_used': None,
            'aaguid': aaguid,
            'backed_up': backed_up,
        }
        await self._summary.adding(user_id)
        try:
            await (await self._rows()).insert_one(row)
        except DuplicateKeyError:
            return None
        await self._summary.adding(user_id)
        return Passkey.from_row(row)

    async def record_use(self, passkey: Passkey, sign_count: int, backed_up: bool) -> bool:
        """Store the counter an assertion reported and when; False if another login moved the counter meanwhile."""
        values = {'sign_count': sign_count, 'last_used': self._clock.time(), 'backed_up': backed_up}
        rows = await self._rows()
        return bool(await rows.update_one({'_id': passkey.id, 'sign_count': passkey.sign_count}, values))

    async def rename(self, user_id: str, passkey_id: str, name: str) -> Passkey | None:
        rows = await self._rows()
        if not await rows.update_one({'_id': passkey_id, 'user_id': user_id}, {'name': name}):
            return None
        return await self.find_of_user(user_id, passkey_id)

    async def remove(self, user_id: str, passkey_id: str) -> bool:
        removed = bool(await (await self._rows()).delete_one({'_id': passkey_id, 'user_id': user_id}))
        if removed:
            await self._summary.removed(user_id)
        return removed

    async def forget_user(self, user_id: str) -> int:
        """A deleted account: its passkeys and its handle go; how many passkeys there were."""
        removed = int(await (await self._rows()).delete_many({'user_id': user_id}))
        await self._database.collection(HANDLES_COLLECTION, durable=True).delete_one({'_id': user_id})
        return removed

    # -- challenges ------------------------------------------------------------------------------

    async def new_challenge(self, kind: str, user_id: str | None = None) -> bytes:
        """A fresh challenge for one ceremony of `kind` (for `user_id`, or anyone), good once for 5 minutes."""
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        rows = self._database.collection(CHALLENGES_COLLECTION)
        now = self._clock.time()
        await rows.delete_many({'until': {'$lt': now}})
        await rows.insert_one(
            {'_id': _challenge_key(kind, challenge), 'user_id': user_id, 'until': now + CHALLENGE_LIFE}
        )
        return challenge

    async def take_challenge(self, kind: str, challenge: bytes) -> Challenge | None:
        """The challenge, used up, if it was made for a ceremony of `kind` and is live; else None."""
        rows = self._database.collection(CHALLENGES_COLLECTION)
        key = _challenge_key(kind, challenge)
        row = await rows.find_one({'_id': key})
        if row is None or not await rows.delete_one({'_id': key}):
            return None  # unknown, of another ceremony, or another request took it first
        if row['until'] <= self._clock.time():
            return None
        return Challenge(challenge, row.get('user_id'))
