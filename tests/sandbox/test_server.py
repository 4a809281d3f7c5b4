"""The sandbox over real HTTP, driven by PTB's real Bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import telegram
from telegram import BotCommand, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.sandbox import Sandbox
from tests.sandbox.conftest import USER

if TYPE_CHECKING:
    from pathlib import Path


def keyboard(data: str) -> InlineKeyboardMarkup:
    """Return a one-button inline keyboard."""
    return InlineKeyboardMarkup([[InlineKeyboardButton("Los", callback_data=data)]])


def last_description(sandbox: Sandbox) -> str:
    """Return the description of the sandbox's last answer."""
    return str(sandbox.calls[-1].response["description"])


async def raw(sandbox: Sandbox, method: str, **kwargs: Any) -> httpx.Response:
    """Call the Bot API without PTB, to send what PTB never would."""
    async with httpx.AsyncClient() as client:
        return await client.post(f"{sandbox.base_url}{sandbox.token}/{method}", **kwargs)


async def test_get_me(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.first_name == "netzwerkbot"
    assert me.username == "netzwerkbot_sandbox_bot"


async def test_html_entities_use_utf16_offsets(bot: telegram.Bot, sandbox: Sandbox) -> None:
    message = await bot.send_message(USER, "😀 <b>fett <i>ä😀</i></b>", parse_mode="HTML")
    assert message.text == "😀 fett ä😀"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 3, 8),
        ("italic", 8, 3),
    ]
    stored = sandbox.last_message(USER)
    assert stored is not None
    assert stored.html == "😀 <b>fett <i>ä😀</i></b>"
    assert stored.text == "😀 fett ä😀"


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("Hallo<br>Welt", 'Unsupported start tag "br" at byte offset 5'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>offen", 'Can\'t find end tag corresponding to start tag "b"'),
    ],
)
async def test_bad_html_is_rejected(
    bot: telegram.Bot, sandbox: Sandbox, text: str, description: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, text, parse_mode="HTML")
    assert last_description(sandbox) == f"Bad Request: can't parse entities: {description}"
    assert sandbox.messages(USER) == []


async def test_text_length_counts_after_entity_parsing(bot: telegram.Bot) -> None:
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "😀" * 4096)  # code points, not UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "a" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")


async def test_caption_limit(bot: telegram.Bot) -> None:
    await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)


async def test_callback_data_counts_bytes(bot: telegram.Bot, sandbox: Sandbox) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard("ä" * 32))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "zu lang", reply_markup=keyboard("ä" * 33))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "zu lang", reply_markup=keyboard("a" * 65))
    assert len(sandbox.messages(USER)) == 1


async def test_button_needs_exactly_one_action(sandbox: Sandbox) -> None:
    markup = '{"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://a.de"}]]}'
    response = await raw(
        sandbox, "sendMessage", data={"chat_id": USER, "text": "t", "reply_markup": markup}
    )
    assert response.status_code == 400
    assert "exactly one" in response.json()["description"]
    markup = '{"inline_keyboard": [[{"text": "x", "url": "not a url"}]]}'
    response = await raw(
        sandbox, "sendMessage", data={"chat_id": USER, "text": "t", "reply_markup": markup}
    )
    assert response.json()["description"] == "Bad Request: BUTTON_URL_INVALID"


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        (
            "sendMessage",
            {"chat_id": USER, "text": "x", "disable_notification": "vielleicht"},
            'Bad Request: field "disable_notification" must be of type Boolean',
        ),
        (
            "deleteMessage",
            {"chat_id": USER, "message_id": "eins"},
            'Bad Request: field "message_id" must be of type Integer',
        ),
        (
            "sendMessage",
            {"chat_id": USER, "text": "x", "reply_markup": "{kaputt"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "sendMessage",
            {"chat_id": USER, "text": "x", "entities": '{"type": "bold"}'},
            'Bad Request: field "entities" must be of type Array of MessageEntity',
        ),
        ("sendMessage", {"text": "x"}, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": USER}, "Bad Request: message text is empty"),
        ("sendDocument", {"chat_id": USER}, "Bad Request: there is no document in the request"),
        ("sendMessage", {"chat_id": 999, "text": "x"}, "Bad Request: chat not found"),
        (
            "setMyCommands",
            {"commands": '[{"command": "Start!", "description": "x"}]'},
            "Bad Request: BOT_COMMAND_INVALID",
        ),
        (
            "setMyCommands",
            {"commands": "[]", "scope": '{"type": "everywhere"}'},
            'Bad Request: can\'t parse BotCommandScope: unsupported "type" value "everywhere"',
        ),
        (
            "answerCallbackQuery",
            {"callback_query_id": "1", "text": "x" * 201},
            "Bad Request: MESSAGE_TOO_LONG",
        ),
    ],
)
async def test_parameters_are_checked_against_the_spec(
    sandbox: Sandbox, method: str, params: dict[str, Any], description: str
) -> None:
    response = await raw(sandbox, method, data=params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}


