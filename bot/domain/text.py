"""Plain-text helpers of the domain: the gettext marker, and control characters.

``N_`` marks texts that are translated where they are shown, not where defined.

A name from a CSV file ends up in terminals (``members list``), in chat messages and in
mails. Control characters there can move the cursor, clear the screen, end a line early or
reverse the text's direction (the Unicode bidi overrides); they belong in no name.
"""

from __future__ import annotations

import unicodedata
from typing import Final


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


# The bidirectional embeddings, overrides and isolates: category Cf, but they reorder what
# follows them, so a name could show as something else than it is.
BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control(character: str) -> bool:
    """Tell whether a character is a C0/C1 control (tab and newline too) or a bidi control."""
    return unicodedata.category(character) == "Cc" or character in BIDI_CONTROLS


def has_control_characters(text: str) -> bool:
    """Tell whether the text holds any control character (see :func:`is_control`)."""
    return any(is_control(c) for c in text)


def printable(text: str) -> str:
    """Return the text with every control character written as an escape, e.g. ``\\x1b``."""
    if not has_control_characters(text):
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii") if is_control(c) else c for c in text
    )
