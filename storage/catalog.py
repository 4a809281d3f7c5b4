"""The alliance's facts in the database: load them as a Catalog, import data files.

An import upserts by id or slug in one transaction and replaces the child rows (sources,
hosts, programme) of every entry it writes; entries that are not in the file stay as they
are, so a file with only events (demo-events.toml) can be imported on its own. Importing
the same file twice changes nothing. Order: entries keep the position of their first
import; new entries are appended after the existing ones.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final, cast

from bot.domain import meetings as meeting_rules
from bot.domain.models import (
    DATA_TIMEZONE,
    Alliance,
    Catalog,
    Coordinator,
    Event,
    EventChange,
    EventVersion,
    Faq,
    Funding,
    FundingLine,
    FundingProgramme,
    Host,
    Initiative,
    Membership,
    Network,
    Person,
    ProgrammeItem,
    ProgrammeKind,
    Source,
)
from bot.domain.text import N_
from storage.admins import write_audit
from storage.codecs import event_from_row, opt_date, parse_utc, str_tuple, utc_text
from storage.errors import DataFileError, StorageError
from storage.importer import (
    DataFile,
    KnownIds,
    event_sort_key,
    parse_bundled,
    parse_data_file,
)
from storage.reminders import PLAN_BATCH, finish_plans, load_events, plan_event

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from zoneinfo import ZoneInfo

    from storage.db import Database

# How stale the catalog may be after another process (``netzwerkbot import``) committed.
EXTERNAL_CHECK_SECONDS: Final = 1.0

# Tables of the import report, in import order.
REPORT_TABLES: Final = (
    "sources",
    "people",
    "alliance",
    "initiative",
    "funding",
    "networks",
    "events",
    "faq",
)

SQL_SOURCES: Final = "SELECT * FROM sources ORDER BY position, id"
SQL_PEOPLE: Final = "SELECT * FROM people ORDER BY position, id"
SQL_PERSON_SOURCES: Final = "SELECT * FROM person_sources ORDER BY person_id, position"
SQL_NETWORKS: Final = "SELECT * FROM networks ORDER BY position, slug"
SQL_NETWORK_SOURCES: Final = "SELECT * FROM network_sources ORDER BY network_slug, position"
SQL_EVENTS: Final = "SELECT * FROM events"
SQL_EVENT_HOSTS: Final = "SELECT * FROM event_hosts ORDER BY event_id, position"
SQL_EVENT_PROGRAMME: Final = "SELECT * FROM event_programme ORDER BY event_id, position"
SQL_EVENT_SOURCES: Final = "SELECT * FROM event_sources ORDER BY event_id, position"
SQL_FAQ: Final = "SELECT * FROM faq ORDER BY position, id"
SQL_FAQ_SOURCES: Final = "SELECT * FROM faq_sources ORDER BY faq_id, position"
SQL_DOCUMENTS: Final = "SELECT name, body FROM documents"

SQL_ANY_ROW: Final = """
SELECT EXISTS (SELECT 1 FROM sources) OR EXISTS (SELECT 1 FROM networks)
    OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM faq)
    OR EXISTS (SELECT 1 FROM people) OR EXISTS (SELECT 1 FROM documents)"""
SQL_SOURCE_IDS: Final = "SELECT id FROM sources"
SQL_PERSON_IDS: Final = "SELECT id FROM people"
SQL_NETWORK_SLUGS: Final = "SELECT slug FROM networks"
SQL_EVENT_IDS: Final = "SELECT id FROM events"

SQL_NEXT_SOURCE_POSITION: Final = "SELECT COALESCE(MAX(position) + 1, 0) FROM sources"
SQL_NEXT_PERSON_POSITION: Final = "SELECT COALESCE(MAX(position) + 1, 0) FROM people"
SQL_NEXT_NETWORK_POSITION: Final = "SELECT COALESCE(MAX(position) + 1, 0) FROM networks"
SQL_NEXT_FAQ_POSITION: Final = "SELECT COALESCE(MAX(position) + 1, 0) FROM faq"

SQL_UPSERT_SOURCE: Final = """
INSERT INTO sources (id, position, label, title, publisher, url, date)
VALUES (:id, :position, :label, :title, :publisher, :url, :date)
ON CONFLICT (id) DO UPDATE SET
    label = excluded.label, title = excluded.title, publisher = excluded.publisher,
    url = excluded.url, date = excluded.date"""
SQL_UPSERT_PERSON: Final = """
INSERT INTO people (id, position, name, role, organisation, summary, contact)
VALUES (:id, :position, :name, :role, :organisation, :summary, :contact)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, role = excluded.role, organisation = excluded.organisation,
    summary = excluded.summary, contact = excluded.contact"""
SQL_DELETE_PERSON_SOURCES: Final = "DELETE FROM person_sources WHERE person_id = ?"
SQL_INSERT_PERSON_SOURCE: Final = (
    "INSERT INTO person_sources (person_id, position, source_id) VALUES (?, ?, ?)"
)
SQL_UPSERT_DOCUMENT: Final = """
INSERT INTO documents (name, body, updated_at) VALUES (:name, :body, :updated_at)
ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"""
SQL_UPSERT_NETWORK: Final = """
INSERT INTO networks (
    slug, position, name, short_name, name_is_placeholder, aliases, city, region,
    description, membership, led_by, supported_by, figures, facts, website, contact,
    membership_basis, source_note
) VALUES (
    :slug, :position, :name, :short_name, :name_is_placeholder, :aliases, :city, :region,
    :description, :membership, :led_by, :supported_by, :figures, :facts, :website, :contact,
    :membership_basis, :source_note
)
ON CONFLICT (slug) DO UPDATE SET
    name = excluded.name, short_name = excluded.short_name,
    name_is_placeholder = excluded.name_is_placeholder, aliases = excluded.aliases,
    city = excluded.city, region = excluded.region, description = excluded.description,
    membership = excluded.membership, led_by = excluded.led_by,
    supported_by = excluded.supported_by, figures = excluded.figures, facts = excluded.facts,
    website = excluded.website, contact = excluded.contact,
    membership_basis = excluded.membership_basis, source_note = excluded.source_note"""
SQL_DELETE_NETWORK_SOURCES: Final = "DELETE FROM network_sources WHERE network_slug = ?"
SQL_INSERT_NETWORK_SOURCE: Final = (
    "INSERT INTO network_sources (network_slug, position, source_id) VALUES (?, ?, ?)"
)
SQL_UPSERT_EVENT: Final = """
INSERT INTO events (
    id, fictional, kind, number, title, subtitle, description, status, date, date_known,
    date_text, starts_at, ends_at, city, region, venue, venue_note, latitude, longitude,
    host_note, audience, speakers_note, regions_present, outcomes, created_by, created_at
) VALUES (
    :id, :fictional, :kind, :number, :title, :subtitle, :description, :status, :date,
    :date_known, :date_text, :starts_at, :ends_at, :city, :region, :venue, :venue_note,
    :latitude, :longitude, :host_note, :audience, :speakers_note, :regions_present,
    :outcomes, :created_by, :created_at
)
ON CONFLICT (id) DO UPDATE SET
    fictional = excluded.fictional, kind = excluded.kind, number = excluded.number,
    title = excluded.title, subtitle = excluded.subtitle, description = excluded.description,
    status = excluded.status, date = excluded.date, date_known = excluded.date_known,
    date_text = excluded.date_text, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    city = excluded.city, region = excluded.region, venue = excluded.venue,
    venue_note = excluded.venue_note, latitude = excluded.latitude,
    longitude = excluded.longitude, host_note = excluded.host_note,
    audience = excluded.audience, speakers_note = excluded.speakers_note,
    regions_present = excluded.regions_present, outcomes = excluded.outcomes,
    created_by = excluded.created_by, created_at = excluded.created_at"""
# Every write that changes an event raises its SEQUENCE (a new event starts at 0).
SQL_BUMP_VERSION: Final = """
INSERT INTO event_versions (event_id, sequence, modified_at) VALUES (?, 0, ?)
ON CONFLICT (event_id) DO UPDATE SET
    sequence = sequence + 1, modified_at = excluded.modified_at"""
SQL_VERSIONS: Final = "SELECT event_id, sequence, modified_at FROM event_versions"
SQL_VERSION: Final = (
    "SELECT event_id, sequence, modified_at FROM event_versions WHERE event_id = ?"
)
SQL_DELETE_EVENT_HOSTS: Final = "DELETE FROM event_hosts WHERE event_id = ?"
SQL_INSERT_EVENT_HOST: Final = (
    "INSERT INTO event_hosts (event_id, position, name, network_slug) VALUES (?, ?, ?, ?)"
)
SQL_DELETE_EVENT_PROGRAMME: Final = "DELETE FROM event_programme WHERE event_id = ?"
SQL_INSERT_EVENT_PROGRAMME: Final = """
INSERT INTO event_programme (event_id, position, kind, title, speaker_id, summary)
VALUES (?, ?, ?, ?, ?, ?)"""
SQL_DELETE_EVENT_SOURCES: Final = "DELETE FROM event_sources WHERE event_id = ?"
SQL_INSERT_EVENT_SOURCE: Final = (
    "INSERT INTO event_sources (event_id, position, source_id) VALUES (?, ?, ?)"
)
SQL_UPSERT_FAQ: Final = """
INSERT INTO faq (id, position, question, answer, about_bot)
VALUES (:id, :position, :question, :answer, :about_bot)
ON CONFLICT (id) DO UPDATE SET
    question = excluded.question, answer = excluded.answer, about_bot = excluded.about_bot"""
SQL_DELETE_FAQ_SOURCES: Final = "DELETE FROM faq_sources WHERE faq_id = ?"
SQL_INSERT_FAQ_SOURCE: Final = (
    "INSERT INTO faq_sources (faq_id, position, source_id) VALUES (?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class TableCounts:
    """What an import did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: TableCounts) -> TableCounts:
        return TableCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Counts per table (see REPORT_TABLES) and the existing events that changed."""

    counts: Mapping[str, TableCounts] = field(default_factory=dict)
    # Ids of events that existed before and were updated (new events are not listed).
    changed_events: tuple[str, ...] = ()
    event_changes: tuple[EventChange, ...] = ()
    # (event id, field) the file would have changed but admins set in the chat, or a
    # cancellation the file would have undone ("status"): kept as they were.
    skipped: tuple[tuple[str, str], ...] = ()
    # The same, overwritten because the import was forced.
    forced: tuple[tuple[str, str], ...] = ()

    @property
    def changes(self) -> int:
        """Return the number of inserted or updated entries."""
        return sum(c.inserted + c.updated for c in self.counts.values())

    def merged(self, other: ImportReport) -> ImportReport:
        """Return the report of both imports together."""
        counts = dict(self.counts)
        for table, count in other.counts.items():
            counts[table] = counts.get(table, TableCounts()) + count
        changes = {c.id: c for c in (*self.event_changes, *other.event_changes)}
        return ImportReport(
            counts=counts,
            changed_events=tuple(changes),
            event_changes=tuple(changes.values()),
            skipped=(*self.skipped, *other.skipped),
            forced=(*self.forced, *other.forced),
        )


class CatalogStore:
    """The alliance's facts (sources, people, networks, events, FAQ, singletons)."""

    def __init__(
        self,
        db: Database,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        plan_pause: float = 0.0,
    ) -> None:
        """Use ``db``; a process beside the bot passes ``plan_pause`` (see ``finish_plans``)."""
        self._db = db
        self._plan_pause = plan_pause
        self._monotonic = monotonic
        self._cached: Catalog | None = None
        self._stamp: tuple[int, int] = (-1, -1)
        self._checked_at = float("-inf")

    async def load(self) -> Catalog:
        """Read the whole catalog in one consistent snapshot."""
        async with self._db.snapshot():
            return await _read_catalog(self._db)

    async def current(self, *, fresh: bool = False) -> Catalog:
        """Return the cached catalog, reloading it only after a commit since the last load.

        This connection's own commits show in ``Database.write_count`` at no cost. Commits of
        other connections (``netzwerkbot import`` while the bot runs) show in ``PRAGMA
        data_version``, a round trip to SQLite's thread that every update would pay: it is
        asked at most once per ``EXTERNAL_CHECK_SECONDS``, or always with ``fresh`` (the
        dispatcher, which reads rows that such an import wrote, asks so).
        """
        now = self._monotonic()
        if (
            not fresh
            and self._cached is not None
            and self._stamp[1] == self._db.write_count
            and now - self._checked_at < EXTERNAL_CHECK_SECONDS
        ):
            return self._cached
        async with self._db.snapshot():
            stamp = (await self._db.data_version(), self._db.write_count)
            if self._cached is None or stamp != self._stamp:
                self._cached = await _read_catalog(self._db)
                self._stamp = stamp
            self._checked_at = now
            return self._cached

    async def is_empty(self) -> bool:
        """Tell whether no facts have been imported yet."""
        row = await self._db.fetchone(SQL_ANY_ROW)
        return row is None or not row[0]

    async def known_ids(self) -> KnownIds:
        """Return the ids in the database that a data file may refer to."""
        async with self._db.snapshot():
            return KnownIds(
                sources=await self._ids(SQL_SOURCE_IDS),
                people=await self._ids(SQL_PERSON_IDS),
                networks=await self._ids(SQL_NETWORK_SLUGS),
                events=await self._ids(SQL_EVENT_IDS),
            )

    async def _ids(self, sql: str) -> frozenset[str]:
        return frozenset(str(row[0]) for row in await self._db.fetchall(sql))

    async def upsert(
        self,
        data: DataFile,
        *,
        now: datetime | None = None,
        tz: ZoneInfo = DATA_TIMEZONE,
        force: bool = False,
        audit: bool = False,
    ) -> ImportReport:
        """Write a parsed file (see :meth:`upsert_all`) and report what changed."""
        return await self.upsert_all([data], now=now, tz=tz, force=force, audit=audit)

    async def upsert_all(
        self,
        files: Sequence[DataFile],
        *,
        now: datetime | None = None,
        tz: ZoneInfo = DATA_TIMEZONE,
        force: bool = False,
        audit: bool = False,
    ) -> ImportReport:
        """Write parsed (so already checked) files: a file's tables, then each event.

        Per file, everything but its events is written in one transaction, then each new or
        changed event in one of its own, with its reminders planned (moved, dropped, notices
        queued) as of ``now`` (default: the current time, for the CLI): the first batch of
        followers in the event's transaction, the rest in short transactions of their own
        (:func:`storage.reminders.finish_plans`). So an import holds the write lock, which
        the running bot needs for every write, for milliseconds at a time, not for the
        whole file. The file was checked as a whole before (``parse_data_file``), so what
        can still fail here is the disk, not the data.

        A field admins set in the chat keeps its value, and a cancelled meeting stays
        cancelled; ``force`` overwrites both (the report lists what was kept or overwritten).
        With ``audit`` the import is recorded in the audit log (actor none: the CLI).
        """
        moment = datetime.now(UTC) if now is None else now
        report = ImportReport()
        for data in files:
            async with self._db.transaction():
                part, events = await _upsert(self._db, data, now=moment, tz=tz, force=force)
            for event, old, change in events:
                async with self._db.transaction():
                    await _write_event(self._db, event, old, change, now=moment, tz=tz)
                pause = self._plan_pause
                await finish_plans(self._db, [event.id], now=moment, tz=tz, pause=pause)
            report = report.merged(part)
        if audit:
            detail = _import_detail(report, force)
            async with self._db.transaction():
                await write_audit(self._db, None, AUDIT_DATA_IMPORTED, detail, now=moment)
        return report

    async def import_text(
        self,
        text: str,
        *,
        name: str,
        now: datetime | None = None,
        tz: ZoneInfo = DATA_TIMEZONE,
        force: bool = False,
    ) -> ImportReport:
        """Parse a data file against the database's ids and upsert it; on error change nothing.

        The import of a file (``netzwerkbot import``) is audited, and its new meetings must
        start within the window the chat allows (see :func:`check_new_meetings`).

        Raises:
            DataFileError: the file is invalid (the database is unchanged).
        """
        known = await self.known_ids()
        data = parse_data_file(text, name=name, known=known)
        check_new_meetings([data], known, now=datetime.now(UTC) if now is None else now)
        return await self.upsert(data, now=now, tz=tz, force=force, audit=True)

    async def load_bundled(
        self, *, include_demo: bool, now: datetime | None = None, tz: ZoneInfo = DATA_TIMEZONE
    ) -> ImportReport:
        """Import the bundled data files (first start on an empty database)."""
        return await self.upsert_all(parse_bundled(include_demo=include_demo), now=now, tz=tz)

    async def versions(self) -> dict[str, EventVersion]:
        """Return every event's version (SEQUENCE, LAST-MODIFIED) by event id."""
        return {
            str(row["event_id"]): _version(row) for row in await self._db.fetchall(SQL_VERSIONS)
        }

    async def version(self, event_id: str) -> EventVersion | None:
        """Return one event's version, or None for an unknown event."""
        row = await self._db.fetchone(SQL_VERSION, (event_id,))
        return None if row is None else _version(row)

    async def add_event(
        self, event: Event, *, actor: int | None, now: datetime, tz: ZoneInfo
    ) -> Event:
        """Store a new meeting an admin made (bot or CLI, ``actor`` None) and return it.

        The store chooses the id (a slug of title and day, unique), sets ``created_by`` and
        ``created_at``, takes the day from the start, and plans the followers' reminders and
        writes the audit row in the same transaction. The event has no sources and is not
        fictional; ``event.id`` is ignored.

        Raises:
            InvalidEventError: a value breaks a rule (nothing is written).
        """
        return await _add_event(
            self._db, event, actor=actor, now=now, tz=tz, pause=self._plan_pause
        )

    async def update_event(
        self,
        event: Event,
        *,
        actor: int | None,
        now: datetime,
        tz: ZoneInfo,
        seen: Event | None = None,
    ) -> Event:
        """Change an upcoming event's title, start, end, place, venue or description.

        Only those fields are taken from ``event``; everything else stays as stored. With
        ``seen`` (the event as the admin saw it when they began), only the fields that differ
        from ``seen`` are written, and only if each still holds the value the admin saw: two
        admins editing one meeting do not undo each other's changes. Reminders move and
        change notices are queued in the same transaction as the audit row. Returns the event
        as stored (unchanged, and without an audit row, if nothing differs).

        Raises:
            EventConflictError: another write changed a field this one changes.
            EventNotFoundError, EventNotUpcomingError, InvalidEventError: nothing is written.
        """
        return await _update_event(
            self._db, event, actor=actor, now=now, tz=tz, seen=seen, pause=self._plan_pause
        )

    async def cancel_event(
        self, event_id: str, *, actor: int | None, now: datetime, tz: ZoneInfo
    ) -> Event:
        """Cancel an upcoming event: pending reminders dropped, cancel notices queued, audited.

        Raises:
            EventNotFoundError, EventNotUpcomingError: nothing is written.
        """
        return await _cancel_event(
            self._db, event_id, actor=actor, now=now, tz=tz, pause=self._plan_pause
        )


