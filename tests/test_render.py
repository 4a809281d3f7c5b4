"""German cards and lists: date formats, demo markers, escaping, Telegram's limits."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from bot.domain.models import Catalog, Event, Host
from bot.views import callbacks
from bot.views.catalog import (
    PAGE_SIZE,
    event_card,
    event_list,
    help_reply,
    network_card,
    network_list,
    next_event_reply,
    welcome_reply,
)
from bot.views.common import format_event_when, source_line
from bot.views.replies import MAX_CALLBACK_BYTES, MAX_TEXT, Reply
from tests.qa.helpers import BERLIN, catalog, context, html_errors

FICTIONAL = "Hinweis: Dies ist ein erfundener Demo-Termin."


def _event(event_id: str) -> Event:
    event = catalog().event(event_id)
    assert event is not None
    return event


def _check(reply: Reply) -> None:
    assert len(reply.text) <= MAX_TEXT
    assert not html_errors(reply.text), html_errors(reply.text)
    for row in reply.buttons:
        for button in row:
            assert button.data is None or len(button.data.encode()) <= MAX_CALLBACK_BYTES


def _labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def _data(reply: Reply) -> list[str | None]:
    return [b.data for row in reply.buttons for b in row]


def test_when_with_start_and_end() -> None:
    """A fictional meeting with times: full German date, time in Berlin, end time."""
    when = format_event_when(context(), _event("demo-2027-03-karlsruhe"))
    assert when.startswith("Donnerstag, 18. März 2027, 10:00 Uhr")
    assert when.endswith("– 16:00 Uhr")  # noqa: RUF001 - German dash


def test_when_date_only() -> None:
    """A day without a known time."""
    assert format_event_when(context(), _event("netzwerktreffen-3")) == "Montag, 28. April 2014"


def test_when_unknown() -> None:
    """An unknown date says so, with what is known."""
    assert (
        format_event_when(context(), _event("netzwerktreffen-5"))
        == "Datum nicht bekannt (nach der Sommerpause 2014)"
    )


def test_fictional_marker_on_cards_and_lists() -> None:
    """Every reply that shows a demo meeting says it is invented."""
    ctx = context()
    assert FICTIONAL in event_card(ctx, _event("demo-2027-06-ulm")).text
    assert FICTIONAL not in event_card(ctx, _event("netzwerktreffen-4")).text
    upcoming = event_list(ctx, past=False, page=0)
    assert "erfundene Demo-Termine" in upcoming.text
    assert "(Demo)" in upcoming.text
    assert FICTIONAL in next_event_reply(ctx).text
    hosted = dataclasses.replace(
        _event("demo-2027-06-ulm"), hosts=(Host("IT-Netzwerk Ulm", "it-netzwerk-ulm"),)
    )
    with_demo = dataclasses.replace(ctx, catalog=dataclasses.replace(catalog(), events=(hosted,)))
    ulm = catalog().network("it-netzwerk-ulm")
    assert ulm is not None
    assert "erfundene Demo-Termine" in network_card(with_demo, ulm).text


def test_escaping_of_data() -> None:
    """A title with HTML characters is escaped, in cards and in lists."""
    original = _event("demo-2027-03-karlsruhe")
    evil = dataclasses.replace(original, title="Treffen <b>&</b> Co", city="<i>Ulm")
    ctx = context()
    tweaked = dataclasses.replace(ctx, catalog=dataclasses.replace(ctx.catalog, events=(evil,)))
    for reply in (event_card(tweaked, evil), event_list(tweaked, past=False, page=0)):
        assert "Treffen &lt;b&gt;&amp;&lt;/b&gt; Co" in reply.text
        assert "<i>Ulm" not in reply.text
        _check(reply)


def test_every_card_fits() -> None:
    """Every network and event card fits Telegram and has well-formed HTML."""
    ctx = context()
    for network in catalog().networks:
        _check(network_card(ctx, network))
    for event in catalog().events:
        _check(event_card(ctx, event))


def test_oversized_values_are_cut() -> None:
    """Even absurdly long data stays within 4096 characters and keeps the demo marker."""
    original = _event("demo-2027-03-karlsruhe")
    long_event = dataclasses.replace(
        original, description="sehr lang " * 2000, outcomes=("x " * 900,) * 20
    )
    reply = event_card(context(), long_event)
    _check(reply)
    assert FICTIONAL in reply.text
    network = catalog().networks[0]
    big = dataclasses.replace(network, facts=("Fakt " * 300,) * 30)
    _check(network_card(context(), big))


def test_network_card_contents() -> None:
    """A network card: name, region, leader, website link and button, back to the list."""
    network = catalog().network("connect-it-heilbronn-franken")
    assert network is not None
    reply = network_card(context(), network)
    assert "Hochschule Heilbronn" in reply.text
    assert '<a href="https://connect-it.hn">' in reply.text
    assert "Quellen:" in reply.text
    assert callbacks.NETWORK_LIST in _data(reply)
    assert callbacks.event_show("netzwerktreffen-3") in _data(reply)


def test_placeholder_name_is_flagged() -> None:
    """A neutral label is never presented as the official name."""
    network = catalog().network("it-netzwerk-ulm")
    assert network is not None
    assert "Genauer Name nicht bekannt" in network_card(context(), network).text


def test_network_list() -> None:
    """All eleven networks as buttons, with the count of 13 and the two unknown."""
    reply = network_list(context())
    _check(reply)
    assert "13 regionale IT-Netzwerke" in reply.text
    assert "11 davon sind hier hinterlegt" in reply.text
    assert len(_data(reply)) == len(catalog().networks)


def test_event_card_buttons() -> None:
    """An .ics button only for known dates; host networks; back to the list."""
    ctx = context()
    fourth = event_card(ctx, _event("netzwerktreffen-4"))
    assert callbacks.event_ics("netzwerktreffen-4") in _data(fourth)
    assert callbacks.network_show("cyberlago") in _data(fourth)
    assert callbacks.events_past(0) in _data(fourth)
    fifth = event_card(ctx, _event("netzwerktreffen-5"))
    assert callbacks.event_ics("netzwerktreffen-5") not in _data(fifth)


def test_programme_shows_speakers() -> None:
    """The programme names speakers with their role."""
    text = event_card(context(), _event("netzwerktreffen-3")).text
    assert "Andrea Krueger (Referentin beim 3. Netzwerktreffen)" in text


def test_cancelled_status() -> None:
    """A cancelled event says so."""
    cancelled = dataclasses.replace(_event("demo-2027-06-ulm"), status="cancelled")
    assert "abgesagt" in event_card(context(), cancelled).text


def test_list_pagination() -> None:
    """Past events page by page, latest first; undated ones at the end; navigation."""
    ctx = context(datetime(2028, 1, 1, 12, tzinfo=BERLIN))
    first = event_list(ctx, past=True, page=0)
    second = event_list(ctx, past=True, page=1)
    assert len([d for d in _data(first) if d and d.startswith(callbacks.EVENT_SHOW)]) == PAGE_SIZE
    assert "2. Dezember 2027" in first.text
    assert callbacks.events_past(1) in _data(first)
    assert callbacks.events_past(0) in _data(second)
    assert "Datum nicht bekannt" in second.text
    assert callbacks.events_upcoming(0) in _data(first)
    assert "Zurzeit ist kein Treffen angekündigt." in event_list(ctx, past=False, page=0).text


def test_upcoming_list_in_order() -> None:
    """Upcoming events, earliest first, with German dates."""
    text = event_list(context(), past=False, page=0).text
    assert text.index("18. März 2027") < text.index("24. Juni 2027")
    assert "Sommerpause" not in text


def test_next_event_reply_without_upcoming() -> None:
    """No meeting ahead: say so and show the latest one."""
    real_only = dataclasses.replace(
        catalog(), events=tuple(e for e in catalog().events if not e.fictional)
    )
    ctx = dataclasses.replace(context(), catalog=real_only)
    text = next_event_reply(ctx).text
    assert "Zurzeit ist kein Treffen angekündigt." in text
    assert "5. März 2015" in text


def test_welcome_and_help() -> None:
    """The welcome greets formally with buttons; help lists the member commands."""
    ctx = context()
    welcome = welcome_reply(ctx, "Anna <3")
    assert "Hallo Anna &lt;3!" in welcome.text
    assert {callbacks.NETWORK_LIST, callbacks.HELP} <= set(_data(welcome))
    helptext = help_reply(ctx).text
    for command in ("/start", "/netzwerke", "/termine", "/treffen", "/hilfe"):
        assert command in helptext
    _check(welcome)
    _check(help_reply(ctx))


def test_source_line() -> None:
    """Sources as escaped links; nothing without sources."""
    ctx = context()
    sources = catalog().sources_of(["pm-2014-05-05", "seitenfuss"])
    line = source_line(ctx, sources)
    assert line.startswith("<i>Quellen:</i> <a href=")
    assert "Pressemitteilung 2014</a>" in line
    assert source_line(ctx, []) == ""


@pytest.mark.parametrize("page", [-3, 0, 1, 99])
def test_page_numbers_are_clamped(page: int) -> None:
    """Out-of-range pages show the nearest page."""
    _check(event_list(context(), past=True, page=page))


def test_empty_catalog() -> None:
    """An empty catalog still renders."""
    ctx = dataclasses.replace(context(), catalog=Catalog())
    for reply in (network_list(ctx), event_list(ctx, past=False, page=0), next_event_reply(ctx)):
        _check(reply)
