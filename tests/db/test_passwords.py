"""argon2id hashing: salted, parameter-carrying, and never raising on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from panther_like.crypto import passwords
from panther_like.crypto.passwords import hash_password, verify_password

FAST = 'm=1024,t=1,p=1'  # the parameters of use_fast_hashes_for_tests


def test_hash_is_argon2id_salted_and_not_the_password() -> None:
    first = hash_password('correct horse')
    second = hash_password('correct horse')
    assert first.startswith('$argon2id$')
    assert 'correct horse' not in first
    assert first != second  # a fresh salt every time
    assert verify_password(first, 'correct horse')
    assert verify_password(second, 'correct horse')


def test_wrong_password_is_false() -> None:
    stored = hash_password('right')
    assert not verify_password(stored, 'wrong')
    assert not verify_password(stored, '')
    assert not verify_password(stored, 'right ')


@pytest.mark.parametrize(
    'stored',
    [
        '',
        None,
        'plain',
        '$argon2id$',
        '$argon2id$v=19$m=1024,t=1,p=1$x$y',
        '$2b$12$abcdefghijklmnopqrstuv',
        'pbkdf2_sha256$1$a$b',
        '\x00\xff',
    ],
)
def test_garbage_stored_hash_is_false_not_an_exception(stored: str | None) -> None:
    assert verify_password(stored, 'anything') is False
    assert verify_password(stored, '') is False


def test_non_string_raw_password_is_false() -> None:
    stored = hash_password('x')
    assert verify_password(stored, None) is False  # type: ignore[arg-type]
    assert verify_password(stored, b'x') is False  # type: ignore[arg-type]


def test_unicode_passwords() -> None:
    stored = hash_password('пароль 🔑')
    assert verify_password(stored, 'пароль 🔑')
    assert not verify_password(stored, 'пароль')


@pytest.fixture
def restore_hasher() -> Iterator[None]:
    """Put back the suite's choice (conftest.py: cheap hashes) after a test that changes it."""
    before = passwords.password_hasher()
    yield
    passwords.use_password_hasher(before)


def test_fast_and_default_parameter_sets_verify_each_other(restore_hasher: None) -> None:
    passwords.use_fast_hashes_for_tests()
    fast = hash_password('pw')
    assert FAST in fast
    passwords.use_password_hasher(None)
    default = hash_password('pw')
    assert FAST not in default
    assert verify_password(fast, 'pw') and verify_password(default, 'pw')
    passwords.use_fast_hashes_for_tests()
    assert verify_password(fast, 'pw') and verify_password(default, 'pw')
    assert not verify_password(default, 'nope')


def test_conftest_selected_the_fast_parameters() -> None:
    assert FAST in hash_password('x')
    assert passwords.password_hasher() is passwords.FAST_TEST_HASHER


def test_use_password_hasher_chooses_the_parameters_of_new_hashes(restore_hasher: None) -> None:
    passwords.use_password_hasher(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    stored = hash_password('pw')
    assert 'm=2048,t=2,p=1' in stored
    assert verify_password(stored, 'pw')


def test_use_password_hasher_none_restores_argon2_defaults(restore_hasher: None) -> None:
    passwords.use_password_hasher(None)
    defaults = PasswordHasher()
    assert f'm={defaults.memory_cost},t={defaults.time_cost},p={defaults.parallelism}' in hash_password('pw')


def test_the_dummy_check_follows_the_chosen_parameters(restore_hasher: None) -> None:
    """An unusable stored hash costs what a real check costs under the parameters in use now."""
    passwords.use_password_hasher(None)
    assert verify_password('', 'pw') is False
    assert passwords._dummy is not None and passwords._dummy[0] is passwords.password_hasher()
    passwords.use_fast_hashes_for_tests()
    assert verify_password('', 'pw') is False
    assert FAST in passwords._dummy[1]


PRODUCTION_HASH = "from panther_like.crypto.passwords import hash_password; print(hash_password('pw'))"


@pytest.mark.parametrize('value', ['1', '0'])
def test_production_code_ignores_the_fast_hash_variable(value: str) -> None:
    """Only code (a test suite's) picks the parameters: a deployment carrying the variable still hashes for real."""
    env = {**os.environ, 'PANTHER_LIKE_FAST_PASSWORD_HASH': value}
    result = subprocess.run(
        [sys.executable, '-c', PRODUCTION_HASH], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    defaults = PasswordHasher()
    assert f'm={defaults.memory_cost},t={defaults.time_cost},p={defaults.parallelism}' in result.stdout


def test_hashing_ignores_the_fast_hash_variable_at_call_time(
    monkeypatch: pytest.MonkeyPatch, restore_hasher: None
) -> None:
    passwords.use_password_hasher(None)
    monkeypatch.setenv('PANTHER_LIKE_FAST_PASSWORD_HASH', '1')
    assert FAST not in hash_password('pw')