# --- reading -----------------------------------------------------------------------------


def _version(row: sqlite3.Row) -> EventVersion:
    return EventVersion(sequence=int(row["sequence"]), modified_at=parse_utc(row["modified_at"]))


async def bump_version(db: Database, event_id: str, *, now: datetime) -> None:
    """Record a change of the event (inside the caller's transaction)."""
    await db.execute(SQL_BUMP_VERSION, (event_id, utc_text(now)))


def _grouped(rows: Iterable[sqlite3.Row], key: str) -> dict[str, list[sqlite3.Row]]:
    groups: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in rows:
        groups[str(row[key])].append(row)
    return groups


def _source_ids(rows: Mapping[str, list[sqlite3.Row]], owner: str) -> tuple[str, ...]:
    return tuple(str(row["source_id"]) for row in rows.get(owner, ()))


async def _read_catalog(db: Database) -> Catalog:
    """Build the catalog from the tables (the caller provides the transaction)."""
    sources = {
        str(row["id"]): Source(
            id=row["id"],
            label=row["label"],
            title=row["title"],
            publisher=row["publisher"],
            url=row["url"],
            date=opt_date(row["date"]),
        )
        for row in await db.fetchall(SQL_SOURCES)
    }
    person_sources = _grouped(await db.fetchall(SQL_PERSON_SOURCES), "person_id")
    people = {
        str(row["id"]): Person(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            organisation=row["organisation"],
            summary=row["summary"],
            contact=row["contact"],
            sources=_source_ids(person_sources, row["id"]),
        )
        for row in await db.fetchall(SQL_PEOPLE)
    }
    network_sources = _grouped(await db.fetchall(SQL_NETWORK_SOURCES), "network_slug")
    networks = tuple(
        Network(
            slug=row["slug"],
            name=row["name"],
            short_name=row["short_name"],
            name_is_placeholder=bool(row["name_is_placeholder"]),
            aliases=str_tuple(row["aliases"]),
            city=row["city"],
            region=row["region"],
            description=row["description"],
            membership=cast("Membership", row["membership"]),
            sources=_source_ids(network_sources, row["slug"]),
            led_by=row["led_by"],
            supported_by=row["supported_by"],
            figures=tuple((str(k), str(v)) for k, v in json.loads(row["figures"])),
            facts=str_tuple(row["facts"]),
            website=row["website"],
            contact=row["contact"],
            membership_basis=row["membership_basis"],
            source_note=row["source_note"],
        )
        for row in await db.fetchall(SQL_NETWORKS)
    )
    hosts = _grouped(await db.fetchall(SQL_EVENT_HOSTS), "event_id")
    programme = _grouped(await db.fetchall(SQL_EVENT_PROGRAMME), "event_id")
    event_sources = _grouped(await db.fetchall(SQL_EVENT_SOURCES), "event_id")
    events = sorted(
        (
            _event_from_row(row, hosts, programme, event_sources)
            for row in await db.fetchall(SQL_EVENTS)
        ),
        key=event_sort_key,
    )
    faq_sources = _grouped(await db.fetchall(SQL_FAQ_SOURCES), "faq_id")
    faq = tuple(
        Faq(
            id=row["id"],
            question=row["question"],
            answer=row["answer"],
            sources=_source_ids(faq_sources, row["id"]),
            about_bot=bool(row["about_bot"]),
        )
        for row in await db.fetchall(SQL_FAQ)
    )
    documents = {
        str(row["name"]): json.loads(row["body"]) for row in await db.fetchall(SQL_DOCUMENTS)
    }
    return Catalog(
        alliance=_alliance_from_json(documents["alliance"]) if "alliance" in documents else None,
        initiative=(
            _initiative_from_json(documents["initiative"]) if "initiative" in documents else None
        ),
        funding=_funding_from_json(documents["funding"]) if "funding" in documents else None,
        sources=sources,
        people=people,
        networks=networks,
        events=tuple(events),
        faq=faq,
    )


