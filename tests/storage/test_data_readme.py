"""bot/data/README.md documents exactly the keys the importer accepts, and its example imports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from storage import importer
from storage.importer import DataFileError, catalog_from_files, parse_data_file

README: Final = Path(importer.__file__).resolve().parents[1] / "bot" / "data" / "README.md"

# README section (the backticked heading) -> the importer's tuple of allowed keys.
SECTIONS: Final = {
    "top level": "TOP_KEYS",
    "[[sources]]": "SOURCE_KEYS",
    "[[people]]": "PERSON_KEYS",
    "[alliance]": "ALLIANCE_KEYS",
    "[alliance.coordinator]": "COORDINATOR_KEYS",
    "[alliance.account]": "ACCOUNT_KEYS",
    "[initiative]": "INITIATIVE_KEYS",
    "[initiative.ict_figures_2014]": "ICT_FIGURE_KEYS",
    "[funding]": "FUNDING_KEYS",
    "[funding.programme]": "PROGRAMME_KEYS",
    "[[funding.programme.lines]]": "LINE_KEYS",
    "[[networks]]": "NETWORK_KEYS",
    "[[events]]": "EVENT_KEYS",
    "hosts": "HOST_KEYS",
    "[[events.programme]]": "PROGRAMME_ITEM_KEYS",
    "[[faq]]": "FAQ_KEYS",
}
HEADING: Final = re.compile(r"^### `(?P<section>[^`]+)`\s*$")
ROW: Final = re.compile(r"^\| `(?P<key>[a-z0-9_]+)` \|(?P<rest>.*)\|\s*$")
SUB_TABLES: Final = ("table", "array of tables")
EXAMPLE: Final = re.compile(r"^```toml\n(?P<toml>.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Row:
    """One documented key."""

    section: str
    key: str
    type: str
    required: str
    meaning: str
    example: str


def _rows() -> list[Row]:
    rows: list[Row] = []
    section = ""
    for line in README.read_text("utf-8").splitlines():
        if heading := HEADING.match(line):
            section = heading["section"]
        elif (row := ROW.match(line)) and section:
            kind, required, meaning, example = (c.strip() for c in row["rest"].split("|"))
            rows.append(Row(section, row["key"], kind, required, meaning, example))
    return rows


def _example() -> str:
    match = EXAMPLE.search(README.read_text("utf-8"))
    assert match is not None
    return match["toml"]


def test_every_key_constant_has_a_section() -> None:
    """A new table in the importer needs a new section here (and in the README)."""
    constants = {name for name in vars(importer) if name.endswith("_KEYS")}
    assert set(SECTIONS.values()) == constants


def test_readme_documents_exactly_the_accepted_keys() -> None:
    """Each section lists the importer's keys of that table, in its order, and no others."""
    documented: dict[str, list[str]] = {}
    for row in _rows():
        documented.setdefault(row.section, []).append(row.key)
    expected = {section: list(getattr(importer, name)) for section, name in SECTIONS.items()}
    assert documented == expected


def test_every_row_has_type_required_and_example() -> None:
    """No row leaves type or "required" open; every key that is not a table shows an example."""
    for row in _rows():
        assert row.type, row
        assert row.required, row
        assert row.example or row.type in SUB_TABLES, row


@pytest.mark.parametrize(
    ("section", "key", "allowed"),
    [
        ("[[events]]", "kind", importer.EVENT_KINDS),
        ("[[events]]", "status", importer.EVENT_STATUSES),
        ("[[events.programme]]", "kind", importer.PROGRAMME_KINDS),
        ("[[networks]]", "membership", importer.MEMBERSHIPS),
    ],
)
def test_documented_choices_are_the_accepted_ones(
    section: str, key: str, allowed: tuple[str, ...]
) -> None:
    """The values listed for a choice are the importer's."""
    (row,) = [r for r in _rows() if r.section == section and r.key == key]
    assert set(re.findall(r"`([a-z_]+)`", row.meaning)) == set(allowed)


def test_example_imports() -> None:
    """The complete example is a valid data file on its own."""
    data = parse_data_file(_example(), name="README.md")
    catalog = catalog_from_files(data)
    assert data.tables == importer.TABLE_NAMES
    assert catalog.networks[0].figures == (("it_workforce", "rund 1.400 Menschen"),)


def _bounds(lines: list[str], section: str) -> tuple[int, int]:
    """Return the line range of the first ``section`` of the example (its keys)."""
    start = 0 if section == "top level" else lines.index(section) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    return start, end


def _without(text: str, section: str, keys: set[str]) -> str:
    """Drop the lines ``key = ...`` of ``keys`` from the first ``section`` of the example."""
    lines = text.splitlines()
    start, end = _bounds(lines, section)
    pattern = re.compile(rf"^(?:{'|'.join(map(re.escape, keys))}) = ")
    kept = [line for i, line in enumerate(lines) if not (start <= i < end and pattern.match(line))]
    assert len(kept) < len(lines), f"{section}: {keys} not in the example"
    return "\n".join(kept) + "\n"


def _has(text: str, section: str, key: str) -> bool:
    lines = text.splitlines()
    start, end = _bounds(lines, section)
    return any(line.startswith(f"{key} = ") for line in lines[start:end])


def test_required_as_documented() -> None:
    """Dropping a key documented as required fails; dropping an optional one does not."""
    text = _example()
    rows = [r for r in _rows() if r.section != "hosts" and r.type not in SUB_TABLES]
    checked = 0
    for row in rows:
        if row.required == "yes" or row.required.startswith("yes ("):
            with pytest.raises(DataFileError):
                parse_data_file(_without(text, row.section, {row.key}))
            checked += 1
        elif (row.required == "no" or row.required.startswith("no (")) and _has(
            text, row.section, row.key
        ):
            # Keys that exist only together with this one go with it (`end` with `start`).
            dependent = {r.key for r in rows if f"only with `{row.key}`" in r.required}
            parse_data_file(_without(text, row.section, {row.key} | dependent))
            checked += 1
    assert checked > 50
