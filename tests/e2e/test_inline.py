"""Inline sharing end to end: ``@botname karlsruhe`` answered by the real bot via the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import until
from tests.e2e.test_subscriptions import KARLSRUHE

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.sandbox import Sandbox
    from tests.e2e.conftest import Person

USER: Final = 1001


async def ask(sandbox: Sandbox, query: str) -> dict[str, Any]:
    """Type ``@bot query`` in some chat; return the bot's answerInlineQuery parameters."""
    query_id = sandbox.send_inline_query(USER, query, chat_type="supergroup")
    await until(lambda: query_id in sandbox.inline_answers)
    return sandbox.inline_answers[query_id]


async def test_karlsruhe_lists_the_demo_meeting(
    bot: BotApp, sandbox: Sandbox, person: Person
) -> None:
    """The Karlsruhe meeting's card, with a deep link that opens the card in the bot."""
    answer = await ask(sandbox, "karlsruhe")
    assert answer["cache_time"] == 60
    assert answer["is_personal"] is False
    results = {r["id"]: r for r in answer["results"]}
    meeting = results[f"ev:{KARLSRUHE}"]
    assert meeting["type"] == "article"
    assert meeting["title"] == "Frühjahrstreffen der regionalen IT-Netzwerke 2027 (Demo)"
    assert "Karlsruhe" in meeting["description"]
    content = meeting["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "Karlsruhe" in content["message_text"]
    assert "erfundener Demo-Termin" in content["message_text"]
    (button,) = [b for row in meeting["reply_markup"]["inline_keyboard"] for b in row]
    assert button["text"] == "Im Bot öffnen"
    url = urlsplit(button["url"])
    assert (url.netloc, url.path) == ("t.me", "/netzwerkbot_sandbox_bot")
    (start,) = parse_qs(url.query)["start"]
    assert start == f"termin_{KARLSRUHE}"
    # The link's /start opens the same card in the private chat.
    (card,) = await person.say(f"/start {start}")
    assert card.text == sandbox.messages(USER)[-1].text
    assert "Karlsruhe" in (card.text or "")


async def test_empty_query_lists_the_next_meetings(bot: BotApp, sandbox: Sandbox) -> None:
    """Nothing typed yet: the meetings ahead, the next one first."""
    results = (await ask(sandbox, ""))["results"]
    assert results
    assert results[0]["id"] == f"ev:{KARLSRUHE}"
    assert all(r["id"].startswith("ev:") for r in results)


async def test_networks_and_nothing(bot: BotApp, sandbox: Sandbox) -> None:
    """A network's name finds its card (folded: case and umlauts); nonsense finds nothing."""
    results = (await ask(sandbox, "CYBERlago"))["results"]
    network = next(r for r in results if r["id"] == "net:cyberlago")
    assert "cyberLAGO" in network["input_message_content"]["message_text"]
    (button,) = [b for row in network["reply_markup"]["inline_keyboard"] for b in row]
    assert button["url"].endswith("?start=netzwerk_cyberlago")
    assert (await ask(sandbox, "xyzzy quux"))["results"] == []
