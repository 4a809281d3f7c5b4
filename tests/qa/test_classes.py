"""The classes of misses fixed for issue 11, each checked with sentences of its own.

None of these sentences is from a public question set: each class is checked the way a
member might write it in other words.
"""

from __future__ import annotations

import pytest

from bot.domain.qa.entities import concepts_of, extract, index_for
from bot.domain.qa.intents import classify
from bot.qa_eval import rendered
from bot.views.answers import answer_question_unguarded
from tests.qa.helpers import catalog, context


def understood(text: str) -> tuple[str, tuple[str, ...], str]:
    """Return (intent, entities, topic) at the sets' first clock."""
    ctx = context()
    u = classify(text, ctx.catalog, ctx.now, ctx.tz)
    return u.intent, u.entities, u.topic


def answer_text(text: str, features: frozenset[str] = frozenset()) -> str:
    """Return the normalized text of the answer (texts and labels)."""
    return rendered(answer_question_unguarded(text, context(features=features)))[1]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("gehalten", "gehalten"),  # not "erhalten"
        ("ueberhaupt", "ueberhaupt"),  # not "oberhaupt" (a leader word)
        ("haengt", "haengt"),  # not "faengt" (a time word)
        ("fellbch", "fellbach"),  # a typo keeps its first letter
        ("bezahlt", "zahlt"),  # a prefixed form of a vocabulary word
    ],
)
def test_fuzzy_correction_keeps_ordinary_words(typed: str, kept: str) -> None:
    """A word is corrected only to a vocabulary word with its first letter (or its tail)."""
    assert index_for(catalog()).correct(typed) == kept


def test_ordinary_words_do_not_become_cues() -> None:
    """'überhaupt' asks nothing about a leader; 'gehalten' nothing about receiving."""
    assert understood("Was kann man dich denn überhaupt fragen?")[0] == "help"
    assert "leader" not in extract("Wer hat den Vortrag gehalten?", catalog()).concepts


def test_since_when_asks_for_the_start() -> None:
    """'seit wann' asks when something began, not for a website."""
    intent, entities, _topic = understood("Seit wann gibt es cyberLAGO als Verein?")
    assert (intent, entities) == ("network_info", ("cyberlago",))
    text = answer_text("Seit wann gibt es cyberLAGO als Verein?")
    assert "2013" in text
    assert "website von" not in text
    assert "website" in extract("Wie ist die Webseite?", catalog()).concepts


def test_question_takes_the_topic_of_its_context() -> None:
    """A question without a topic of its own asks about the context's topic (an account)."""
    text = "Seit Montag komme ich nicht mehr in mein Konto rein. Was soll ich jetzt machen?"
    assert understood(text)[0] == "account_recovery"


def test_help_question_ignores_the_context() -> None:
    """Asking what one can ask is help, whatever meeting the context names."""
    text = (
        "Ich war letztes Jahr beim Netzwerktreffen in Fellbach. "
        "Wobei kannst du mir überhaupt helfen?"
    )
    assert understood(text)[0] == "help"


def test_question_naming_its_own_entity_borrows_no_event() -> None:
    """A question about the initiative is not turned into a meeting question by its context."""
    text = "Auf einer Veranstaltung hörte ich davon. Wer leitet die Initiative?"
    intent, entities, _topic = understood(text)
    assert intent == "person_info"
    assert entities == ("gennadi-schermann",)


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("Was stand in Fellbach auf dem Programm?", "netzwerktreffen-7"),
        ("Welche Referenten gab es in Neckarsulm?", "netzwerktreffen-3"),
    ],
)
def test_meeting_aspect_at_a_meeting_place(text: str, event: str) -> None:
    """Programme or speakers asked about a place where a meeting was: that meeting."""
    ctx = context()
    u = classify(text, ctx.catalog, ctx.now, ctx.tz)
    assert u.events == (event,)


def test_second_to_last_with_which() -> None:
    """'Welches war das vorletzte Treffen?' picks one meeting, not the list."""
    ctx = context()
    u = classify("Welches war das vorletzte Netzwerktreffen?", ctx.catalog, ctx.now, ctx.tz)
    assert u.event_mode == "card"
    assert u.events == ("netzwerktreffen-6",)


