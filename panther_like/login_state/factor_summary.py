"""A hint on the user's own document that they hold no second factor, so a password login need not look.

A password login reads the user anyway; without the hint it would also
ask the second factors' collections whether to answer ``mfa_required``,
one round trip more on the path of every returning user. The hint is the
user field ``second_factor_hint``:

- ``False``: the user holds no confirmed TOTP factor and no passkey; a
  login skips the look.
- ``True`` or ``None`` (a user stored before the hint existed): look, as
  before. A look that finds nothing turns ``None`` into ``False``.

Why it can never say ``False`` while a factor exists, which would let a
password alone through:

- whoever adds a factor sets ``True`` both before and after storing it;
- whoever removes one sets ``False`` only if nothing is left, then looks
  again and sets ``True`` if a factor appeared meanwhile: any ``False``
  is followed by a look that sees every factor stored before it, and a
  factor stored after it is followed by its adder's second ``True``;
- ``None`` becomes ``False`` by a conditional write (only while still
  ``None``), so an adder's ``True`` in between wins.

The look counts rows whatever the settings say (a passkey counts even
while ``ACCOUNTS['webauthn']`` is off), so turning a feature on later
finds the hint right. The hint is bookkeeping: writing it tells no cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from panther_like.db.backend import Database

#: The user field that holds the hint.
HINT_FIELD = 'second_factor_hint'

AnyFactorLeft = Callable[[str], Awaitable[bool]]


class FactorSummary:
    """Writes the hint on the user model's documents; `any_factor` is the look at the factors' own rows."""

    def __init__(self, database: Database, user_collection: str, any_factor: AnyFactorLeft) -> None:
        self._database = database
        self._user_collection = user_collection
        self._any_factor = any_factor

    def _users(self) -> Any:
        return self._database.collection(self._user_collection)

    @staticmethod
    def may_have(user: Any) -> bool:
        """Whether a login must look for the user's second factors (only a stored ``False`` says no)."""
        return getattr(user, HINT_FIELD, None) is not False

    async def adding(self, user_id: str) -> None:
        """Call before storing a factor, and again after: see the module docstring."""
        await self._users().update_one({'_id': user_id}, {HINT_FIELD: True})

    async def removed(self, user_id: str) -> None:
        """Call after removing a factor: ``False`` if none is left, corrected if one appeared meanwhile."""
        if await self._any_factor(user_id):
            return
        await self._users().update_one({'_id': user_id}, {HINT_FIELD: False})
        if await self._any_factor(user_id):
            await self.adding(user_id)

    async def found_none(self, user_id: str) -> None:
        """A login looked and found no factor: record it, unless the hint was set meanwhile."""
        await self._users().update_one({'_id': user_id, HINT_FIELD: None}, {HINT_FIELD: False})
