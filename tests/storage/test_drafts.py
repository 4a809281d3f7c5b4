"""The admin dialogs' store and PTB persistence on it: JSON in, JSON out, purged, deleted."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.domain.clock import ManualClock
from bot.domain.event_json import event_from_json, event_to_json
from bot.domain.models import Event, Host, ProgrammeItem
from bot.persistence import DialogPersistence
from storage.drafts import (
    EXPIRED,
    KEEP_EXPIRED,
    DraftStore,
    delete_chat_rows,
    export_rows,
    read_saved,
)

if TYPE_CHECKING:
    from storage.db import Database

T0: Final = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
ADMIN: Final = 4711


def persistence(db: Database, clock: ManualClock, **codecs: Any) -> DialogPersistence:
    """Return a persistence writing through a store on the test database."""
    store = DraftStore(db)
    made = DialogPersistence(Path(db.path), clock=clock, store=lambda: store, codecs=codecs)
    made.timeouts = {"meetings": timedelta(minutes=30)}
    return made


def test_an_event_round_trips_through_json() -> None:
    """Every kind of field comes back equal, through real JSON text."""
    event = Event(
        id="e1",
        fictional=False,
        kind="network_meeting",
        title="Treffen",
        description="Text",
        status="announced",
        date=date(2027, 3, 18),
        start=datetime(2027, 3, 18, 13, 0, tzinfo=UTC),
        end=datetime(2027, 3, 18, 15, 0, tzinfo=UTC),
        latitude=48.7,
        longitude=9.1,
        hosts=(Host("cyberLAGO", "cyberlago"), Host("IT Bündnis BW")),
        programme=(ProgrammeItem("keynote", "Auftakt", speaker="erika"),),
        sources=("quelle-1",),
        created_at=T0,
    )
    assert event_from_json(json.loads(json.dumps(event_to_json(event)))) == event


async def test_states_and_drafts_are_stored_loaded_and_expire(db: Database) -> None:
    """A state is loaded as written, or as EXPIRED once its deadline passed; drafts as JSON."""
    clock = ManualClock(T0)
    first = persistence(db, clock)
    await first.update_conversation("meetings", (ADMIN, ADMIN), 4)
    await first.update_user_data(ADMIN, {"meetings.draft": {"title": "Treffen"}})
    await first.update_user_data(ADMIN + 1, {})  # a member: nothing written
    assert [dict(r) for r in await db.fetchall("SELECT user_id FROM dialog_drafts")] == [
        {"user_id": ADMIN}
    ]

    again = persistence(db, clock)
    assert await again.get_conversations("meetings") == {(ADMIN, ADMIN): 4}
    assert await again.get_user_data() == {ADMIN: {"meetings.draft": {"title": "Treffen"}}}
    clock.advance(timedelta(minutes=31))
    late = persistence(db, clock)
    await late.get_user_data()  # PTB loads it first, in Application.initialize
    assert await late.get_conversations("meetings") == {(ADMIN, ADMIN): EXPIRED}
    await late.update_conversation("meetings", (ADMIN, ADMIN), None)
    await late.update_user_data(ADMIN, {})
    saved = await read_saved(Path(db.path))
    assert saved.states == ()
    assert saved.drafts == {}


async def test_values_that_are_no_json_stay_in_memory(db: Database) -> None:
    """A codec turns an object into JSON; anything else that is no JSON is not stored."""
    clock = ManualClock(T0)
    codec = (lambda d: {"n": d.n}, lambda j: _Thing(j["n"]))
    first = persistence(db, clock, thing=codec)
    await first.update_user_data(ADMIN, {"thing": _Thing(3), "other": object()})
    loaded = await persistence(db, clock, thing=codec).get_user_data()
    assert loaded == {ADMIN: {"thing": _Thing(3)}}


async def test_purge_export_and_delete(db: Database) -> None:
    """The purge keeps a timed-out dialog a week; export and delete find a person's rows."""
    store = DraftStore(db)
    deadline = T0 + timedelta(minutes=30)
    await store.set_state("meetings", ADMIN, ADMIN, 3, deadline=deadline, now=T0)
    await store.set_drafts(ADMIN, json.dumps({"a": 1}), now=T0)
    assert await store.purge(now=deadline + KEEP_EXPIRED - timedelta(minutes=1)) == 0
    async with db.snapshot():
        exported = await export_rows(db, ADMIN)
    assert [s["name"] for s in exported["states"]] == ["meetings"]
    assert exported["drafts"]["data"] == {"a": 1}
    async with db.transaction():
        assert await delete_chat_rows(db, ADMIN) == 2
    await store.set_state("broadcast", ADMIN, ADMIN, 1, deadline=deadline, now=T0)
    await store.set_drafts(ADMIN, json.dumps({"a": 1}), now=T0)
    assert await store.purge(now=deadline + KEEP_EXPIRED + timedelta(minutes=1)) == 2


class _Thing:
    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Thing) and other.n == self.n

    __hash__ = None  # type: ignore[assignment]