async def test_json_and_query_parameters(sandbox: Sandbox) -> None:
    response = await raw(sandbox, "SENDMESSAGE", json={"chat_id": USER, "text": "json"})
    assert response.json()["result"]["text"] == "json"
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{sandbox.base_url}{sandbox.token}/sendMessage", params={"chat_id": USER, "text": "q"}
        )
    assert response.json()["result"]["text"] == "q"


async def test_token_and_method_errors(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sandbox.base_url}1:WRONG/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = await raw(sandbox, "sendTelegram")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_unimplemented_methods_are_visible(bot: telegram.Bot) -> None:
    assert await bot.set_my_description("Beschreibung")
    with pytest.raises(BadRequest, match=r"(?i)method not supported by the sandbox"):
        await bot.get_user_profile_photos(USER)


async def test_document_upload_and_resend(bot: telegram.Bot, sandbox: Sandbox) -> None:
    sent = await bot.send_document(
        USER, b"BEGIN:VCALENDAR", filename="termin.ics", caption="Termin"
    )
    assert sent.document is not None
    assert sent.document.file_name == "termin.ics"
    assert sent.caption == "Termin"
    stored = sandbox.last_message(USER)
    assert stored is not None
    assert stored.document is not None
    assert stored.document.content == b"BEGIN:VCALENDAR"
    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id
    file = await bot.get_file(sent.document.file_id)
    assert await file.download_as_bytearray() == b"BEGIN:VCALENDAR"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(USER, "no-such-file")


async def test_photo_needs_an_image(bot: telegram.Bot) -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x03\x08\x02\x00\x00\x00"
    )
    message = await bot.send_photo(USER, png)
    assert (message.photo[-1].width, message.photo[-1].height) == (2, 3)
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, b"not an image")


async def test_venue_is_a_message_with_location(bot: telegram.Bot, sandbox: Sandbox) -> None:
    message = await bot.send_venue(USER, 49.0069, 8.4037, "Schloss", "Karlsruhe")
    assert message.venue is not None
    assert (message.venue.title, message.venue.address) == ("Schloss", "Karlsruhe")
    assert message.location is not None
    assert message.location.latitude == 49.0069
    stored = sandbox.last_message(USER)
    assert stored is not None
    assert stored.venue is not None
    assert stored.venue["location"] == {"latitude": 49.0069, "longitude": 8.4037}
    with pytest.raises(BadRequest, match=r"(?i)VENUE_GEO_POINT_INVALID"):
        await bot.send_venue(USER, 91.0, 8.0, "Schloss", "Karlsruhe")
    with pytest.raises(BadRequest, match=r"(?i)title is empty"):
        await bot.send_venue(USER, 49.0, 8.0, " ", "Karlsruhe")


async def test_edit_and_delete(bot: telegram.Bot, sandbox: Sandbox) -> None:
    message = await bot.send_message(
        USER, "<b>alt</b>", parse_mode="HTML", reply_markup=keyboard("a")
    )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>alt</b>", USER, message.message_id, parse_mode="HTML", reply_markup=keyboard("a")
        )
    edited = await bot.edit_message_text("neu", USER, message.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "neu"
    assert edited.reply_markup is None  # an edit without markup removes the keyboard
    await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    stored = sandbox.last_message(USER)
    assert stored is not None
    assert (stored.text, stored.edits, stored.html) == ("neu", 2, None)
    assert await bot.delete_message(USER, message.message_id)
    assert stored.deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, message.message_id)
    assert await bot.delete_messages(USER, [1, 2, 3])


