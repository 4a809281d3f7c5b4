"""Free-text answers about subscribing, unsubscribing and reminder times, in both modes."""

from __future__ import annotations

from typing import Final

import pytest

from bot.domain.qa.intents import classify
from bot.views import callbacks
from bot.views.answers import answer_question_unguarded
from tests.qa.helpers import catalog, context, html_errors

SUBS: Final = frozenset({"subscriptions"})


def _data(text: str, features: frozenset[str] = SUBS) -> list[str | None]:
    replies = answer_question_unguarded(text, context(features=features))
    for reply in replies:
        assert not html_errors(reply.text)
    return [b.data for reply in replies for row in reply.buttons for b in row]


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("ich möchte Erinnerungen für cyberLAGO", [callbacks.subscribe("net:cyberlago")]),
        (
            "kann ich news von cyberlago abonnieren?",
            [callbacks.subscribe("net:cyberlago"), callbacks.subscribe(callbacks.CODE_NEWS)],
        ),
        (
            "Ich möchte gern Erinnerungen an die Netzwerktreffen bekommen",
            [callbacks.subscribe(callbacks.CODE_MEETINGS)],
        ),
        (
            "benachrichtige mich wenn es was neues gibt",
            [callbacks.subscribe(callbacks.CODE_NEWS)],
        ),
        (
            "Kann ich mich für Erinnerungen zum Sommertreffen anmelden?",
            [callbacks.subscribe("ev:demo-2027-06-ulm")],
        ),
        ("wochenvorschau bitte", [callbacks.subscribe(callbacks.CODE_WEEKLY)]),
    ],
)
def test_subscribe_offers_one_tap_buttons(text: str, wanted: list[str]) -> None:
    """Each thing named gets its own button; managing is always offered; nothing else."""
    data = _data(text)
    offered = [d for d in data if d and d.startswith(callbacks.SUB_ADD)]
    assert offered == wanted
    assert data[-1] == callbacks.SUB_OPEN


def test_subscribe_past_event_is_not_offered() -> None:
    """A meeting that took place gets no button, only the explanation."""
    replies = answer_question_unguarded(
        "Erinnerung an das 3. Netzwerktreffen", context(features=SUBS)
    )
    assert "bereits stattgefunden" in replies[0].text
    assert not [d for d in _data("Erinnerung an das 3. Netzwerktreffen") if "sub:add" in (d or "")]


@pytest.mark.parametrize(
    "text",
    ["Wie kann ich die Erinnerungen wieder abbestellen?", "Wie melde ich mich ab?"],
)
def test_unsubscribe_how_to_points_to_stop_and_panel(text: str) -> None:
    """A how-to question about unsubscribing: /stopp and /abo, as buttons."""
    assert _data(text) == [callbacks.SUB_STOP_ASK, callbacks.SUB_OPEN]
    reply = answer_question_unguarded(text, context(features=SUBS))[0]
    assert "/stopp" in reply.text
    assert "/abo" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "keine Nachrichten mehr bitte",
        "bitte keine nachrichten mehr schicken!!",
        "Bitte melden Sie mich von allen Erinnerungen ab",
        "hör auf mir zu schreiben!!!",
        "Könnten Sie bitte sämtliche Abos für mich beenden?",
    ],
)
def test_stop_wish_is_a_wish(text: str) -> None:
    """A clear wish to stop is marked as one (the chat handler carries it out)."""
    understanding = classify(text, catalog())
    assert (understanding.intent, understanding.topic) == ("unsubscribe", "wish")
    reply = answer_question_unguarded(text, context(features=SUBS))[0]
    assert "nichts abonniert" in reply.text  # the pure answer: a person without subscriptions


@pytest.mark.parametrize(
    "text", ["Wie melde ich mich ab?", "Kann ich die Erinnerungen abbestellen?"]
)
def test_how_to_is_no_wish(text: str) -> None:
    """A question how to unsubscribe is explained, not carried out."""
    understanding = classify(text, catalog())
    assert (understanding.intent, understanding.topic) == ("unsubscribe", "")


def test_unsubscribe_one_network_points_to_the_panel() -> None:
    """A named network is switched off in /abo."""
    assert _data("keine Erinnerungen mehr für cyberLAGO") == [callbacks.SUB_OPEN]


@pytest.mark.parametrize(
    "text",
    [
        "kann ich die Erinnerungszeit ändern?",
        "erinnerung einen Tag vorher",
        "nachts keine Nachrichten",
    ],
)
def test_settings_questions_open_the_reminder_times(text: str) -> None:
    """Lead times and quiet hours live under /erinnerungen."""
    assert classify(text, catalog()).topic == "settings"
    assert _data(text)[0] == callbacks.REM_OPEN
    assert "/erinnerungen" in answer_question_unguarded(text, context(features=SUBS))[0].text


def test_without_the_feature_nothing_is_offered() -> None:
    """Before the feature is on, the answers say honestly that it is not available yet."""
    for text in ("ich möchte Erinnerungen für cyberLAGO", "nachts keine Nachrichten"):
        assert not [d for d in _data(text, frozenset()) if d and d.startswith("sub:")]
        reply = answer_question_unguarded(text, context())[0]
        assert "noch nicht" in reply.text
