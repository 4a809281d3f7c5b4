"""What the bot says, before it is sent: HTML text plus inline buttons.

Rendering and answering produce ``Reply`` values; handlers turn them into Bot API calls.
Keeping the two apart lets tests check a reply without Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_TEXT: Final = 4096  # Telegram's limit on a message, in characters after entity parsing
MAX_CALLBACK_BYTES: Final = 64


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: either callback data (at most 64 bytes) or a URL."""

    label: str
    data: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise ValueError("a button has either callback data or a URL")
        if self.data is not None and len(self.data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: HTML text (Telegram's subset, values escaped) and rows of buttons.

    ``unanswered`` marks the "I don't know that" answer to a member's message: the handler
    keeps such messages (text only) for the admins' /unbeantwortet.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    unanswered: bool = False

    def markup(self) -> InlineKeyboardMarkup | None:
        """Return the inline keyboard for this reply, if it has buttons."""
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data, url=b.url) for b in row]
                for row in self.buttons
            ]
        )
