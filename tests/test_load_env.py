"""`panther_like.settings.env.load_env`: a strict, predictable `.env` reader.

Every test registers the variables it may create with monkeypatch
(`fresh`), so nothing leaks into os.environ for later tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from panther_like.settings.env import load_env

PREFIX = 'PL_TEST_ENV_'


@pytest.fixture
def fresh(monkeypatch):
    """Unset these names now and restore the environment after the test."""

    def fresh(*names: str) -> None:
        for name in names:
            monkeypatch.setenv(name, 'placeholder')  # registers the name for restoration
            monkeypatch.delenv(name)

    return fresh


@pytest.fixture
def env_file(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / '.env'
        path.write_text(text, encoding='utf-8')
        return path

    return write


def test_key_value_lines(env_file, fresh):
    fresh(f'{PREFIX}A', f'{PREFIX}B')
    values = load_env(env_file(f'{PREFIX}A=one\n{PREFIX}B=two words\n'))
    assert values == {f'{PREFIX}A': 'one', f'{PREFIX}B': 'two words'}


def test_whitespace_around_key_and_value_is_stripped(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f'  {PREFIX}A =  spaced  \n')) == {f'{PREFIX}A': 'spaced'}


def test_value_may_contain_equals_signs(env_file, fresh):
    fresh(f'{PREFIX}URL')
    values = load_env(env_file(f'{PREFIX}URL=mongodb://h:1/db?w=majority&retryWrites=true\n'))
    assert values[f'{PREFIX}URL'] == 'mongodb://h:1/db?w=majority&retryWrites=true'


def test_empty_value(env_file, fresh):
    fresh(f'{PREFIX}EMPTY')
    assert load_env(env_file(f'{PREFIX}EMPTY=\n')) == {f'{PREFIX}EMPTY': ''}


def test_comment_lines_are_ignored(env_file, fresh):
    fresh(f'{PREFIX}A')
    values = load_env(env_file(f'# a comment\n  # an indented comment\n{PREFIX}A=1\n#{PREFIX}B=2\n'))
    assert values == {f'{PREFIX}A': '1'}


def test_blank_lines_are_ignored(env_file, fresh):
    fresh(f'{PREFIX}A', f'{PREFIX}B')
    values = load_env(env_file(f'\n\n{PREFIX}A=1\n   \n\t\n{PREFIX}B=2\n\n'))
    assert values == {f'{PREFIX}A': '1', f'{PREFIX}B': '2'}


def test_empty_file_gives_no_values(env_file):
    assert load_env(env_file('')) == {}


def test_double_quotes_are_stripped(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f'{PREFIX}A="quoted # not a comment"\n')) == {f'{PREFIX}A': 'quoted # not a comment'}


def test_single_quotes_are_stripped(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f"{PREFIX}A='single quoted'\n")) == {f'{PREFIX}A': 'single quoted'}


def test_mismatched_quotes_are_kept(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f'{PREFIX}A="half\'\n')) == {f'{PREFIX}A': '"half\''}


def test_quoted_empty_value(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f'{PREFIX}A=""\n')) == {f'{PREFIX}A': ''}


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('true', True),
        ('True', True),
        ('TRUE', True),
        ('false', False),
        ('False', False),
        ('FALSE', False),
    ],
)
def test_true_and_false_become_bools(env_file, fresh, text, expected):
    fresh(f'{PREFIX}FLAG')
    value = load_env(env_file(f'{PREFIX}FLAG={text}\n'))[f'{PREFIX}FLAG']
    assert value is expected


def test_quoted_true_is_still_a_bool(env_file, fresh):
    fresh(f'{PREFIX}FLAG')
    assert load_env(env_file(f'{PREFIX}FLAG="true"\n'))[f'{PREFIX}FLAG'] is True


@pytest.mark.parametrize('text', ['1', '0', 'yes', 'no', 'truthy', '42'])
def test_other_values_stay_strings(env_file, fresh, text):
    fresh(f'{PREFIX}VALUE')
    assert load_env(env_file(f'{PREFIX}VALUE={text}\n'))[f'{PREFIX}VALUE'] == text


def test_values_are_exported_to_os_environ(env_file, fresh):
    fresh(f'{PREFIX}A', f'{PREFIX}FLAG')
    load_env(env_file(f'{PREFIX}A="exported"\n{PREFIX}FLAG=true\n'))
    assert os.environ[f'{PREFIX}A'] == 'exported'
    assert os.environ[f'{PREFIX}FLAG'] == 'true'  # the environment holds text


def test_existing_environment_variable_wins_over_the_file(env_file, fresh, monkeypatch):
    fresh(f'{PREFIX}A')
    monkeypatch.setenv(f'{PREFIX}A', 'from-environment')
    values = load_env(env_file(f'{PREFIX}A=from-file\n'))
    assert values[f'{PREFIX}A'] == 'from-environment'
    assert os.environ[f'{PREFIX}A'] == 'from-environment'


def test_existing_environment_variable_is_converted_like_the_file(env_file, fresh, monkeypatch):
    fresh(f'{PREFIX}FLAG')
    monkeypatch.setenv(f'{PREFIX}FLAG', 'False')
    assert load_env(env_file(f'{PREFIX}FLAG=true\n'))[f'{PREFIX}FLAG'] is False


def test_override_lets_the_file_win(env_file, fresh, monkeypatch):
    fresh(f'{PREFIX}A')
    monkeypatch.setenv(f'{PREFIX}A', 'from-environment')
    values = load_env(env_file(f'{PREFIX}A=from-file\n'), override=True)
    assert values[f'{PREFIX}A'] == 'from-file'
    assert os.environ[f'{PREFIX}A'] == 'from-file'


def test_export_prefix_is_allowed(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f'export {PREFIX}A=1\n')) == {f'{PREFIX}A': '1'}


def test_path_may_be_a_string(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(str(env_file(f'{PREFIX}A=1\n'))) == {f'{PREFIX}A': '1'}


def test_missing_file_raises_file_not_found(tmp_path):
    missing = tmp_path / 'no.env'
    with pytest.raises(FileNotFoundError) as info:
        load_env(missing)
    assert str(missing) in str(info.value)


def test_directory_is_not_an_env_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_env(tmp_path)


@pytest.mark.parametrize(
    ('text', 'line'),
    [
        (f'{PREFIX}A=1\nNOT_A_PAIR\n', 2),
        (f'# comment\n\n{PREFIX}A=1\n=value\n', 4),
        ('has space=1\n', 1),
        ('1STARTS_WITH_DIGIT=1\n', 1),
    ],
)
def test_malformed_line_raises_value_error_naming_the_line(env_file, fresh, text, line):
    fresh(f'{PREFIX}A')
    path = env_file(text)
    with pytest.raises(ValueError, match=rf'line {line}\b') as info:
        load_env(path)
    assert str(path) in str(info.value)


def test_malformed_line_does_not_echo_the_line(env_file):
    """A malformed line may be a secret pasted on its own: the error names its number only."""
    with pytest.raises(ValueError) as info:
        load_env(env_file('sk_live_0123456789abcdef\n'))
    assert 'sk_live_0123456789abcdef' not in str(info.value)


def test_a_missing_file_that_is_not_required_gives_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(f'{PREFIX}SECRET', 'only-in-the-environment')
    monkeypatch.setenv(f'{PREFIX}FLAG', 'true')
    values = load_env(tmp_path / 'no.env', required=False)
    assert values[f'{PREFIX}SECRET'] == 'only-in-the-environment'
    assert values[f'{PREFIX}FLAG'] is True


def test_a_file_that_is_not_required_is_still_read_when_present(env_file, fresh):
    fresh(f'{PREFIX}A')
    assert load_env(env_file(f'{PREFIX}A=1\n'), required=False)[f'{PREFIX}A'] == '1'
