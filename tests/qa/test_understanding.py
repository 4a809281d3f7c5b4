"""Normalization, names by the alias rules, ordinals, typos, intents for du and Sie."""

from __future__ import annotations

import pytest

from bot.domain.qa.entities import extract, ordinal_of
from bot.domain.qa.intents import classify
from bot.domain.qa.normalize import clean, fold, stem, tokenize
from tests.qa.helpers import catalog, context


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Nächste", "naechste"),
        ("naechste", "naechste"),
        ("Lörrach", "loerrach"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Böblingen", "boeblingen"),
        ("Café", "cafe"),
    ],
)
def test_fold(typed: str, folded: str) -> None:
    """Umlauts and ß fold to the spelling members type without them."""
    assert fold(typed) == folded


def test_umlaut_spellings_share_a_stem() -> None:
    """Both spellings end up with the same German stem."""
    assert stem(fold("Förderung")) == stem(fold("Foerderung"))


def test_emoji_and_html_typed_as_text() -> None:
    """Tags and entities typed by a member are text to strip; emoji vanish."""
    tokens = [t.folded for t in tokenize(clean("<b>Wann</b> ist das &amp; 🤔 Treffen???"))]
    assert tokens == ["wann", "ist", "das", "treffen"]


def test_huge_input_is_shortened() -> None:
    """A 10,000-character message is cut, keeping the question at its end."""
    text = "bla " * 2500 + "Wann ist das nächste Treffen?"
    assert len(clean(text)) < 3000
    assert clean(text).endswith("Treffen?")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Netzwerk in HN?", "connect-it-heilbronn-franken"),
        ("Was gibt es in KA?", "cyberforum-karlsruhe"),
        ("Infos zu Loerrach", "connect-dreilaendereck"),
        ("infos zu lörrach", "connect-dreilaendereck"),
        ("netzwerk in ulm?", "it-netzwerk-ulm"),
        ("was macht cyber lago", "cyberlago"),
        ("M/IT Pforzheim", "mit-pforzheim"),
        ("connectIT", "connect-it-heilbronn-franken"),
    ],
)
def test_network_aliases(text: str, slug: str) -> None:
    """Names, cities, regions and aliases find their network."""
    assert extract(text, catalog()).networks == (slug,)


@pytest.mark.parametrize(
    "text",
    [
        "hmm ka was ich fragen kann",  # "ka" = keine Ahnung, not Karlsruhe
        "ich komme um 10",  # "um" is not Ulm
        "treffen wir uns mit kollegen",  # "mit" is not M/IT
        "hn",
        "Ma, wann gibt es Essen?",  # not all capitals
    ],
)
def test_short_aliases_need_capitals_and_whole_words(text: str) -> None:
    """Abbreviations count only as upper-case tokens; short names never fuzzily."""
    assert extract(text, catalog()).networks == ()


@pytest.mark.parametrize(
    ("word", "number"),
    [("vierten", 4), ("fünfte", 5), ("dritten", 3), ("siebtes", 7), ("erste", 1), ("ersten", 1)],
)
def test_ordinal_words(word: str, number: int) -> None:
    """Ordinals written as words give their number."""
    assert ordinal_of(fold(word)) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [("das 4. treffen", 4), ("beim 3ten treffen", 3), ("das 5 treffen", 5), ("um 10 uhr", None)],
)
def test_digit_ordinals(text: str, number: int | None) -> None:
    """Digits count as ordinals when written as such ("4.", "3ten")."""
    ordinals = extract(text, catalog()).ordinals
    assert ordinals == ((number,) if number else ())


def test_dates_are_not_ordinals() -> None:
    """ "am 5. März" names a day, not the 5th meeting."""
    assert extract("Was war am 5. März 2015?", catalog()).ordinals == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Was ist beim Treffen in Pforzhiem rausgekommen?", "netzwerktreffen-6"),
        ("wann war das letzte netzwerktrefen", "netzwerktreffen-7"),
        ("wann ist das Frühjahrstrefen", "demo-2027-03-karlsruhe"),
    ],
)
def test_typos_in_events(text: str, expected: str) -> None:
    """Typos are corrected against the data's vocabulary."""
    ctx = context()
    assert classify(text, ctx.catalog, ctx.now).events == (expected,)


def test_typo_in_person_name() -> None:
    """ "krüger" finds Andrea Krueger, "Rebstok" finds Guido Rebstock."""
    assert extract("wer ist andrea krüger", catalog()).people == ("andrea-krueger",)
    assert extract("Was macht Herr Rebstok?", catalog()).people == ("guido-rebstock",)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("pasword zuruecksetzen", "account_recovery"),
        ("Kannst du mir sagen, wann das nächste Treffen ist?", "next_event"),
        ("Können Sie mir sagen, wann das nächste Treffen ist?", "next_event"),
        ("Weißt du, wer connect.IT leitet?", "network_info"),
        ("Wissen Sie, wer connect.IT leitet?", "network_info"),
        ("Kannst du mir die Netzwerke zeigen?", "network_list"),
        ("Können Sie mir alle Netzwerke nennen?", "network_list"),
        ("Hast du die Website von cyberLAGO?", "network_info"),
        ("Haben Sie die Website von cyberLAGO?", "network_info"),
        ("was kann ich dich fragen", "help"),
        ("Was kann ich Sie fragen?", "help"),
        ("moin", "greeting"),
        ("<i>servus</i>", "greeting"),
        ("danke dir!", "thanks"),
        ("Vielen Dank!", "thanks"),
        ("Wie wird das Wetter?", "unknown"),
        ("", "unknown"),
    ],
)
def test_intents_for_du_and_sie(text: str, intent: str) -> None:
    """Both forms of address lead to the same intent."""
    ctx = context()
    assert classify(text, ctx.catalog, ctx.now).intent == intent


def test_city_with_meeting_word_asks_for_the_meeting() -> None:
    """ "Treffen in Ulm" is the meeting there; "Netzwerk in Ulm" the network."""
    ctx = context()
    assert classify("wann ist das treffen in ulm", ctx.catalog, ctx.now).events == (
        "demo-2027-06-ulm",
    )
    assert classify("netzwerk in ulm?", ctx.catalog, ctx.now).entities == ("it-netzwerk-ulm",)


def test_only_a_name_gives_the_card() -> None:
    """A message that is only a network's or an event's name gets its card."""
    ctx = context()
    assert classify("cyberLAGO", ctx.catalog, ctx.now).intent == "network_info"
    assert classify("Sommertreffen", ctx.catalog, ctx.now).events == ("demo-2027-06-ulm",)