def _event_from_row(
    row: sqlite3.Row,
    hosts: Mapping[str, list[sqlite3.Row]],
    programme: Mapping[str, list[sqlite3.Row]],
    sources: Mapping[str, list[sqlite3.Row]],
) -> Event:
    event_id = str(row["id"])
    return event_from_row(
        row,
        hosts=(Host(name=h["name"], network=h["network_slug"]) for h in hosts.get(event_id, ())),
        programme=(
            ProgrammeItem(
                kind=cast("ProgrammeKind", p["kind"]),
                title=p["title"],
                speaker=p["speaker_id"],
                summary=p["summary"],
            )
            for p in programme.get(event_id, ())
        ),
        sources=_source_ids(sources, event_id),
    )


# The singletons are stored as JSON objects with the dataclass field names.


def _to_json(value: object) -> str:
    def default(item: object) -> str:
        if isinstance(item, date):
            return item.isoformat()
        raise TypeError(f"cannot store {type(item).__name__} as JSON")

    plain = dataclasses.asdict(cast("Any", value))
    return json.dumps(plain, ensure_ascii=False, sort_keys=True, default=default)


def _alliance_from_json(doc: dict[str, Any]) -> Alliance:
    coordinator = doc.pop("coordinator", None)
    return Alliance(
        **{**doc, "sources": tuple(doc.get("sources", ()))},
        coordinator=(
            None
            if coordinator is None
            else Coordinator(**{**coordinator, "sources": tuple(coordinator["sources"])})
        ),
    )


