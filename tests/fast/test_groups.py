"""Groups: who may change a group's /abo (getChatMember at every press), when the bot speaks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tests.fast.conftest import GROUP, MEMBER, answers, shown
from tests.fast.fakes import BOT_USERNAME

if TYPE_CHECKING:
    from tests.fast.conftest import Harness, Person

GROUP_ADMIN: Final = 2001
ONLY_ADMINS: Final = "Nur die Administratoren der Gruppe können ihre Abos ändern."


def group_topics(fast: Harness) -> list[tuple[object, ...]]:
    """Return the group's subscriptions as stored."""
    return fast.rows(
        "SELECT topic, target FROM subscriptions WHERE chat_id = ? ORDER BY topic", GROUP
    )


def a_group(fast: Harness) -> tuple[Person, Person]:
    """Register the group with an administrator and a plain member; return both."""
    fast.updates.group(GROUP, "IT-Netzwerk Karlsruhe")
    admin = fast.person(GROUP_ADMIN, "Ada")
    member = fast.person(MEMBER, "Max")
    fast.request.members[(GROUP, GROUP_ADMIN)] = "administrator"
    fast.request.members[(GROUP, MEMBER)] = "member"
    return admin, member


async def test_only_the_groups_administrators_change_its_abo(fast: Harness) -> None:
    """Anyone may look; a member's press is refused with an alert; the status is asked anew."""
    admin, member = a_group(fast)
    (panel,) = await member.say(f"/abo@{BOT_USERNAME}", chat_id=GROUP)
    assert panel.plain.startswith("Abos der Gruppe IT-Netzwerk Karlsruhe")
    calls = await member.press("Alle Netzwerktreffen", panel)
    (answer,) = answers(calls)
    assert (answer.params["text"], answer.params["show_alert"]) == (ONLY_ADMINS, True)
    assert not shown(calls)
    assert group_topics(fast) == []

    calls = await admin.press("Alle Netzwerktreffen", panel)
    asked = fast.request.of("getChatMember")
    assert [(c.params["chat_id"], c.params["user_id"]) for c in asked][-1] == (
        GROUP,
        GROUP_ADMIN,
    )
    (edited,) = shown(calls)
    assert "✅ Alle Netzwerktreffen" in edited.labels
    assert group_topics(fast) == [("meetings", "")]

    # Demoted a moment ago: the next press asks Telegram again and is refused.
    fast.request.members[(GROUP, GROUP_ADMIN)] = "member"
    (answer,) = answers(await admin.press("Neuigkeiten", edited))
    assert answer.params["text"] == ONLY_ADMINS
    fast.request.members[(GROUP, GROUP_ADMIN)] = "creator"
    assert shown(await admin.press("Neuigkeiten", edited))
    assert group_topics(fast) == [("meetings", ""), ("news", "")]


async def test_a_failed_status_question_refuses(fast: Harness) -> None:
    """When Telegram cannot say who administers the group, the change is refused, politely."""
    admin, _member = a_group(fast)
    (panel,) = await admin.say("/abo", chat_id=GROUP)
    fast.request.fail("getChatMember", 500)
    (answer,) = answers(await admin.press("Alle Netzwerktreffen", panel))
    assert answer.params["text"] == ONLY_ADMINS
    assert group_topics(fast) == []


async def test_the_bot_speaks_in_a_group_only_when_addressed(fast: Harness) -> None:
    """Members' talk and unknown commands get nothing; a mention or a reply is answered."""
    _admin, member = a_group(fast)
    assert await member.say("Wann ist das nächste Treffen?", chat_id=GROUP) == []
    assert await member.say("/gibtsnicht", chat_id=GROUP) == []  # perhaps another bot's
    (answer,) = await member.say(f"@{BOT_USERNAME} wann ist das nächste Treffen?", chat_id=GROUP)
    assert "Karlsruhe" in answer.plain
    # It quotes whose question it answers.
    assert answer.params["reply_parameters"]["allow_sending_without_reply"] is True
    assert answer.message_id is not None
    (again,) = await member.say(
        "Und was macht cyberLAGO?", chat_id=GROUP, reply_to=answer.message_id
    )
    assert "cyberLAGO" in again.plain


async def test_unknown_command_in_a_private_chat_is_answered(person: Person) -> None:
    """In a private chat an unknown command is named as such, with the way to the help."""
    (reply,) = await person.say("/gibtsnicht")
    assert (
        reply.plain
        == "Diesen Befehl kenne ich nicht. Senden Sie /hilfe, um zu sehen, was ich kann."
    )


async def test_added_to_a_group_it_greets_once(fast: Harness) -> None:
    """Added to a group, the bot says what it does there and how to address it."""
    admin, _member = a_group(fast)
    calls = await fast.process(fast.updates.bot_status(GROUP, admin.user_id, "left", "member"))
    (greeting,) = shown(calls)
    assert greeting.chat_id == GROUP
    assert greeting.plain.startswith("Guten Tag! Ich bin der Assistent des IT Bündnis BW.")
    assert f"@{BOT_USERNAME}" in greeting.plain
    assert "/abo" in greeting.plain
    # A status change that is no joining (member to member) greets nobody.
    again = await fast.process(fast.updates.bot_status(GROUP, admin.user_id, "member", "member"))
    assert shown(again) == []


async def test_removed_from_a_group_its_subscriptions_end(fast: Harness) -> None:
    """Removed from the group, the bot forgets the group's subscriptions at once."""
    admin, _member = a_group(fast)
    (panel,) = await admin.say("/abo", chat_id=GROUP)
    await admin.press("Alle Netzwerktreffen", panel)
    assert group_topics(fast) == [("meetings", "")]
    calls = await fast.process(fast.updates.bot_status(GROUP, admin.user_id, "member", "left"))
    assert shown(calls) == []
    assert group_topics(fast) == []


async def test_a_person_blocking_the_bot_is_recorded(fast: Harness, person: Person) -> None:
    """Blocking marks the subscriber blocked; unblocking makes them active again."""
    (panel,) = await person.say("/abo")
    await person.press("Alle Netzwerktreffen", panel)
    await fast.process(fast.updates.bot_status(MEMBER, MEMBER, "member", "kicked"))
    assert fast.rows("SELECT status FROM subscribers WHERE chat_id = ?", MEMBER) == [("blocked",)]
    await fast.process(fast.updates.bot_status(MEMBER, MEMBER, "kicked", "member"))
    assert fast.rows("SELECT status FROM subscribers WHERE chat_id = ?", MEMBER) == [("active",)]


async def test_a_group_becoming_a_supergroup_keeps_its_subscriptions(fast: Harness) -> None:
    """The migration service message moves the group's subscriptions to the new chat id."""
    admin, _member = a_group(fast)
    (panel,) = await admin.say("/abo", chat_id=GROUP)
    await admin.press("Alle Netzwerktreffen", panel)
    supergroup = GROUP * 1000
    update = fast.updates.message(admin.user_id, chat_id=GROUP, migrate_to_chat_id=supergroup)
    assert shown(await fast.process(update)) == []
    assert group_topics(fast) == []
    assert fast.rows("SELECT topic FROM subscriptions WHERE chat_id = ?", supergroup) == [
        ("meetings",)
    ]
