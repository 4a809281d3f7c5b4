"""The ``netzwerkbot`` command line: import, configuration errors, the scripted demo."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bot.__main__ import main
from bot.config import Settings
from tests.conftest import BERLIN, REPO

if TYPE_CHECKING:
    from pathlib import Path

DEMO_FILE = REPO / "bot" / "data" / "demo-events.toml"
ALLIANCE_FILE = REPO / "bot" / "data" / "alliance.toml"


# `netzwerkbot import` runs on the real clock and refuses new planned meetings in the past:
# the demo meetings (2027) are moved to next year once 2027 has begun.
YEAR = max(2027, datetime.now(UTC).year + 1)


def demo_text() -> str:
    """Return the demo meetings' file, its dates in YEAR."""
    return DEMO_FILE.read_text(encoding="utf-8").replace("= 2027-", f"= {YEAR}-")


def count(database: Path, table: str) -> int:
    """Return the number of rows in a table."""
    with sqlite3.connect(database) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point NETZWERKBOT_DATABASE at a new file and keep any .env out."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("NETZWERKBOT_DATABASE", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def test_import_is_idempotent(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Importing on a new path migrates first; importing again changes nothing."""
    assert main(["import", str(ALLIANCE_FILE)]) == 0
    assert "Importiert:" in capsys.readouterr().out
    assert count(database, "networks") == 11
    demo = tmp_path / "demo.toml"
    demo.write_text(demo_text(), encoding="utf-8")
    assert main(["import", str(demo)]) == 0
    assert count(database, "events") == 11
    assert main(["import", str(demo)]) == 0
    assert "0 neu, 0 geändert" in capsys.readouterr().out