def _initiative_from_json(doc: dict[str, Any]) -> Initiative:
    return Initiative(
        **{
            **doc,
            "project_partners_2014": tuple(doc.get("project_partners_2014", ())),
            "ict_figures_2014": tuple((k, v) for k, v in doc.get("ict_figures_2014", ())),
            "sources": tuple(doc.get("sources", ())),
        }
    )


def _funding_from_json(doc: dict[str, Any]) -> Funding:
    programme = doc.pop("programme", None)
    if programme is not None:
        lines = tuple(
            FundingLine(**{**line, "funded_regions_2013": tuple(line["funded_regions_2013"])})
            for line in programme.get("lines", ())
        )
        programme = FundingProgramme(
            **{
                **programme,
                "lines": lines,
                "sources": tuple(programme.get("sources", ())),
                "application_deadline_2014": opt_date(programme.get("application_deadline_2014")),
            }
        )
    return Funding(**{**doc, "sources": tuple(doc.get("sources", ()))}, programme=programme)


# --- writing -----------------------------------------------------------------------------


def _json_list(values: Iterable[object]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


async def _next_position(db: Database, sql: str) -> int:
    row = await db.fetchone(sql)
    return 0 if row is None else int(row[0])


class _Counter:
    """Collects per-table counts while an import runs."""

    def __init__(self, tables: Iterable[str]) -> None:
        # Every table of the file appears in the report, even with nothing to count.
        self.counts = {t: TableCounts() for t in REPORT_TABLES if t in tables}

    def count(self, table: str, old: object, new: object) -> bool:
        """Count one entry and tell whether it must be written."""
        if old is None:
            delta, write = TableCounts(inserted=1), True
        elif old != new:
            delta, write = TableCounts(updated=1), True
        else:
            delta, write = TableCounts(unchanged=1), False
        self.counts[table] = self.counts.get(table, TableCounts()) + delta
        return write


async def _replace_sources(
    db: Database, delete_sql: str, insert_sql: str, owner: str, ids: Sequence[str]
) -> None:
    await db.execute(delete_sql, (owner,))
    await db.executemany(insert_sql, [(owner, i, source) for i, source in enumerate(ids)])


def _event_change(old: Event, new: Event) -> EventChange:
    return EventChange(
        id=new.id,
        date=(old.date, old.date_known, old.date_text)
        != (new.date, new.date_known, new.date_text),
        time=(old.start, old.end) != (new.start, new.end),
        # Coordinates alone are no news to subscribers (the place reads the same); the
        # calendars still see the change, as every written event gets a new SEQUENCE.
        place=(old.city, old.region, old.venue, old.venue_note)
        != (new.city, new.region, new.venue, new.venue_note),
        status=old.status != new.status,
    )


async def _upsert(
    db: Database, data: DataFile, *, now: datetime, tz: ZoneInfo, force: bool = False
) -> tuple[ImportReport, list[tuple[Event, Event | None, EventChange | None]]]:
    """Write one file but its events inside the caller's transaction; return the events to write.

    The events are written afterwards, one transaction each (:func:`_write_event`).
    """
    stamp = datetime.now(UTC).isoformat()
    existing = await _read_catalog(db)
    counter = _Counter(data.tables)

    position = await _next_position(db, SQL_NEXT_SOURCE_POSITION)
    for source in data.sources:
        if counter.count("sources", existing.sources.get(source.id), source):
            params = dataclasses.asdict(source)
            params.update(position=position, date=_opt_iso_date(source.date))
            await db.execute(SQL_UPSERT_SOURCE, params)
            position += 1

    position = await _next_position(db, SQL_NEXT_PERSON_POSITION)
    for person in data.people:
        if counter.count("people", existing.people.get(person.id), person):
            params = dataclasses.asdict(person)
            params.update(position=position)
            del params["sources"]
            await db.execute(SQL_UPSERT_PERSON, params)
            await _replace_sources(
                db, SQL_DELETE_PERSON_SOURCES, SQL_INSERT_PERSON_SOURCE, person.id, person.sources
            )
            position += 1

    for name, old_doc, new_doc in (
        ("alliance", existing.alliance, data.alliance),
        ("initiative", existing.initiative, data.initiative),
        ("funding", existing.funding, data.funding),
    ):
        if new_doc is not None and counter.count(name, old_doc, new_doc):
            await db.execute(
                SQL_UPSERT_DOCUMENT, {"name": name, "body": _to_json(new_doc), "updated_at": stamp}
            )

    old_networks = {n.slug: n for n in existing.networks}
    position = await _next_position(db, SQL_NEXT_NETWORK_POSITION)
    for network in data.networks:
        if counter.count("networks", old_networks.get(network.slug), network):
            params = dataclasses.asdict(network)
            del params["sources"]
            params.update(
                position=position,
                aliases=_json_list(network.aliases),
                figures=_json_list(list(pair) for pair in network.figures),
                facts=_json_list(network.facts),
            )
            await db.execute(SQL_UPSERT_NETWORK, params)
            await _replace_sources(
                db,
                SQL_DELETE_NETWORK_SOURCES,
                SQL_INSERT_NETWORK_SOURCE,
                network.slug,
                network.sources,
            )
            position += 1

    old_events = {e.id: e for e in existing.events}
    changes: list[EventChange] = []
    written: list[tuple[Event, Event | None, EventChange | None]] = []
    skipped: list[tuple[str, str]] = []
    forced: list[tuple[str, str]] = []
    for event in data.events:
        old = old_events.get(event.id)
        if old is not None and event.created_by is None and event.created_at is None:
            # A file does not know who created an event in the bot: keep that record.
            event = dataclasses.replace(
                event, created_by=old.created_by, created_at=old.created_at
            )
        if old is not None:
            edited = await _edited_in_chat(db, event.id)
            protected, kept = _keep_chat_edits(event, old, edited)
            if kept and force:
                # Forced: the file wins, and the fields count as the file's again.
                forced.extend((event.id, name) for name in kept)
                rest = [name for name in edited if name not in kept]
                await db.execute(SQL_SET_EDITED_IN_CHAT, (json.dumps(rest), event.id))
            elif kept:
                skipped.extend((event.id, name) for name in kept)
                event = protected
        if not counter.count("events", old, event):
            continue
        change = None if old is None else _event_change(old, event)
        if change is not None:
            changes.append(change)
        written.append((event, old, change))

    old_faq = {f.id: f for f in existing.faq}
    position = await _next_position(db, SQL_NEXT_FAQ_POSITION)
    for item in data.faq:
        if counter.count("faq", old_faq.get(item.id), item):
            params = dataclasses.asdict(item)
            del params["sources"]
            params.update(position=position, about_bot=int(item.about_bot))
            await db.execute(SQL_UPSERT_FAQ, params)
            await _replace_sources(
                db, SQL_DELETE_FAQ_SOURCES, SQL_INSERT_FAQ_SOURCE, item.id, item.sources
            )
            position += 1

    report = ImportReport(
        counts=counter.counts,
        changed_events=tuple(c.id for c in changes),
        event_changes=tuple(changes),
        skipped=tuple(skipped),
        forced=tuple(forced),
    )
    return report, written


async def _write_event(
    db: Database,
    event: Event,
    old: Event | None,
    change: EventChange | None,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Write one imported event inside the caller's transaction and plan its first batch."""
    await db.execute(SQL_UPSERT_EVENT, _event_params(event))
    await bump_version(db, event.id, now=now)
    await db.execute(SQL_DELETE_EVENT_HOSTS, (event.id,))
    await db.executemany(
        SQL_INSERT_EVENT_HOST,
        [(event.id, i, h.name, h.network) for i, h in enumerate(event.hosts)],
    )
    await db.execute(SQL_DELETE_EVENT_PROGRAMME, (event.id,))
    await db.executemany(
        SQL_INSERT_EVENT_PROGRAMME,
        [
            (event.id, i, p.kind, p.title, p.speaker, p.summary)
            for i, p in enumerate(event.programme)
        ],
    )
    await _replace_sources(
        db, SQL_DELETE_EVENT_SOURCES, SQL_INSERT_EVENT_SOURCE, event.id, event.sources
    )
    await plan_event(db, event, now=now, tz=tz, change=change, previous=old, batch=PLAN_BATCH)


# What of an event each chat-edited field covers: a kept start keeps its day and its end.
_CHAT_FIELD_COVERS: Final[dict[str, tuple[str, ...]]] = {
    "title": ("title",),
    "description": ("description",),
    "city": ("city",),
    "venue": ("venue",),
    "start": ("start", "end", "date", "date_known", "date_text"),
    "end": ("end",),
}


def _keep_chat_edits(event: Event, old: Event, edited: Sequence[str]) -> tuple[Event, list[str]]:
    """Return the file's event with the admins' chat edits kept, and the fields kept.

    A field an admin set in the chat keeps the stored value where the file differs; a
    cancelled meeting stays cancelled (whoever cancelled it: the file would revive a meeting
    its followers were told is off).
    """
    kept: list[str] = []
    values: dict[str, Any] = {}
    for name in edited:
        covered = _CHAT_FIELD_COVERS.get(name, ())
        if any(getattr(event, f) != getattr(old, f) for f in covered):
            kept.append(name)
            values.update({f: getattr(old, f) for f in covered})
    if old.status == "cancelled" and event.status != "cancelled":
        kept.append("status")
        values["status"] = old.status
    return (dataclasses.replace(event, **values) if values else event), kept


def _import_detail(report: ImportReport, force: bool) -> dict[str, object]:
    """Return the audit detail of an import: counts and ids, never the file's texts."""
    detail: dict[str, object] = {
        "changes": report.changes,
        "events_changed": list(report.changed_events),
    }
    if report.skipped:
        detail["skipped"] = [f"{event}.{name}" for event, name in report.skipped]
    if force:
        detail["forced"] = [f"{event}.{name}" for event, name in report.forced]
    return detail


def check_new_meetings(files: Sequence[DataFile], known: KnownIds, *, now: datetime) -> None:
    """Check the start of every meeting new to the database that is still to come.

    An announced or planned meeting must start in the future and at most 5 years ahead (the
    rule of the chat and of ``netzwerkbot events add``); a held one is history and may lie in
    the past, but never more than 5 years ahead either.

    Raises:
        DataFileError: a meeting breaks the rule (nothing has been written).
    """
    for data in files:
        for index, event in enumerate(data.events):
            if event.id in known.events or event.start is None:
                continue
            problem = meeting_rules.check_start(event.start, now)
            if problem is None or (
                problem.msgid == PROBLEM_EVENT_START_PAST and event.status in ("held", "cancelled")
            ):
                continue
            raise DataFileError(
                problem.msgid,
                file=data.name,
                entry=f"events[{index}] ({event.id})",
                field="start",
                params=dict(problem.params),
            )


def _opt_iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _event_params(event: Event) -> dict[str, object]:
    return {
        "id": event.id,
        "fictional": int(event.fictional),
        "kind": event.kind,
        "number": event.number,
        "title": event.title,
        "subtitle": event.subtitle,
        "description": event.description,
        "status": event.status,
        "date": _opt_iso_date(event.date),
        "date_known": int(event.date_known),
        "date_text": event.date_text,
        "starts_at": _iso(event.start),
        "ends_at": _iso(event.end),
        "city": event.city,
        "region": event.region,
        "venue": event.venue,
        "venue_note": event.venue_note,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "host_note": event.host_note,
        "audience": event.audience,
        "speakers_note": event.speakers_note,
        "regions_present": _json_list(event.regions_present),
        "outcomes": _json_list(event.outcomes),
        "created_by": event.created_by,
        "created_at": _iso(event.created_at),
    }


# --- single events written by admins (the bot's /termin_* commands and the CLI) ----------

SLUG_MAX: Final = 40
WRITABLE_STATUSES: Final = ("announced", "planned")

PROBLEM_EVENT_NOT_FOUND: Final = N_("There is no meeting with the id {value}.")
PROBLEM_EVENT_NOT_UPCOMING: Final = N_(
    "The meeting {value} is over or cancelled and can no longer be changed."
)
# The field rules live in bot.domain.meetings (the dialog checks the same); the old names stay.
PROBLEM_EVENT_TITLE: Final = meeting_rules.PROBLEM_TITLE
PROBLEM_EVENT_DESCRIPTION: Final = meeting_rules.PROBLEM_DESCRIPTION
PROBLEM_EVENT_CITY: Final = meeting_rules.PROBLEM_CITY
PROBLEM_EVENT_VENUE: Final = meeting_rules.PROBLEM_VENUE
PROBLEM_EVENT_START_MISSING: Final = meeting_rules.PROBLEM_START_MISSING
PROBLEM_EVENT_START_PAST: Final = meeting_rules.PROBLEM_START_PAST
PROBLEM_EVENT_START_FAR: Final = meeting_rules.PROBLEM_START_FAR
PROBLEM_EVENT_END: Final = meeting_rules.PROBLEM_END
PROBLEM_EVENT_CONFLICT: Final = N_(
    "Another admin has changed this meeting in the meantime; nothing has been saved."
)
PROBLEM_EVENT_NETWORK: Final = N_("There is no network with the slug {value}.")
PROBLEM_EVENT_COORDINATES: Final = N_(
    "Latitude (-90 to 90) and longitude (-180 to 180) go together, or neither."
)
PROBLEM_EVENT_STATUS: Final = N_("A new meeting is announced or planned, not {value}.")

SQL_EVENT_ID_TAKEN: Final = "SELECT 1 FROM events WHERE id = ?"
SQL_NETWORK_EXISTS: Final = "SELECT 1 FROM networks WHERE slug = ?"
SQL_UPDATE_EVENT_FIELDS: Final = """
UPDATE events SET title = :title, description = :description, date = :date,
    date_known = :date_known, starts_at = :starts_at, ends_at = :ends_at, city = :city,
    venue = :venue
WHERE id = :id"""
SQL_CANCEL_EVENT: Final = "UPDATE events SET status = 'cancelled' WHERE id = ?"
SQL_EDITED_IN_CHAT: Final = "SELECT edited_in_chat FROM events WHERE id = ?"
SQL_SET_EDITED_IN_CHAT: Final = "UPDATE events SET edited_in_chat = ? WHERE id = ?"

AUDIT_MEETING_CREATED: Final = "meeting_created"
AUDIT_MEETING_CHANGED: Final = "meeting_changed"
AUDIT_MEETING_CANCELLED: Final = "meeting_cancelled"
AUDIT_DATA_IMPORTED: Final = "data_imported"

_UMLAUTS: Final = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_SLUG: Final = re.compile(r"[^a-z0-9]+")


class EventWriteError(StorageError):
    """An admin's write of one event was refused; nothing was changed.

    Attributes:
        problem: an English msgid with ``{placeholders}``.
        params: the values for the placeholders.
    """

    def __init__(self, problem: str, **params: str) -> None:
        self.problem = problem
        self.params = params
        super().__init__(problem.format(**params))

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the problem in the translator's language."""
        return gettext(self.problem).format(**self.params)


class EventNotFoundError(EventWriteError):
    """No event has this id."""


class EventNotUpcomingError(EventWriteError):
    """The event is over or cancelled; the bot changes only upcoming events."""


class EventConflictError(EventWriteError):
    """Another admin (or an import) changed a field this write changes; nothing was written.

    Attributes:
        current: the event as stored now.
        fields: the fields whose stored value is not the one this admin saw.
    """

    def __init__(self, current: Event, fields: tuple[str, ...]) -> None:
        super().__init__(PROBLEM_EVENT_CONFLICT)
        self.current = current
        self.fields = fields


class InvalidEventError(EventWriteError):
    """A value of the event breaks a rule (length, start in the past, end before start)."""

    @classmethod
    def of(cls, problem: meeting_rules.Problem) -> InvalidEventError:
        """Return the error for a broken field rule."""
        return cls(problem.msgid, **dict(problem.params))


def event_slug(title: str, day: date) -> str:
    """Return an event id from its title and day: "netzwerktreffen-karlsruhe-2027-03-18"."""
    ascii_title = (
        unicodedata.normalize("NFKD", title.lower().translate(_UMLAUTS))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    words = [w for w in _NOT_SLUG.split(ascii_title) if w]
    suffix = day.isoformat()
    # Room for "-" + the day + a "-NN" that makes a repeated id unique.
    room = SLUG_MAX - len(suffix) - 4
    head = ""
    for word in words:
        candidate = f"{head}-{word}" if head else word
        if len(candidate) > room:
            if not head:
                head = word[:room]
            break
        head = candidate
    return f"{head or 'termin'}-{suffix}"


def check_event_values(event: Event, *, now: datetime, tz: ZoneInfo, new: bool) -> None:
    """Check what an admin may set (title, description, place, venue, times).

    Raises:
        InvalidEventError: the first rule the event breaks.
    """
    checks = [
        meeting_rules.check_title(event.title),
        meeting_rules.check_description(event.description),
    ]
    if new or event.city is not None:
        checks.append(meeting_rules.check_city(event.city or ""))
    if event.venue is not None:
        checks.append(meeting_rules.check_venue(event.venue))
    latitude, longitude = event.latitude, event.longitude
    if (latitude is None) != (longitude is None) or (
        latitude is not None
        and longitude is not None
        and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        checks.append(meeting_rules.Problem(PROBLEM_EVENT_COORDINATES))
    if event.start is None:
        if new or event.end is not None:
            checks.append(meeting_rules.Problem(PROBLEM_EVENT_START_MISSING))
    else:
        checks.append(meeting_rules.check_start(event.start, now))
        if event.end is not None:
            checks.append(meeting_rules.check_end(event.start, event.end, tz))
    for problem in checks:
        if problem is not None:
            raise InvalidEventError.of(problem)


def _with_day(event: Event, tz: ZoneInfo) -> Event:
    """Return the event with its local day taken from its start (times in UTC)."""
    if event.start is None:
        return event
    return dataclasses.replace(
        event,
        date=event.start.astimezone(tz).date(),
        date_known=True,
        start=event.start.astimezone(UTC),
        end=None if event.end is None else event.end.astimezone(UTC),
    )


async def _unique_event_id(db: Database, base: str) -> str:
    """Return ``base``, or ``base-2``, ``base-3``, ... whichever is not taken yet."""
    candidate, number = base, 1
    while await db.fetchone(SQL_EVENT_ID_TAKEN, (candidate,)) is not None:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


async def _upcoming_event(db: Database, event_id: str, *, now: datetime, tz: ZoneInfo) -> Event:
    """Return the stored event (planning view) if it is upcoming, else raise."""
    old = (await load_events(db, [event_id])).get(event_id)
    if old is None:
        raise EventNotFoundError(PROBLEM_EVENT_NOT_FOUND, value=event_id)
    if not old.is_upcoming(now, tz):
        raise EventNotUpcomingError(PROBLEM_EVENT_NOT_UPCOMING, value=event_id)
    return old


async def _edited_in_chat(db: Database, event_id: str) -> list[str]:
    """Return the fields admins set in the chat for an event (none for an unknown one)."""
    row = await db.fetchone(SQL_EDITED_IN_CHAT, (event_id,))
    return [] if row is None else [str(name) for name in json.loads(row[0])]


async def _mark_edited(db: Database, event_id: str, fields: Iterable[str]) -> None:
    """Record that admins set these fields in the chat (an import then leaves them alone)."""
    known = await _edited_in_chat(db, event_id)
    marked = sorted({*known, *("start" if f == "date" else f for f in fields)})
    if marked != known:
        await db.execute(SQL_SET_EDITED_IN_CHAT, (json.dumps(marked), event_id))


def _changed_fields(old: Event, new: Event) -> list[str]:
    """Name the admin-editable fields that differ (for the audit log, never the values)."""
    names = ("title", "start", "end", "city", "venue", "description")
    fields = [name for name in names if getattr(old, name) != getattr(new, name)]
    if old.date != new.date and "start" not in fields:
        fields.insert(1, "date")
    return fields


async def _add_event(
    db: Database,
    event: Event,
    *,
    actor: int | None,
    now: datetime,
    tz: ZoneInfo,
    pause: float = 0.0,
) -> Event:
    async with db.transaction():
        if event.status not in WRITABLE_STATUSES:
            raise InvalidEventError(PROBLEM_EVENT_STATUS, value=event.status)
        for host in event.hosts:
            if host.network is not None and (
                await db.fetchone(SQL_NETWORK_EXISTS, (host.network,)) is None
            ):
                raise InvalidEventError(PROBLEM_EVENT_NETWORK, value=host.network)
        check_event_values(event, now=now, tz=tz, new=True)
        new = _with_day(event, tz)
        assert new.date is not None  # noqa: S101 - check_event_values requires a start
        new = dataclasses.replace(
            new,
            id=await _unique_event_id(db, event_slug(event.title, new.date)),
            fictional=False,
            programme=(),
            sources=(),
            regions_present=(),
            outcomes=(),
            created_by=actor,
            created_at=now.astimezone(UTC),
        )
        await db.execute(SQL_UPSERT_EVENT, _event_params(new))
        await bump_version(db, new.id, now=now)
        await db.executemany(
            SQL_INSERT_EVENT_HOST,
            [(new.id, i, h.name, h.network) for i, h in enumerate(new.hosts)],
        )
        await plan_event(db, new, now=now, tz=tz, batch=PLAN_BATCH)
        await _mark_edited(db, new.id, EDITABLE_FIELDS)
        await write_audit(db, actor, AUDIT_MEETING_CREATED, {"event_id": new.id}, now=now)
    await finish_plans(db, [new.id], now=now, tz=tz, pause=pause)
    return new


async def _update_event(
    db: Database,
    event: Event,
    *,
    actor: int | None,
    now: datetime,
    tz: ZoneInfo,
    seen: Event | None = None,
    pause: float = 0.0,
) -> Event:
    async with db.transaction():
        old = await _upcoming_event(db, event.id, now=now, tz=tz)
        names: tuple[str, ...] = EDITABLE_FIELDS
        if seen is not None:
            names = tuple(n for n in EDITABLE_FIELDS if getattr(event, n) != getattr(seen, n))
            stale = [n for n in names if getattr(old, n) != getattr(seen, n)]
            if stale:
                raise EventConflictError(old, tuple(stale))
        new = _with_day(
            dataclasses.replace(old, **{name: getattr(event, name) for name in names}), tz
        )
        fields = _changed_fields(old, new)
        if not fields:
            return old
        check_event_values(new, now=now, tz=tz, new=False)
        params = _event_params(new)
        await db.execute(
            SQL_UPDATE_EVENT_FIELDS,
            {key: params[key] for key in (*UPDATE_KEYS, "id")},
        )
        await bump_version(db, new.id, now=now)
        await _mark_edited(db, new.id, fields)
        change = _event_change(old, new)
        await plan_event(db, new, now=now, tz=tz, change=change, previous=old, batch=PLAN_BATCH)
        detail = {"event_id": new.id, "fields": fields}
        await write_audit(db, actor, AUDIT_MEETING_CHANGED, detail, now=now)
    await finish_plans(db, [new.id], now=now, tz=tz, pause=pause)
    return new


async def _cancel_event(
    db: Database,
    event_id: str,
    *,
    actor: int | None,
    now: datetime,
    tz: ZoneInfo,
    pause: float = 0.0,
) -> Event:
    async with db.transaction():
        old = await _upcoming_event(db, event_id, now=now, tz=tz)
        new = dataclasses.replace(old, status="cancelled")
        await db.execute(SQL_CANCEL_EVENT, (event_id,))
        await bump_version(db, event_id, now=now)
        await _mark_edited(db, event_id, ("status",))
        change = EventChange(id=event_id, status=True)
        await plan_event(db, new, now=now, tz=tz, change=change, previous=old, batch=PLAN_BATCH)
        await write_audit(db, actor, AUDIT_MEETING_CANCELLED, {"event_id": event_id}, now=now)
    await finish_plans(db, [event_id], now=now, tz=tz, pause=pause)
    return new


# What an admin may change in the chat (and what an import then leaves alone).
EDITABLE_FIELDS: Final = ("title", "start", "end", "city", "venue", "description")

UPDATE_KEYS: Final = (
    "title",
    "description",
    "date",
    "date_known",
    "starts_at",
    "ends_at",
    "city",
    "venue",
)
