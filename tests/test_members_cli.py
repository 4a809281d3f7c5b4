"""``netzwerkbot members import|list|check-password`` on a real database file."""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot import members_cli
from bot.account import LIGHT_HASH_COST, Passwords
from bot.config import Settings
from storage.catalog import CatalogStore
from storage.db import Database
from storage.members import MemberStore
from storage.migrations import migrate

if TYPE_CHECKING:
    from pathlib import Path

GOOD = """email,name,network
Erika.Muster@example.org,Erika Muster,connect-it-heilbronn-franken
max@example.org,Max Beispiel,mit-pforzheim
"""


async def run(settings: Settings, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run ``members ARGV``; return the exit code, standard output and standard error."""
    parser = argparse.ArgumentParser()
    members_cli.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["members", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = await members_cli.run(args, settings, stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def prepared(tmp_path: Path) -> Settings:
    """Return settings for a database that holds the bundled networks."""
    settings = replace(Settings(), database=tmp_path / "bot.sqlite3", hash_cost=LIGHT_HASH_COST)
    db = await Database.open(settings.database)
    try:
        await migrate(db)
        await CatalogStore(db).load_bundled(include_demo=False)
    finally:
        await db.close()
    return settings


async def test_import_list_and_check_password(tmp_path: Path) -> None:
    """Import, list, and verify a password set through the directory."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(GOOD, encoding="utf-8")
    code, out, _ = await run(settings, "import", str(members_file))
    assert code == 0
    assert "2 neu, 0 geändert, 0 unverändert" in out
    code, out, _ = await run(settings, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t")[:3] == ["E-Mail", "Name", "Netzwerk"]
    assert lines[1].startswith("erika.muster@example.org\tErika Muster\t")
    assert "nicht gesetzt" in lines[1]
    assert lines[-1] == "2 Mitglieder"

    db = await Database.open(settings.database)
    try:
        store = MemberStore(db, passwords=Passwords(LIGHT_HASH_COST))
        member = await store.find("erika.muster@example.org")
        assert member is not None
        await store.set_password(member.id, "Ein langes Kennwort\n", now=datetime.now(UTC))
    finally:
        await db.close()
    # One trailing newline is stripped; a second one belongs to the password.
    assert (await run(settings, "check-password", "ERIKA.MUSTER@example.org", stdin="x\n"))[0] == 1
    code, out, _ = await run(
        settings, "check-password", "erika.muster@example.org", stdin="Ein langes Kennwort\n\n"
    )
    assert code == 0
    assert "stimmt" in out
    code, _, _ = await run(
        settings, "check-password", "erika.muster@example.org", stdin="Ein langes Kennwort\n"
    )
    assert code == 1
    assert (await run(settings, "check-password", "nobody@example.org", stdin="x"))[0] == 1
    assert (await run(settings, "check-password", "keine adresse", stdin="x"))[0] == 2


async def test_bad_file_changes_nothing(tmp_path: Path) -> None:
    """Every bad row is listed with its line number; the good rows are not imported either."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(
        GOOD + "kaputt,Jemand,mit-pforzheim\nneu@example.org,Neu,unbekannt\n", encoding="utf-8"
    )
    code, out, err = await run(settings, "import", str(members_file))
    assert code == 1
    assert out == ""
    assert "Zeile 4: 'kaputt' ist keine E-Mail-Adresse" in err
    assert "Zeile 5: es gibt kein Netzwerk mit dem Kürzel 'unbekannt'" in err
    code, out, _ = await run(settings, "list")
    assert out.splitlines()[-1] == "0 Mitglieder"
    code, _, err = await run(settings, "import", str(tmp_path / "fehlt.csv"))
    assert code == 1
    assert "FileNotFoundError" in err
