"""``netzwerkbot ask``, ``eval`` and ``unanswered``: question answering from the shell."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import pytest

from bot.__main__ import main
from storage.db import Database
from storage.migrations import migrate
from storage.unanswered import UnansweredStore
from tests.qa.helpers import DEV_SET

if TYPE_CHECKING:
    from pathlib import Path

NOW: Final = ["--now", "26.11.2026 10:00"]
SMALL_SET: Final = """
[[items]]
id = "a1"
text = "Welche Netzwerke gibt es?"
intent = "network_list"
must_contain = [["cyberLAGO", "Netzwerke"]]

[[items]]
id = "a2"
text = "Was kostet ein Kaffee beim Treffen in Ulm?"
intent = "unknown"
must_contain = ["Preisliste der Cafeteria"]
must_not_contain = ["weiß ich leider nicht"]
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point NETZWERKBOT_DATABASE at a new file and keep any .env out."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("NETZWERKBOT_DATABASE", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def test_ask_prints_text_and_buttons(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ask prints the answer as plain text and the buttons in brackets; nothing is written."""
    assert main(["ask", "Wann ist das nächste Treffen?", "--bundled", *NOW]) == 0
    out = capsys.readouterr().out
    assert "<b>" not in out
    assert "18. März 2027" in out
    assert any(line.startswith("[") and line.endswith("]") for line in out.splitlines())
    assert not database.exists(), "ask with --bundled does not touch the database"


def test_ask_from_a_new_database(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without data in the database, ask answers from the bundled facts (no demo meetings)."""
    assert main(["ask", "Welche Netzwerke gibt es?"]) == 0
    assert "cyberLAGO" in capsys.readouterr().out
    assert main(["ask", "<b>Gibt es hier Pizza?</b>"]) == 0
    out = capsys.readouterr().out
    assert "weiß ich leider nicht" in out


def test_ask_bad_time(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --now that is not a German date and time is refused with the format."""
    assert main(["ask", "Hallo", "--now", "morgen"]) == 2
    assert "TT.MM.JJJJ" in capsys.readouterr().err


def test_eval_prints_misses_and_summary(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """eval lists each miss with its problems and ends with the German summary; --min fails."""
    path = tmp_path / "set.toml"
    path.write_text(SMALL_SET, encoding="utf-8")
    assert main(["eval", str(path), "--bundled", *NOW]) == 0
    out = capsys.readouterr().out
    assert "a1" not in out
    assert "a2 [unknown] Was kostet ein Kaffee beim Treffen in Ulm?" in out
    assert "missing 'Preisliste der Cafeteria'" in out
    assert "contains 'weiß ich leider nicht'" in out
    assert out.strip().endswith(
        "Richtig: 1 von 2 (50,0 %). Erfundene Fakten: 1. Unmaskiert wiedergegebene Eingaben: 0."
    )
    assert main(["eval", str(path), "--bundled", "--min", "0.9", *NOW]) == 1


def test_eval_public_set(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The public dev set scored from the shell as the tests score it."""
    if not DEV_SET.is_file():
        pytest.skip(f"question set not found: {DEV_SET}")
    assert main(["eval", str(DEV_SET), "--bundled", "--min", "0.95", *NOW]) == 0
    assert "Erfundene Fakten: 0." in capsys.readouterr().out


def test_eval_bad_files(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file, bad TOML, no UTF-8 or an item without text: one German line, exit 1."""
    assert main(["eval", str(tmp_path / "missing.toml")]) == 1
    assert "kann nicht gelesen werden" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[[items]\n", encoding="utf-8")
    assert main(["eval", str(bad)]) == 1
    assert "ist kein Fragenkatalog" in capsys.readouterr().err
    bad.write_text('[[items]]\nid = "x"\n', encoding="utf-8")
    assert main(["eval", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"{bad} ist kein Fragenkatalog: Eintrag 1 in [[items]] braucht das Textfeld text\n"
    )
    for toml, problem in (
        ("x = 1\n", "Er enthält keine [[items]] mit Fragen"),
        ("items = [1]\n", "Eintrag 1 in [[items]] ist keine Tabelle"),
        (
            '[[items]]\nid = "q7"\ntext = "Wann?"\nmust_contain = "Mai"\n',
            "Eintrag 1 (q7) in [[items]]: must_contain muss eine Liste von Texten (oder von "
            "Listen von Texten) sein",
        ),
    ):
        bad.write_text(toml, encoding="utf-8")
        assert main(["eval", str(bad)]) == 1
        assert capsys.readouterr().err == f"{bad} ist kein Fragenkatalog: {problem}\n"
    bad.write_bytes(b'\xff\xfe[[items]]\nid = "x"\n')  # UTF-16 from an editor: not TOML
    assert main(["eval", str(bad)]) == 1
    assert capsys.readouterr().err == f"{bad} kann nicht gelesen werden: UnicodeDecodeError\n"


def test_unanswered(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """unanswered prints the kept texts with German times, newest first; --days filters."""

    async def keep() -> None:
        db = await Database.open(database)
        try:
            await migrate(db)
            store = UnansweredStore(db)
            now = datetime.now(UTC)
            await store.add("Gibt es vegane Häppchen?", now=now - timedelta(days=3))
            await store.add("Wo parke ich in Ulm?", now=now - timedelta(hours=1))
        finally:
            await db.close()

    assert main(["unanswered"]) == 0
    assert "Keine unbeantworteten Fragen in den letzten 30 Tagen." in capsys.readouterr().out
    asyncio.run(keep())
    assert main(["unanswered"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "Wo parke ich in Ulm?",
        "Gibt es vegane Häppchen?",
    ]
    assert re.match(r"\d\d\.\d\d\.\d\d, \d\d:\d\d  ", lines[0]), "a German date and time"
    assert main(["unanswered", "--days", "1"]) == 0
    assert "vegane" not in capsys.readouterr().out
    assert main(["unanswered", "--days", "0"]) == 2
    assert "ganze Zahl" in capsys.readouterr().err


def test_unanswered_with_a_huge_number_of_days(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--days far past the 30 kept days prints the 30 days, never an OverflowError."""
    for days in ("31", "1000000000", "99999999999999999999"):
        assert main(["unanswered", "--days", days]) == 0
        captured = capsys.readouterr()
        assert captured.out == "Keine unbeantworteten Fragen in den letzten 30 Tagen.\n"
        assert captured.err == ""


def test_unanswered_in_one_day_in_german(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--days 1 means the last 24 hours, and says so (not "am letzten Tag")."""
    assert main(["unanswered", "--days", "1"]) == 0
    assert capsys.readouterr().out == "Keine unbeantworteten Fragen in den letzten 24 Stunden.\n"


def test_unanswered_never_prints_control_characters(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stranger's escape sequences reach the operator's terminal as harmless characters."""
    hostile = "\x1b]52;c;cm0gLXJmIH4=\x07Wo parke ich?\x1b[2J\x1b[1A\rKein Problem"

    async def keep() -> None:
        db = await Database.open(database)
        try:
            await migrate(db)
            await UnansweredStore(db).add(hostile, now=datetime.now(UTC))
        finally:
            await db.close()

    asyncio.run(keep())
    assert main(["unanswered"]) == 0
    out = capsys.readouterr().out
    assert "Wo parke ich?" in out
    assert "Kein Problem" in out
    assert not any(ord(c) < 32 and c != "\n" for c in out), repr(out)
    assert "\x7f" not in out
