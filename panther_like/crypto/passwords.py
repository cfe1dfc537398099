"""Password hashing with argon2id, a memory-hard KDF.

argon2 writes its salt and cost parameters into every hash it produces, so a
hash made with one parameter set verifies under any other: raising the cost
later, or using the cheap set below in a test suite, never locks users out.

Every check costs one argon2 verification, whatever is stored: an account
without a usable password (``''``, a corrupt hash) is checked against a
dummy hash, so the time a wrong password takes does not tell such an
account apart from any other (nor from a username that does not exist,
see `verify_password_dummy`).

``PANTHER_LIKE_FAST_PASSWORD_HASH=1`` in the environment switches new hashes
to a deliberately weak parameter set (time_cost=1, memory_cost=1 MiB,
parallelism=1). It exists only so test suites that create hundreds of users
run in seconds; never set it in production.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

FAST_HASH_ENV = 'PANTHER_LIKE_FAST_PASSWORD_HASH'


@lru_cache(maxsize=2)
def _hasher(fast: bool) -> PasswordHasher:
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def _fast() -> bool:
    # Read the variable on every call (cheap) so a test suite can set it after import.
    return os.environ.get(FAST_HASH_ENV, '') == '1'


def _current_hasher() -> PasswordHasher:
    return _hasher(_fast())


@lru_cache(maxsize=2)
def _dummy_hash(fast: bool) -> str:
    """A real hash of a random password, made on first use (hashing at import would slow every start)."""
    return _hasher(fast).hash(secrets.token_urlsafe(16))


def hash_password(raw: str) -> str:
    """Return a salted argon2id hash of `raw`, parameters included."""
    if not isinstance(raw, str):
        raise TypeError('a password must be a str')
    return _current_hasher().hash(raw)


def verify_password(stored_hash: str | None, raw: str) -> bool:
    """True only if `raw` matches `stored_hash`; any malformed input is simply False.

    A login endpoint feeds this untrusted input, and an empty or corrupt stored
    hash must read as "no usable password", never as an exception that turns
    into a 500; it still costs a verification (`verify_password_dummy`), so
    that it takes as long as a wrong password for a usable hash.
    """
    if not stored_hash or not isinstance(stored_hash, str):
        verify_password_dummy(raw)
        return False
    if not isinstance(raw, str):
        verify_password_dummy('')
        return False
    try:
        return _current_hasher().verify(stored_hash, raw)
    except VerifyMismatchError:
        return False
    except (VerificationError, InvalidHashError, ValueError, TypeError, UnicodeError):
        verify_password_dummy(raw)  # argon2 could not read the stored hash, so it did not do the work
        return False


def verify_password_dummy(raw: object) -> bool:
    """Spend what checking a password costs, for no account; always False.

    For an unknown username and an account without a usable password, so
    that neither answers faster than a wrong password would.
    """
    text = raw if isinstance(raw, str) else ''
    with contextlib.suppress(VerificationError, InvalidHashError, ValueError, TypeError, UnicodeError):
        _current_hasher().verify(_dummy_hash(_fast()), text)
    return False


def password_needs_rehash(stored_hash: str) -> bool:
    """True when `stored_hash` was made with other parameters than new hashes get (a login then rewrites it).

    An unreadable hash is False: there is nothing a login could verify, so nothing to rewrite.
    """
    try:
        return _current_hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError, TypeError):
        return False
