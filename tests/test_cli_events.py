"""``netzwerkbot events list|add|cancel``: the admins' meeting commands for scripts."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bot.__main__ import main

if TYPE_CHECKING:
    from pathlib import Path

# The CLI runs on the real clock, and a start may lie at most 5 years ahead: next year.
YEAR = datetime.now(UTC).year + 1
ADD = [
    "events",
    "add",
    "--title",
    "Netzwerktreffen <Zukunft>",
    "--start",
    f"18.03.{YEAR} 14:00",
    "--end",
    "16:00",
    "--city",
    "Stuttgart",
    "--description",
    "Ein Treffen.",
    "--coordinates",
    "48.7784, 9.18",
]


def query(database: Path, sql: str) -> list[tuple[object, ...]]:
    """Read rows with a second connection."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point NETZWERKBOT_DATABASE at a new file and keep any .env out."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("NETZWERKBOT_DATABASE", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def test_add_list_cancel(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Add prints the id; list shows it in German; cancel cancels it, once; all audited."""
    assert main(ADD) == 0
    event_id = capsys.readouterr().out.strip()
    assert event_id == f"netzwerktreffen-zukunft-{YEAR}-03-18"
    assert query(database, "SELECT COUNT(*) FROM networks") == [(11,)], "bundled data loaded"
    assert query(
        database,
        "SELECT latitude, longitude, sequence FROM events JOIN "
        "event_versions ON event_id = id WHERE created_by IS NULL AND created_at "
        "IS NOT NULL",
    ) == [(48.7784, 9.18, 0)]

    assert main(["events", "list"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(event_id))
    assert f"18.03.{YEAR} 14:00" in line
    assert "Netzwerktreffen <Zukunft>" in line
    assert "[angekündigt]" in line

    assert main(["events", "cancel", event_id]) == 0
    assert capsys.readouterr().out.strip() == f"Der Termin {event_id} wurde abgesagt."
    assert main(["events", "list"]) == 0
    assert event_id not in capsys.readouterr().out
    assert main(["events", "list", "--all"]) == 0
    out = capsys.readouterr().out
    assert f"{event_id}  18.03.{YEAR} 14:00  Netzwerktreffen <Zukunft>  [abgesagt]" in out
    assert "[hat stattgefunden]" in out, "--all lists past meetings too"

    assert main(["events", "cancel", event_id]) == 1
    assert "vorbei oder abgesagt" in capsys.readouterr().err
    audit = query(database, "SELECT actor, action, detail FROM audit ORDER BY id")
    assert [(actor, action, json.loads(str(detail))) for actor, action, detail in audit] == [
        (None, "meeting_created", {"event_id": event_id}),
        (None, "meeting_cancelled", {"event_id": event_id}),
    ]


def test_add_for_a_network(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--network names the host network; an unknown slug is refused in German."""
    assert main([*ADD, "--network", "cyberlago", "--venue", "Hafen"]) == 0
    event_id = capsys.readouterr().out.strip()
    with sqlite3.connect(database) as conn:
        hosts = conn.execute(
            "SELECT name, network_slug FROM event_hosts WHERE event_id = ?", (event_id,)
        ).fetchall()
    assert hosts == [("cyberLAGO", "cyberlago")]
    assert main([*ADD, "--network", "nirgendwo"]) == 1
    assert "kein Netzwerk mit dem Kürzel nirgendwo" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--start",
            "32.13.2099 25:00",
            "Bitte im Format TT.MM.JJJJ HH:MM, z. B. 18.03.2027 14:00",
        ),
        ("--start", "18.03.2001 14:00", "Der Beginn muss in der Zukunft liegen."),
        (
            "--start",
            "31.12.9999 23:30",
            "Der Beginn darf höchstens 5 Jahre in der Zukunft liegen.",
        ),
        ("--end", "13:00", "Das Ende muss am selben Tag nach dem Beginn liegen."),
        ("--end", "spät", "Bitte die Uhrzeit im Format HH:MM angeben"),
        ("--title", " ", "Der Titel muss 1 bis 200 Zeichen lang sein."),
        ("--coordinates", "95, 9", "Bitte senden Sie Breiten- und Längengrad in Grad"),
    ],
)
def test_bad_values(
    database: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    """A bad value: exit 1, a German message, nothing written."""
    args = list(ADD)
    args[args.index(option) + 1] = value
    assert main(args) == 1
    assert message in capsys.readouterr().err
    assert query(database, "SELECT COUNT(*) FROM audit") == [(0,)]


def test_cancel_unknown(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown id: exit 1 and a German message."""
    assert main(["events", "cancel", "gibt-es-nicht"]) == 1
    assert "Es gibt keinen Termin mit der Kennung gibt-es-nicht." in capsys.readouterr().err


def test_usage_errors_exit_2(database: Path) -> None:
    """A missing option is a usage error, as argparse reports it."""
    with pytest.raises(SystemExit) as raised:
        main(["events", "add", "--title", "Ohne Beginn"])
    assert raised.value.code == 2