async def test_copy_and_forward(bot: telegram.Bot, sandbox: Sandbox) -> None:
    sandbox.send_text(USER, "Frage")
    copied = await bot.copy_message(USER, USER, 1)
    forwarded = await bot.forward_message(USER, USER, 1)
    assert forwarded.forward_origin is not None
    assert [m.text for m in sandbox.messages(USER)] == ["Frage", "Frage"]
    assert copied.message_id == 2
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(USER, USER, 99)


async def test_commands_per_scope_and_language(bot: telegram.Bot, sandbox: Sandbox) -> None:
    await bot.set_my_commands([BotCommand("start", "Beginnen")], language_code="de")
    await bot.set_my_commands(
        [BotCommand("admin", "Verwalten")], scope=BotCommandScopeChat(USER), language_code="de"
    )
    assert sandbox.commands(None, "de") == [{"command": "start", "description": "Beginnen"}]
    assert sandbox.commands({"type": "chat", "chat_id": USER}, "de") == [
        {"command": "admin", "description": "Verwalten"}
    ]
    assert sandbox.commands() == []
    fetched = await bot.get_my_commands(scope=BotCommandScopeChat(USER), language_code="de")
    assert [c.command for c in fetched] == ["admin"]
    assert await bot.delete_my_commands(language_code="de")
    assert sandbox.commands(None, "de") == []
    assert await bot.set_chat_menu_button(USER, telegram.MenuButtonCommands())
    assert sandbox.menu_button(USER) == {"type": "commands"}


async def test_get_updates_long_poll_and_offset(bot: telegram.Bot, sandbox: Sandbox) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    update_id = sandbox.send_text(USER, "/start@netzwerkbot_sandbox_bot abc")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start@netzwerkbot_sandbox_bot abc"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 30)]
    # Not confirmed yet: delivered again; then confirmed by the offset.
    assert [u.update_id for u in await bot.get_updates()] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == ()
    assert sandbox.pending_updates == 0


async def test_second_poll_terminates_the_first(bot: telegram.Bot, sandbox: Sandbox) -> None:
    # PTB's Bot polls over a pool of one connection, so the older poll comes from elsewhere.
    first = asyncio.create_task(raw(sandbox, "getUpdates", data={"timeout": 5}))
    await asyncio.sleep(0.05)
    assert await bot.get_updates(timeout=0) == ()
    response = await first
    assert response.status_code == 409
    assert response.json()["description"].startswith(
        "Conflict: terminated by other getUpdates request"
    )


async def test_press_button(bot: telegram.Bot, sandbox: Sandbox) -> None:
    message = await bot.send_message(USER, "Wähle", reply_markup=keyboard("net:show:1"))
    with pytest.raises(ValueError, match="no button"):
        sandbox.press_button(USER, message.message_id, "net:show:2")
    with pytest.raises(ValueError, match="not found"):
        sandbox.press_button(USER, 999, "net:show:1")
    sandbox.press_button(USER, message.message_id, "net:show:1")
    forged = sandbox.press_button(USER, 999, "forged", check=False)
    updates = await bot.get_updates()
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "net:show:1"
    assert query.message is not None
    assert query.message.message_id == message.message_id
    assert updates[1].update_id == forged
    assert await query.answer("Gut")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()


async def test_faults(bot: telegram.Bot, sandbox: Sandbox) -> None:
    sandbox.set_bot_blocked(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "x")
    sandbox.set_bot_blocked(USER, blocked=False)
    updates = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "kicked",
        "member",
    ]
    sandbox.inject_fault(USER, "deactivated", count=1)
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "wieder da")
    sandbox.inject_fault(USER, "chat_not_found")
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(USER, "x")
    sandbox.clear_faults(USER)
    sandbox.inject_fault(USER, "server_error", count=1)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(USER, "x")
    assert not isinstance(caught.value, BadRequest)
    await bot.send_message(USER, "ok")
    assert [c.response["result"]["text"] for c in sandbox.accepted_sends] == ["wieder da", "ok"]


