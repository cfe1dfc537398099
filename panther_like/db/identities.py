"""Identity links: which account an identity provider's subject signs in as.

An OpenID provider names a person by ``(issuer, subject)``: the ``iss`` and ``sub`` of its tokens.
The pair, never an e-mail address, is what finds the local account: addresses change hands and
providers differ on whether they checked one, while a subject is stable and unique per issuer.
One pair belongs to one account (a unique key over both); one account may hold several links,
one per provider at most as far as `unlink_identity` is concerned.

The stores index single fields only, so the pair is kept unique through ``key``, a digest of
both: any subject a provider may send fits in it, and no two pairs share one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import Field

from panther_like.db.model import Model
from panther_like.exceptions import DuplicateKeyError


def _utc_now() -> datetime:
    return datetime.now(UTC)


def identity_key(issuer: str, subject: str) -> str:
    """The unique key of the pair: a digest, so no separator can make two pairs collide."""
    return hashlib.sha256(json.dumps([issuer, subject]).encode()).hexdigest()


class IdentityTaken(DuplicateKeyError):
    """The identity is linked to another account already; the app answers 409."""

    def __init__(self) -> None:
        super().__init__('identity')
        self.detail = 'This identity is already linked to another account'
        self.args = (self.detail,)


class Identity(Model):
    """One link from a provider's subject to a local account."""

    collection_name: ClassVar[str] = 'identities'
    unique_fields: ClassVar[tuple[str, ...]] = ('key',)
    indexes: ClassVar[tuple[str | tuple[str, ...], ...]] = ('user_id',)

    key: str
    issuer: str
    subject: str
    user_id: str
    #: The address the provider gave when the link was made or last used, and whether it said it checked it.
    email: str | None = None
    email_verified: bool = False
    created: datetime = Field(default_factory=_utc_now)
    last_used: datetime = Field(default_factory=_utc_now)


async def find_identity(issuer: str, subject: str) -> Identity | None:
    """The link of `subject` at `issuer`, or None."""
    return await Identity.find_one(key=identity_key(issuer, subject))


async def identities_of(user_id: str) -> list[Identity]:
    """Every link of the account, oldest first."""
    return await Identity.find(user_id=user_id, sort='created')


async def link_identity(
    user_id: str, issuer: str, subject: str, email: str | None = None, email_verified: bool = False
) -> Identity:
    """Link `subject` at `issuer` to the account (again: the address and `last_used` are refreshed).

    Raises `IdentityTaken` (409) when the pair is linked to another account; two links made at the
    same moment cannot both win: the unique key decides.
    """
    key = identity_key(issuer, subject)
    existing = await Identity.find_one(key=key)
    if existing is None:
        try:
            return await Identity.insert_one(
                key=key,
                issuer=issuer,
                subject=subject,
                user_id=user_id,
                email=email,
                email_verified=email_verified is True,
            )
        except DuplicateKeyError:
            existing = await Identity.find_one(key=key)
            if existing is None:  # linked and unlinked meanwhile: a caller may try again
                raise IdentityTaken() from None
    if existing.user_id != user_id:
        raise IdentityTaken()
    await existing.update(email=email, email_verified=email_verified is True, last_used=_utc_now())
    return existing


async def unlink_identity(user_id: str, issuer: str) -> int:
    """Remove the account's links to `issuer`; how many there were."""
    collection = await Identity._collection()
    return await collection.delete_many({'user_id': user_id, 'issuer': issuer})


async def forget_identities(user_id: str) -> int:
    """Remove every link of the account (it is being deleted); how many there were."""
    collection = await Identity._collection()
    return await collection.delete_many({'user_id': user_id})


__all__ = [
    'Identity',
    'IdentityTaken',
    'find_identity',
    'forget_identities',
    'identities_of',
    'identity_key',
    'link_identity',
    'unlink_identity',
]
