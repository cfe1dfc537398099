"""Password hashing with argon2id, a memory-hard KDF.

argon2 writes its salt and cost parameters into every hash it produces, so a
hash made with one parameter set verifies under any other: raising the cost
later, or using the cheap set below in a test suite, never locks users out.

Every check costs one argon2 verification, whatever is stored: an account
without a usable password (``''``, a corrupt hash) is checked against a
dummy hash, so the time a wrong password takes does not tell such an
account apart from any other (nor from a username that does not exist,
see `verify_password_dummy`).

The parameters are one process-wide choice, argon2-cffi's defaults (RFC
9106's low-memory profile) unless something calls `use_password_hasher`.
A test suite that creates hundreds of users calls `use_fast_hashes_for_tests`
(the pytest plugin does) for a deliberately weak set (time_cost=1,
memory_cost=1 MiB, parallelism=1) that hashes in microseconds; never call it
in production. Nothing here reads the environment: how a process hashes
passwords is decided by code, never by a variable a deployment might carry.
"""

from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: The parameters `use_fast_hashes_for_tests` selects: cheap on purpose, for test suites only.
FAST_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

_hasher = PasswordHasher()
#: The hasher the dummy hash was made with, and the hash (made on first use: hashing at import slows every start).
_dummy: tuple[PasswordHasher, str] | None = None


def use_password_hasher(hasher: PasswordHasher | None = None) -> None:
    """Hash new passwords with `hasher`'s parameters from now on; None: argon2-cffi's defaults again.

    Existing hashes keep verifying whatever is chosen, since each carries its own parameters.
    """
    global _hasher
    _hasher = PasswordHasher() if hasher is None else hasher


def use_fast_hashes_for_tests() -> None:
    """Switch this process to `FAST_TEST_HASHER`, so tests that create many users run in seconds."""
    use_password_hasher(FAST_TEST_HASHER)


def password_hasher() -> PasswordHasher:
    """The hasher new passwords are hashed with in this process."""
    return _hasher


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A real hash of a random password under `hasher`'s parameters, so checking it costs what a real check costs."""
    global _dummy
    if _dummy is None or _dummy[0] is not hasher:
        _dummy = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def hash_password(raw: str) -> str:
    """Return a salted argon2id hash of `raw`, parameters included."""
    if not isinstance(raw, str):
        raise TypeError('a password must be a str')
    return _hasher.hash(raw)


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
        return _hasher.verify(stored_hash, raw)
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
    hasher = _hasher
    with contextlib.suppress(VerificationError, InvalidHashError, ValueError, TypeError, UnicodeError):
        hasher.verify(_dummy_hash(hasher), text)
    return False


def password_needs_rehash(stored_hash: str) -> bool:
    """True when `stored_hash` was made with other parameters than new hashes get (a login then rewrites it).

    An unreadable hash is False: there is nothing a login could verify, so nothing to rewrite.
    """
    try:
        return password_hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError, TypeError):
        return False
