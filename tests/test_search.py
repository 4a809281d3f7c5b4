"""Finding meetings and networks by words (inline sharing) and rendering them as results."""

from __future__ import annotations

import dataclasses

from bot.domain.search import query_words, search
from bot.views.inline import deep_link, inline_articles
from tests.conftest import TODAY
from tests.qa.helpers import catalog, context, html_errors


def ids(query: str, limit: int = 20) -> tuple[list[str], list[str]]:
    """Return the event ids and network slugs a query finds today."""
    found = search(catalog(), query, TODAY, limit=limit)
    return [e.id for e in found.events], [n.slug for n in found.networks]


def test_words_are_folded() -> None:
    """Case, umlauts and punctuation do not matter."""
    assert query_words("  Baden-WÜRTTEMBERG, Ulm! ") == ["baden", "wuerttemberg", "ulm"]


def test_a_city_finds_meetings_ahead_first_then_networks() -> None:
    """Karlsruhe: the demo meeting ahead first, then past meetings, and the network."""
    events, networks = ids("karlsruhe")
    assert events[0] == "demo-2027-03-karlsruhe"
    assert len(events) > 1
    assert networks == ["cyberforum-karlsruhe"]


def test_every_word_must_begin_a_word() -> None:
    """All words count, each as the beginning of a word: "ulm" is not Neckarsulm."""
    events, networks = ids("ulm")
    assert networks == ["it-netzwerk-ulm"]
    assert all("ulm" in e for e in events)
    assert ids("karlsruhe ulm") == ([], [])
    assert ids("Cyberfor") == (ids("cyberforum")[0], ["cyberforum-karlsruhe"])


def test_empty_query_lists_the_meetings_ahead() -> None:
    """Nothing typed: the meetings ahead, earliest first, no networks."""
    events, networks = ids("")
    assert events == [e.id for e in catalog().upcoming_events(TODAY)][:20]
    assert networks == []


def test_limit_keeps_room_for_networks() -> None:
    """With many meetings found, networks still get a third of the places."""
    events, networks = ids("netzwerk", limit=6)
    assert len(events) + len(networks) <= 6
    assert len(networks) >= 2


def test_articles_are_the_cards_with_a_deep_link() -> None:
    """Each result carries its card's valid HTML and a t.me start link within Telegram's rules."""
    ctx = context(TODAY)
    found = search(ctx.catalog, "karlsruhe", TODAY)
    articles = inline_articles(ctx, found, "netzwerkbot")
    assert articles[0].id == "ev:demo-2027-03-karlsruhe"
    for article in articles:
        assert html_errors(article.text) == []
        assert len(article.id.encode()) <= 64
        assert article.button_url is not None
        assert article.button_url.startswith("https://t.me/netzwerkbot?start=")
    assert deep_link("netzwerkbot", "termin_" + "x" * 60) is None  # over 64 characters
    assert deep_link("netzwerkbot", "termin_a.b") is None  # a dot is not allowed
    odd = dataclasses.replace(found.events[0], id="a.b")
    (article,) = inline_articles(ctx, dataclasses.replace(found, events=(odd,), networks=()), "x")
    assert article.button_url is None
