"""An event as plain JSON data and back (an admin's meeting draft kept across a restart)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any, Final

from bot.domain.models import Event, Host, ProgrammeItem

DATES: Final = frozenset({"date"})
DATETIMES: Final = frozenset({"start", "end", "created_at"})
STRINGS: Final = frozenset({"regions_present", "outcomes", "sources"})


def event_to_json(event: Event) -> dict[str, Any]:
    """Return the event as JSON data (times as ISO 8601 with their offset)."""
    data: dict[str, Any] = {}
    for spec in fields(event):
        value = getattr(event, spec.name)
        if isinstance(value, date | datetime):
            value = value.isoformat()
        elif spec.name == "hosts":
            value = [{"name": h.name, "network": h.network} for h in value]
        elif spec.name == "programme":
            value = [
                {"kind": p.kind, "title": p.title, "speaker": p.speaker, "summary": p.summary}
                for p in value
            ]
        elif isinstance(value, tuple):
            value = list(value)
        data[spec.name] = value
    return data


def event_from_json(data: dict[str, Any]) -> Event:
    """Return the event of :func:`event_to_json`'s data; raise ValueError if it is not one."""
    if not isinstance(data, dict):
        raise ValueError("an event is a JSON object")
    values: dict[str, Any] = {}
    known = {spec.name for spec in fields(Event)}
    for name, value in data.items():
        if name not in known:
            continue
        if value is not None and name in DATES:
            value = date.fromisoformat(value)
        elif value is not None and name in DATETIMES:
            value = datetime.fromisoformat(value)
        elif name == "hosts":
            value = tuple(Host(h["name"], h.get("network")) for h in value)
        elif name == "programme":
            value = tuple(
                ProgrammeItem(p["kind"], p["title"], p.get("speaker"), p.get("summary"))
                for p in value
            )
        elif name in STRINGS:
            value = tuple(str(v) for v in value)
        values[name] = value
    try:
        return Event(**values)
    except TypeError as error:
        raise ValueError(f"not an event: {error}") from None
