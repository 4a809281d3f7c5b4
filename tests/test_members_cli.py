"""``netzwerkbot members import|list|check-password`` on a real database file."""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot import members_cli
from bot.config import Settings
from bot.domain.account import LIGHT_HASH_COST, Passwords
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


async def test_unclosed_quote_or_huge_field_changes_nothing(tmp_path: Path) -> None:
    """A field past csv's 131,072 characters is one German line, never a traceback."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    # An unclosed quotation mark takes the rest of a (long) file into one field.
    rest = "".join(f"m{n}@example.org,Mitglied {n},mit-pforzheim\n" for n in range(4000))
    members_file.write_text(GOOD + 'offen@example.org,"Offen,mit-pforzheim\n' + rest)
    for argv in (("import", str(members_file)), ("import", "--sync", str(members_file))):
        code, out, err = await run(settings, *argv)
        assert (code, out) == (1, "")
        assert err.splitlines()[1].startswith("Zeile 4: ab hier kann die Datei nicht gelesen")
    members_file.write_text("email,name,network\na@example.org," + "x" * 200_000 + ",\n")
    code, _, err = await run(settings, "import", str(members_file))
    assert code == 1
    assert "Zeile 2: ab hier kann die Datei nicht gelesen werden" in err
    members_file.write_text("x" * 200_000 + "\n" + GOOD)
    code, _, err = await run(settings, "import", str(members_file))
    assert code == 1
    assert "Zeile 1: die erste Zeile muss die Spalten email, name, network nennen" in err
    code, out, _ = await run(settings, "list")
    assert out.splitlines()[-1] == "0 Mitglieder"


async def test_with_the_ldap_directory_nothing_is_written(tmp_path: Path) -> None:
    """With NETZWERKBOT_DIRECTORY=ldap the bot never reads the embedded members: one line."""
    settings = replace(await prepared(tmp_path), directory="ldap")
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(GOOD, encoding="utf-8")
    for argv in (
        ("import", "--sync", str(members_file)),
        ("list",),
        ("deactivate", "max@example.org"),
        ("delete", "max@example.org"),
        ("check-password", "max@example.org"),
    ):
        code, out, err = await run(settings, *argv)
        assert (code, out) == (2, "")
        assert err.startswith("Die Mitglieder stehen im LDAP-Verzeichnis")
        assert err.count("\n") == 1
    code, out, _ = await run(replace(settings, directory="embedded"), "list")
    assert out.splitlines()[-1] == "0 Mitglieder"


async def _audit(settings: Settings) -> list[tuple[str, str]]:
    db = await Database.open(settings.database)
    try:
        rows = await db.fetchall("SELECT action, detail FROM audit ORDER BY id")
    finally:
        await db.close()
    return [(str(r[0]), str(r[1])) for r in rows]


async def _linked_member(settings: Settings, email: str, user_id: int) -> int:
    """Link a Telegram user to a member, give them a password and an open dialog."""
    db = await Database.open(settings.database)
    try:
        store = MemberStore(db, passwords=Passwords(LIGHT_HASH_COST))
        member = await store.find(email)
        assert member is not None
        now = datetime.now(UTC)
        await store.link(member.id, user_id, now=now)
        await store.set_password(member.id, "Ein langes Kennwort", now=now)
        async with db.transaction():
            await db.execute(
                "INSERT INTO account_flows (chat_id, nonce, purpose, step, member_id, "
                "started_at, expires_at) VALUES (?, 'n', 'password', 'code', ?, ?, ?)",
                (user_id, member.id, "2030-01-01T00:00:00Z", "2030-01-01T00:10:00Z"),
            )
        return member.id
    finally:
        await db.close()


async def _flows(settings: Settings) -> int:
    db = await Database.open(settings.database)
    try:
        row = await db.fetchone("SELECT COUNT(*) FROM account_flows")
    finally:
        await db.close()
    assert row is not None
    return int(row[0])


async def test_deactivate_ends_link_dialogs_and_login(tmp_path: Path) -> None:
    """A deactivated member stays listed as inactive; link, dialogs and login end; audited."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(GOOD, encoding="utf-8")
    await run(settings, "import", str(members_file))
    member_id = await _linked_member(settings, "erika.muster@example.org", 4242)
    assert await _flows(settings) == 1
    code, out, _ = await run(settings, "deactivate", "Erika.Muster@example.org")
    assert code == 0
    assert "erika.muster@example.org ist deaktiviert" in out
    code, out, _ = await run(settings, "list")
    erika = out.splitlines()[1].split("\t")
    assert erika[0] == "erika.muster@example.org"
    assert erika[3] == "inaktiv"
    assert erika[5] == "-", "the link to the chat ended"
    assert await _flows(settings) == 0, "the open dialog ended"
    password = "Ein langes Kennwort"
    assert (await run(settings, "check-password", "erika.muster@example.org", stdin=password))[
        0
    ] == 1
    assert await _audit(settings) == [("member_deactivated", f'{{"member_id": {member_id}}}')]
    code, _, err = await run(settings, "deactivate", "niemand@example.org")
    assert code == 1
    assert "Es gibt kein Mitglied mit der Adresse niemand@example.org." in err
    assert (await run(settings, "deactivate", "keine adresse"))[0] == 2
    # A later import that lists the member makes them active again.
    code, out, _ = await run(settings, "import", str(members_file))
    assert "0 neu, 1 geändert, 1 unverändert" in out
    db = await Database.open(settings.database)
    try:
        member = await MemberStore(db, passwords=Passwords(LIGHT_HASH_COST)).find(
            "erika.muster@example.org"
        )
    finally:
        await db.close()
    assert member is not None
    assert member.active
    assert member.telegram_user_id is None, "reactivation does not restore the link"


