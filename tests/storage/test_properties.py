"""Property test: a mutated event either imports or is rejected cleanly, never anything else."""

from __future__ import annotations

import asyncio
import json
import tempfile
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from storage.catalog import CatalogStore
from storage.db import Database
from storage.importer import EVENT_KEYS, DataFileError, parse_data_file
from storage.migrations import migrate
from tests.storage.conftest import MINIMAL

HEADER, _, _ = MINIMAL.partition("[[events]]")
EVENTS: Final = tomllib.loads(MINIMAL)["events"]
FAQ: Final = MINIMAL[MINIMAL.index("[[faq]]") :]


def local(*fields: int) -> datetime:
    """Return a local (naive) date-time, as TOML's local date-times are."""
    return datetime(*fields)  # noqa: DTZ001


def toml_value(value: object) -> str:
    """Render a value as TOML (inline)."""
    match value:
        case bool():
            return "true" if value else "false"
        case int():
            return str(value)
        case str():
            return json.dumps(value, ensure_ascii=False)
        case datetime() | date():
            return value.isoformat()
        case list():
            return "[" + ", ".join(toml_value(v) for v in value) + "]"
        case dict():
            items = (f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items())
            return "{ " + ", ".join(items) + " }"
    raise TypeError(type(value))


def render(events: list[dict[str, object]]) -> str:
    """Render the file with these events."""
    parts = [HEADER]
    for event in events:
        parts.append("[[events]]\n")
        parts.extend(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in event.items())
    parts.append(FAQ)
    return "".join(parts)


scalars = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["netz-a", "quelle-1", "erika-muster", "held", "keynote", "treffen-2"]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.datetimes(min_value=local(2014, 7, 1), max_value=local(2014, 7, 2)),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.lists(
        st.dictionaries(st.sampled_from(["name", "network", "kind", "title"]), scalars), max_size=2
    ),
)
keys = st.one_of(st.sampled_from(EVENT_KEYS), st.text(min_size=1, max_size=8))
mutations = st.lists(
    st.one_of(
        st.tuples(st.just("delete"), keys, st.none()),
        st.tuples(st.just("set"), keys, values),
    ),
    min_size=1,
    max_size=3,
)


def mutated_text(changes: list[tuple[str, str, object]]) -> str:
    """Apply the mutations to the first event and render the file."""
    first = dict(EVENTS[0])
    for action, key, value in changes:
        if action == "delete":
            first.pop(key, None)
        else:
            first[key] = value
    return render([first, *EVENTS[1:]])


@settings(max_examples=300, deadline=None)
@given(mutations)
def test_mutated_event_parses_or_is_rejected(changes: list[tuple[str, str, object]]) -> None:
    """Parsing never fails with anything but DataFileError."""
    try:
        parse_data_file(mutated_text(changes))
    except DataFileError as error:
        message = error.describe(lambda s: s)
    else:
        return
    assert message


async def import_twice(text: str) -> None:
    """Import the base file, then the mutated one; a rejection must change nothing."""
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "p.sqlite3")
        try:
            await migrate(db)
            store = CatalogStore(db)
            await store.import_text(MINIMAL, name="base.toml")
            before = await store.load()
            try:
                await store.import_text(text, name="mutated.toml")
            except DataFileError:
                assert await store.load() == before
            else:
                # Accepted: a second import of the same text changes nothing.
                assert (await store.import_text(text, name="mutated.toml")).changes == 0
        finally:
            await db.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations)
@example([("set", "number", 2**63)])
@example(
    [
        ("set", "date", date(1, 1, 1)),
        ("set", "start", local(1, 1, 1, 0, 10)),
        ("delete", "end", None),
    ]
)
@example(
    [
        ("set", "date", date(9999, 12, 31)),
        ("set", "start", local(9999, 12, 31, 23)),
        ("delete", "end", None),
    ]
)
def test_mutated_event_imports_or_leaves_database_unchanged(
    changes: list[tuple[str, str, object]],
) -> None:
    """Into the database, a mutated file imports idempotently or changes nothing."""
    asyncio.run(import_twice(mutated_text(changes)))
