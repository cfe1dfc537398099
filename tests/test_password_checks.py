"""Every password check costs one argon2 verification, whatever the account stores.

An account without a usable password (``''``, or a hash argon2 cannot
read) used to answer at once, a few milliseconds against the hundreds an
argon2 check takes: a timing probe could tell such accounts apart. The
spy below counts the verifications argon2 really performs (it calls the
real method); the same property is measured through a real server in
tests/e2e/test_password_timing.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from panther_like import BaseUser
from panther_like.crypto.passwords import hash_password, verify_password


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The hashes argon2 verified against, in order (the real verification runs)."""
    seen: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, stored: str | bytes, raw: str | bytes) -> bool:
        seen.append(stored if isinstance(stored, str) else stored.decode())
        return real(self, stored, raw)

    monkeypatch.setattr(PasswordHasher, 'verify', counting)
    yield seen


@pytest.mark.parametrize('stored', ['', None, 'not-a-hash', '$argon2id$v=19$m=1024,t=1,p=1$broken'])
def test_a_password_check_against_an_unusable_hash_still_runs_one_verification(
    verifications: list[str],
    stored: str | None,
) -> None:
    assert verify_password(stored, 'guess') is False
    # The last one is against a real hash (argon2 may first have refused to read the stored one).
    assert verifications and verifications[-1] != stored and verifications[-1].startswith('$argon2id$')


def test_a_password_check_against_a_usable_hash_runs_one_verification(verifications: list[str]) -> None:
    stored = hash_password('right')
    assert verify_password(stored, 'wrong') is False
    assert verifications == [stored]


def test_a_password_that_is_not_text_still_runs_one_verification(verifications: list[str]) -> None:
    assert verify_password(hash_password('right'), None) is False  # type: ignore[arg-type]
    assert len(verifications) == 1


async def test_a_user_without_a_usable_password_is_checked_as_long_as_any_other(verifications: list[str]) -> None:
    user = BaseUser(username='nopassword', password='')
    assert await user.verify_password('guess') is False
    assert user.check_password('guess') is False
    assert len(verifications) == 2
