"""The data file loader: the bundled files, the conversions and every rejected file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

import pytest

from bot.i18n import translator
from storage import errors
from storage.importer import (
    DataFileError,
    KnownIds,
    bundled_catalog,
    bundled_files,
    catalog_from_files,
    load_data_file,
    parse_bundled,
    parse_data_file,
)
from tests.storage.conftest import MINIMAL

SHARED_DATA: Final = Path(__file__).resolve().parents[3] / "shared" / "data"
TODAY: Final = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

DEMO: Final = """\
schema_version = 2
language = "de"
timezone = "Europe/Berlin"

[[events]]
id = "demo-1"
fictional = true
kind = "network_meeting"
title = "Demo"
description = "Erfunden."
status = "planned"
date = 2027-03-18
hosts = [{ name = "Netz A", network = "netz-a" }]

[[events]]
id = "demo-2"
fictional = true
kind = "network_meeting"
title = "Demo 2"
description = "Erfunden."
status = "planned"
date = 2027-06-24
"""


def mutate(text: str, old: str, new: str) -> str:
    """Replace a snippet that occurs exactly once."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_bundled_files_match_shared_data() -> None:
    """The packaged copies are the shared data files, unchanged."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found: {SHARED_DATA}")
    for resource in bundled_files():
        assert resource.read_bytes() == (SHARED_DATA / resource.name).read_bytes()


def test_bundled_catalog_counts() -> None:
    """The bundled data has 11 networks, 7 real and 4 demo events."""
    catalog = bundled_catalog()
    assert len(catalog.networks) == 11
    assert sum(not e.fictional for e in catalog.events) == 7
    assert sum(e.fictional for e in catalog.events) == 4
    assert len(bundled_catalog(include_demo=False).events) == 7
    files = parse_bundled()
    assert files[0].tables == {
        "sources",
        "people",
        "alliance",
        "initiative",
        "funding",
        "networks",
        "events",
        "faq",
    }
    assert files[1].tables == {"events"}


def test_local_times_become_utc() -> None:
    """Berlin wall-clock times are converted to UTC: +1 h in winter, +2 h in summer."""
    catalog = bundled_catalog()
    march = catalog.event("demo-2027-03-karlsruhe")
    june = catalog.event("demo-2027-06-ulm")
    assert march is not None
    assert june is not None
    assert march.start == datetime(2027, 3, 18, 9, 0, tzinfo=UTC)
    assert march.end == datetime(2027, 3, 18, 15, 0, tzinfo=UTC)
    assert march.date == date(2027, 3, 18)
    assert june.start == datetime(2027, 6, 24, 8, 0, tzinfo=UTC)


def test_next_and_latest_meeting() -> None:
    """On 26 November 2026 the next event is in Karlsruhe; the latest meeting is the 7th."""
    catalog = bundled_catalog()
    next_event = catalog.next_event(TODAY)
    latest = catalog.latest_meeting(TODAY)
    assert next_event is not None
    assert latest is not None
    assert next_event.id == "demo-2027-03-karlsruhe"
    assert latest.id == "netzwerktreffen-7"


def test_events_sorted_unknown_date_last() -> None:
    """Events are ordered by day; the one without a known day comes last."""
    events = bundled_catalog().events
    assert events[-1].id == "netzwerktreffen-5"
    assert events[-1].date is None
    assert events[-1].date_text == "nach der Sommerpause 2014"
    days = [e.date for e in events if e.date is not None]
    assert days == sorted(days)


def test_conversions() -> None:
    """Figures become (key, value) pairs in file order; lists become tuples."""
    data = parse_data_file(MINIMAL)
    network = data.networks[0]
    assert network.figures == (("members", "rund 100"),)
    assert network.aliases == ("A", "Netz A")
    event = data.events[0]
    assert event.hosts[0].network == "netz-a"
    assert event.hosts[1].network is None
    assert event.programme[0].speaker == "erika-muster"
    assert event.outcomes == ("Ein Ergebnis.",)
    assert data.faq[1].about_bot
    assert data.faq[1].sources == ()
    assert data.initiative is not None
    assert data.initiative.project_partners_2014 == ("netz-a",)
    catalog = bundled_catalog()
    assert catalog.initiative is not None
    assert catalog.initiative.ict_figures_2014[0] == ("companies", "15.000 Unternehmen")
    assert catalog.funding is not None
    assert catalog.funding.programme is not None
    assert [line.id for line in catalog.funding.programme.lines] == ["cap-1", "cap-2", "cap-3"]
    assert catalog.alliance is not None
    assert catalog.alliance.login_label == "Login"


E0: Final = "events[0] (treffen-1)"
E1: Final = "events[1] (treffen-2)"
N0: Final = "networks[0] (netz-a)"

BAD_FILES: Final = [
    # (test id, old, new, entry, field, problem)
    ("missing-key", 'title = "Treffen"\n', "", E0, "title", errors.PROBLEM_MISSING),
    ("string-not-int", "number = 1", 'number = "1"', E0, "number", errors.PROBLEM_TYPE),
    (
        "int-too-large",
        "number = 1",
        "number = 9223372036854775808",
        E0,
        "number",
        errors.PROBLEM_NOT_ALLOWED,
    ),
    (
        "int-not-bool",
        "name_is_placeholder = false",
        "name_is_placeholder = 0",
        N0,
        "name_is_placeholder",
        errors.PROBLEM_TYPE,
    ),
    (
        "datetime-not-date",
        "date = 2014-05-05",
        "date = 2014-05-05T00:00:00",
        "sources[0] (quelle-1)",
        "date",
        errors.PROBLEM_TYPE,
    ),
    (
        "offset-datetime",
        "start = 2014-07-01T10:00:00",
        "start = 2014-07-01T10:00:00+02:00",
        E0,
        "start",
        errors.PROBLEM_TYPE,
    ),
    (
        "list-item-type",
        'aliases = ["A", "Netz A"]',
        'aliases = ["A", 3]',
        N0,
        "aliases[1]",
        errors.PROBLEM_TYPE,
    ),
    (
        "hosts-not-array",
        'hosts = [{ name = "Netz A", network = "netz-a" }, { name = "Jemand" }]',
        'hosts = "Netz A"',
        E0,
        "hosts",
        errors.PROBLEM_TYPE,
    ),
    (
        "host-not-table",
        '{ name = "Jemand" }]',
        '"Jemand"]',
        f"{E0}.hosts[1]",
        "",
        errors.PROBLEM_TYPE,
    ),
    (
        "blank-string",
        '\nname = "Netz A"\n',
        '\nname = "  "\n',
        N0,
        "name",
        errors.PROBLEM_EMPTY,
    ),
    (
        "bad-slug",
        'slug = "netz-a"',
        'slug = "Netz_A"',
        "networks[0] (Netz_A)",
        "slug",
        errors.PROBLEM_BAD_ID,
    ),
    (
        "long-id",
        'id = "treffen-1"',
        f'id = "{"a" * 41}"',
        f"events[0] ({'a' * 41})",
        "id",
        errors.PROBLEM_BAD_ID,
    ),
    (
        "duplicate-id",
        'id = "treffen-2"',
        'id = "treffen-1"',
        "events[1] (treffen-1)",
        "id",
        errors.PROBLEM_DUPLICATE,
    ),
    (
        "dangling-source",
        'outcomes = ["Ein Ergebnis."]\nsources = ["quelle-1"]',
        'outcomes = ["Ein Ergebnis."]\nsources = ["quelle-1", "quelle-9"]',
        E0,
        "sources[1]",
        errors.PROBLEM_REFERENCE,
    ),
    (
        "dangling-network",
        'network = "netz-a"',
        'network = "netz-b"',
        f"{E0}.hosts[0]",
        "network",
        errors.PROBLEM_REFERENCE,
    ),
    (
        "dangling-speaker",
        'speaker = "erika-muster"',
        'speaker = "max-muster"',
        f"{E0}.programme[0]",
        "speaker",
        errors.PROBLEM_REFERENCE,
    ),
    (
        "dangling-head",
        'head = "erika-muster"',
        'head = "max-muster"',
        "initiative",
        "head",
        errors.PROBLEM_REFERENCE,
    ),
    (
        "dangling-partner",
        'project_partners_2014 = ["netz-a"]',
        'project_partners_2014 = ["netz-x"]',
        "initiative",
        "project_partners_2014[0]",
        errors.PROBLEM_REFERENCE,
    ),
    (
        "date-with-date-unknown",
        'date_text = "nach der Sommerpause 2014"',
        'date_text = "nach der Sommerpause 2014"\ndate = 2014-09-01',
        E1,
        "date",
        errors.PROBLEM_ABSENT_WHEN,
    ),
    (
        "date-unknown-without-text",
        'date_text = "nach der Sommerpause 2014"\n',
        "",
        E1,
        "date_text",
        errors.PROBLEM_REQUIRED_WHEN,
    ),
    ("missing-date", "date = 2014-07-01\n", "", E0, "date", errors.PROBLEM_MISSING),
    (
        "start-off-date",
        "start = 2014-07-01T10:00:00",
        "start = 2014-07-02T10:00:00",
        E0,
        "start",
        errors.PROBLEM_NOT_ON_DATE,
    ),
    (
        "end-without-start",
        "start = 2014-07-01T10:00:00\n",
        "",
        E0,
        "end",
        errors.PROBLEM_ABSENT_WHEN,
    ),
    (
        "end-before-start",
        "end = 2014-07-01T12:00:00",
        "end = 2014-07-01T09:00:00",
        E0,
        "end",
        errors.PROBLEM_END_BEFORE_START,
    ),
    (
        "unknown-key",
        'status = "held"',
        'status = "held"\nstatsu = "held"',
        E0,
        "statsu",
        errors.PROBLEM_UNKNOWN_FIELD,
    ),
    (
        "unknown-top-key",
        'language = "de"',
        'language = "de"\nversion = 2',
        "",
        "version",
        errors.PROBLEM_UNKNOWN_FIELD,
    ),
    (
        "bad-programme-kind",
        'kind = "keynote"',
        'kind = "workshop"',
        f"{E0}.programme[0]",
        "kind",
        errors.PROBLEM_NOT_ALLOWED,
    ),
    (
        "bad-membership",
        'membership = "confirmed"',
        'membership = "maybe"',
        N0,
        "membership",
        errors.PROBLEM_NOT_ALLOWED,
    ),
    (
        "schema-version",
        "schema_version = 2",
        "schema_version = 1",
        "",
        "schema_version",
        errors.PROBLEM_NOT_ALLOWED,
    ),
    ("language", 'language = "de"', 'language = "en"', "", "language", errors.PROBLEM_NOT_ALLOWED),
    (
        "timezone",
        'timezone = "Europe/Berlin"',
        'timezone = "Europe/Berlinn"',
        "",
        "timezone",
        errors.PROBLEM_TIMEZONE,
    ),
    (
        "real-event-without-sources",
        'date_text = "nach der Sommerpause 2014"\nsources = ["quelle-1"]',
        'date_text = "nach der Sommerpause 2014"',
        E1,
        "sources",
        errors.PROBLEM_REQUIRED_WHEN,
    ),
    (
        "fictional-with-sources",
        'id = "treffen-1"\nfictional = false',
        'id = "treffen-1"\nfictional = true',
        E0,
        "sources",
        errors.PROBLEM_ABSENT_WHEN,
    ),
    (
        "faq-empty-sources",
        'answer = "Das."\nsources = ["quelle-1"]',
        'answer = "Das."\nsources = []',
        "faq[0] (faq-1)",
        "sources",
        errors.PROBLEM_EMPTY,
    ),
    (
        "dst-gap",
        "date = 2014-07-01\nstart = 2014-07-01T10:00:00\nend = 2014-07-01T12:00:00",
        "date = 2027-03-28\nstart = 2027-03-28T02:30:00",
        E0,
        "start",
        errors.PROBLEM_LOCAL_TIME,
    ),
    (
        "dst-overlap",
        "date = 2014-07-01\nstart = 2014-07-01T10:00:00\nend = 2014-07-01T12:00:00",
        "date = 2027-10-31\nstart = 2027-10-31T01:00:00\nend = 2027-10-31T02:30:00",
        E0,
        "end",
        errors.PROBLEM_LOCAL_TIME,
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "entry", "field", "problem"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_FILES],
)
def test_bad_file_rejected(old: str, new: str, entry: str, field: str, problem: str) -> None:
    """Each broken file is rejected, naming entry and field."""
    with pytest.raises(DataFileError) as caught:
        parse_data_file(mutate(MINIMAL, old, new), name="kaputt.toml")
    error = caught.value
    assert (error.entry, error.field, error.problem) == (entry, field, problem)
    assert error.file == "kaputt.toml"
    # The message can be filled in both languages (no placeholder left unfilled).
    assert "{" not in error.describe(translator().gettext).replace("[[", "")


def test_syntax_error_names_line() -> None:
    """A TOML syntax error names line and column."""
    with pytest.raises(DataFileError) as caught:
        parse_data_file(mutate(MINIMAL, 'label = "Quelle"', 'label = "Quelle'), name="a.toml")
    assert caught.value.problem == errors.PROBLEM_SYNTAX
    assert caught.value.params["line"] == "7"
    with pytest.raises(DataFileError) as caught:
        parse_data_file(MINIMAL + "[[events]\n")
    assert caught.value.problem == errors.PROBLEM_SYNTAX


def test_message_in_german() -> None:
    """The operator reads the message in German, with entry and field."""
    with pytest.raises(DataFileError) as caught:
        parse_data_file(mutate(MINIMAL, 'title = "Treffen"\n', ""), name="alliance.toml")
    assert caught.value.describe(translator().gettext) == (
        "alliance.toml: Eintrag events[0] (treffen-1), Feld title: Pflichtfeld fehlt"
    )
    assert str(caught.value) == (
        "alliance.toml: entry events[0] (treffen-1), field title: required field is missing"
    )


def test_fictional_values_must_agree() -> None:
    """All events of one file are fictional, or none is."""
    text = mutate(
        DEMO,
        'id = "demo-2"\nfictional = true',
        'id = "demo-2"\nfictional = false\nsources = ["quelle-1"]',
    )
    with pytest.raises(DataFileError) as caught:
        parse_data_file(text, known=KnownIds(sources=frozenset({"quelle-1"})))
    assert caught.value.entry == "events[1] (demo-2)"
    assert caught.value.field == "fictional"
    assert caught.value.problem == errors.PROBLEM_FICTIONAL_MIXED


def test_reference_to_known_network() -> None:
    """A demo file may refer to a network defined elsewhere (in the database)."""
    with pytest.raises(DataFileError) as caught:
        parse_data_file(DEMO)
    assert caught.value.problem == errors.PROBLEM_REFERENCE
    demo = parse_data_file(DEMO, known=KnownIds(networks=frozenset({"netz-a"})))
    assert demo.events[0].host_networks == ("netz-a",)
    assert demo.events[0].sources == ()


def test_catalog_from_files_merges_and_checks() -> None:
    """Merging resolves references across files and rejects ids defined twice."""
    base = parse_data_file(MINIMAL, name="base.toml")
    demo = parse_data_file(DEMO, name="demo.toml", known=base.ids())
    catalog = catalog_from_files(base, demo)
    assert [e.id for e in catalog.events] == ["treffen-1", "demo-1", "demo-2", "treffen-2"]
    with pytest.raises(DataFileError) as caught:
        catalog_from_files(demo)
    assert caught.value.problem == errors.PROBLEM_REFERENCE
    with pytest.raises(DataFileError) as caught:
        catalog_from_files(base, base)
    assert caught.value.problem == errors.PROBLEM_DUPLICATE


def test_load_data_file(tmp_path: Path) -> None:
    """Files are read as UTF-8; an unreadable file is a DataFileError too."""
    path = tmp_path / "daten.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_data_file(path).name == str(path)
    with pytest.raises(DataFileError) as caught:
        load_data_file(tmp_path / "fehlt.toml")
    assert caught.value.problem == errors.PROBLEM_UNREADABLE
