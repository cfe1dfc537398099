"""argon2id hashing: salted, parameter-carrying, and never raising on bad input."""

from __future__ import annotations

import pytest

from panther_like.crypto import passwords
from panther_like.crypto.passwords import FAST_HASH_ENV, hash_password, verify_password


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


def test_fast_and_default_parameter_sets_verify_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAST_HASH_ENV, '1')
    fast = hash_password('pw')
    assert 'm=1024,t=1,p=1' in fast
    monkeypatch.delenv(FAST_HASH_ENV)
    default = hash_password('pw')
    assert 'm=1024,t=1,p=1' not in default
    assert verify_password(fast, 'pw') and verify_password(default, 'pw')
    monkeypatch.setenv(FAST_HASH_ENV, '1')
    assert verify_password(fast, 'pw') and verify_password(default, 'pw')
    assert not verify_password(default, 'nope')


def test_conftest_selected_the_fast_parameters() -> None:
    assert 'm=1024,t=1,p=1' in hash_password('x')
    assert passwords._hasher(True) is passwords._hasher(True)
