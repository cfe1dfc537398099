"""`address_key`: the canonical form that makes one mailbox one account (panther_like.db.addresses)."""

from __future__ import annotations

import pytest

from panther_like.db.addresses import InvalidAddress, address_key


@pytest.mark.parametrize(
    ('one', 'other'),
    [
        ('ann@example.com', 'ANN@EXAMPLE.COM'),
        ('Ann.Lee@Example.com', 'ann.lee@example.com'),
        ('ann@bücher.example', 'ann@xn--bcher-kva.example'),
        ('ann@BÜCHER.example', 'ann@bücher.example'),
    ],
)
def test_spellings_of_one_mailbox_have_one_key(one, other):
    assert address_key(one) == address_key(other)


@pytest.mark.parametrize(
    ('one', 'other'),
    [('ann.lee@example.com', 'annlee@example.com'), ('ann+news@example.com', 'ann@example.com')],
)
def test_dots_and_plus_tags_are_kept_since_providers_differ(one, other):
    assert address_key(one) != address_key(other)


def test_the_key_is_the_folded_local_part_and_the_ascii_domain():
    assert address_key('Ann+Tag@Bücher.Example') == 'ann+tag@xn--bcher-kva.example'


def test_an_address_of_exactly_254_characters_with_a_64_character_local_part_is_accepted():
    address = 'a' * 64 + '@' + '.'.join(['d' * 61] * 3) + '.com'
    assert len(address) == 254
    assert address_key(address) == address


@pytest.mark.parametrize(
    'address',
    [
        None,
        42,
        '',
        'ann',
        'ann@',
        '@example.com',
        'ann@localhost',
        'a' * 65 + '@example.com',
        'a' * 64 + '@' + '.'.join(['d' * 61] * 3) + '.coms',
        'ann@' + 'd' * 64 + '.com',
        '.ann@example.com',
        'ann.@example.com',
        'a..nn@example.com',
        '"ann"@example.com',
        'ánn@example.com',
        'ann@exa_mple.com',
        'ann@-example.com',
        'ann@example.com.',
        'ann@example..com',
        'ann @example.com',
        'x' * 5000,
    ],
)
def test_what_breaks_the_rules_is_refused_with_a_reason(address):
    with pytest.raises(InvalidAddress) as refused:
        address_key(address)
    assert refused.value.detail
