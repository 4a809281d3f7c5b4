"""The recording request layer answers like Telegram: what Telegram refuses, it refuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.fast.fakes import BOT_ID, RecordingRequest, Updates

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CHAT = 1001


@pytest.fixture
async def bot(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Bot, RecordingRequest]]:
    """Return a plain PTB bot on the fake, with one private chat registered."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as build_application sets it
    request = RecordingRequest()
    bot = Bot("123456:fake", request=request)
    Updates(request, bot).user(CHAT)
    async with bot:
        yield bot, request


async def test_records_calls_with_decoded_parameters(bot: tuple[Bot, RecordingRequest]) -> None:
    """A sent message is recorded with typed parameters and answered as a Message."""
    client, request = bot
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="a:b")]])
    message = await client.send_message(
        CHAT, "<b>Hallo</b> &amp; mehr", parse_mode="HTML", reply_markup=markup
    )
    assert message.text == "Hallo & mehr"
    assert message.from_user is not None
    assert message.from_user.id == BOT_ID
    (call,) = request.of("sendMessage")
    assert call.chat_id == CHAT
    assert call.labels == ["Ja"]
    assert call.plain == "Hallo & mehr"
    assert request.of("getMe")


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<b>offen", "can't parse entities"),
        ("a < b", "can't parse entities"),
        ("<div>x</div>", "can't parse entities"),
        ("x" * 4097, "message is too long"),
        ("   ", "message text is empty"),
    ],
)
async def test_refuses_what_telegram_refuses(
    bot: tuple[Bot, RecordingRequest], text: str, description: str
) -> None:
    """Broken HTML, too long and empty texts are refused with Telegram's 400."""
    client, request = bot
    with pytest.raises(BadRequest):
        await client.send_message(CHAT, text, parse_mode="HTML")
    (refused,) = request.refused()
    assert refused.response["description"].startswith(f"Bad Request: {description}")


async def test_refuses_callback_data_over_64_bytes(bot: tuple[Bot, RecordingRequest]) -> None:
    """Callback data is checked against the Bot API's 1-64 bytes."""
    client, request = bot
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="ä" * 33)]])
    with pytest.raises(BadRequest):
        await client.send_message(CHAT, "x", reply_markup=markup)
    (refused,) = request.refused()
    assert refused.response["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_faults_hit_the_next_matching_calls(bot: tuple[Bot, RecordingRequest]) -> None:
    """``fail`` refuses the next calls of a method, then Telegram answers again."""
    client, request = bot
    request.fail("sendMessage", 403)
    request.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(Forbidden):
        await client.send_message(CHAT, "eins")
    with pytest.raises(RetryAfter):
        await client.send_message(CHAT, "zwei")
    await client.send_message(CHAT, "drei")
    assert [c.status for c in request.of("sendMessage")] == [403, 429, 200]