def test_who_sat_on_the_jury_is_not_known() -> None:
    """The data gives the jury's size, not its members: 'wer' gets the polite unknown."""
    assert understood("Wer war denn in der Auswahljury?")[0] == "unknown"
    text = answer_text("Wer war denn in der Jury?")
    assert "weiss ich leider nicht" in text  # casefolded: ß is ss
    assert "fünfköpfige jury" in text
    assert understood("Wie groß war die Jury?")[0] == "funding_info"


def test_networks_without_an_official_name() -> None:
    """A filter over the networks' placeholder flag lists just those networks."""
    intent, entities, topic = understood("Welche Netzwerke haben keinen bekannten Namen?")
    assert (intent, topic) == ("network_list", "some")
    assert entities
    assert all(catalog().network(slug).name_is_placeholder for slug in entities)  # type: ignore[union-attr]


def test_follow_up_with_a_place() -> None:
    """'Und gibt es das auch in Konstanz?' is about the network there; a restaurant is not."""
    assert understood("gibt es das auch in Konstanz?")[:2] == ("network_info", ("cyberlago",))
    assert understood("Gibt es auch ein gutes Restaurant in Ulm?")[0] == "unknown"


def test_keep_me_posted_is_a_subscribe_wish() -> None:
    """'Halten Sie mich auf dem Laufenden' asks to subscribe; without the feature the
    answer still offers the network."""
    intent, entities, _topic = understood("Bitte halten Sie mich zu cyberLAGO auf dem Laufenden")
    assert (intent, entities) == ("subscribe", ("cyberlago",))
    assert "cyberlago" in answer_text("Halten Sie mich zu cyberLAGO auf dem Laufenden")


def test_a_number_without_its_dot_counts() -> None:
    """'es gab schon 7 Netzwerktreffen' counts meetings; 'das 5 Treffen' is the 5th."""
    assert extract("Es gab schon 7 Netzwerktreffen.", catalog()).ordinals == ()
    assert extract("Wo war das 5 Treffen?", catalog()).ordinals == (5,)
    assert extract("Wo war das 5. Treffen?", catalog()).ordinals == (5,)


def test_indirect_question_in_a_long_message() -> None:
    """'Mein Chef fragt, wann …' asks what the clause asks; the context's words do not."""
    text = (
        "Ich leite ein kleines Team in Konstanz. Mein Vorgesetzter möchte wissen, "
        "seit wann cyberLAGO ein Verein ist."
    )
    intent, entities, _topic = understood(text)
    assert (intent, entities) == ("network_info", ("cyberlago",))
    assert "2013" in answer_text(text)


def test_a_month_with_one_meeting_names_it() -> None:
    """'das Treffen im Juli 2014' is the one meeting of that month, shown as its card."""
    ctx = context()
    u = classify("Was lief beim Treffen im Juli 2014?", ctx.catalog, ctx.now, ctx.tz)
    assert (u.event_mode, u.events) == ("card", ("netzwerktreffen-4",))


def test_networks_asked_with_a_month() -> None:
    """'Welche Netzwerke kamen im April 2014 hinzu?' asks for networks, not meetings."""
    text = answer_text("Welche Netzwerke kamen im April 2014 neu hinzu?")
    assert "ulm" in text
    assert "reutlingen" in text


@pytest.mark.parametrize(
    ("word", "concept"),
    [("finanzirt", "funding"), ("finanzierte", "funding"), ("benachrichtigen", "subscribe")],
)
def test_misspelt_cue_verbs(word: str, concept: str) -> None:
    """A cue given as a prefix matches with one letter wrong, missing or extra."""
    assert concept in concepts_of(word)


def test_misspelt_verb_in_a_question() -> None:
    """The misspelt verb decides the intent as the correct one would."""
    assert "funding" not in concepts_of("finalisiert")
    assert understood("Wer finanzirt eigentlich die Netzwerke?")[0] == "funding_info"


def test_the_writers_company_is_a_side_mention() -> None:
    """'ich bin von der Firma … aus Ulm' says where the writer is; the question decides."""
    text = (
        "Guten Tag, ich bin Anna von der Firma Beispiel GmbH aus Ulm. Wir machen "
        "Softwareentwicklung für den Mittelstand. Wann ist denn das nächste Treffen?"
    )
    next_only = answer_text("Wann ist das nächste Treffen?")
    assert answer_text(text) == next_only
    # Without the writer speaking of themselves, a company in a city is what is asked about.
    _intent, entities, _topic = understood("Gibt es eine Firma in Ulm, die mitmacht?")
    assert entities == ("it-netzwerk-ulm",)
