"""The set-based plan_event writes exactly the rows the follower-by-follower plan wrote.

Also when it plans in batches: two followers in the caller's transaction, the rest two per
transaction by ``finish_plans``.

Random followers (leads, quiet hours, blocked or not, what they follow), random existing
rows in every state, and a random change of the event (moved by hours or days, onto the
spring-forward and fall-back nights, date only, date unknown, cancelled), planned at a
random moment: the set-based plan and the reference (the former Python plan, in
``planning.py``) must leave identical reminder rows and report the same number of changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.models import EventChange
from bot.domain.schedule import Lead, quiet_from_columns, reminder_due
from storage.catalog import SQL_UPSERT_EVENT, CatalogStore, _event_params
from storage.codecs import utc_text
from storage.db import Database
from storage.migrations import migrate
from storage.reminders import (
    ReminderStore,
    dump_leads,
    finish_plans,
    load_events,
    plan_event,
)
from tests.conftest import REPO
from tests.storage.planning import (
    BERLIN,
    KARLSRUHE,
    LAGO_MEETING,
    NETWORK,
    NOW,
    berlin,
    load_catalog,
    reference_plan_event,
)

if TYPE_CHECKING:
    from bot.domain.models import Event

QUIET: Final = (
    None,
    ("22:00", "07:00"),
    ("22:00", "06:00"),
    ("00:00", "06:00"),
    ("12:00", "13:00"),
    ("01:30", "03:00"),
)
STATUSES: Final = ("pending", "sending", "sent", "dropped", "failed")
TOPICS: Final = (
    ("meetings", ""),
    ("network", NETWORK),
    ("event", KARLSRUHE),
    ("event", LAGO_MEETING),
)
MOVES: Final = (
    "same",
    "plus 1 hour",
    "minus 1 day",
    "plus 3 days",
    "spring forward",
    "fall back",
    "date only",
    "date unknown",
    "cancelled",
)
MOMENTS: Final = (
    NOW,
    berlin(2027, 3, 11, 9, 30),
    berlin(2027, 3, 17, 12, 0),
    berlin(2027, 3, 18, 9),
)
FIXED_DUES: Final = (
    "2026-11-01T09:00:00+00:00",
    "2027-03-17T09:00:00+00:00",
    "2027-12-24T09:00:00+00:00",
)
DEMO_EVENTS: Final = REPO / "bot" / "data" / "demo-events.toml"
ROWS: Final = (
    "SELECT event_id, chat_id, lead, due_at, status, sent_at, attempts, last_error "
    "FROM reminders ORDER BY event_id, chat_id, lead"
)

follower = st.fixed_dictionaries(
    {
        "blocked": st.booleans(),
        "leads": st.sets(st.sampled_from(list(Lead))),
        "quiet": st.sampled_from(QUIET),
        "topics": st.sets(st.sampled_from(TOPICS), max_size=3),
        # per lead: no row, or a row with a status and a due time (the old plan's or fixed)
        "rows": st.dictionaries(
            st.sampled_from(list(Lead)),
            st.tuples(st.sampled_from(STATUSES), st.sampled_from((None, *FIXED_DUES))),
        ),
    }
)


def moved(event: Event, move: str) -> Event:
    """Return the event after an admin's or an import's change."""
    assert event.start is not None
    local = event.start.astimezone(BERLIN)
    start: datetime | None
    match move:
        case "same":
            return event
        case "plus 1 hour":
            start = local + timedelta(hours=1)
        case "minus 1 day":
            start = local - timedelta(days=1)
        case "plus 3 days":
            start = local + timedelta(days=3)
        case "spring forward":  # the 1-day lead falls into the gap of 28 March 2027
            start = datetime(2027, 3, 29, 2, 30, tzinfo=BERLIN)
        case "fall back":  # the 1-week lead falls on the repeated hour of 31 October 2027
            start = datetime(2027, 11, 7, 2, 30, tzinfo=BERLIN)
        case "date only":
            return dataclasses.replace(event, start=None, end=None)
        case "date unknown":
            return dataclasses.replace(event, date_known=False, date=None, start=None, end=None)
        case _:
            return dataclasses.replace(event, status="cancelled")
    return dataclasses.replace(event, start=start, end=None, date=start.date())


async def _fill(db: Database, event: Event, followers: list[dict[str, Any]]) -> None:
    for chat_id, f in enumerate(followers, start=1):
        quiet = f["quiet"] or (None, None)
        await db.execute(
            "INSERT INTO subscribers (chat_id, status, leads, quiet_start, quiet_end,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', '')",
            (chat_id, "blocked" if f["blocked"] else "active", dump_leads(f["leads"]), *quiet),
        )
        for topic, target in f["topics"]:
            await db.execute(
                "INSERT INTO subscriptions (chat_id, topic, target, created_at)"
                " VALUES (?, ?, ?, '')",
                (chat_id, topic, target),
            )
        for lead, (status, fixed) in f["rows"].items():
            old = reminder_due(event, lead, quiet_from_columns(*quiet), BERLIN)
            due = fixed or (utc_text(old) if old else FIXED_DUES[1])
            await db.execute(
                "INSERT INTO reminders (event_id, chat_id, lead, due_at, status, sent_at,"
                " attempts, last_error) VALUES (?, ?, ?, ?, ?, ?, 2, 'old')",
                (event.id, chat_id, lead.value, due, status, due if status == "sent" else None),
            )


_TEMPLATE: dict[str, Path] = {}


async def _template(folder: Path) -> Path:
    """Return a migrated database with the catalog, made once per test run."""
    if "path" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp()) / "template.sqlite3"
        db = await Database.open(path)
        await migrate(db)
        await load_catalog(db)
        await db.execute("DELETE FROM reminders")
        await db.close()
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


async def compare(event_id: str, move: str, moment: datetime, followers: list[Any]) -> None:
    """Plan the change both ways on two copies of one database; the rows must agree."""
    with tempfile.TemporaryDirectory() as folder:
        template = await _template(Path(folder))
        results = []
        for name in ("sets", "batches", "reference"):
            path = Path(folder) / f"{name}.sqlite3"
            shutil.copyfile(template, path)
            db = await Database.open(path)
            try:
                old = (await load_events(db, [event_id]))[event_id]
                await _fill(db, old, followers)
                new = moved(old, move)
                change = EventChange(
                    id=event_id,
                    date=new.date != old.date or new.date_known != old.date_known,
                    time=new.start != old.start,
                    status=new.status != old.status,
                )
                async with db.transaction():
                    await db.execute(SQL_UPSERT_EVENT, _event_params(new))
                    if name == "sets":
                        count = await plan_event(db, new, now=moment, tz=BERLIN, change=change)
                    elif name == "batches":
                        count = await plan_event(
                            db, new, now=moment, tz=BERLIN, change=change, batch=2
                        )
                    else:
                        count = await reference_plan_event(
                            db, new, now=moment, tz=BERLIN, change=change
                        )
                if name == "batches":  # the rest, two followers per transaction
                    count += await finish_plans(db, [event_id], now=moment, tz=BERLIN, batch=2)
                    assert await db.fetchall("SELECT * FROM plan_queue") == []
                results.append((count, [tuple(r) for r in await db.fetchall(ROWS)]))
            finally:
                await db.close()
        assert results[0] == results[2]
        assert results[1] == results[2]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from((KARLSRUHE, LAGO_MEETING)),
    st.sampled_from(MOVES),
    st.sampled_from(MOMENTS),
    st.lists(follower, max_size=6),
)
def test_set_based_plan_equals_follower_by_follower_plan(
    event_id: str, move: str, moment: datetime, followers: list[Any]
) -> None:
    """Every combination of followers, rows and change gives the same rows both ways."""
    asyncio.run(compare(event_id, move, moment, followers))


async def test_date_only_meeting_reminded_at_nine(tmp_path: Path) -> None:
    """A date-only meeting's day lead is at 09:00 local, in quiet hours or not."""
    path = tmp_path / "bot.sqlite3"
    shutil.copyfile(await _template(tmp_path), path)
    db = await Database.open(path)
    try:
        event = (await load_events(db, [KARLSRUHE]))[KARLSRUHE]
        only_day = {"leads": {Lead.DAY, Lead.HOURS_2}, "topics": {TOPICS[0]}, "rows": {}}
        quiet = {**only_day, "blocked": False, "quiet": ("06:00", "10:00")}
        await _fill(db, event, [{**only_day, "blocked": False, "quiet": None}, quiet])
        async with db.transaction():
            await plan_event(db, moved(event, "date only"), now=NOW, tz=BERLIN)
        rows = [tuple(r)[1:5] for r in await db.fetchall(ROWS)]
    finally:
        await db.close()
    assert rows == [
        (1, "1d", "2027-03-17T08:00:00+00:00", "pending"),  # 09:00 in Berlin (CET)
        (2, "1d", "2027-03-17T09:00:00+00:00", "pending"),  # the end of quiet hours, 10:00
    ]  # no 2-hour lead: a date-only meeting has no start


