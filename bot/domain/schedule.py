"""When reminders are due: lead times, quiet hours and weekly previews, as pure functions.

No Telegram and no database here: the dispatcher asks these functions when something is due
and the stores record what was sent. All results are aware UTC datetimes; every local
reasoning happens in the display zone ``tz`` (Europe/Berlin in production).

Rules (from the product requirement):

* Day and week leads keep the local wall time N calendar days earlier; a wall time that does
  not exist (spring gap) moves to the next valid minute, an ambiguous one (autumn) takes its
  first occurrence. Hour leads are absolute.
* Events known only by their day get day and week reminders at 09:00 local and no hour
  reminder; events without a known date get none.
* A reminder falling in the quiet hours (local wall time, start inclusive, end exclusive) is
  sent at their end if the event has not begun by then, otherwise 15 minutes before the
  quiet hours began.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

    from bot.domain.models import Event


class Lead(StrEnum):
    """How long before an event a reminder goes out; values live in the database."""

    WEEK = "1w"
    DAY = "1d"
    HOURS_2 = "2h"


DEFAULT_LEADS: Final = (Lead.DAY, Lead.HOURS_2)
# Day and week leads count calendar days (wall time kept); hour leads are absolute.
CALENDAR_LEADS: Final = {Lead.WEEK: 7, Lead.DAY: 1}
ABSOLUTE_LEADS: Final = {Lead.HOURS_2: timedelta(hours=2)}
DATE_ONLY_REMINDER_TIME: Final = time(9, 0)
QUIET_FALLBACK: Final = timedelta(minutes=15)
WEEKLY_PREVIEW_TIME: Final = time(8, 0)
QUIET_HOURS_ENV: Final = "NETZWERKBOT_QUIET_HOURS"

_QUIET_RE: Final = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}):(\d{2})")
_MINUTE: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of local wall time without reminders; it may wrap midnight."""

    start: time
    end: time

    @property
    def wraps(self) -> bool:
        """Tell whether the window runs over midnight (e.g. 22:00-07:00)."""
        return self.start > self.end


DEFAULT_QUIET_HOURS: Final = QuietHours(time(22, 0), time(7, 0))


def parse_quiet_hours(text: str) -> QuietHours | None:
    """Parse ``"22:00-07:00"`` (en dash, spaces and ``"7:00"`` allowed); ``""`` means none."""
    text = text.strip()
    if not text:
        return None
    match = _QUIET_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"quiet hours must look like 22:00-07:00, got {text!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
        raise ValueError(f"quiet hours need times from 00:00 to 23:59, got {text!r}")
    quiet = QuietHours(time(h1, m1), time(h2, m2))
    if quiet.start == quiet.end:
        raise ValueError(f"quiet hours must start and end at different times, got {text!r}")
    return quiet


def format_quiet_hours(quiet: QuietHours) -> str:
    """Format quiet hours the way ``parse_quiet_hours`` reads them: ``"22:00-07:00"``."""
    return f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"


def quiet_from_columns(start: str | None, end: str | None) -> QuietHours | None:
    """Return quiet hours as stored (two ``'HH:MM'`` columns; both NULL means none)."""
    if start is None or end is None:
        return None
    return QuietHours(time.fromisoformat(start), time.fromisoformat(end))


def quiet_to_columns(quiet: QuietHours | None) -> tuple[str | None, str | None]:
    """Return quiet hours as the two stored ``'HH:MM'`` columns (None, None for none)."""
    if quiet is None:
        return None, None
    return f"{quiet.start:%H:%M}", f"{quiet.end:%H:%M}"


QUIET_NONE_CODE: Final = "none"


def quiet_code(quiet: QuietHours | None) -> str:
    """Return the short code of quiet hours in callback data: ``"2200-0700"`` or ``"none"``."""
    if quiet is None:
        return QUIET_NONE_CODE
    return f"{quiet.start:%H%M}-{quiet.end:%H%M}"


