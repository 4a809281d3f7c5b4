"""Any text at all: the answerer never raises, replies fit Telegram, HTML stays well formed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.views.answers import answer_question, answer_question_unguarded
from bot.views.replies import MAX_CALLBACK_BYTES, MAX_TEXT, Reply
from tests.qa.helpers import context, html_errors

HTMLISH = st.lists(
    st.sampled_from(
        [
            "<b>",
            "</b>",
            "<i>",
            "<script>",
            "&amp;",
            "&",
            "<",
            ">",
            '"',
            "'",
            "HN",
            "KA",
            "treffen",
            "nächste",
            "Ulm",
            "ka",
            "cyberLAGO",
            "5.",
            "vierten",
            "<a href='x'>",
            "Wann",
            "wer",
            "spricht",
            "?",
            " ",
            "\n",
            "🤔",
            "Krüger",
            "CAP 1",
            "2027",
            "🎉",
        ]
    ),
    max_size=60,
).map("".join)


def _check(replies: list[Reply]) -> None:
    assert replies
    for reply in replies:
        assert 0 < len(reply.text) <= MAX_TEXT
        assert not html_errors(reply.text), (html_errors(reply.text), reply.text)
        for row in reply.buttons:
            for button in row:
                assert button.label
                if button.data is not None:
                    assert len(button.data.encode()) <= MAX_CALLBACK_BYTES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text(text: str) -> None:
    """Arbitrary Unicode gets at least one well-formed reply (bugs are not masked)."""
    _check(answer_question_unguarded(text, context()))


@settings(max_examples=300, deadline=None)
@given(HTMLISH)
def test_html_ish_text(text: str) -> None:
    """Typed HTML and names in any combination are understood as text, never echoed raw."""
    replies = answer_question_unguarded(text, context())
    _check(replies)
    assert "<script>" not in "".join(r.text for r in replies)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=100).map(lambda s: (s * (10000 // len(s) + 1))[:10000]))
def test_huge_text(text: str) -> None:
    """Messages of 10,000 characters are answered."""
    _check(answer_question_unguarded(text, context()))


def test_huge_rambling_question() -> None:
    """The question at the end of a very long message is still understood."""
    text = "Wir sind ein kleines Softwarehaus und überlegen viel. " * 180
    replies = answer_question(text + "Wann ist das nächste Treffen?", context())
    _check(replies)
    assert "18. März 2027" in replies[0].text


def test_empty_and_whitespace() -> None:
    """Empty messages get a polite reply too."""
    for text in ("", " ", "\n\t", "???", "🤔🤔"):
        _check(answer_question(text, context()))
