"""Telegram's HTML and MarkdownV2 rules, without HTTP."""

from __future__ import annotations

import contextlib
import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.formatting import (
    EntityParseError,
    ParsedText,
    check_url,
    entities_from_param,
    finalize_text,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)


def test_nested_tags_give_sorted_entities_with_utf16_offsets() -> None:
    parsed = parse_html("😀 <b>fett <i>ä😀</i></b>")
    assert parsed.text == "😀 fett ä😀"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 8},
        {"type": "italic", "offset": 8, "length": 3},
    ]


def test_all_supported_tags() -> None:
    source = (
        '<strong>a</strong><em>b</em><ins>c</ins><del>d</del><span class="tg-spoiler">e</span>'
        '<tg-spoiler>f</tg-spoiler><a href="https://example.org">g</a>'
        '<tg-emoji emoji-id="5368324170671202286">h</tg-emoji><code>i</code>'
        '<pre><code class="language-python">j</code></pre><blockquote expandable>k</blockquote>'
        '<tg-time unix="1647531900" format="wDT">l</tg-time>'
    )
    parsed = parse_html(source)
    assert parsed.text == "abcdefghijkl"
    assert [e["type"] for e in parsed.entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "spoiler",
        "text_link",
        "custom_emoji",
        "code",
        "pre",
        "expandable_blockquote",
        "date_time",
    ]
    assert parsed.entities[6]["url"] == "https://example.org/"
    assert parsed.entities[9]["language"] == "python"
    assert parsed.entities[11]["date_time_format"] == "wDT"


def test_entities_decode() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#228;&#x1F600;").text == '<>&"ä😀'


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("Hallo<br>Welt", 'Unsupported start tag "br" at byte offset 5'),
        ("ä<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>offen", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("Fragen & Antworten", 'Unsupported HTML entity "&" at byte offset 7'),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("2 > 1", "Character '>' is reserved"),
        ("<a href=x", "Unclosed start tag at byte offset 0"),
    ],
)
def test_rejected_html(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value).startswith(error)


def test_lenient_mode_accepts_bare_ampersand_like_the_real_server() -> None:
    assert parse_html("Fragen & Antworten > nichts", strict=False).text == (
        "Fragen & Antworten > nichts"
    )


def test_invalid_link_drops_the_entity() -> None:
    assert parse_html('<a href="http://">x</a>').entities == []
    assert check_url("example.org/a?b=1") == "http://example.org/a?b=1"
    assert check_url("javascript:alert(1)") is None


def test_finalize_trims_and_clips() -> None:
    parsed = finalize_text(parse_html("\n  <b>x </b>\n\n"))
    assert parsed == ParsedText("x", [{"type": "bold", "offset": 0, "length": 1}])


def test_entities_parameter_is_checked() -> None:
    assert entities_from_param("abc", [{"type": "bold", "offset": 1, "length": 9}]) == [
        {"type": "bold", "offset": 1, "length": 2}
    ]
    with pytest.raises(EntityParseError):
        entities_from_param("abc", [{"type": "blink", "offset": 0, "length": 1}])


def test_markdown_v2() -> None:
    parsed = parse_markdown_v2("*fett* _kursiv_ [Link](https://example.org) 1\\.0")
    assert parsed.text == "fett kursiv Link 1.0"
    assert [e["type"] for e in parsed.entities] == ["bold", "italic", "text_link"]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("1.0")


@given(st.text())
def test_html_parser_only_raises_its_own_error(text: str) -> None:
    for strict in (True, False):
        try:
            parsed = parse_html(text, strict=strict)
        except EntityParseError:
            continue
        for entity in parsed.entities:
            assert 0 <= entity["offset"] < entity["offset"] + entity["length"]
            assert entity["offset"] + entity["length"] <= utf16_len(parsed.text)


@given(st.text())
def test_markdown_parser_only_raises_its_own_error(text: str) -> None:
    with contextlib.suppress(EntityParseError):
        parse_markdown_v2(text)


@given(st.text())
def test_escaped_text_comes_back_unchanged(text: str) -> None:
    assert parse_html(html.escape(text)) == ParsedText(text, [])
