"""The German catalog is complete: no missing, empty, fuzzy or obsolete entry."""

from __future__ import annotations

from bot.catalog_check import extract, problems, read_catalog
from bot.i18n import translator


def test_catalog_complete() -> None:
    """Every message in the code has a German translation with the same placeholders."""
    assert problems(extract(), read_catalog()) == []


def test_catalog_loads_and_translates() -> None:
    """The catalog loads from package data and speaks German."""
    assert translator().gettext("Upcoming meetings") == "Kommende Treffen"
