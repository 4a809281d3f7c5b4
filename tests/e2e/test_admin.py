"""Admin management through Telegram: refusals, adding and removing admins, menus, audit."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import pytest

from bot.app import BotApp, build_application, running, services_of
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

ADMIN: Final = 7001
NEWCOMER: Final = 7002
MEMBER: Final = 7003
REFUSAL: Final = "Dafür fehlen Ihnen leider die Rechte."


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


def menu(sandbox: Sandbox, chat_id: int) -> list[str]:
    """Return the command names of a chat's own menu."""
    return [c["command"] for c in sandbox.commands({"type": "chat", "chat_id": chat_id})]


async def test_non_admin_is_refused(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """Every admin command answers a member with the refusal and changes nothing."""
    member = Person(sandbox, MEMBER)
    for command in ("/admin_hinzufuegen 123", "/admin_entfernen 123", "/protokoll"):
        (reply,) = await member.say(command)
        assert reply.text == REFUSAL
    admin = Person(sandbox, ADMIN)
    (log,) = await admin.say("/protokoll")
    assert "admin_added" not in (log.text or "")
    assert menu(sandbox, MEMBER) == []


async def test_admin_adds_and_removes_an_admin(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """An admin adds an admin (who gets the admin menu) and removes them again; audited."""
    admin = Person(sandbox, ADMIN)
    newcomer = Person(sandbox, NEWCOMER)
    await newcomer.say("/start")
    (reply,) = await admin.say("/admin_hinzufuegen 7002")
    assert reply.text == "Nutzer 7002 ist jetzt Admin."
    assert "termin_neu" in menu(sandbox, NEWCOMER)
    assert "start" in menu(sandbox, NEWCOMER), "a chat menu repeats the member commands"
    (reply,) = await newcomer.say("/protokoll")
    assert "admin_added" in (reply.text or "")

    (reply,) = await admin.say("/admin_entfernen 7002")
    assert reply.text == "Nutzer 7002 ist kein Admin mehr."
    assert menu(sandbox, NEWCOMER) == []
    (reply,) = await newcomer.say("/protokoll")
    assert reply.text == REFUSAL

    (reply,) = await admin.say("/admin_entfernen 7001")
    assert "Konfiguration" in (reply.text or "")
    (reply,) = await admin.say("/admin_hinzufuegen abc")
    assert "Telegram-Nutzerkennung" in (reply.text or "")
    (log,) = await admin.say("/protokoll")
    assert "admin_removed" in (log.text or "")
    assert "admin_added" in (log.text or "")


async def test_admin_menu_set_once_the_admin_writes(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """An admin from the environment gets their own menu once they have a chat with the bot."""
    admin = Person(sandbox, ADMIN)
    assert menu(sandbox, ADMIN) == []
    await admin.say("/start")
    await sandbox.wait_idle(ADMIN, quiet=0.2)
    assert {"start", "termin_neu", "rundschreiben", "protokoll"} <= set(menu(sandbox, ADMIN))
    calls = sum(1 for c in sandbox.calls if c.method == "setMyCommands")
    await admin.say("/hilfe")
    assert sum(1 for c in sandbox.calls if c.method == "setMyCommands") == calls, "set once"


async def test_unanswered_questions_for_admins(
    admin_bot: BotApp, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A question answered with "weiß ich nicht" is kept (text only), shown to admins, 30 days."""
    member = Person(sandbox, MEMBER)
    unknown = "Wie viele Parkplätze hat das Hotel <b>Adler</b> in Ulm? " + "sehr " * 200
    (reply,) = await member.say(unknown)
    assert "weiß ich leider nicht" in (reply.text or "")
    (reply,) = await member.say("Wann ist das nächste Treffen?")
    assert "weiß ich leider nicht" not in (reply.text or "")
    rows = query_unanswered(admin_bot)
    assert len(rows) == 1, "an answered question is not kept"
    assert len(rows[0]) == 500
    assert rows[0].startswith("Wie viele Parkplätze hat das Hotel <b>Adler</b>")

    (reply,) = await member.say("/unbeantwortet")
    assert reply.text == REFUSAL
    admin = Person(sandbox, ADMIN)
    (reply,) = await admin.say("/unbeantwortet")
    text = reply.text or ""
    assert text.startswith("Fragen, die ich nicht beantworten konnte")
    assert "Hotel <b>Adler</b> in Ulm" in text, "shown as text, escaped, not as markup"
    assert "Parkplätze" in text
    assert "nächste Treffen" not in text
    assert "&lt;b&gt;Adler" in (reply.html or "")
    assert "netzwerkbot unanswered" in text
    (log,) = await admin.say("/protokoll")
    assert "unanswered_viewed" in (log.text or "")
    assert "unbeantwortet" in menu(sandbox, ADMIN)

    sandbox.add_group(-77, "Netzwerk")
    before = len(sandbox.messages(-77))
    sandbox.send_text(ADMIN, "/unbeantwortet", chat_id=-77)
    await sandbox.wait_idle(-77, quiet=0.2, timeout=10)
    (group_reply,) = sandbox.messages(-77)[before:]
    assert "privaten Chat" in (group_reply.text or "")
    assert "Parkplätze" not in (group_reply.text or "")

    clock.advance(timedelta(days=31))
    (reply,) = await admin.say("/unbeantwortet")
    assert "Keine unbeantworteten Fragen in den letzten 30 Tagen." in (reply.text or "")
    assert query_unanswered(admin_bot) == [], "deleted after 30 days"


async def test_unanswered_with_quotes_shows_all_twenty(
    admin_bot: BotApp, sandbox: Sandbox, clock: ManualClock
) -> None:
    """20 long texts full of ' and & (5-6 characters each in HTML) are all shown, in 4096."""
    store = services_of(admin_bot).stores.unanswered
    for n in range(20):
        text = f"Frage {n:02}: " + "Gibt's 'nen Parkplatz & Kaffee? " * 20
        await store.add(text, now=clock.now() - timedelta(minutes=n))
    (reply,) = await Person(sandbox, ADMIN).say("/unbeantwortet")
    text = reply.text or ""
    assert len(text) <= 4096
    assert all(f"Frage {n:02}: Gibt's 'nen Parkplatz & Kaffee?" in text for n in range(20))
    assert "netzwerkbot unanswered" in text, "the note on the full list stays"


def query_unanswered(app: BotApp) -> list[str]:
    """Return the kept texts, read with a second connection; the table has no person column."""
    path = services_of(app).settings.database
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(unanswered)")]
        assert columns == ["id", "at", "text"]
        return [str(row[0]) for row in conn.execute("SELECT text FROM unanswered ORDER BY id")]


async def test_privacy_mentions_unanswered(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """/datenschutz says that unanswered questions are kept, how, and for how long."""
    (reply,) = await Person(sandbox, MEMBER).say("/datenschutz")
    text = reply.text or ""
    assert "Fragen, die ich nicht beantworten kann" in text
    assert "30 Tage" in text
    assert "500 Zeichen" in text


async def test_admin_commands_answer_only_in_private(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """In a group an admin gets the hint to use a private chat; no log, no change is posted."""
    group = -4242
    sandbox.add_group(group, "Netzwerk Karlsruhe")
    admin = Person(sandbox, ADMIN)
    await admin.say("/admin_hinzufuegen 7002")  # something in the log that a group must not see
    for command in ("/protokoll", "/admin_hinzufuegen 7003", "/admin_entfernen 7002"):
        before = len(sandbox.messages(group))
        sandbox.send_text(ADMIN, command, chat_id=group)
        await sandbox.wait_idle(group, quiet=0.2, timeout=10)
        (reply,) = sandbox.messages(group)[before:]
        assert reply.text == "Bitte verwenden Sie diesen Befehl im privaten Chat mit mir."
    (log,) = await admin.say("/protokoll")
    assert (log.text or "").count("audit_viewed") == 1, "only this private /protokoll"
    assert "7003" not in (log.text or ""), "/admin_hinzufuegen in the group added nobody"
    (reply,) = await admin.say("/admin_entfernen 7002")
    assert reply.text == "Nutzer 7002 ist kein Admin mehr.", "the group did not remove 7002"


async def test_deleting_an_admins_data_pseudonymises_the_audit(
    admin_bot: BotApp, sandbox: Sandbox
) -> None:
    """/meine_daten exports the audit rows naming the person; /daten_loeschen pseudonymises."""
    admin, newcomer = Person(sandbox, ADMIN), Person(sandbox, NEWCOMER)
    await newcomer.say("/start")
    await admin.say("/admin_hinzufuegen 7002")
    await newcomer.say("/protokoll")
    (document,) = await newcomer.say("/meine_daten")
    assert document.document is not None
    data = json.loads(document.document.content)
    actions = [(e["action"], e["actor"]) for e in data["audit_entries"]]
    assert ("admin_added", ADMIN) in actions, "the row that names them as the one added"
    assert ("audit_viewed", NEWCOMER) in actions, "the row of what they did"
    assert data["admin_menu"] is not None

    await newcomer.say("/daten_loeschen")
    await newcomer.press("Ja, alles löschen")
    path = services_of(admin_bot).settings.database
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT actor, action, detail FROM audit").fetchall()
    # The menu row went with the deletion (a still-admin's next message may set it again).
    (deleted,) = [json.loads(d) for _, a, d in rows if a == "personal_data_deleted"]
    assert deleted["admin_menus"] == 1
    assert deleted["audit_entries"] == 2
    naming = [r for r in rows if r[0] == NEWCOMER or str(NEWCOMER) in r[2]]
    assert naming == [], "no audit row names them any more"
    pseudonyms = {json.loads(d).get("user_id") for _, a, d in rows if a == "admin_added"}
    (pseudonym,) = pseudonyms
    assert str(pseudonym).startswith("person-")
    viewed = [json.loads(d) for actor, a, d in rows if a == "audit_viewed" and actor is None]
    assert [v["actor"] for v in viewed] == [pseudonym], "one pseudonym for one person"
    (log,) = await admin.say("/protokoll")
    assert str(NEWCOMER) not in (log.text or "")
    assert await services_of(admin_bot).stores.admins.is_admin(NEWCOMER), "rights stay"