def parse_quiet_code(code: str) -> QuietHours | None:
    """Read a code of :func:`quiet_code`; ValueError for anything else."""
    if code == QUIET_NONE_CODE:
        return None
    match = re.fullmatch(r"([01]\d|2[0-3])([0-5]\d)-([01]\d|2[0-3])([0-5]\d)", code)
    if match is None:
        raise ValueError(f"not a quiet-hours code: {code!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    quiet = QuietHours(time(h1, m1), time(h2, m2))
    if quiet.start == quiet.end:
        raise ValueError(f"quiet hours must start and end at different times: {code!r}")
    return quiet


def default_quiet_hours(raw: str | None) -> QuietHours | None:
    """Return the default for new subscribers from NETZWERKBOT_QUIET_HOURS's raw value."""
    return DEFAULT_QUIET_HOURS if raw is None else parse_quiet_hours(raw)


def _aware(moment: datetime) -> datetime:
    """Return ``moment`` unchanged, refusing naive datetimes (they would mean server time)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got {moment!r}")
    return moment


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Tell whether a naive wall time occurs in ``tz`` (it does not in a spring gap)."""
    there = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return there.replace(tzinfo=None) == wall


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a naive wall time: gap -> next valid minute, ambiguous -> first."""
    if wall.tzinfo is not None:
        raise ValueError(f"a naive wall time is needed, got {wall!r}")
    if not _exists(wall, tz):
        # Walk to the first whole minute after the gap; gaps are whole minutes long.
        wall = wall.replace(second=0, microsecond=0)
        while not _exists(wall, tz):
            wall += _MINUTE
    # fold=0 is the first occurrence of an ambiguous wall time (the earlier UTC instant).
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def _local_at(day: date, wall_time: time, tz: ZoneInfo) -> datetime:
    """Return the instant of a local day and wall time (DST-safe), in UTC."""
    # UTC, because arithmetic on datetimes with a ZoneInfo is wall-clock arithmetic.
    return localize(datetime.combine(day, wall_time), tz).astimezone(UTC)


def lead_due(event: Event, lead: Lead, tz: ZoneInfo) -> datetime | None:
    """Return when ``lead`` is due for ``event`` (aware UTC), before quiet hours; or None."""
    if event.date is None or not event.date_known:
        return None
    if lead in ABSOLUTE_LEADS:
        if event.start is None:
            return None
        return _aware(event.start).astimezone(UTC) - ABSOLUTE_LEADS[lead]
    days = timedelta(days=CALENDAR_LEADS[lead])
    if event.start is None:
        return _local_at(event.date - days, DATE_ONLY_REMINDER_TIME, tz)
    wall = _aware(event.start).astimezone(tz).replace(tzinfo=None)
    return localize(wall - days, tz).astimezone(UTC)


def in_quiet_hours(moment: datetime, quiet: QuietHours, tz: ZoneInfo) -> bool:
    """Tell whether ``moment`` lies in the quiet hours (local wall time, end exclusive)."""
    wall = _aware(moment).astimezone(tz).time()
    if quiet.wraps:
        return wall >= quiet.start or wall < quiet.end
    return quiet.start <= wall < quiet.end


def _quiet_window(local: datetime, quiet: QuietHours) -> tuple[date, date]:
    """Return the local days on which the quiet window around ``local`` starts and ends."""
    today = local.date()
    if not quiet.wraps:
        return today, today
    if local.time() >= quiet.start:
        return today, today + timedelta(days=1)
    return today - timedelta(days=1), today


def apply_quiet_hours(
    due: datetime, quiet: QuietHours | None, begins: datetime, tz: ZoneInfo
) -> datetime:
    """Move a reminder out of the quiet hours; return aware UTC.

    A due time in the quiet window moves to the window's end if that is before ``begins``,
    else to 15 minutes before the window began (never earlier than the end of the previous
    window, so short waking hours still count). Ends and starts are local wall times: one
    in a spring gap means the next valid minute; an ambiguous start means its first
    occurrence, an ambiguous end the first occurrence after ``due``.

    If neither works (the earlier time would be quiet or not before ``begins``), ``due`` is
    kept: this happens only when a DST gap swallows all waking time or when ``due`` itself
    is not before ``begins``.
    """
    due = _aware(due).astimezone(UTC)
    _aware(begins)
    if quiet is None or not in_quiet_hours(due, quiet, tz):
        return due
    start_day, end_day = _quiet_window(due.astimezone(tz), quiet)
    window_end = _local_at(end_day, quiet.end, tz)
    if window_end <= due:
        # An ambiguous end (autumn) that ``due`` already passed once: the stretch ends at its
        # repeat, the second occurrence.
        window_end = datetime.combine(end_day, quiet.end, tzinfo=tz).replace(fold=1)
        window_end = window_end.astimezone(UTC)
    if window_end < begins:
        return window_end
    window_start = _local_at(start_day, quiet.start, tz)
    previous_end = _local_at(end_day - timedelta(days=1), quiet.end, tz)
    earlier = max(window_start - QUIET_FALLBACK, previous_end)
    if earlier < begins and not in_quiet_hours(earlier, quiet, tz):
        return earlier
    return due


def reminder_due(
    event: Event, lead: Lead, quiet: QuietHours | None, tz: ZoneInfo
) -> datetime | None:
    """Return when ``lead`` is sent for ``event`` after quiet hours (aware UTC), or None."""
    due = lead_due(event, lead, tz)
    begins = event.begins_at(tz)
    if due is None or begins is None:
        return None
    return apply_quiet_hours(due, quiet, begins, tz)


def due_reminders(
    event: Event,
    leads: Iterable[Lead],
    quiet: QuietHours | None,
    tz: ZoneInfo,
    *,
    now: datetime,
) -> dict[Lead, datetime]:
    """Return the reminders still to send (due strictly after ``now``), earliest first.

    Staleness is judged on the time after quiet hours: a lead whose send time has passed is
    skipped, not sent late. Should two leads land on the same moment after quiet-hour shifting,
    both stay, since each is its own row in the database. Repeated leads count once.
    """
    _aware(now)
    due = {
        lead: when
        for lead in dict.fromkeys(leads)
        if (when := reminder_due(event, lead, quiet, tz)) is not None and when > now
    }
    order = list(Lead)
    return dict(sorted(due.items(), key=lambda item: (item[1], order.index(item[0]))))


def day_distance(event_day: date, now: datetime, tz: ZoneInfo) -> int:
    """Return how many local calendar days ``event_day`` lies after today (0 = heute)."""
    return (event_day - _aware(now).astimezone(tz).date()).days


def next_weekly_preview(now: datetime, tz: ZoneInfo) -> datetime:
    """Return the next Monday 08:00 local strictly after ``now``, as aware UTC.

    For PTB's ``run_daily`` the same slot is ``days=(1,)``: it numbers days 0 = Sunday,
    unlike ``date.weekday()`` (0 = Monday) used here.
    """
    today = _aware(now).astimezone(tz).date()
    monday = today + timedelta(days=-today.weekday() % 7)
    preview = _local_at(monday, WEEKLY_PREVIEW_TIME, tz)
    if preview <= now:
        preview = _local_at(monday + timedelta(days=7), WEEKLY_PREVIEW_TIME, tz)
    return preview


def week_window(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the local Monday-to-Monday week containing ``now`` as a half-open UTC range.

    From Monday 00:00 local of the week ``now`` falls in (``now``'s own day if it is a
    Monday) up to, excluding, the following Monday 00:00 local; on DST weeks that is 167 or
    169 hours. The Monday preview thus covers the whole current week; callers drop events
    that have already begun.
    """
    today = _aware(now).astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return _local_at(monday, time(0, 0), tz), _local_at(monday + timedelta(days=7), time(0, 0), tz)
