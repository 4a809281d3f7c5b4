"""The gettext marker for texts that are translated where they are shown, not where defined."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message