async def test_delete_erases_member_and_link(tmp_path: Path) -> None:
    """Delete removes the record with password hash, link and dialogs; the audit has the id."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(GOOD, encoding="utf-8")
    await run(settings, "import", str(members_file))
    member_id = await _linked_member(settings, "erika.muster@example.org", 4242)
    code, out, _ = await run(settings, "delete", "erika.muster@example.org")
    assert code == 0
    assert "erika.muster@example.org ist gelöscht." in out
    code, out, _ = await run(settings, "list")
    assert "erika" not in out
    assert out.splitlines()[-1] == "1 Mitglied"
    assert await _flows(settings) == 0
    audit = await _audit(settings)
    assert audit == [("member_deleted", f'{{"member_id": {member_id}}}')]
    assert "erika" not in str(audit), "the audit does not keep the erased address"
    db = await Database.open(settings.database)
    try:
        row = await db.fetchone("SELECT COUNT(*) FROM members WHERE telegram_user_id = 4242")
    finally:
        await db.close()
    assert row is not None
    assert row[0] == 0
    code, _, err = await run(settings, "delete", "erika.muster@example.org")
    assert code == 1
    assert "Es gibt kein Mitglied" in err


async def test_import_sync_deactivates_the_missing(tmp_path: Path) -> None:
    """--sync deactivates active members missing from the file and lists them."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(
        GOOD + "ada@example.org,Ada Lovelace,mit-pforzheim\n", encoding="utf-8"
    )
    await run(settings, "import", str(members_file))
    await _linked_member(settings, "max@example.org", 5151)
    smaller = tmp_path / "neu.csv"
    smaller.write_text(
        "email,name,network\nerika.muster@example.org,Erika Muster,connect-it-heilbronn-franken\n",
        encoding="utf-8",
    )
    code, out, _ = await run(settings, "import", "--sync", str(smaller))
    assert code == 0
    lines = out.splitlines()
    assert "0 neu, 0 geändert, 1 unverändert" in lines[0]
    assert lines[1] == "2 Mitglieder, die in der Datei fehlen, wurden deaktiviert."
    assert lines[2:] == ["  ada@example.org", "  max@example.org"]
    code, out, _ = await run(settings, "list")
    status = {line.split("\t")[0]: line.split("\t")[3] for line in out.splitlines()[1:-1]}
    assert status == {
        "ada@example.org": "inaktiv",
        "erika.muster@example.org": "aktiv",
        "max@example.org": "inaktiv",
    }
    assert await _flows(settings) == 0
    assert [a for a, _ in await _audit(settings)] == ["member_deactivated"] * 2
    # Syncing again deactivates nobody more; a bad file changes nothing, not even with --sync.
    code, out, _ = await run(settings, "import", "--sync", str(smaller))
    assert "0 Mitglieder, die in der Datei fehlen, wurden deaktiviert." in out
    smaller.write_text("email,name,network\n", encoding="utf-8")
    code, _, err = await run(settings, "import", "--sync", str(smaller))
    assert code == 1
    assert "keine Mitglieder" in err
    code, out, _ = await run(settings, "list")
    assert "erika.muster@example.org\tErika Muster\tconnect-it-heilbronn-franken\taktiv" in out


async def test_control_characters_in_names(tmp_path: Path) -> None:
    """Names with control characters are refused with their line; the list never prints any."""
    settings = await prepared(tmp_path)
    members_file = tmp_path / "mitglieder.csv"
    members_file.write_text(
        GOOD
        + "a@example.org,Ann\x1b[2J,mit-pforzheim\n"
        + 'b@example.org,"Bob\nNeu",mit-pforzheim\n'
        + "c@example.org,Carl\u202egnp.exe,mit-pforzheim\n",
        encoding="utf-8",
    )
    code, out, err = await run(settings, "import", str(members_file))
    assert code == 1
    assert out == ""
    for line in (4, 5, 7):  # Bob's quoted line break makes his row lines 5-6
        assert f"Zeile {line}: der Name enthält ein Steuerzeichen" in err
    # A name stored before the import checked for control characters is printed escaped.
    db = await Database.open(settings.database)
    try:
        async with db.transaction():
            await db.execute(
                "INSERT INTO members (email, name, status, created_at, updated_at) "
                "VALUES ('alt@example.org', ?, 'active', '2026-01-01T00:00:00Z', "
                "'2026-01-01T00:00:00Z')",
                ("Alt\x1b]0;owned\x07\u202e",),
            )
    finally:
        await db.close()
    code, out, _ = await run(settings, "list")
    assert code == 0
    assert not any(c in out for c in "\x1b\x07\u202e")
    assert "alt@example.org\tAlt\\x1b]0;owned\\x07\\u202e\t" in out
