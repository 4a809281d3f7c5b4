"""What an admin reads about a circular: its status message and the final report."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import TYPE_CHECKING

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.domain.circulars import Broadcast, Counts
    from bot.i18n import Translator


def status_text(
    tr: Translator,
    tz: ZoneInfo,
    broadcast: Broadcast,
    counts: Counts,
    *,
    duration: timedelta | None = None,
    waiting: bool = False,
) -> str:
    """Return the admin's status message (HTML) for a broadcast in its current state.

    ``waiting``: the runner holds its pushes because Telegram failed a moment ago (rows that
    wait for their next try after a failure say so by themselves, in ``counts.waiting``).
    """
    _ = tr.gettext

    def number(n: int) -> str:
        return format_decimal(n, locale=tr.locale)

    values = {
        "id": broadcast.id,
        "done": number(counts.done),
        "total": number(counts.total),
    }
    waiting = waiting or counts.waiting > 0
    if broadcast.status == "planned" and broadcast.planned_at is not None:
        when = format_datetime(broadcast.planned_at, "short", tzinfo=tz, locale=tr.locale)
        return _("Circular #{id} is planned for {when}.").format(id=broadcast.id, when=when)
    if broadcast.status == "running" and waiting:
        return _("Circular #{id}: sent {done} of {total}, waiting for Telegram …").format(**values)
    if broadcast.status == "running":
        return _("Circular #{id}: sent {done} of {total} …").format(**values)
    if broadcast.status == "paused":
        return _("Circular #{id} is paused: sent {done} of {total}.").format(**values)
    if broadcast.status == "draft":
        return _("Circular #{id} has not been sent yet.").format(id=broadcast.id)
    head = (
        _("Circular #{id} was cancelled.")
        if broadcast.status == "cancelled"
        else _("Circular #{id} has been sent.")
    )
    lines = [
        f"<b>{html.escape(head.format(id=broadcast.id))}</b>",
        _("Delivered: {n}").format(n=number(counts.sent)),
        _("Blocked or unreachable: {n}").format(n=number(counts.blocked)),
        _("Failed: {n}").format(n=number(counts.failed)),
        _("Gave up (Telegram unreachable for 24 hours): {n}").format(n=number(counts.gave_up)),
        _("Unknown (may have arrived): {n}").format(n=number(counts.unknown)),
        _("Skipped (unsubscribed or cancelled): {n}").format(n=number(counts.skipped)),
    ]
    if duration is not None:
        lines.append(_("Duration: {duration}").format(duration=format_duration(tr, duration)))
    return "\n".join(lines)


def format_duration(tr: Translator, duration: timedelta) -> str:
    """Return a duration like "1 Stunde 2 Minuten 5 Sekunden" (Babel, exact to the second)."""
    seconds = max(0, round(duration.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        format_timedelta(timedelta(seconds=amount * unit), threshold=1, locale=tr.locale)
        for amount, unit in ((hours, 3600), (minutes, 60), (seconds, 1))
        if amount
    ]
    return " ".join(parts) or format_timedelta(timedelta(0), locale=tr.locale)
