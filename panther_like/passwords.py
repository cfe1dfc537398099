"""Password hashing with argon2id, a memory-hard KDF.

argon2 writes its salt and cost parameters into every hash it produces, so a
hash made with one parameter set verifies under any other: raising the cost
later, or using the cheap set below in a test suite, never locks users out.

``PANTHER_LIKE_FAST_PASSWORD_HASH=1`` in the environment switches new hashes
to a deliberately weak parameter set (time_cost=1, memory_cost=1 MiB,
parallelism=1). It exists only so test suites that create hundreds of users
run in seconds; never set it in production.
"""

from __future__ import annotations

import os
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

FAST_HASH_ENV = 'PANTHER_LIKE_FAST_PASSWORD_HASH'


@lru_cache(maxsize=2)
def _hasher(fast: bool) -> PasswordHasher:
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def _current_hasher() -> PasswordHasher:
    # Read the variable on every call (cheap) so a test suite can set it after import.
    return _hasher(os.environ.get(FAST_HASH_ENV, '') == '1')


def hash_password(raw: str) -> str:
    """Return a salted argon2id hash of `raw`, parameters included."""
    if not isinstance(raw, str):
        raise TypeError('a password must be a str')
    return _current_hasher().hash(raw)


def verify_password(stored_hash: str | None, raw: str) -> bool:
    """True only if `raw` matches `stored_hash`; any malformed input is simply False.

    A login endpoint feeds this untrusted input, and an empty or corrupt stored
    hash must read as "no usable password", never as an exception that turns
    into a 500.
    """
    if not stored_hash or not isinstance(stored_hash, str) or not isinstance(raw, str):
        return False
    try:
        return _current_hasher().verify(stored_hash, raw)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    except (ValueError, TypeError, UnicodeError):
        return False
