"""Read the alliance's TOML data files (schema version 2) into domain objects.

Pure functions: no database, no I/O except reading a file. A file is validated as a whole
(see "Checks an importer should make" in the data README); the first problem raises
:class:`DataFileError` naming the entry and the field.

Local times: ``start``/``end`` are wall-clock times in the file's ``timezone``. A local
time that does not exist or is ambiguous there (the hour skipped or repeated at a daylight
saving change) is rejected rather than guessed: the operator fixes the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from importlib import resources
from typing import TYPE_CHECKING, Final, NoReturn, TypeVar, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.models import (
    Alliance,
    Catalog,
    Coordinator,
    Event,
    EventKind,
    EventStatus,
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
from storage.errors import (
    PROBLEM_ABSENT_WHEN,
    PROBLEM_BAD_ID,
    PROBLEM_DUPLICATE,
    PROBLEM_EMPTY,
    PROBLEM_END_BEFORE_START,
    PROBLEM_FICTIONAL_MIXED,
    PROBLEM_LOCAL_TIME,
    PROBLEM_MISSING,
    PROBLEM_NOT_ALLOWED,
    PROBLEM_NOT_ON_DATE,
    PROBLEM_REFERENCE,
    PROBLEM_REQUIRED_WHEN,
    PROBLEM_SYNTAX,
    PROBLEM_TIMEZONE,
    PROBLEM_TYPE,
    PROBLEM_UNKNOWN_FIELD,
    PROBLEM_UNREADABLE,
    DataFileError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from importlib.resources.abc import Traversable
    from pathlib import Path

__all__ = [
    "DataFile",
    "DataFileError",
    "KnownIds",
    "bundled_catalog",
    "bundled_files",
    "catalog_from_files",
    "event_sort_key",
    "load_data_file",
    "parse_bundled",
    "parse_data_file",
]

SCHEMA_VERSION: Final = 2
LANGUAGE: Final = "de"
ID_MAX_LENGTH: Final = 40
INT_MIN: Final = -(2**63)  # TOML integers are 64 bits, and so are SQLite's.
INT_MAX: Final = 2**63 - 1
ID_PATTERN: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
BUNDLED_NAMES: Final = ("alliance.toml", "demo-events.toml")

EVENT_KINDS: Final[tuple[str, ...]] = get_args(EventKind)
EVENT_STATUSES: Final[tuple[str, ...]] = get_args(EventStatus)
PROGRAMME_KINDS: Final[tuple[str, ...]] = get_args(ProgrammeKind)
MEMBERSHIPS: Final[tuple[str, ...]] = get_args(Membership)

# Allowed keys per table, in the order of the README (typo protection: others are rejected).
TOP_KEYS: Final = (
    "schema_version",
    "language",
    "timezone",
    "sources",
    "people",
    "alliance",
    "initiative",
    "funding",
    "networks",
    "events",
    "faq",
)
TABLE_NAMES: Final = frozenset(TOP_KEYS[3:])
SOURCE_KEYS: Final = ("id", "label", "title", "publisher", "url", "date")
PERSON_KEYS: Final = ("id", "name", "role", "organisation", "summary", "contact", "sources")
ALLIANCE_KEYS: Final = (
    "name",
    "full_name",
    "description",
    "motto",
    "network_count",
    "network_count_2014",
    "network_count_note",
    "it_netz_2014",
    "principles",
    "partnership_agreement",
    "meetings_note",
    "website",
    "website_note",
    "sources",
    "coordinator",
    "account",
)
COORDINATOR_KEYS: Final = ("label", "name", "city", "description", "note", "sources")
ACCOUNT_KEYS: Final = ("login_label", "recovery_label")
INITIATIVE_KEYS: Final = (
    "name",
    "description",
    "launched",
    "head",
    "project_partners_2014",
    "ict_figures_2014",
    "sources",
)
ICT_FIGURE_KEYS: Final = ("companies", "employees", "universities", "students", "note")
FUNDING_KEYS: Final = (
    "summary",
    "funded_by",
    "in_coordination_with",
    "ministry_names_note",
    "programme",
    "sources",
)
PROGRAMME_KEYS: Final = (
    "name",
    "short_name",
    "description",
    "duration",
    "jury_2013",
    "round_2_note",
    "current_call_note",
    "application_deadline_2014",
    "lines",
    "sources",
)
LINE_KEYS: Final = ("id", "name", "purpose", "started", "funded_regions_2013")
NETWORK_KEYS: Final = (
    "slug",
    "name",
    "short_name",
    "name_is_placeholder",
    "aliases",
    "city",
    "region",
    "description",
    "led_by",
    "supported_by",
    "figures",
    "facts",
    "website",
    "contact",
    "membership",
    "membership_basis",
    "source_note",
    "sources",
)
EVENT_KEYS: Final = (
    "id",
    "fictional",
    "kind",
    "number",
    "title",
    "subtitle",
    "description",
    "status",
    "date",
    "date_known",
    "date_text",
    "start",
    "end",
    "city",
    "region",
    "venue",
    "venue_note",
    "latitude",
    "longitude",
    "hosts",
    "host_note",
    "audience",
    "speakers_note",
    "regions_present",
    "outcomes",
    "programme",
    "sources",
)
HOST_KEYS: Final = ("name", "network")
# Coordinates in degrees (WGS 84, as OpenStreetMap and Telegram's sendVenue use them).
LATITUDE_MAX: Final = 90.0
LONGITUDE_MAX: Final = 180.0
PROGRAMME_ITEM_KEYS: Final = ("kind", "title", "speaker", "summary")
FAQ_KEYS: Final = ("id", "question", "answer", "about_bot", "sources")

# Reference targets, named like their tables.
REF_SOURCES: Final = "sources"
REF_PEOPLE: Final = "people"
REF_NETWORKS: Final = "networks"

_T = TypeVar("_T")
_SYNTAX_POSITION: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_UTC_MIN: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class KnownIds:
    """Ids defined outside the file being parsed (e.g. already in the database)."""

    sources: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()

    def union(self, other: KnownIds) -> KnownIds:
        """Return the ids known to either."""
        return KnownIds(
            sources=self.sources | other.sources,
            people=self.people | other.people,
            networks=self.networks | other.networks,
            events=self.events | other.events,
        )

    def of_table(self, table: str) -> frozenset[str]:
        """Return the ids of one reference target table (``sources``, ``people``, ...)."""
        return cast("frozenset[str]", getattr(self, table))


@dataclass(frozen=True, slots=True)
class DataFile:
    """One parsed, validated data file; tuples keep the file order."""

    name: str = "<data>"
    timezone: str = "Europe/Berlin"
    alliance: Alliance | None = None
    initiative: Initiative | None = None
    funding: Funding | None = None
    sources: tuple[Source, ...] = ()
    people: tuple[Person, ...] = ()
    networks: tuple[Network, ...] = ()
    events: tuple[Event, ...] = ()
    faq: tuple[Faq, ...] = ()
    # The top-level tables present in the file ("sources", "events", ...).
    tables: frozenset[str] = field(default_factory=frozenset)

    def ids(self) -> KnownIds:
        """Return the ids this file defines."""
        return KnownIds(
            sources=frozenset(s.id for s in self.sources),
            people=frozenset(p.id for p in self.people),
            networks=frozenset(n.slug for n in self.networks),
            events=frozenset(e.id for e in self.events),
        )


@dataclass(frozen=True, slots=True)
class _Reference:
    entry: str
    field: str
    table: str
    value: str


class _Parser:
    """Builds the models of one file and remembers ids and references for the final checks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.zone = ZoneInfo("UTC")
        self.timezone = "UTC"
        self.references: list[_Reference] = []

    def fail(self, problem: str, *, entry: str = "", field: str = "", **params: str) -> NoReturn:
        """Raise the error for this file."""
        raise DataFileError(problem, file=self.name, entry=entry, field=field, params=params)

    def entry(self, label: str, value: object, allowed: tuple[str, ...]) -> _Entry:
        """Wrap one table, rejecting unknown keys first (a typo is the root cause)."""
        return _Entry(self, label, value, allowed)

    def refer(self, entry: str, field: str, table: str, value: str) -> None:
        """Remember a reference to check once all ids are known."""
        self.references.append(_Reference(entry, field, table, value))

    def check_unique(self, seen: set[str], value: str, *, entry: str, field: str) -> None:
        """Reject an id that occurred before."""
        if value in seen:
            self.fail(PROBLEM_DUPLICATE, entry=entry, field=field, value=value)
        seen.add(value)