async def test_flood_over_http(
    bot: telegram.Bot, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    sandbox.set_flood(True)
    for _ in range(3):
        await bot.send_message(USER, "x")
    await bot.send_chat_action(USER, "typing")  # chat actions do not count
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert sandbox.calls[-1].response["parameters"] == {"retry_after": 1}
    assert sandbox.flood_refusals == 1
    sandbox.set_flood(False)
    await bot.send_message(USER, "x")


async def test_control_endpoints(sandbox: Sandbox) -> None:
    base = f"http://127.0.0.1:{sandbox.port}/_sandbox"
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{base}/send_text", json={"user_id": 7, "text": "/start"})
        assert response.json() == {"ok": True, "result": 1}
        await client.post(f"{base}/flood", json={"enabled": True})
        assert sandbox.flood_enabled
        await client.post(f"{base}/fault", json={"chat_id": 7, "kind": "blocked", "count": 1})
        sent = await client.post(
            f"{sandbox.base_url}{sandbox.token}/sendMessage", data={"chat_id": 7, "text": "x"}
        )
        assert sent.status_code == 403
        await client.post(
            f"{sandbox.base_url}{sandbox.token}/sendMessage",
            data={
                "chat_id": 7,
                "text": "y",
                "reply_markup": '{"inline_keyboard": [[{"text": "b", "callback_data": "d"}]]}',
            },
        )
        messages = (await client.get(f"{base}/messages", params={"chat_id": 7})).json()["result"]
        assert [m["text"] for m in messages] == ["y"]
        response = await client.post(
            f"{base}/press_button", json={"user_id": 7, "message_id": 2, "data": "zz"}
        )
        assert response.status_code == 400
        count = (await client.get(f"{base}/calls/count")).json()["result"]
        assert count["by_method"] == {"sendMessage": 2}
        assert count["accepted_sends"] == 1


async def test_wait_idle(bot: telegram.Bot, sandbox: Sandbox) -> None:
    sandbox.send_text(USER, "hallo")
    with pytest.raises(TimeoutError):
        await sandbox.wait_idle(USER, quiet=0.01, timeout=0.05)
    await bot.get_updates()
    await bot.send_message(USER, "antwort")
    await sandbox.wait_idle(USER, quiet=0.05, timeout=2)


async def test_application_polls_the_sandbox(sandbox: Sandbox) -> None:
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"Hallo <b>{context.args}</b>")

    app = (
        Application.builder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        sandbox.send_text(USER, "/start code")
        await sandbox.wait_idle(USER, quiet=0.1, timeout=5)
        await app.updater.stop()
        await app.stop()
    reply = sandbox.last_message(USER)
    assert reply is not None
    assert reply.text == "Hallo ['code']"
    assert reply.entities == [{"type": "bold", "offset": 6, "length": 8}]


async def test_group_chat(bot: telegram.Bot, sandbox: Sandbox) -> None:
    sandbox.add_group(-100, "Netzwerk Karlsruhe")
    sandbox.send_text(USER, "/netzwerke@netzwerkbot_sandbox_bot", chat_id=-100)
    (update,) = await bot.get_updates()
    assert update.effective_chat is not None
    assert update.effective_chat.type == "group"
    sent = await bot.send_message(-100, "Hallo Gruppe", reply_markup=keyboard("g:1"))
    sandbox.press_button(USER, sent.message_id, "g:1", chat_id=-100)
    with pytest.raises(ValueError, match="unknown chat"):
        sandbox.press_button(USER, sent.message_id, "g:1", chat_id=-200)
    updates = await bot.get_updates(offset=update.update_id + 1)
    assert updates[0].callback_query is not None


async def test_markdown_v2_entities_parameter_and_replies(bot: telegram.Bot) -> None:
    message = await bot.send_message(USER, "*fett* 1\\.0", parse_mode="MarkdownV2")
    assert message.text == "fett 1.0"
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(USER, "1.0", parse_mode="MarkdownV2")
    plain = await bot.send_message(USER, "abc", entities=[telegram.MessageEntity("italic", 1, 2)])
    assert [(e.type, e.offset, e.length) for e in plain.entities] == [("italic", 1, 2)]
    reply = await bot.send_message(
        USER, "Antwort", reply_parameters=telegram.ReplyParameters(plain.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == plain.message_id
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "x", reply_parameters=telegram.ReplyParameters(999))


async def test_spec_path_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "api.json"
    getme = {"name": "getMe", "returns": ["User"], "fields": []}
    spec.write_text(json.dumps({"methods": {"getMe": getme}, "types": {}}), encoding="utf-8")
    monkeypatch.setenv("NETZWERKBOT_API_SPEC", str(spec))
    async with Sandbox() as box:
        assert (await raw(box, "getMe")).status_code == 200
        assert (await raw(box, "sendMessage")).status_code == 404
