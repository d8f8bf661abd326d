"""Text a person typed: is there anything to read in it?

A subject, a message or a name made only of spaces and invisible characters (zero-width
spaces and joiners, the byte-order mark, direction marks, soft hyphens, variation selectors)
looks empty to the person who reads it, so it is refused as empty.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that print nothing on their own: format characters (Cf: zero-width
# space and joiners, BOM, direction marks, soft hyphen...), separators, controls, and
# combining marks with no base character before them (Mn/Me on their own).
_INVISIBLE = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc", "Cs", "Co", "Cn", "Mn", "Me"})
# Hangul fillers and braille blank look like letters to Unicode but print as blanks.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_visible(ch: str) -> bool:
    return unicodedata.category(ch) not in _INVISIBLE and ch not in _BLANK_LETTERS


def has_visible_text(value: str | None) -> bool:
    """True when `value` has at least one character a reader can see."""
    return bool(value) and any(is_visible(ch) for ch in value)


def trim(value: str) -> str:
    """`value` without invisible characters and spaces at either end (inside it is untouched)."""
    start, end = 0, len(value)
    while start < end and not is_visible(value[start]):
        start += 1
    # (At the end, a combining mark belongs to the letter before it: kept.)
    while end > start and not is_visible(value[end - 1]) and unicodedata.category(value[end - 1])[0] != "M":
        end -= 1
    return value[start:end]


def one_line(value: object) -> str:
    """`value` for a log line: control, format and line-separator characters (and the backslash,
    so an escape cannot be faked) written as Python escapes ("\\n", "\\x1b", "\\u2028"), so
    that what came from outside cannot write lines of its own into an operator's log."""
    text = str(value)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if ch == "\\" or not (ch.isprintable() or ch == " ") else ch
        for ch in text
    )


__all__ = ["has_visible_text", "is_visible", "one_line", "trim"]
