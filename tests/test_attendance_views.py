"""The "Ich komme" rendering: the CSV of shared names, the CLI's counts, callback sizes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from bot.__main__ import _event_lines
from bot.views import callbacks
from bot.views.attendance import attendees_csv, attendees_list, attendees_reply
from bot.views.replies import MAX_CALLBACK_BYTES
from tests.qa.helpers import BERLIN, catalog, context, html_errors

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_csv_has_header_names_and_defuses_formulas() -> None:
    """One row per person; a name that looks like a formula is kept as text."""
    payload = attendees_csv(context(NOW), [("Erika", None), ("=HYPERLINK(1)", "Max Muster")])
    assert payload.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Vorname (Telegram)", "Name der Mitgliedschaft"],
        ["Erika", ""],
        ["'=HYPERLINK(1)", "Max Muster"],
    ]


def test_lists_fit_and_escape() -> None:
    """The picker and the numbers are valid Telegram HTML with short callback data."""
    ctx = context(NOW)
    listing = attendees_list(ctx, {"demo-2027-03-karlsruhe": (3, 1)}, 0)
    assert any("· 3" in b.label for row in listing.buttons for b in row)
    event = ctx.catalog.event("demo-2027-03-karlsruhe")
    assert event is not None
    reply = attendees_reply(ctx, event, 3, 1)
    assert "3 Personen kommen, davon 1 mit Namen." in reply.text
    assert html_errors(reply.text) == []
    longest = "x" * 40
    for prefix in (callbacks.ATTEND_NAME, callbacks.ATTEND_ANON, callbacks.ATTENDEES_SHOW):
        assert len(callbacks.attend(prefix, longest).encode()) <= MAX_CALLBACK_BYTES


def test_cli_list_shows_counts() -> None:
    """``netzwerkbot events list`` names how many said they come."""
    text = _event_lines(
        catalog(), now=NOW, tz=BERLIN, everything=False, counts={"demo-2027-03-karlsruhe": 2}
    )
    line = next(line for line in text.splitlines() if line.startswith("demo-2027-03-karlsruhe"))
    assert line.endswith("2 Zusagen („Ich komme“)")
    other = next(line for line in text.splitlines() if line.startswith("demo-2027-06-ulm"))
    assert other.endswith("0 Zusagen („Ich komme“)")
