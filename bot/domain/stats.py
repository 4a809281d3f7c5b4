"""The operator's numbers as plain values: metrics gauges and the admins' statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the metrics show about the database at one moment."""

    reminders_pending: int
    outbox_pending: dict[str, int]
    oldest_due_seconds: float
    chats: dict[str, int]
    subscribers_by_topic: dict[str, int]
    open_circulars: int


@dataclass(frozen=True, slots=True)
class CircularStats:
    """One circular and what became of its messages."""

    id: int
    status: str
    audience_kind: str
    audience_target: str
    created_at: datetime
    recipients: int
    sent: int
    blocked: int
    failed: int
    open: int


@dataclass(frozen=True, slots=True)
class Report:
    """The numbers an admin sees with /statistik or ``netzwerkbot stats``."""

    chats: dict[str, int]
    subscribers_by_topic: dict[str, int]
    subscribers_by_network: dict[str, int]  # network slug -> active subscribers
    new: int  # subscribers who started in the last 30 days
    stopped: int  # who used /stopp or blocked the bot in the last 30 days
    circulars: tuple[CircularStats, ...]  # the last 90 days, newest first (at most 20)
    reminders_sent: int  # reminders due in the last 30 days
    reminders_failed: int
    reminders_late: int  # sent more than a minute after their due time
    questions_answered: int  # the last 30 days
    questions_unknown: int
