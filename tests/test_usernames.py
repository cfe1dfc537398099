"""Canonical usernames: one key per account, and names that could impersonate refused with a reason."""

from __future__ import annotations

import pytest

from panther_like.db.usernames import MAX_USERNAME_LENGTH, InvalidUsername, username_key


@pytest.mark.parametrize('typed', ['bob', 'Bob', 'BOB', '\uff42ob', '\uff22\uff2f\uff22', '\u212cob', 'bo\u0062'])
def test_lookalikes_share_the_canonical_key(typed: str):
    assert username_key(typed) == 'bob'


def test_case_folding_goes_beyond_lower_case():
    assert username_key('Straße') == username_key('STRASSE') == 'strasse'


def test_compatibility_characters_are_folded():
    assert username_key('\ufb01sh') == 'fish'  # the "fi" ligature


def test_a_single_inner_space_is_kept():
    assert username_key('Ann Lee') == 'ann lee'


@pytest.mark.parametrize(
    'username, reason',
    [
        ('', 'empty'),
        (' bob', 'whitespace'),
        ('bob ', 'whitespace'),
        ('bob\t', 'whitespace'),
        ('bo\x00b', 'control character'),
        ('bo\x1bb', 'control character'),
        ('bo\u200bb', 'invisible formatting character'),  # zero-width space
        ('bo\u200db', 'invisible formatting character'),  # zero-width joiner
        ('b\u202eob', 'invisible formatting character'),  # right-to-left override
        ('\ufeffbob', 'invisible formatting character'),  # byte order mark
        ('bob\ufe0f', 'invisible character'),  # variation selector
        ('\u3164bob', 'invisible character'),  # Hangul filler
        ('bob\u00a0lee', 'other than a plain space'),  # no-break space
        ('bob\u2003lee', 'other than a plain space'),  # em space
        ('bob  lee', 'two spaces'),
        ('bo\u2028b', 'line separator'),
        ('bob\ue000', 'private-use'),
        ('bob\ud800', 'surrogate'),
    ],
)
def test_names_that_could_impersonate_are_refused_with_the_reason(username: str, reason: str):
    with pytest.raises(InvalidUsername) as refused:
        username_key(username)
    assert reason in refused.value.detail


def test_a_too_long_name_is_refused():
    assert username_key('a' * MAX_USERNAME_LENGTH) == 'a' * MAX_USERNAME_LENGTH
    with pytest.raises(InvalidUsername, match='at most'):
        username_key('a' * (MAX_USERNAME_LENGTH + 1))


@pytest.mark.parametrize('value', [None, 5, b'bob', ['bob']])
def test_a_username_that_is_not_a_string_is_refused(value):
    with pytest.raises(InvalidUsername, match='string'):
        username_key(value)


@pytest.mark.parametrize(
    'username',
    [
        '\u0430dmin',  # Cyrillic a
        'adm\u0456n',  # Cyrillic i
        'p\u0430yp\u0430l',  # Cyrillic a twice
        'r\u03bfot',  # Greek omicron
    ],
)
def test_a_name_mixing_scripts_is_refused(username: str):
    with pytest.raises(InvalidUsername, match='mixes letters of several scripts'):
        username_key(username)


@pytest.mark.parametrize(
    'username',
    [
        '\u0251dmin',  # Latin alpha
        'a\u0301dmin',  # a with a combining acute accent
        '\u00e1dmin',  # a precomposed a with an acute accent
        'admi\u0307n',  # a combining dot above the i
    ],
)
def test_a_look_alike_of_an_ascii_name_within_one_script_is_the_same_account(username: str):
    assert username_key(username) == 'admin'


def test_a_name_written_all_in_cyrillic_whose_letters_look_latin_is_the_latin_name():
    assert username_key('\u0430\u0440\u0435') == 'ape'  # Cyrillic a, er, ie


@pytest.mark.parametrize(
    'username', ['\u0438\u0432\u0430\u043d', '\u5c71\u7530\u305f\u308d\u3046', 'Yamada\u592a\u90ce']
)
def test_names_in_one_writing_system_are_accepted(username: str):
    assert username_key(username)


def test_ascii_characters_are_never_merged_with_each_other():
    names = ('user1', 'userl', 'userI', 'rnoney', 'money')
    assert [username_key(name) for name in names] == ['user1', 'userl', 'useri', 'rnoney', 'money']