async def test_unfinished_plan_holds_reminders_back_until_finished(tmp_path: Path) -> None:
    """A plan left half done (its process stopped) sends nothing, and the bot finishes it."""
    path = tmp_path / "bot.sqlite3"
    shutil.copyfile(await _template(tmp_path), path)
    db = await Database.open(path)
    try:
        event = (await load_events(db, [KARLSRUHE]))[KARLSRUHE]
        plain = {"blocked": False, "leads": {Lead.DAY}, "quiet": None, "rows": {}}
        await _fill(db, event, [{**plain, "topics": {TOPICS[0]}}] * 3)
        async with db.transaction():
            await plan_event(db, event, now=NOW, tz=BERLIN, batch=1)
        reminders = ReminderStore(db)
        later = berlin(2027, 3, 17, 12)
        assert [r.chat_id for r in await reminders.pending_for(1)] == [1]
        assert await reminders.pending_for(2) == []
        assert await reminders.due(later) == []  # not even the planned one
        # Not stale yet: the process that queued it may still be at work.
        assert await reminders.finish_stale_plans(now=NOW, tz=BERLIN) == 0
        await db.execute("UPDATE plan_queue SET updated_at = '2000-01-01T00:00:00+00:00'")
        assert await reminders.finish_stale_plans(now=NOW, tz=BERLIN) == 2
        assert sorted(r.chat_id for r in await reminders.due(later)) == [1, 2, 3]
        assert await db.fetchall("SELECT * FROM plan_queue") == []
    finally:
        await db.close()


async def test_import_commits_event_by_event(tmp_path: Path) -> None:
    """An import writes each changed event in its own transaction, after the rest."""
    path = tmp_path / "bot.sqlite3"
    shutil.copyfile(await _template(tmp_path), path)
    db = await Database.open(path)
    try:
        store = CatalogStore(db)
        text = DEMO_EVENTS.read_text(encoding="utf-8")
        moved_text = text.replace("2027-03-18T10:00:00", "2027-03-18T11:00:00").replace(
            "2027-06-24T10:00:00", "2027-06-24T11:00:00"
        )
        assert moved_text.count("T11:00:00") >= 2
        before = db.write_count
        report = await store.import_text(moved_text, name="demo.toml", now=NOW)
        assert report.counts["events"].updated == 2
        # The file's other tables, then each event, then the import's audit row.
        assert db.write_count - before == 1 + 2 + 1
    finally:
        await db.close()
