"""Anything a person can send gets a short polite German answer and crashes nothing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.sandbox import Sandbox
    from tests.e2e.conftest import Person


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> object:
    """Fail any test in this module during which something logged an error."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_sticker_and_photo(bot: BotApp, person: Person) -> None:
    """Non-text messages are answered politely."""
    sticker = {
        "file_id": "CAACAgIAAxkBAAE",
        "file_unique_id": "AgADsticker",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    (reply,) = await person.send(sticker=sticker)
    assert "Textnachrichten" in reply.text
    photo = [{"file_id": "AgACAgIAAxk", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
    (reply,) = await person.send(photo=photo, caption="Was ist das?")
    assert "Textnachrichten" in reply.text


async def test_long_and_html_text(bot: BotApp, person: Person) -> None:
    """10,000 characters and typed HTML get a valid reply; the HTML is never echoed raw."""
    replies = await person.say("Treffen " * 1250)
    assert replies
    assert all(len(m.text) <= 4096 for m in replies)
    replies = await person.say("<script>alert(1)</script> <b>Wann</b> ist das Treffen?")
    assert all("<script>" not in (m.html or "") for m in replies)
    assert all("<b>Wann</b>" not in (m.html or "") for m in replies)


async def test_unknown_command(bot: BotApp, person: Person) -> None:
    """A command that does not exist is named as such, with a pointer to the help."""
    (reply,) = await person.say("/gibtsnicht")
    assert "Befehl kenne ich nicht" in reply.text
    assert "/hilfe" in reply.text


async def test_forged_callback_data(bot: BotApp, sandbox: Sandbox, person: Person) -> None:
    """Forged or stale button data is refused politely and changes nothing."""
    (networks,) = await person.say("/netzwerke")
    for data in [
        "net:show:gibt-es-nicht",
        "ev:ics:netzwerktreffen-5",
        "ev:up:99999",
        "x" * 64,
        "ev:show:../../etc",
        "net:show:",
        "💥",
    ]:
        calls = len(sandbox.calls)
        sandbox.press_button(person.user_id, networks.message_id, data, check=False)
        await sandbox.wait_idle(person.user_id, quiet=0.2, timeout=10)
        answers = [c for c in sandbox.calls[calls:] if c.method == "answerCallbackQuery"]
        assert answers, f"callback {data!r} was not answered"
    assert person.messages()[0].text == networks.text


async def test_page_beyond_the_end(bot: BotApp, sandbox: Sandbox, person: Person) -> None:
    """A page number beyond the last page still shows a valid list."""
    (upcoming,) = await person.say("/termine")
    sandbox.press_button(person.user_id, upcoming.message_id, "ev:up:7", check=False)
    await sandbox.wait_idle(person.user_id, quiet=0.2, timeout=10)
    assert person.messages()[-1].text


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(min_size=1, max_size=300).filter(lambda s: s.strip() != ""))
async def test_any_text_gets_a_reply(bot: BotApp, person: Person, text: str) -> None:
    """Arbitrary Unicode text always gets at least one valid reply."""
    replies = await person.say(text)
    assert replies
    assert all(0 < len(m.text) <= 4096 for m in replies)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.text(min_size=1, max_size=64).filter(lambda s: 0 < len(s.encode()) <= 64))
async def test_any_callback_data_is_answered(
    bot: BotApp, sandbox: Sandbox, person: Person, data: str
) -> None:
    """Arbitrary callback data is always answered and never crashes the bot."""
    if not person.messages():
        await person.say("/start")
    message = person.messages()[0]
    calls = len(sandbox.calls)
    sandbox.press_button(person.user_id, message.message_id, data, check=False)
    await sandbox.wait_idle(person.user_id, quiet=0.1, timeout=10)
    assert any(c.method == "answerCallbackQuery" for c in sandbox.calls[calls:])