def _toml_type(value: object) -> str:
    """Name the TOML type of a parsed value (bool before int, datetime before date)."""
    match value:
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "float"
        case str():
            return "string"
        case datetime() if value.tzinfo is None:
            return "local date-time"
        case datetime():
            return "offset date-time"
        case date():
            return "local date"
        case time():
            return "local time"
        case list():
            return "array"
        case dict():
            return "table"
    return type(value).__name__  # pragma: no cover - tomllib produces nothing else


class _Entry:
    """Typed access to the keys of one table, naming entry and field in every error."""

    def __init__(
        self, parser: _Parser, label: str, value: object, allowed: tuple[str, ...]
    ) -> None:
        self.parser = parser
        self.label = label
        if not isinstance(value, dict):
            parser.fail(PROBLEM_TYPE, entry=label, expected="table", found=_toml_type(value))
        self.table: dict[str, object] = value
        for key in self.table:
            if key not in allowed:
                parser.fail(
                    PROBLEM_UNKNOWN_FIELD, entry=label, field=key, allowed=", ".join(allowed)
                )

    def fail(self, key: str, problem: str, **params: str) -> NoReturn:
        """Raise an error about one field of this entry."""
        self.parser.fail(problem, entry=self.label, field=key, **params)

    def has(self, key: str) -> bool:
        """Tell whether the key is present."""
        return key in self.table

    def _typed(self, key: str, kind: type[_T], expected: str, *, required: bool) -> _T | None:
        if key not in self.table:
            if required:
                self.fail(key, PROBLEM_MISSING)
            return None
        value = self.table[key]
        if expected != _toml_type(value) or not isinstance(value, kind):
            self.fail(key, PROBLEM_TYPE, expected=expected, found=_toml_type(value))
        return value

    def text(self, key: str) -> str:
        """Return a required, non-blank string."""
        value = self._typed(key, str, "string", required=True)
        assert value is not None  # noqa: S101 - _typed raised otherwise
        if not value.strip():
            self.fail(key, PROBLEM_EMPTY)
        return value

    def opt_text(self, key: str) -> str | None:
        """Return an optional, non-blank string."""
        return self.text(key) if key in self.table else None

    def integer(self, key: str) -> int:
        """Return a required integer that fits SQLite's 64 bits."""
        value = self._typed(key, int, "integer", required=True)
        assert value is not None  # noqa: S101
        if not INT_MIN <= value <= INT_MAX:
            self.fail(key, PROBLEM_NOT_ALLOWED, value=str(value), allowed=f"{INT_MIN}..{INT_MAX}")
        return value

    def opt_integer(self, key: str) -> int | None:
        """Return an optional integer."""
        return self.integer(key) if key in self.table else None

    def opt_degrees(self, key: str, limit: float) -> float | None:
        """Return optional coordinates in degrees (a float or integer within ±``limit``)."""
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, PROBLEM_TYPE, expected="float", found=_toml_type(value))
        if not -limit <= value <= limit:
            self.fail(key, PROBLEM_NOT_ALLOWED, value=str(value), allowed=f"-{limit:g}..{limit:g}")
        return float(value)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        """Return a boolean; required unless a default is given."""
        value = self._typed(key, bool, "boolean", required=default is None)
        if value is None:
            assert default is not None  # noqa: S101
            return default
        return value

    def opt_date(self, key: str) -> date | None:
        """Return an optional local date."""
        return self._typed(key, date, "local date", required=False)

    def opt_local_datetime(self, key: str) -> datetime | None:
        """Return an optional local date-time (no offset)."""
        return self._typed(key, datetime, "local date-time", required=False)

    def ident(self, key: str) -> str:
        """Return a required id or slug in the deep-link pattern."""
        value = self._typed(key, str, "string", required=True)
        assert value is not None  # noqa: S101
        if len(value) > ID_MAX_LENGTH or not ID_PATTERN.fullmatch(value):
            self.fail(key, PROBLEM_BAD_ID, value=repr(value), max_length=str(ID_MAX_LENGTH))
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        """Return a required string from a fixed set."""
        value = self._typed(key, str, "string", required=True)
        assert value is not None  # noqa: S101
        if value not in allowed:
            self.fail(key, PROBLEM_NOT_ALLOWED, value=repr(value), allowed=", ".join(allowed))
        return value

    def texts(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        """Return an array of non-blank strings (absent: empty)."""
        value = self._typed(key, list, "array", required=required)
        if value is None:
            return ()
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(
                    f"{key}[{index}]", PROBLEM_TYPE, expected="string", found=_toml_type(item)
                )
            if not item.strip():
                self.fail(f"{key}[{index}]", PROBLEM_EMPTY)
            items.append(item)
        return tuple(items)

    def refs(self, key: str, table: str, *, required: bool = False) -> tuple[str, ...]:
        """Return an array of ids that must exist in ``table``."""
        values = self.texts(key, required=required)
        for index, value in enumerate(values):
            self.parser.refer(self.label, f"{key}[{index}]", table, value)
        return values

    def sources(self, *, required: bool = True, may_be_empty: bool = False) -> tuple[str, ...]:
        """Return the source ids (present and non-empty unless allowed otherwise)."""
        values = self.refs("sources", REF_SOURCES, required=required)
        if self.has("sources") and not values and not may_be_empty:
            self.fail("sources", PROBLEM_EMPTY)
        return values

    def sub(self, key: str, allowed: tuple[str, ...]) -> _Entry | None:
        """Return a sub-table, if present."""
        if key not in self.table:
            return None
        return _Entry(self.parser, f"{self.label}.{key}", self.table[key], allowed)

    def tables(self, key: str) -> list[object]:
        """Return an array (of tables, checked by the caller), absent: empty."""
        value = self._typed(key, list, "array", required=False)
        return list(value) if value is not None else []

    def figures(self, key: str, allowed: tuple[str, ...] | None) -> tuple[tuple[str, str], ...]:
        """Return a table of strings as (key, value) pairs in file order."""
        if key not in self.table:
            return ()
        value = self.table[key]
        if not isinstance(value, dict):
            self.fail(key, PROBLEM_TYPE, expected="table", found=_toml_type(value))
        pairs: list[tuple[str, str]] = []
        for name, text in value.items():
            if allowed is not None and name not in allowed:
                self.fail(f"{key}.{name}", PROBLEM_UNKNOWN_FIELD, allowed=", ".join(allowed))
            if not isinstance(text, str):
                self.fail(f"{key}.{name}", PROBLEM_TYPE, expected="string", found=_toml_type(text))
            if not text.strip():
                self.fail(f"{key}.{name}", PROBLEM_EMPTY)
            pairs.append((name, text))
        return tuple(pairs)


def _label(table: str, index: int, ident: object) -> str:
    """Name an array entry as ``events[3] (netzwerktreffen-5)`` (index counted from 0)."""
    if isinstance(ident, str) and ident:
        return f"{table}[{index}] ({ident})"
    return f"{table}[{index}]"


def _syntax_error(parser: _Parser, text: str, error: tomllib.TOMLDecodeError) -> NoReturn:
    message = str(error)
    if match := _SYNTAX_POSITION.search(message):
        line, column = match.group(1), match.group(2)
        detail = message[: match.start()]
    else:  # "... (at end of document)"
        lines = text.split("\n")
        line, column = str(len(lines)), str(len(lines[-1]) + 1)
        detail = message.removesuffix(" (at end of document)")
    parser.fail(PROBLEM_SYNTAX, line=line, column=column, detail=detail)


def parse_data_file(text: str, *, name: str = "<data>", known: KnownIds | None = None) -> DataFile:
    """Parse and validate one data file; references may also point to ``known`` ids."""
    parser = _Parser(name)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        _syntax_error(parser, text, error)
    top = parser.entry("", document, TOP_KEYS)
    _check_header(parser, top)

    sources = tuple(
        _parse_source(parser, _label("sources", i, _peek(t, "id")), t)
        for i, t in enumerate(top.tables("sources"))
    )
    people = tuple(
        _parse_person(parser, _label("people", i, _peek(t, "id")), t)
        for i, t in enumerate(top.tables("people"))
    )
    alliance = _parse_alliance(parser, top.table["alliance"]) if top.has("alliance") else None
    initiative = (
        _parse_initiative(parser, top.table["initiative"]) if top.has("initiative") else None
    )
    funding = _parse_funding(parser, top.table["funding"]) if top.has("funding") else None
    networks = tuple(
        _parse_network(parser, _label("networks", i, _peek(t, "slug")), t)
        for i, t in enumerate(top.tables("networks"))
    )
    events = tuple(
        _parse_event(parser, _label("events", i, _peek(t, "id")), t)
        for i, t in enumerate(top.tables("events"))
    )
    faq = tuple(
        _parse_faq(parser, _label("faq", i, _peek(t, "id")), t)
        for i, t in enumerate(top.tables("faq"))
    )
    data = DataFile(
        name=name,
        timezone=parser.timezone,
        alliance=alliance,
        initiative=initiative,
        funding=funding,
        sources=sources,
        people=people,
        networks=networks,
        events=events,
        faq=faq,
        tables=frozenset(key for key in document if key in TABLE_NAMES),
    )
    _check_unique(parser, data)
    _check_fictional(parser, data)
    _check_references(parser, data.ids().union(known or KnownIds()))
    return data


def load_data_file(path: Path, *, known: KnownIds | None = None) -> DataFile:
    """Read and parse a data file from disk."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(
            PROBLEM_UNREADABLE, file=str(path), params={"detail": str(error)}
        ) from error
    return parse_data_file(text, name=str(path), known=known)


def _peek(table: object, key: str) -> object:
    return table.get(key) if isinstance(table, dict) else None


def _check_header(parser: _Parser, top: _Entry) -> None:
    version = top.integer("schema_version")
    if version != SCHEMA_VERSION:
        top.fail(
            "schema_version", PROBLEM_NOT_ALLOWED, value=str(version), allowed=str(SCHEMA_VERSION)
        )
    top.choice("language", (LANGUAGE,))
    timezone = top.text("timezone")
    try:
        parser.zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        top.fail("timezone", PROBLEM_TIMEZONE, value=repr(timezone))
    parser.timezone = timezone


def _parse_source(parser: _Parser, label: str, table: object) -> Source:
    e = parser.entry(label, table, SOURCE_KEYS)
    return Source(
        id=e.ident("id"),
        label=e.text("label"),
        title=e.text("title"),
        publisher=e.text("publisher"),
        url=e.text("url"),
        date=e.opt_date("date"),
    )


def _parse_person(parser: _Parser, label: str, table: object) -> Person:
    e = parser.entry(label, table, PERSON_KEYS)
    return Person(
        id=e.ident("id"),
        name=e.text("name"),
        role=e.text("role"),
        organisation=e.text("organisation"),
        summary=e.text("summary"),
        contact=e.opt_text("contact"),
        sources=e.sources(),
    )


def _parse_alliance(parser: _Parser, table: object) -> Alliance:
    e = parser.entry("alliance", table, ALLIANCE_KEYS)
    coordinator = None
    if (c := e.sub("coordinator", COORDINATOR_KEYS)) is not None:
        coordinator = Coordinator(
            label=c.opt_text("label"),
            name=c.opt_text("name"),
            city=c.opt_text("city"),
            description=c.opt_text("description"),
            note=c.opt_text("note"),
            sources=c.sources(required=False),
        )
    account = e.sub("account", ACCOUNT_KEYS)
    return Alliance(
        name=e.text("name"),
        full_name=e.text("full_name"),
        description=e.text("description"),
        motto=e.text("motto"),
        network_count=e.integer("network_count"),
        sources=e.sources(),
        network_count_2014=e.opt_integer("network_count_2014"),
        network_count_note=e.opt_text("network_count_note"),
        it_netz_2014=e.opt_text("it_netz_2014"),
        principles=e.opt_text("principles"),
        partnership_agreement=e.opt_text("partnership_agreement"),
        meetings_note=e.opt_text("meetings_note"),
        website=e.opt_text("website"),
        website_note=e.opt_text("website_note"),
        coordinator=coordinator,
        login_label=account.opt_text("login_label") if account else None,
        recovery_label=account.opt_text("recovery_label") if account else None,
    )


def _parse_initiative(parser: _Parser, table: object) -> Initiative:
    e = parser.entry("initiative", table, INITIATIVE_KEYS)
    head = e.opt_text("head")
    if head is not None:
        e.ident("head")
        parser.refer(e.label, "head", REF_PEOPLE, head)
    return Initiative(
        name=e.text("name"),
        description=e.text("description"),
        launched=e.opt_integer("launched"),
        head=head,
        project_partners_2014=e.refs("project_partners_2014", REF_NETWORKS),
        ict_figures_2014=e.figures("ict_figures_2014", ICT_FIGURE_KEYS),
        sources=e.sources(),
    )


def _parse_funding(parser: _Parser, table: object) -> Funding:
    e = parser.entry("funding", table, FUNDING_KEYS)
    programme = None
    if (p := e.sub("programme", PROGRAMME_KEYS)) is not None:
        seen: set[str] = set()
        lines: list[FundingLine] = []
        for index, raw in enumerate(p.tables("lines")):
            label = _label(f"{p.label}.lines", index, _peek(raw, "id"))
            line = parser.entry(label, raw, LINE_KEYS)
            line_id = line.ident("id")
            parser.check_unique(seen, line_id, entry=label, field="id")
            lines.append(
                FundingLine(
                    id=line_id,
                    name=line.text("name"),
                    purpose=line.text("purpose"),
                    started=line.opt_text("started"),
                    funded_regions_2013=line.texts("funded_regions_2013"),
                )
            )
        programme = FundingProgramme(
            name=p.text("name"),
            short_name=p.opt_text("short_name"),
            description=p.opt_text("description"),
            duration=p.opt_text("duration"),
            jury_2013=p.opt_text("jury_2013"),
            application_deadline_2014=p.opt_date("application_deadline_2014"),
            round_2_note=p.opt_text("round_2_note"),
            current_call_note=p.opt_text("current_call_note"),
            lines=tuple(lines),
            sources=p.sources(required=False),
        )
    return Funding(
        summary=e.opt_text("summary"),
        funded_by=e.opt_text("funded_by"),
        in_coordination_with=e.opt_text("in_coordination_with"),
        ministry_names_note=e.opt_text("ministry_names_note"),
        programme=programme,
        sources=e.sources(),
    )


def _parse_network(parser: _Parser, label: str, table: object) -> Network:
    e = parser.entry(label, table, NETWORK_KEYS)
    return Network(
        slug=e.ident("slug"),
        name=e.text("name"),
        short_name=e.text("short_name"),
        name_is_placeholder=e.boolean("name_is_placeholder"),
        aliases=e.texts("aliases", required=True),
        city=e.text("city"),
        region=e.text("region"),
        description=e.text("description"),
        membership=cast("Membership", e.choice("membership", MEMBERSHIPS)),
        sources=e.sources(),
        led_by=e.opt_text("led_by"),
        supported_by=e.opt_text("supported_by"),
        figures=e.figures("figures", None),
        facts=e.texts("facts"),
        website=e.opt_text("website"),
        contact=e.opt_text("contact"),
        membership_basis=e.opt_text("membership_basis"),
        source_note=e.opt_text("source_note"),
    )


def _to_utc(e: _Entry, key: str, local: datetime, zone: ZoneInfo, timezone: str) -> datetime:
    """Convert a local wall-clock time to UTC, rejecting DST gaps and overlaps."""
    first, second = local.replace(tzinfo=zone), local.replace(tzinfo=zone, fold=1)
    try:
        utc = first.astimezone(UTC)
    except OverflowError:  # near year 1 or 9999 the UTC time lies outside datetime's range
        e.fail(key, PROBLEM_LOCAL_TIME, value=local.isoformat(), timezone=timezone)
    if first.utcoffset() != second.utcoffset():
        e.fail(key, PROBLEM_LOCAL_TIME, value=local.isoformat(), timezone=timezone)
    return utc


def _parse_event(parser: _Parser, label: str, table: object) -> Event:
    e = parser.entry(label, table, EVENT_KEYS)
    event_id = e.ident("id")
    fictional = e.boolean("fictional")
    date_known = e.boolean("date_known", default=True)
    day = e.opt_date("date")
    local_start = e.opt_local_datetime("start")
    local_end = e.opt_local_datetime("end")
    date_text = e.opt_text("date_text")
    if not date_known:
        for key in ("date", "start", "end"):
            if e.has(key):
                e.fail(key, PROBLEM_ABSENT_WHEN, condition="date_known = false")
        if date_text is None:
            e.fail("date_text", PROBLEM_REQUIRED_WHEN, condition="date_known = false")
    elif day is None:
        e.fail("date", PROBLEM_MISSING)
    if local_end is not None and local_start is None:
        e.fail("end", PROBLEM_ABSENT_WHEN, condition="start is absent")
    start = end = None
    for key, local in (("start", local_start), ("end", local_end)):
        if local is not None and local.date() != day:
            e.fail(key, PROBLEM_NOT_ON_DATE, value=local.isoformat(), date=str(day))
    if local_start is not None:
        start = _to_utc(e, "start", local_start, parser.zone, parser.timezone)
    if local_end is not None:
        end = _to_utc(e, "end", local_end, parser.zone, parser.timezone)
        if start is not None and end < start:
            e.fail(
                "end",
                PROBLEM_END_BEFORE_START,
                value=local_end.isoformat(),
                start=str(local_start and local_start.isoformat()),
            )
    if fictional and e.has("sources"):
        e.fail("sources", PROBLEM_ABSENT_WHEN, condition="fictional = true")
    if not fictional and not e.has("sources"):
        e.fail("sources", PROBLEM_REQUIRED_WHEN, condition="fictional = false")
    latitude = e.opt_degrees("latitude", LATITUDE_MAX)
    longitude = e.opt_degrees("longitude", LONGITUDE_MAX)
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        present = "latitude" if longitude is None else "longitude"
        e.fail(missing, PROBLEM_REQUIRED_WHEN, condition=f"{present} is given")
    hosts: list[Host] = []
    for index, raw in enumerate(e.tables("hosts")):
        host = parser.entry(f"{label}.hosts[{index}]", raw, HOST_KEYS)
        network = host.opt_text("network")
        if network is not None:
            host.ident("network")
            parser.refer(host.label, "network", REF_NETWORKS, network)
        hosts.append(Host(name=host.text("name"), network=network))
    programme: list[ProgrammeItem] = []
    for index, raw in enumerate(e.tables("programme")):
        item = parser.entry(f"{label}.programme[{index}]", raw, PROGRAMME_ITEM_KEYS)
        speaker = item.opt_text("speaker")
        if speaker is not None:
            item.ident("speaker")
            parser.refer(item.label, "speaker", REF_PEOPLE, speaker)
        programme.append(
            ProgrammeItem(
                kind=cast("ProgrammeKind", item.choice("kind", PROGRAMME_KINDS)),
                title=item.text("title"),
                speaker=speaker,
                summary=item.opt_text("summary"),
            )
        )
    return Event(
        id=event_id,
        fictional=fictional,
        kind=cast("EventKind", e.choice("kind", EVENT_KINDS)),
        title=e.text("title"),
        description=e.text("description"),
        status=cast("EventStatus", e.choice("status", EVENT_STATUSES)),
        number=e.opt_integer("number"),
        subtitle=e.opt_text("subtitle"),
        date=day,
        date_known=date_known,
        date_text=date_text,
        start=start,
        end=end,
        city=e.opt_text("city"),
        region=e.opt_text("region"),
        venue=e.opt_text("venue"),
        venue_note=e.opt_text("venue_note"),
        latitude=latitude,
        longitude=longitude,
        hosts=tuple(hosts),
        host_note=e.opt_text("host_note"),
        audience=e.opt_text("audience"),
        speakers_note=e.opt_text("speakers_note"),
        regions_present=e.texts("regions_present"),
        outcomes=e.texts("outcomes"),
        programme=tuple(programme),
        sources=e.sources(required=not fictional),
    )


def _parse_faq(parser: _Parser, label: str, table: object) -> Faq:
    e = parser.entry(label, table, FAQ_KEYS)
    about_bot = e.boolean("about_bot", default=False)
    return Faq(
        id=e.ident("id"),
        question=e.text("question"),
        answer=e.text("answer"),
        sources=e.sources(may_be_empty=about_bot),
        about_bot=about_bot,
    )


def _check_unique(parser: _Parser, data: DataFile) -> None:
    groups: tuple[tuple[str, str, Iterable[str]], ...] = (
        ("sources", "id", (s.id for s in data.sources)),
        ("people", "id", (p.id for p in data.people)),
        ("networks", "slug", (n.slug for n in data.networks)),
        ("events", "id", (e.id for e in data.events)),
        ("faq", "id", (f.id for f in data.faq)),
    )
    for table, key, ids in groups:
        seen: set[str] = set()
        for index, ident in enumerate(ids):
            parser.check_unique(seen, ident, entry=_label(table, index, ident), field=key)


def _check_fictional(parser: _Parser, data: DataFile) -> None:
    if not data.events:
        return
    first = data.events[0].fictional
    for index, event in enumerate(data.events):
        if event.fictional != first:
            parser.fail(
                PROBLEM_FICTIONAL_MIXED,
                entry=_label("events", index, event.id),
                field="fictional",
                value=str(first).lower(),
            )


def _check_references(parser: _Parser, ids: KnownIds) -> None:
    for ref in parser.references:
        if ref.value not in ids.of_table(ref.table):
            parser.fail(
                PROBLEM_REFERENCE,
                entry=ref.entry,
                field=ref.field,
                value=repr(ref.value),
                table=ref.table,
            )


def event_sort_key(event: Event) -> tuple[date, datetime, str]:
    """Order events by day (unknown last), then start (day-only first), then id."""
    return (event.date or date.max, event.start or _UTC_MIN, event.id)


def catalog_from_files(*files: DataFile) -> Catalog:
    """Merge parsed files into one catalog; ids must be unique and references resolve."""
    name = " + ".join(f.name for f in files) or "<catalog>"
    parser = _Parser(name)
    alliance = initiative = funding = None
    sources: dict[str, Source] = {}
    people: dict[str, Person] = {}
    networks: list[Network] = []
    events: list[Event] = []
    faq: list[Faq] = []
    seen: dict[str, set[str]] = {t: set() for t in ("sources", "people", "networks", "events")}
    seen_faq: set[str] = set()
    for data in files:
        parser.name = data.name
        alliance = data.alliance or alliance
        initiative = data.initiative or initiative
        funding = data.funding or funding
        for i, source in enumerate(data.sources):
            entry = _label("sources", i, source.id)
            parser.check_unique(seen["sources"], source.id, entry=entry, field="id")
            sources[source.id] = source
        for i, person in enumerate(data.people):
            entry = _label("people", i, person.id)
            parser.check_unique(seen["people"], person.id, entry=entry, field="id")
            people[person.id] = person
        for i, network in enumerate(data.networks):
            entry = _label("networks", i, network.slug)
            parser.check_unique(seen["networks"], network.slug, entry=entry, field="slug")
            networks.append(network)
        for i, event in enumerate(data.events):
            entry = _label("events", i, event.id)
            parser.check_unique(seen["events"], event.id, entry=entry, field="id")
            events.append(event)
        for i, item in enumerate(data.faq):
            parser.check_unique(seen_faq, item.id, entry=_label("faq", i, item.id), field="id")
            faq.append(item)
    parser.name = name
    catalog = Catalog(
        alliance=alliance,
        initiative=initiative,
        funding=funding,
        sources=sources,
        people=people,
        networks=tuple(networks),
        events=tuple(sorted(events, key=event_sort_key)),
        faq=tuple(faq),
    )
    ids = KnownIds(
        sources=frozenset(sources),
        people=frozenset(people),
        networks=frozenset(seen["networks"]),
    )
    parser.references = list(_catalog_references(catalog))
    _check_references(parser, ids)
    return catalog


def _catalog_references(catalog: Catalog) -> Iterator[_Reference]:
    """Yield every reference of a merged catalog (for the cross-file check)."""

    def of_sources(entry: str, ids: tuple[str, ...]) -> Iterator[_Reference]:
        for index, ident in enumerate(ids):
            yield _Reference(entry, f"sources[{index}]", REF_SOURCES, ident)

    for person in catalog.people.values():
        yield from of_sources(f"people ({person.id})", person.sources)
    if (alliance := catalog.alliance) is not None:
        yield from of_sources("alliance", alliance.sources)
        if alliance.coordinator is not None:
            yield from of_sources("alliance.coordinator", alliance.coordinator.sources)
    if (initiative := catalog.initiative) is not None:
        yield from of_sources("initiative", initiative.sources)
        if initiative.head is not None:
            yield _Reference("initiative", "head", REF_PEOPLE, initiative.head)
        for index, slug in enumerate(initiative.project_partners_2014):
            field = f"project_partners_2014[{index}]"
            yield _Reference("initiative", field, REF_NETWORKS, slug)
    if (funding := catalog.funding) is not None:
        yield from of_sources("funding", funding.sources)
        if funding.programme is not None:
            yield from of_sources("funding.programme", funding.programme.sources)
    for network in catalog.networks:
        yield from of_sources(f"networks ({network.slug})", network.sources)
    for event in catalog.events:
        entry = f"events ({event.id})"
        yield from of_sources(entry, event.sources)
        for index, host in enumerate(event.hosts):
            if host.network is not None:
                yield _Reference(f"{entry}.hosts[{index}]", "network", REF_NETWORKS, host.network)
        for index, item in enumerate(event.programme):
            if item.speaker is not None:
                yield _Reference(
                    f"{entry}.programme[{index}]", "speaker", REF_PEOPLE, item.speaker
                )
    for faq in catalog.faq:
        yield from of_sources(f"faq ({faq.id})", faq.sources)


def bundled_files(*, include_demo: bool = True) -> list[Traversable]:
    """Return the bundled data files: alliance.toml, then demo-events.toml."""
    folder = resources.files("bot") / "data"
    names = BUNDLED_NAMES if include_demo else BUNDLED_NAMES[:1]
    return [folder / name for name in names]


def parse_bundled(*, include_demo: bool = True) -> list[DataFile]:
    """Parse the bundled files in order, each seeing the ids of the ones before."""
    parsed: list[DataFile] = []
    known = KnownIds()
    for resource in bundled_files(include_demo=include_demo):
        data = parse_data_file(
            resource.read_text(encoding="utf-8"), name=resource.name, known=known
        )
        known = known.union(data.ids())
        parsed.append(data)
    return parsed


def bundled_catalog(include_demo: bool = True) -> Catalog:
    """Return the catalog of the bundled files (with or without the demo events)."""
    return catalog_from_files(*parse_bundled(include_demo=include_demo))
