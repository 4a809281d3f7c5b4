"""Row codecs shared by the stores: times as stored text, JSON lists, the Event row mapper."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, cast

from bot.domain.models import Event

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

    from bot.domain.models import EventKind, EventStatus, Host, ProgrammeItem


def utc_text(moment: datetime) -> str:
    """Return a UTC time as the fixed-width text stored in the database."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_utc(text: str) -> datetime:
    """Return a stored UTC time as an aware datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def opt_date(value: object) -> date | None:
    """Return a stored ISO date, or None for NULL."""
    return None if value is None else date.fromisoformat(str(value))


def opt_datetime(value: object) -> datetime | None:
    """Return a stored time as an aware UTC datetime, or None for NULL."""
    return None if value is None else datetime.fromisoformat(str(value)).astimezone(UTC)


def str_tuple(value: object) -> tuple[str, ...]:
    """Return a stored JSON list of strings as a tuple."""
    return tuple(str(item) for item in json.loads(str(value)))


def event_from_row(
    row: sqlite3.Row,
    *,
    hosts: Iterable[Host] = (),
    programme: Iterable[ProgrammeItem] = (),
    sources: Iterable[str] = (),
) -> Event:
    """Return the Event of an ``events`` row; child rows come from the caller.

    Planning needs only the hosts; the catalog passes programme and sources too.
    """
    return Event(
        id=str(row["id"]),
        fictional=bool(row["fictional"]),
        kind=cast("EventKind", row["kind"]),
        title=row["title"],
        description=row["description"],
        status=cast("EventStatus", row["status"]),
        number=row["number"],
        subtitle=row["subtitle"],
        date=opt_date(row["date"]),
        date_known=bool(row["date_known"]),
        date_text=row["date_text"],
        start=opt_datetime(row["starts_at"]),
        end=opt_datetime(row["ends_at"]),
        city=row["city"],
        region=row["region"],
        venue=row["venue"],
        venue_note=row["venue_note"],
        # Absent before migration 0012 (a database read while it is being upgraded).
        latitude=row["latitude"] if "latitude" in row.keys() else None,  # noqa: SIM118
        longitude=row["longitude"] if "longitude" in row.keys() else None,  # noqa: SIM118
        hosts=tuple(hosts),
        host_note=row["host_note"],
        audience=row["audience"],
        speakers_note=row["speakers_note"],
        regions_present=str_tuple(row["regions_present"]),
        outcomes=str_tuple(row["outcomes"]),
        programme=tuple(programme),
        sources=tuple(sources),
        created_by=row["created_by"],
        created_at=opt_datetime(row["created_at"]),
    )
