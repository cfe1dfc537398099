"""E-mail addresses that cannot be taken twice: one canonical key per mailbox.

Uniqueness and every look-up by address (a password reset "by e-mail", the
per-mailbox limit on mail) use `address_key(address)`:

* the domain is case-insensitive and written in its IDNA form (UTS #46
  mapping, then A-labels), so ``Ann@Example.COM``, ``ann@example.com`` and
  ``ann@EXAMPLE.com`` are one mailbox, and so are ``ann@bücher.example`` and
  ``ann@xn--bcher-kva.example``;
* the local part is case-insensitive too (case folding), since nearly every
  provider delivers ``Ann@`` and ``ann@`` to the same person and one person
  must not hold two accounts by changing case; but dots and ``+tags`` are
  kept as they are: providers differ on them, and folding them would merge
  mailboxes that really are different.

The address itself is stored as it was typed, and mail goes there.

What is accepted, in this one place (RFC 5321 and 5322, strictly): one
``@``; a local part of 1 to 64 octets made of the ASCII characters of a
dot-atom (letters, digits and ``!#$%&'*+-/=?^_`{|}~``, with single dots
that neither start nor end it: no quoted strings, no comments, no
non-ASCII local parts, which many mail servers still refuse); a domain of
at least two labels, each 1 to 63 octets once in IDNA form; and at most
254 octets in all. Anything else raises `InvalidAddress` (a 400).
"""

from __future__ import annotations

import re

import idna

from panther_like.db.usernames import InvalidUsername

#: RFC 5321 section 4.5.3.1: a path is at most 256 octets (so an address 254), a local part 64.
MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r'[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?')
#: What a user without an address has as its key: never the key of an address (no address has a space).
NO_ADDRESS_PREFIX = '(no address) '


class InvalidAddress(InvalidUsername):
    """An e-mail address this framework refuses to store; the app answers 400, like a refused username."""


def address_key(address: object) -> str:
    """The canonical form of `address` (see the module docstring); `InvalidAddress` when it is refused."""
    if not isinstance(address, str):
        raise InvalidAddress('The e-mail address must be a string')
    if len(address) > MAX_ADDRESS_LENGTH * 4:  # before any work on it: no address is longer, even in UTF-8
        raise InvalidAddress(f'The e-mail address must be at most {MAX_ADDRESS_LENGTH} characters long')
    local, at, domain = address.rpartition('@')
    if not at or not local or not domain:
        raise InvalidAddress('The e-mail address must have the form name@domain.example')
    if len(local) > MAX_LOCAL_PART_LENGTH:
        raise InvalidAddress(f'The part before "@" must be at most {MAX_LOCAL_PART_LENGTH} characters long')
    if not _LOCAL_PART.fullmatch(local):
        raise InvalidAddress(
            'The part before "@" may hold only ASCII letters, digits, single dots and !#$%&\'*+-/=?^_`{|}~'
        )
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode('ascii').lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        raise InvalidAddress('The domain of the e-mail address is not a valid domain name') from None
    labels = ascii_domain.split('.')
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress('The domain of the e-mail address is not a valid domain name')
    key = f'{local.casefold()}@{ascii_domain}'
    if len(key) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(f'The e-mail address must be at most {MAX_ADDRESS_LENGTH} characters long')
    return key


def find_key(address: object) -> str | None:
    """`address_key`, or None for an address that cannot be stored (so cannot be found)."""
    try:
        return address_key(address)
    except InvalidAddress:
        return None