def test_bad_file_is_rejected_whole(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad entry names entry and field, and the database stays unchanged."""
    assert main(["import", str(ALLIANCE_FILE)]) == 0
    text = demo_text()
    bad = tmp_path / "bad.toml"
    # The first event is fine, the last one has a malformed date: nothing may be imported.
    bad.write_text(text.replace(f"date = {YEAR}-12-02", 'date = "zweiter Dezember"'))
    capsys.readouterr()
    assert main(["import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "demo-2027-12-mannheim" in err
    assert "date" in err
    assert count(database, "events") == 7


def test_unreadable_file(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file is reported in one German line."""
    assert main(["import", "gibt-es-nicht.toml"]) == 1
    assert "kann nicht gelesen werden" in capsys.readouterr().err


def test_malformed_setting_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A malformed variable stops any command with one line naming it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETZWERKBOT_TIMEZONE", "Mars/Olympus")
    assert main(["import", str(DEMO_FILE)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "NETZWERKBOT_TIMEZONE" in err[0]


def test_unknown_variable_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A misspelt variable stops any command with one line naming it and the likely one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETZWERKBOT_ADMIN", "1")
    assert main(["events", "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "NETZWERKBOT_ADMIN:" in err[0]
    assert "meinten Sie NETZWERKBOT_ADMINS?" in err[0]


def test_run_needs_a_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``run`` without a token stops with the variable named."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NETZWERKBOT_TOKEN", raising=False)
    assert main(["run"]) == 2


async def test_scripted_demo(tmp_path: Path) -> None:
    """The demo reads lines from a pipe, prints replies with numbered buttons, exits 0."""
    from bot.demo import run_demo

    stdin = io.StringIO("/start\nwas macht cyberlago\n#1\n")
    out = io.StringIO()
    settings = Settings(database=tmp_path / "ignored.sqlite3")
    database = tmp_path / "demo.sqlite3"
    assert await run_demo(settings, database=database, stdin=stdin, out=out) == 0
    text = out.getvalue()
    assert "> /start" in text
    assert "[#1]" in text
    assert "Konstanz" in text
    assert database.exists()
    assert not (tmp_path / "ignored.sqlite3").exists()


def test_members_commands_are_wired(
    database: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``netzwerkbot members import|list|check-password`` run through the real entry point."""
    assert main(["import", str(ALLIANCE_FILE)]) == 0
    members = tmp_path / "members.csv"
    members.write_text("email,name,network\nerika@example.org,Erika Muster,cyberlago\n")
    assert main(["members", "import", str(members)]) == 0
    capsys.readouterr()
    assert main(["members", "list"]) == 0
    assert "Erika Muster" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("irgendein-kennwort\n"))
    assert main(["members", "check-password", "erika@example.org"]) != 0


@pytest.mark.parametrize(
    "argv",
    [["stats"], ["unanswered"], ["members", "list"], ["events", "list"]],
)
def test_a_database_that_is_none_is_one_line(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A text file, a directory or an impossible path as the database: one German line."""
    monkeypatch.chdir(tmp_path)
    text = tmp_path / "notizen.txt"
    text.write_text("Dies ist keine Datenbank, sondern eine Notiz.\n" * 100, encoding="utf-8")
    file_in_path = tmp_path / "datei"
    file_in_path.write_text("", encoding="utf-8")
    for path in (text, tmp_path, file_in_path / "bot.sqlite3"):
        monkeypatch.setenv("NETZWERKBOT_DATABASE", str(path))
        assert main(argv) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"Die Datenbank {path} kann nicht verwendet werden: ")
        assert captured.err.count("\n") == 1, captured.err


def _edit_in_chat(database: Path) -> None:
    """Do what admins do in the chat: retitle the spring meeting, cancel the summer one."""
    import asyncio
    import dataclasses

    from storage.catalog import CatalogStore
    from storage.db import Database

    async def edit() -> None:
        db = await Database.open(database)
        try:
            store = CatalogStore(db)
            now = datetime.now(UTC)
            spring = (await store.load()).event("demo-2027-03-karlsruhe")
            assert spring is not None
            renamed = dataclasses.replace(spring, title="Im Chat geändert")
            await store.update_event(renamed, seen=spring, actor=7, now=now, tz=BERLIN)
            await store.cancel_event("demo-2027-06-ulm", actor=7, now=now, tz=BERLIN)
        finally:
            await db.close()

    asyncio.run(edit())


def _audit(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT action, detail FROM audit ORDER BY id").fetchall()


def test_import_keeps_chat_edits_and_cancellations(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A re-import never reverts an admin's chat edit nor revives a cancelled meeting."""
    demo = tmp_path / "demo.toml"
    demo.write_text(demo_text(), encoding="utf-8")
    assert main(["import", str(ALLIANCE_FILE)]) == 0
    assert main(["import", str(demo)]) == 0
    _edit_in_chat(database)
    capsys.readouterr()

    assert main(["import", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "demo-2027-03-karlsruhe.title beibehalten" in out
    assert "demo-2027-06-ulm bleibt abgesagt" in out
    with sqlite3.connect(database) as conn:
        events = dict(conn.execute("SELECT id, title || '/' || status FROM events").fetchall())
        notices = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert events["demo-2027-03-karlsruhe"] == "Im Chat geändert/planned"
    assert events["demo-2027-06-ulm"].endswith("/cancelled")
    assert notices == 0, "nobody was told about a change that did not happen"
    action, detail = _audit(database)[-1]
    assert action == "data_imported"
    assert "demo-2027-03-karlsruhe.title" in detail
    assert "demo-2027-06-ulm.status" in detail

    assert main(["import", "--force", str(demo)]) == 0
    assert "überschrieben" in capsys.readouterr().out
    with sqlite3.connect(database) as conn:
        events = dict(conn.execute("SELECT id, status FROM events").fetchall())
    assert events["demo-2027-06-ulm"] == "planned"
    action, detail = _audit(database)[-1]
    assert action == "data_imported"
    assert '"forced"' in detail
    assert "demo-2027-06-ulm.status" in detail


def test_import_refuses_new_meetings_outside_the_window(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new planned meeting far ahead (a typo such as 9999) or in the past is refused."""
    assert main(["import", str(ALLIANCE_FILE)]) == 0
    for year in (9999, 2001):
        text = demo_text().replace(f"= {YEAR}-12-02", f"= {year}-12-02")
        bad = tmp_path / f"bad-{year}.toml"
        bad.write_text(text, encoding="utf-8")
        capsys.readouterr()
        assert main(["import", str(bad)]) == 1
        err = capsys.readouterr().err
        assert "demo-2027-12-mannheim" in err
        assert "start" in err
        assert count(database, "events") == 7
