"""Usernames that cannot impersonate each other: one canonical key per account.

Uniqueness and login use `username_key(name)`: Unicode NFKC, case folding,
then NFKC again (case folding can undo a normalisation), the idea of RFC
8265's *UsernameCaseMapped* profile. So ``bob``, ``Bob``, ``BOB`` and the
fullwidth ``\uff42ob`` are one account, whichever of them signed up first; the
name is still shown as it was typed.

What no key can make safe is refused outright, with a reason: characters
a reader cannot see or that reorder text (control characters, format
characters such as zero-width spaces and bidirectional marks, private-use,
unassigned and surrogate code points, variation selectors and blank
letters such as U+3164), line and paragraph separators,
whitespace at either end, and any space other than a single U+0020 between
two visible characters (``bob  smith`` and ``bob smith`` would look alike).

Look-alikes across scripts are handled in two steps, after the ideas of
Unicode's security mechanisms (UTS #39), with the Unicode data that the
``confusable-homoglyphs`` package ships:

* a name whose letters come from more than one script is refused:
  ``admin`` spelt with a Cyrillic a (U+0430) or a Cyrillic i (U+0456) (a mix
  that real names do not need; the usual Japanese, Chinese and Korean
  mixes with Han, and Latin beside them, are allowed);
* in Latin, Greek and Cyrillic names, combining marks are dropped from the
  key and every letter that is a look-alike of an ASCII letter or digit
  counts as that character, so ``admin`` spelt with a Latin alpha
  (U+0251), ``ádmin``, and a look-alike written all in Cyrillic would be
  the same account as ``admin``: whichever
  signs up first keeps the name, and the others get 409.

ASCII characters are never merged with each other (``rn`` and ``m``, ``l``
and ``1`` stay different names), so no ASCII name changes its key.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import categories, confusables

from panther_like.exceptions import DomainError

#: Longest username accepted, in characters (before normalisation).
MAX_USERNAME_LENGTH = 150
# Cc control, Cf format (ZWSP, ZWJ, RLO, BOM...), Cs surrogate, Co private use, Cn unassigned,
# Zl line separator, Zp paragraph separator.
_REFUSED_CATEGORIES = {
    'Cc': 'a control character',
    'Cf': 'an invisible formatting character',
    'Cs': 'a lone surrogate',
    'Co': 'a private-use character',
    'Cn': 'an unassigned character',
    'Zl': 'a line separator',
    'Zp': 'a paragraph separator',
}
# Default-ignorable code points outside those categories (Unicode's DerivedCoreProperties), and blank
# letters that render as nothing: a name with one of them looks exactly like the name without it.
_INVISIBLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)


def _invisible(character: str) -> bool:
    code = ord(character)
    return any(low <= code <= high for low, high in _INVISIBLE)


class InvalidUsername(DomainError):
    """A username that could be mistaken for another one, or that cannot be shown; the app answers 400."""


# Scripts that carry no letters of their own, and the mixes of scripts that one writing system uses.
_SCRIPTLESS = frozenset({'COMMON', 'INHERITED', 'Unknown'})
_WRITING_SYSTEMS = (
    frozenset({'LATIN', 'HAN', 'HIRAGANA', 'KATAKANA'}),  # Japanese
    frozenset({'LATIN', 'HAN', 'BOPOMOFO'}),  # Chinese
    frozenset({'LATIN', 'HAN', 'HANGUL'}),  # Korean
)
# Scripts whose letters are look-alikes of ASCII ones, where marks and look-alikes are folded in the key.
_FOLDED_SCRIPTS = frozenset({'LATIN', 'GREEK', 'CYRILLIC'})


def _scripts(text: str) -> frozenset[str]:
    return frozenset(categories.alias(character) for character in text if character.isalpha()) - _SCRIPTLESS


@lru_cache(maxsize=4096)
def _ascii_prototype(character: str) -> str:
    """The ASCII letter or digit `character` is a look-alike of, or `character` itself."""
    if character.isascii():
        return character
    found = confusables.is_confusable(character, preferred_aliases=[])
    glyphs = {glyph['c'] for entry in (found or []) for glyph in entry['homoglyphs']}
    ascii_glyphs = sorted(glyph for glyph in glyphs if len(glyph) == 1 and glyph.isascii() and glyph.isalnum())
    return ascii_glyphs[0] if ascii_glyphs else character


def _skeleton(key: str) -> str:
    """`key` with combining marks dropped and ASCII look-alikes replaced by what they look like."""
    bare = ''.join(
        character for character in unicodedata.normalize('NFD', key) if unicodedata.category(character) != 'Mn'
    )
    return unicodedata.normalize('NFC', ''.join(_ascii_prototype(character) for character in bare)).casefold()


def username_key(username: object) -> str:
    """The canonical key of `username`; raise `InvalidUsername` with the reason when it is refused."""
    if not isinstance(username, str):
        raise InvalidUsername('The username must be a string')
    if not username:
        raise InvalidUsername('The username must not be empty')
    if len(username) > MAX_USERNAME_LENGTH:
        raise InvalidUsername(f'The username must be at most {MAX_USERNAME_LENGTH} characters long')
    if username != username.strip() or username.strip(' ') != username:
        raise InvalidUsername('The username must not start or end with whitespace')
    previous = ''
    for position, character in enumerate(username):
        problem = _REFUSED_CATEGORIES.get(unicodedata.category(character))
        if problem is None and _invisible(character):
            problem = 'an invisible character'
        if problem is None and character.isspace() and character != ' ':
            problem = 'a whitespace character other than a plain space'
        if problem is None and character == ' ' and previous == ' ':
            problem = 'two spaces in a row'
        if problem is not None:
            raise InvalidUsername(f'The username contains {problem} (U+{ord(character):04X} at position {position})')
        previous = character
    key = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', username).casefold())
    if not key.strip() or any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in key):
        raise InvalidUsername('The username is made only of characters that normalise away')
    scripts = _scripts(key)
    if len(scripts) > 1 and not any(scripts <= system for system in _WRITING_SYSTEMS):
        raise InvalidUsername(f'The username mixes letters of several scripts ({", ".join(sorted(scripts))})')
    if scripts <= _FOLDED_SCRIPTS:
        key = _skeleton(key)
    return key


__all__ = ['MAX_USERNAME_LENGTH', 'InvalidUsername', 'username_key']
