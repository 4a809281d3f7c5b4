"""Anything a person sends, and Telegram's faults: a polite German answer, never a traceback.

Every text the bot sends passes the sandbox's strict HTML parser inside the fake (a text
Telegram would refuse is answered with 400, and the ``fast`` fixture fails on any 400).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.formatting import finalize_text, parse_html
from tests.fast.conftest import GROUP, answers, shown
from tests.fast.fakes import BOT_USERNAME

if TYPE_CHECKING:
    from tests.fast.conftest import Harness, Person
    from tests.fast.fakes import Call

APOLOGY: Final = (
    "Entschuldigung, bei uns ist etwas schiefgegangen. Bitte versuchen Sie es gleich noch "
    "einmal oder senden Sie /hilfe."
)
ONLY_TEXT: Final = "Ich kann leider nur Textnachrichten lesen."
NO_ACCOUNTS: Final = (
    "Die Kontofunktionen sind derzeit leider nicht verfügbar. Ein neues Kennwort können Sie "
    "mit „Kennwort vergessen?“ auf der Website festlegen."
)
STICKER: Final = {
    "file_id": "CAACAgIAAxkBAAE",
    "file_unique_id": "AgADsticker",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}
HYPOTHESIS: Final = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture the log from WARNING up (a traceback of the error handler would be there)."""
    caplog.set_level(logging.WARNING)
    return caplog


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages logged at ERROR or above during the test."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def valid_reply(call: Call) -> None:
    """Assert that a sent text is valid Telegram HTML of 1-4096 characters, in German."""
    parsed = finalize_text(parse_html(call.text))
    assert 0 < len(parsed.text) <= 4096
    assert "Traceback" not in parsed.text
    assert "Error" not in parsed.text


async def test_sticker_and_photo_get_a_polite_answer(
    person: Person, errors: pytest.LogCaptureFixture
) -> None:
    """Non-text messages are answered politely."""
    (reply,) = await person.send(sticker=STICKER)
    assert reply.plain.startswith(ONLY_TEXT)
    photo = [{"file_id": "AgACAgIAAxk", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
    (reply,) = await person.send(photo=photo, caption="Was ist das?")
    assert reply.plain.startswith(ONLY_TEXT)
    assert logged_errors(errors) == []


async def test_ten_thousand_characters(person: Person, errors: pytest.LogCaptureFixture) -> None:
    """A 10,000-character message gets valid replies within Telegram's limits."""
    replies = await person.say("Treffen " * 1250)
    assert replies
    for reply in replies:
        valid_reply(reply)
    replies = await person.say("ä" * 10_000)
    assert replies
    for reply in replies:
        valid_reply(reply)
    assert logged_errors(errors) == []


async def test_typed_html_is_never_echoed_raw(person: Person) -> None:
    """HTML in a question is never applied in the answer."""
    replies = await person.say("<script>alert(1)</script> <b>Wann</b> ist das Treffen?")
    assert replies
    assert all("<script>" not in r.text and "<b>Wann</b>" not in r.text for r in replies)


@HYPOTHESIS
@given(text=st.text(min_size=1, max_size=500).filter(lambda s: s.strip() != ""))
async def test_any_text_gets_a_valid_polite_reply(
    fast: Harness, person: Person, text: str
) -> None:
    """Arbitrary Unicode text always gets at least one valid reply and no apology."""
    before = len(fast.request.calls)
    replies = await person.say(text)
    assert replies, text
    for reply in replies:
        valid_reply(reply)
        assert reply.plain != APOLOGY
    assert not fast.request.refused()[before:]


@HYPOTHESIS
@given(data=st.text(min_size=1, max_size=64).filter(lambda s: len(s.encode()) <= 64))
async def test_any_callback_data_is_answered(fast: Harness, person: Person, data: str) -> None:
    """Arbitrary callback data is always answered, and never with the apology."""
    first = fast.request.sent(person.user_id)
    (message,) = first[:1] or await person.say("/start")
    calls = await person.press_data(data, message)
    assert len(answers(calls)) == 1
    assert all(c.plain != APOLOGY for c in shown(calls))


@pytest.mark.parametrize("command", ["/kennwort", "/konto", "/konto_trennen"])
async def test_account_commands_without_smtp(fast: Harness, person: Person, command: str) -> None:
    """Without SMTP the account commands say so and point to the website; nothing stored."""
    (reply,) = await person.say(command)
    assert reply.plain == NO_ACCOUNTS
    assert fast.rows("SELECT COUNT(*) FROM account_flows") == [(0,)]
    # No dialog took the chat: the next message is an ordinary question.
    (reply,) = await person.say("/hilfe")
    assert reply.plain != NO_ACCOUNTS


async def test_password_wish_in_words_without_smtp(person: Person) -> None:
    """Asking for a new password in words gets the website, not a dialog that cannot work."""
    replies = await person.say("Ich habe mein Kennwort vergessen")
    text = " ".join(r.plain for r in replies)
    assert "Website" in text or "Kennwort vergessen" in text
    assert "E-Mail-Adresse" not in text


async def test_a_500_on_the_reply_gets_the_apology(
    fast: Harness, person: Person, errors: pytest.LogCaptureFixture
) -> None:
    """Telegram fails the reply once: logged without the text, then a German apology."""
    fast.request.fail("sendMessage", 500)
    replies = await person.say("Wann ist das nächste Treffen?")
    assert [r.plain for r in replies] == [APOLOGY]
    assert [c.status for c in fast.request.of("sendMessage")] == [500, 200]
    (error,) = logged_errors(errors)
    assert "nächste Treffen" not in error


async def test_a_403_on_the_reply_is_not_answered(
    fast: Harness, person: Person, errors: pytest.LogCaptureFixture
) -> None:
    """A person who blocked the bot gets no apology (it would be refused too)."""
    fast.request.fail("sendMessage", 403)
    assert await person.say("/start") == []
    assert len(fast.request.of("sendMessage")) == 1


async def test_a_long_429_on_a_reply_gives_up_without_an_apology(
    fast: Harness, person: Person, errors: pytest.LogCaptureFixture
) -> None:
    """Flood control asks for a minute: the reply is dropped, no apology deepens the flood.

    (A short retry_after is waited for and retried; that waits in real time and is tested
    with a fake clock in tests/test_sender.py and end to end in tests/e2e/test_sender.py.)
    """
    fast.request.fail("sendMessage", 429, retry_after=60)
    assert await person.say("/start") == []
    assert [c.status for c in fast.request.of("sendMessage")] == [429]
    (error,) = logged_errors(errors)
    assert "Erika" not in error


@HYPOTHESIS
@given(text=st.text(min_size=1, max_size=300).filter(lambda s: s.strip() != ""))
async def test_any_text_in_a_group_is_left_alone_unless_addressed(
    fast: Harness, person: Person, text: str
) -> None:
    """In a group, members' talk gets no answer; addressed to the bot, a valid one."""
    fast.updates.group(GROUP)
    if f"@{BOT_USERNAME}".lower() not in text.lower() and not text.startswith("/"):
        assert await person.say(text, chat_id=GROUP) == []
    replies = await person.say(f"@{BOT_USERNAME} {text}", chat_id=GROUP)
    assert replies, text
    for reply in replies:
        valid_reply(reply)
        assert reply.plain != APOLOGY
