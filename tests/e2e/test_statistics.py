"""/statistik and ``netzwerkbot stats``: the admins' numbers, German, counts only."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final

import pytest

from bot.__main__ import main
from bot.app import BotApp, build_application, running
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

ADMIN: Final = 7101
MEMBER: Final = 7102
GROUP: Final = -7100
UNKNOWN: Final = "Das weiß ich leider nicht."


@pytest.fixture
async def admin_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with one admin from the environment."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        yield app


async def test_statistik_shows_the_numbers(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """Subscribers per topic, questions answered and not known, German numbers; audited."""
    member = Person(sandbox, MEMBER)
    await member.say("/start")
    (panel,) = await member.say("/abo")
    await member.press("Alle Netzwerktreffen", panel)
    answered = await member.say("Wann ist das nächste Treffen?")
    assert UNKNOWN not in (answered[0].text or "")
    (unknown,) = await member.say("Wie wird das Wetter morgen in Paris?")
    assert UNKNOWN in (unknown.text or "")
    admin = Person(sandbox, ADMIN)
    (reply,) = await admin.say("/statistik")
    text = reply.text or ""
    assert text.startswith("Statistik")
    assert "Aktive Abonnenten: 1" in text
    assert "Alle Netzwerktreffen: 1" in text
    assert "Beantwortet: 1" in text
    assert "Beantwortet mit „Das weiß ich leider nicht“: 1" in text
    assert "Keine Rundschreiben." in text
    (log,) = await admin.say("/protokoll")
    assert "statistics_viewed" in (log.text or "")


async def test_statistik_only_for_admins_in_private(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """A member is refused; an admin in a group is asked to write privately."""
    (refusal,) = await Person(sandbox, MEMBER).say("/statistik")
    assert refusal.text == "Dafür fehlen Ihnen leider die Rechte."
    Person(sandbox, ADMIN)
    sandbox.add_group(GROUP, "Vorstand")
    sandbox.send_text(ADMIN, "/statistik", chat_id=GROUP)
    await sandbox.wait_idle(GROUP, quiet=0.3)
    (answer,) = sandbox.messages(GROUP)
    assert "privaten Chat" in (answer.text or "")


def test_stats_command_prints_plain_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``netzwerkbot stats`` prints the numbers as plain German text."""
    monkeypatch.setenv("NETZWERKBOT_DATABASE", str(tmp_path / "bot.sqlite3"))
    monkeypatch.chdir(tmp_path)
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("STATISTIK")
    assert "Aktive Abonnenten: 0" in out
    assert "Noch niemand folgt einem einzelnen Netzwerk." in out
    assert "<b>" not in out
