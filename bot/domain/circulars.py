"""Circulars (broadcasts) as the domain sees them: content, audience, state and counts.

Storage keeps them (storage/broadcasts.py), the runner sends them (bot/delivery/broadcast.py),
the views report on them (bot/views/circulars.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

ContentKind = Literal["text", "photo", "document"]
AudienceKind = Literal["news", "network", "event"]
BroadcastStatus = Literal["draft", "planned", "running", "paused", "done", "cancelled"]

MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024


@dataclass(frozen=True, slots=True)
class Content:
    """The message of a broadcast exactly as it goes to Telegram.

    Entities are Bot API ``MessageEntity`` objects as JSON dicts, so storage stays free of
    PTB; ``text``/``entities`` for a text, ``file_id``/``caption``/``caption_entities`` for a
    photo or a document.
    """

    kind: ContentKind
    text: str | None = None
    entities: tuple[Mapping[str, Any], ...] = ()
    file_id: str | None = None
    caption: str | None = None
    caption_entities: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "text":
            if not self.text or self.file_id is not None or self.caption is not None:
                raise ValueError("a text broadcast has a text and no file or caption")
            if len(self.text) > MAX_TEXT:
                raise ValueError(f"a text has at most {MAX_TEXT} characters")
        elif self.kind in ("photo", "document"):
            if not self.file_id or self.text is not None:
                raise ValueError("a photo or document broadcast has a file_id and no text")
            if self.caption is not None and len(self.caption) > MAX_CAPTION:
                raise ValueError(f"a caption has at most {MAX_CAPTION} characters")
        else:
            raise ValueError(f"unknown content kind {self.kind!r}")

    def to_json(self) -> str:
        """Return the content as stored."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "text":
            data.update(text=self.text, entities=[dict(e) for e in self.entities])
        else:
            data.update(
                file_id=self.file_id,
                caption=self.caption,
                caption_entities=[dict(e) for e in self.caption_entities],
            )
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Content:
        """Return stored content."""
        data = json.loads(text)
        return cls(
            kind=data["kind"],
            text=data.get("text"),
            entities=tuple(data.get("entities") or ()),
            file_id=data.get("file_id"),
            caption=data.get("caption"),
            caption_entities=tuple(data.get("caption_entities") or ()),
        )


@dataclass(frozen=True, slots=True)
class Audience:
    """Who gets a broadcast: all news subscribers, one network's, or one meeting's followers."""

    kind: AudienceKind
    target: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("news", "network", "event"):
            raise ValueError(f"unknown audience {self.kind!r}")
        if (self.kind == "news") != (not self.target):
            raise ValueError("networks and meetings need a target, news none")


@dataclass(frozen=True, slots=True)
class Counts:
    """How many rows of a broadcast are in each state."""

    pending: int = 0
    waiting: int = 0  # pending, waiting for the next try after a transient failure
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    gave_up: int = 0  # failed: Telegram could not be reached for 24 hours
    unknown: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Return the number of recipients."""
        return self.open + self.done

    @property
    def open(self) -> int:
        """Return the rows not yet in a final state."""
        return self.pending + self.waiting + self.sending

    @property
    def done(self) -> int:
        """Return the rows in a final state."""
        return self.sent + self.blocked + self.failed + self.gave_up + self.unknown + self.skipped


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One broadcast as stored."""

    id: int
    created_by: int
    created_at: datetime
    content: Content
    audience: Audience
    status: BroadcastStatus
    planned_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recipients: int
    status_chat_id: int
    status_message_id: int | None
