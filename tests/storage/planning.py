"""Shared data and helpers for the subscription, reminder and outbox tests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from bot.domain.schedule import DEFAULT_QUIET_HOURS, due_reminders
from storage.catalog import CatalogStore
from storage.importer import parse_data_file
from storage.leases import Lease
from storage.reminders import (
    SQL_ROWS_OF_EVENT,
    Key,
    _followers,
    _plannable,
    _reconcile,
    _row,
    _targets,
)
from storage.subscriptions import Subscription, SubscriptionStore, Topic

if TYPE_CHECKING:
    from bot.domain.models import Event, EventChange
    from storage.db import Database

BERLIN: Final = ZoneInfo("Europe/Berlin")
UTC_ZONE: Final = ZoneInfo("UTC")
# 26 November 2026, 10:00 in Berlin: every demo event lies ahead.
NOW: Final = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
CHAT: Final = 1001
OTHER: Final = 1002

KARLSRUHE: Final = "demo-2027-03-karlsruhe"
ULM: Final = "demo-2027-06-ulm"
FREIBURG: Final = "demo-2027-10-freiburg"
MANNHEIM: Final = "demo-2027-12-mannheim"
DEMO_MEETINGS: Final = (KARLSRUHE, ULM, FREIBURG, MANNHEIM)
PRESS: Final = "test-cyberlago-presse"
LAGO_MEETING: Final = "test-cyberlago-treffen"
NETWORK: Final = "cyberlago"

MEETINGS: Final = Subscription(Topic.MEETINGS)
NEWS: Final = Subscription(Topic.NEWS)
WEEKLY: Final = Subscription(Topic.WEEKLY)
LAGO: Final = Subscription(Topic.NETWORK, NETWORK)


def event_sub(event_id: str) -> Subscription:
    """Return the subscription to one event."""
    return Subscription(Topic.EVENT, event_id)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC_ZONE)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware Berlin datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# Two fictional events hosted by a network: a press conference (only the network's
# followers) and a network meeting (the network's followers and "meetings").
HOSTED: Final = """\
schema_version = 2
language = "de"
timezone = "Europe/Berlin"

[[events]]
id = "test-cyberlago-presse"
fictional = true
kind = "press_conference"
title = "Pressegespräch"
description = "Erfunden."
status = "planned"
date = 2027-04-08
start = 2027-04-08T14:00:00
city = "Konstanz"
hosts = [{ name = "cyberLAGO e.V.", network = "cyberlago" }]

[[events]]
id = "test-cyberlago-treffen"
fictional = true
kind = "network_meeting"
title = "Treffen am See"
description = "Erfunden."
status = "planned"
date = 2027-05-06
start = 2027-05-06T18:00:00
city = "Konstanz"
hosts = [{ name = "cyberLAGO e.V.", network = "cyberlago" }]
"""


def one_event(event_id: str, start: datetime, *, status: str = "planned") -> str:
    """Return a data file with one alliance-wide fictional meeting starting at ``start``."""
    local = start.astimezone(BERLIN).replace(tzinfo=None)
    return f"""\
schema_version = 2
language = "de"
timezone = "Europe/Berlin"

[[events]]
id = "{event_id}"
fictional = true
kind = "network_meeting"
title = "Kurzfristig"
description = "Erfunden."
status = "{status}"
date = {local.date().isoformat()}
start = {local.isoformat()}
city = "Stuttgart"
hosts = [{{ name = "IT Bündnis BW" }}]
"""


async def load_catalog(db: Database, *, now: datetime = NOW) -> CatalogStore:
    """Import the bundled data, the demo events and the hosted test events."""
    store = CatalogStore(db)
    await store.load_bundled(include_demo=True, now=now)
    # Not import_text: that one is the CLI's, audited; these tests count their audit rows.
    data = parse_data_file(HOSTED, name="hosted.toml", known=await store.known_ids())
    await store.upsert(data, now=now)
    return store


def subscription_store(db: Database) -> SubscriptionStore:
    """Return the subscription store with Berlin time and the default quiet hours."""
    return SubscriptionStore(db, tz=BERLIN, default_quiet=DEFAULT_QUIET_HOURS)


async def reference_plan_event(
    db: Database,
    event: Event,
    *,
    now: datetime,
    tz: ZoneInfo,
    change: EventChange | None = None,
) -> int:
    """Plan an event the way plan_event did before it became set-based: follower by follower.

    The oracle of the set-based plan_event: the same rows must come out of both.
    """
    existing = [_row(row) for row in await db.fetchall(SQL_ROWS_OF_EVENT, (event.id,))]
    targets: dict[Key, datetime] = {}
    ahead: dict[Key, datetime] = {}
    for follower in await _followers(db, event):
        targets.update(_targets(event, follower, tz))
        if _plannable(event):
            for lead, due in due_reminders(
                event, follower.leads, follower.quiet, tz, now=now
            ).items():
                ahead[(event.id, follower.chat_id, lead)] = due
    return await _reconcile(
        db,
        existing,
        targets,
        ahead,
        now=now,
        revive_sent=change is not None and change.reschedules,
        drop_uncovered=event.status == "cancelled",
    )


def crashed_lease() -> Lease:
    """Return the lease of a process of this host that has ended (a crashed bot)."""
    import socket
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return Lease(owner=f"{socket.gethostname()}:{child.pid}:dead")
