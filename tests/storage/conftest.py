"""Fixtures for the storage tests: real SQLite files in tmp_path, closed after each test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pytest

from storage.catalog import CatalogStore
from storage.db import Database
from storage.migrations import migrate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

# A small valid file that uses every kind of reference.
MINIMAL: Final = """\
schema_version = 2
language = "de"
timezone = "Europe/Berlin"

[[sources]]
id = "quelle-1"
label = "Quelle"
title = "Titel"
publisher = "Verlag"
url = "https://example.org/1"
date = 2014-05-05

[[people]]
id = "erika-muster"
name = "Erika Muster"
role = "Referentin"
organisation = "Beispiel GmbH"
summary = "Eine Person."
sources = ["quelle-1"]

[initiative]
name = "Initiative"
description = "Eine Initiative."
head = "erika-muster"
project_partners_2014 = ["netz-a"]
sources = ["quelle-1"]

[[networks]]
slug = "netz-a"
name = "Netz A"
short_name = "A"
name_is_placeholder = false
aliases = ["A", "Netz A"]
city = "Ulm"
region = "Ulm"
description = "Ein Netzwerk."
membership = "confirmed"
sources = ["quelle-1"]

[networks.figures]
members = "rund 100"

[[events]]
id = "treffen-1"
fictional = false
kind = "network_meeting"
number = 1
title = "Treffen"
description = "Ein Treffen."
status = "held"
date = 2014-07-01
start = 2014-07-01T10:00:00
end = 2014-07-01T12:00:00
city = "Ulm"
hosts = [{ name = "Netz A", network = "netz-a" }, { name = "Jemand" }]
outcomes = ["Ein Ergebnis."]
sources = ["quelle-1"]

[[events.programme]]
kind = "keynote"
title = "Vortrag"
speaker = "erika-muster"

[[events]]
id = "treffen-2"
fictional = false
kind = "network_meeting"
title = "Zweites Treffen"
description = "Datum unbekannt."
status = "announced"
date_known = false
date_text = "nach der Sommerpause 2014"
sources = ["quelle-1"]

[[faq]]
id = "faq-1"
question = "Was?"
answer = "Das."
sources = ["quelle-1"]

[[faq]]
id = "faq-bot"
question = "Wie?"
answer = "So."
about_bot = true
sources = []
"""


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """Return a migrated database in a fresh file."""
    database = await Database.open(tmp_path / "data" / "bot.sqlite3")
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
def store(db: Database) -> CatalogStore:
    """Return the catalog store on the test database."""
    return CatalogStore(db)
