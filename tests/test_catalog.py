"""The catalogs are what `pybabel extract` and `pybabel update` write, and German is complete."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from bot.catalog_check import (
    POT,
    ROOT,
    extract,
    main,
    problems,
    read_catalog,
    spelling_problems,
)
from bot.i18n import translator


def test_catalog_complete() -> None:
    """Every message in the code has a German translation with the same placeholders."""
    assert problems(extract(), read_catalog()) == []


def test_catalog_files_as_pybabel_writes_them() -> None:
    """The committed template and .po match a fresh `pybabel extract` and `update`."""
    assert main([]) == 0


def test_template_names_files_without_line_numbers() -> None:
    """A line added above a text does not make the committed template stale."""
    locations = [line for line in POT.read_text("utf-8").splitlines() if line.startswith("#:")]
    assert locations
    assert not [line for line in locations if re.search(r"\.py:\d", line)]


def test_extraction_covers_every_module_with_texts() -> None:
    """Each module that marks a text, at any depth of bot/, handlers/ or storage/, is extracted."""
    marked = re.compile(r"\b(?:_|N_|gettext|ngettext)\(\s*(?:\"|$)", re.MULTILINE)
    template = POT.read_text("utf-8")
    extracted = {
        name
        for line in template.splitlines()
        if line.startswith("#:")
        for name in line.split()[1:]
    }
    with_texts = {
        path.relative_to(ROOT).as_posix()
        for folder in ("bot", "handlers", "storage")
        for path in Path(ROOT, folder).rglob("*.py")
        if marked.search(path.read_text("utf-8"))
    }
    assert with_texts
    assert with_texts - extracted == set()


def test_template_version_is_the_project_version() -> None:
    """The template's Project-Id-Version follows the package version."""
    config = tomllib.loads(Path(ROOT, "pyproject.toml").read_text("utf-8"))
    extract_options = config["tool"]["babel"]["extract_messages"]
    assert extract_options["version"] == config["project"]["version"]


def test_catalog_loads_and_translates() -> None:
    """The catalog loads from package data and speaks German."""
    assert translator().gettext("Upcoming meetings") == "Kommende Treffen"


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed")
def test_spelling_finds_a_misspelt_word_and_accepts_the_catalog() -> None:
    """hunspell with de_DE knows the catalog's words and reports a misspelling."""
    catalog = read_catalog()
    assert spelling_problems(catalog) == []
    catalog.add("Upcoming meetings, misspelt", "Komende Trefen {count} <b>/termine</b>")
    found = spelling_problems(catalog)
    assert [p.split("'")[1] for p in found] == ["Komende", "Trefen"]
