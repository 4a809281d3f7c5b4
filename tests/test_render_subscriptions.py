"""German texts and keyboards of subscriptions and reminders: exact strings, limits, marks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.schedule import DEFAULT_QUIET_HOURS, parse_quiet_hours
from bot.views import callbacks
from bot.views.catalog import event_card, network_card
from bot.views.notices import cancel_notice, change_notice, reminder_reply, weekly_preview
from bot.views.panels import (
    for_channel,
    for_group,
    reminder_settings_panel,
    restored_reply,
    stop_confirm_reply,
    stopped_reply,
    subscriptions_panel,
)
from bot.views.replies import MAX_CALLBACK_BYTES, MAX_TEXT, Reply
from tests.qa.helpers import BERLIN, catalog, context, html_errors

if TYPE_CHECKING:
    from bot.domain.models import Event

FICTIONAL: Final = "Hinweis: Dies ist ein erfundener Demo-Termin."
SUBS: Final = frozenset({"subscriptions"})
KARLSRUHE: Final = "demo-2027-03-karlsruhe"  # Thursday 18 March 2027, 10:00-16:00 Berlin
TITLE: Final = "<b>Frühjahrstreffen der regionalen IT-Netzwerke 2027</b>"


def _event(event_id: str) -> Event:
    event = catalog().event(event_id)
    assert event is not None
    return event


def _at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def _check(reply: Reply) -> None:
    assert len(reply.text) <= MAX_TEXT
    assert not html_errors(reply.text), html_errors(reply.text)
    for row in reply.buttons:
        for button in row:
            assert button.label.strip()
            assert button.data is None or len(button.data.encode()) <= MAX_CALLBACK_BYTES


def _labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def _data(reply: Reply) -> list[str | None]:
    return [b.data for row in reply.buttons for b in row]


# Reminders


@pytest.mark.parametrize(
    ("now", "word"),
    [
        (_at(2027, 3, 18, 7, 0), "Heute"),
        (_at(2027, 3, 17, 10, 0), "Morgen"),
        (_at(2027, 3, 16, 10, 0), "Übermorgen"),
        (_at(2027, 3, 15, 10, 0), "In 3 Tagen"),
        (_at(2027, 3, 11, 10, 0), "In einer Woche"),
        (_at(2027, 3, 8, 10, 0), "In 10 Tagen"),
    ],
)
def test_reminder_day_words(now: datetime, word: str) -> None:
    """The day word comes from the calendar-day difference, capitalised after the colon."""
    reply = reminder_reply(context(now), _event(KARLSRUHE))
    assert reply.text == (
        f"Erinnerung: {word}, Donnerstag, 18. März 2027, 10:00 Uhr — {TITLE} in Karlsruhe\n"
        "Veranstaltungsort wird noch bekannt gegeben\n\n"
        f"<i>{FICTIONAL}</i>"
    )
    assert _labels(reply) == [".ics-Datei", "Details"]
    assert _data(reply) == [callbacks.event_ics(KARLSRUHE), callbacks.event_show(KARLSRUHE)]
    _check(reply)


def test_reminder_date_only_real_event() -> None:
    """A day without a time: no time, the venue, and no demo marker for a real meeting."""
    reply = reminder_reply(context(_at(2014, 4, 27, 9, 0)), _event("netzwerktreffen-3"))
    assert reply.text == (
        "Erinnerung: Morgen, Montag, 28. April 2014 — <b>3. Netzwerktreffen der regionalen "
        "IT-Netzwerke Baden-Württemberg</b> in Neckarsulm\n"
        "<b>Veranstaltungsort:</b> <a href="
        '"https://www.openstreetmap.org/search?query=R%C3%A4umlichkeiten%20der%20Bechtle%20AG'
        '%2C%20Neckarsulm">Räumlichkeiten der Bechtle AG</a>'
    )
    assert FICTIONAL not in reply.text
    _check(reply)


def test_reminder_day_word_is_dst_safe() -> None:
    """At 23:30 in Berlin the day before, a meeting at 00:15 is tomorrow (not today in UTC)."""
    start = _at(2027, 3, 29, 0, 15).astimezone(UTC)  # 28 March 22:15 UTC, after the DST change
    event = dataclasses.replace(
        _event(KARLSRUHE), date=start.astimezone(BERLIN).date(), start=start, end=None
    )
    now = _at(2027, 3, 28, 23, 30)
    assert now.astimezone(UTC).date() == start.date()  # the same UTC day
    text = reminder_reply(context(now), event).text
    assert text.startswith("Erinnerung: Morgen, Montag, 29. März 2027, 00:15 Uhr — ")


def test_reminder_without_place_or_venue() -> None:
    """Unknown place and venue: the sentence ends after the title."""
    event = dataclasses.replace(
        _event(KARLSRUHE), city=None, region=None, venue=None, venue_note=None
    )
    text = reminder_reply(context(_at(2027, 3, 17, 10, 0)), event).text
    assert text.splitlines()[0] == (
        f"Erinnerung: Morgen, Donnerstag, 18. März 2027, 10:00 Uhr — {TITLE}"
    )


def test_reminder_escapes_data() -> None:
    """Titles and places typed by admins are escaped."""
    event = dataclasses.replace(_event(KARLSRUHE), title="<b>Treffen & Co</b>", city="A<B")
    reply = reminder_reply(context(_at(2027, 3, 17, 10, 0)), event)
    assert "&lt;b&gt;Treffen &amp; Co&lt;/b&gt;" in reply.text
    assert "in A&lt;B" in reply.text
    _check(reply)


# Change and cancel notices

CHANGED: Final = {
    "kind": "changed",
    "event_id": KARLSRUHE,
    "changed": ["date", "place"],
    "old_start": "2027-03-17T09:00:00+00:00",
    "old_date": "2027-03-17",
    "old_place": "Mannheim",
}


def test_change_notice_with_old_values() -> None:
    """A changed day and place: the new values, the old ones in brackets, the marker."""
    reply = change_notice(context(), _event(KARLSRUHE), CHANGED)
    assert reply.text == (
        f"Geändert: {TITLE}\n\n"
        "<b>Neuer Termin:</b> Donnerstag, 18. März 2027, 10:00 Uhr – 16:00 Uhr "  # noqa: RUF001 - German dash
        "(bisher: Mittwoch, 17. März 2027, 10:00 Uhr)\n"
        "<b>Neuer Ort:</b> Karlsruhe, Veranstaltungsort wird noch bekannt gegeben "
        "(bisher: Mannheim)\n\n"
        f"<i>{FICTIONAL}</i>"
    )
    assert _labels(reply) == [".ics-Datei", "Details"]
    _check(reply)


def test_change_notice_time_only_shows_old_time() -> None:
    """A new time on the same day: the old time alone, and where it takes place."""
    payload = {"kind": "changed", "changed": ["time"], "old_start": "2027-03-18T08:00:00Z"}
    text = change_notice(context(), _event(KARLSRUHE), payload).text
    assert "<b>Neue Uhrzeit:</b> Donnerstag, 18. März 2027, 10:00 Uhr" in text
    assert "(bisher: 09:00 Uhr)" in text
    assert "<b>Wo:</b> Karlsruhe" in text


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"kind": "changed"},
        {"changed": "nonsense", "old_start": "not a date", "old_date": 7, "old_place": None},
        {"changed": [1, None, "colour"]},
    ],
)
def test_change_notice_generic_for_unknown_payloads(payload: dict[str, object]) -> None:
    """Missing or unknown keys: a generic sentence plus when and where, never a crash."""
    reply = change_notice(context(), _event(KARLSRUHE), payload)
    assert "Die Angaben zu diesem Termin haben sich geändert." in reply.text
    assert "<b>Wann:</b> Donnerstag, 18. März 2027, 10:00 Uhr" in reply.text
    assert FICTIONAL in reply.text
    _check(reply)


def test_cancel_notice() -> None:
    """A cancellation names day, time and place; no calendar file for it."""
    payload = {"kind": "cancelled", "changed": ["status"]}
    reply = cancel_notice(context(), _event(KARLSRUHE), payload)
    assert reply.text == (
        f"Abgesagt: {TITLE} am Donnerstag, 18. März 2027, 10:00 Uhr in Karlsruhe\n\n"
        "Dieser Termin findet nicht statt; Erinnerungen dazu entfallen.\n\n"
        f"<i>{FICTIONAL}</i>"
    )
    assert _labels(reply) == ["Details"]
    assert change_notice(context(), _event(KARLSRUHE), payload).text == reply.text
    _check(reply)


def test_cancel_notice_date_only_real_event() -> None:
    """A real meeting known only by its day: no time, no marker."""
    reply = cancel_notice(context(), _event("netzwerktreffen-4"), {"kind": "cancelled"})
    assert reply.text.startswith(
        "Abgesagt: <b>4. Netzwerktreffen der regionalen IT-Netzwerke Baden-Württemberg</b> "
        "am Dienstag, 1. Juli 2014 in Konstanz"
    )
    assert FICTIONAL not in reply.text


# Weekly preview


def test_weekly_preview() -> None:
    """Meetings earliest first with German date and time, marker, buttons to the cards."""
    ulm, karlsruhe = _event("demo-2027-06-ulm"), _event(KARLSRUHE)
    reply = weekly_preview(context(_at(2027, 3, 15, 8, 0)), [ulm, karlsruhe])
    assert reply.text.startswith(
        "<b>Ihre Wochenvorschau</b>\n\n"
        "Diese Woche stehen 2 Treffen an, die Sie abonniert haben:\n\n"
        "• <b>Donnerstag, 18. März 2027, 10:00 Uhr</b> – Frühjahrstreffen der regionalen "  # noqa: RUF001 - German dash
        "IT-Netzwerke 2027, Karlsruhe (Demo)\n"
        "• <b>Donnerstag, 24. Juni 2027, 10:00 Uhr</b> – Sommertreffen"  # noqa: RUF001 - German dash
    )
    assert reply.text.endswith(
        "<i>Hinweis: Mit „(Demo)“ markierte Termine sind erfundene Demo-Termine.</i>"
    )
    assert _data(reply) == [
        callbacks.event_show(KARLSRUHE),
        callbacks.event_show("demo-2027-06-ulm"),
        callbacks.SUB_OPEN,
    ]
    _check(reply)


def test_weekly_preview_single_and_empty() -> None:
    """One meeting reads in the singular; an empty week still renders politely."""
    one = weekly_preview(context(_at(2027, 3, 15, 8, 0)), [_event(KARLSRUHE)])
    assert "Diese Woche steht ein Treffen an, das Sie abonniert haben:" in one.text
    empty = weekly_preview(context(), [])
    assert "keines der Treffen" in empty.text
    _check(empty)


# /abo


def test_panel_nothing_followed() -> None:
    """Every network is a toggle, none ticked; the text says nothing is followed yet."""
    reply = subscriptions_panel(context(features=SUBS), frozenset())
    assert "Sie haben noch nichts abonniert." in reply.text
    labels = _labels(reply)
    assert "✅" not in "".join(labels)
    for network in catalog().networks:
        assert callbacks.toggle(callbacks.network_code(network.slug)) in _data(reply)
    assert "▫️ cyberLAGO" in labels
    assert _data(reply)[-2:] == [callbacks.REM_OPEN, callbacks.SUB_STOP_ASK]
    assert labels[-2:] == ["Erinnerungszeiten", "Alles abbestellen"]
    network_rows = reply.buttons[: (len(catalog().networks) + 1) // 2]
    assert all(len(row) == 2 for row in network_rows[:-1])
    _check(reply)


def test_panel_marks_what_is_followed() -> None:
    """Followed choices carry ✅, single events show title and date and can be removed."""
    followed = frozenset(
        {
            callbacks.network_code("cyberlago"),
            callbacks.CODE_MEETINGS,
            callbacks.CODE_WEEKLY,
            callbacks.event_code(KARLSRUHE),
        }
    )
    reply = subscriptions_panel(context(features=SUBS), followed)
    labels = _labels(reply)
    assert "Sie haben zurzeit 4 Abonnements." in reply.text
    assert "✅ cyberLAGO" in labels
    assert "▫️ CyberForum" in labels
    assert "✅ Alle Netzwerktreffen" in labels
    assert "▫️ Neuigkeiten" in labels
    assert "✅ Wochenvorschau" in labels
    event_label = next(b for b in labels if "Frühjahrstreffen" in b)
    assert event_label.startswith("✅ ")
    assert event_label.endswith("18.03.2027")
    assert callbacks.toggle(callbacks.event_code(KARLSRUHE)) in _data(reply)
    _check(reply)


def test_panel_singular_blocked_and_unknown() -> None:
    """One subscription in the singular; a blocked chat is told how to resume."""
    reply = subscriptions_panel(context(features=SUBS), frozenset({"ev:gone-event"}), blocked=True)
    assert "Sie haben zurzeit ein Abonnement." in reply.text
    assert "Senden Sie /start" in reply.text
    assert "✅ Termin nicht mehr bekannt" in _labels(reply)
    _check(reply)


_CODES: Final = [
    *(callbacks.network_code(n.slug) for n in catalog().networks),
    *(callbacks.event_code(e.id) for e in catalog().events),
    callbacks.CODE_MEETINGS,
    callbacks.CODE_NEWS,
    callbacks.CODE_WEEKLY,
    callbacks.network_code("frueher-bekannt"),
    callbacks.event_code("x" * 40),
]


@settings(max_examples=60, deadline=None)
@given(followed=st.frozensets(st.sampled_from(_CODES)), blocked=st.booleans())
def test_panel_valid_for_any_subset(followed: frozenset[str], blocked: bool) -> None:
    """Any followed subset gives valid HTML, fitting sizes and exactly the right ticks."""
    reply = subscriptions_panel(context(features=SUBS), followed, blocked=blocked)
    _check(reply)
    for row in reply.buttons:
        for button in row:
            if button.data and button.data.startswith(callbacks.SUB_TOGGLE):
                code = button.data.removeprefix(callbacks.SUB_TOGGLE)
                assert button.label.startswith("✅" if code in followed else "▫️")


@settings(max_examples=40, deadline=None)
@given(
    leads=st.frozensets(st.sampled_from(["1w", "1d", "2h", "9x"])),
    quiet=st.sampled_from([None, "22:00-07:00", "21:00-08:00", "23:00-06:00", "20:00-06:30"]),
)
def test_settings_panel_valid_for_any_choice(leads: frozenset[str], quiet: str | None) -> None:
    """Any lead set and quiet hours give a valid panel with exactly one quiet choice or none."""
    chosen = None if quiet is None else parse_quiet_hours(quiet)
    reply = reminder_settings_panel(context(features=SUBS), leads, chosen)
    _check(reply)
    quiet_ticks = [
        b for row in reply.buttons for b in row if (b.data or "").startswith(callbacks.REM_QUIET)
    ]
    assert sum(b.label.startswith("✅") for b in quiet_ticks) <= 1


# /erinnerungen


def test_reminder_settings_panel() -> None:
    """Leads and the current quiet hours ticked; how quiet hours move reminders; back to /abo."""
    reply = reminder_settings_panel(
        context(features=SUBS), frozenset({"1d", "2h"}), DEFAULT_QUIET_HOURS
    )
    assert reply.text.startswith(
        "<b>Erinnerungszeiten</b>\n\n"
        "Ich erinnere Sie an die Termine, die Sie abonniert haben: "
        "1 Tag vorher und 2 Stunden vorher.\n\n"
        "Ruhezeit: von 22:00 bis 07:00 Uhr. Erinnerungen, die in die Ruhezeit fallen, kommen "
        "an deren Ende – oder 15 Minuten vor ihrem Beginn, falls das Treffen früher anfängt."  # noqa: RUF001 - German dash
    )
    assert _labels(reply) == [
        "▫️ 1 Woche vorher",
        "✅ 1 Tag vorher",
        "✅ 2 Stunden vorher",
        "✅ 22:00–07:00 Uhr",  # noqa: RUF001 - German dash
        "▫️ 21:00–08:00 Uhr",  # noqa: RUF001 - German dash
        "▫️ 23:00–06:00 Uhr",  # noqa: RUF001 - German dash
        "▫️ Keine Ruhezeit",
        "« Zu Ihren Abonnements",
    ]
    assert _data(reply) == [
        "rem:lead:1w",
        "rem:lead:1d",
        "rem:lead:2h",
        "rem:quiet:2200-0700",
        "rem:quiet:2100-0800",
        "rem:quiet:2300-0600",
        "rem:quiet:none",
        callbacks.SUB_OPEN,
    ]
    _check(reply)


def test_reminder_settings_without_quiet_hours() -> None:
    """No quiet hours: "Keine Ruhezeit" is ticked and the text says so."""
    reply = reminder_settings_panel(context(features=SUBS), frozenset({"1w"}), None)
    assert "Keine Ruhezeit: Erinnerungen können zu jeder Tageszeit kommen." in reply.text
    assert "1 Woche vorher." in reply.text
    assert "✅ Keine Ruhezeit" in _labels(reply)
    assert not any(b.startswith("✅ 2") for b in _labels(reply))


# /stopp and undo


def test_stop_confirm() -> None:
    """Ask with the count; singular reads naturally; nothing to end shows the panel button."""
    reply = stop_confirm_reply(context(), 3)
    assert reply.text.startswith("<b>Möchten Sie wirklich alle 3 Abonnements beenden?</b>")
    assert _labels(reply) == ["Ja, alles abbestellen", "Abbrechen"]
    assert _data(reply) == [callbacks.SUB_STOP_YES, callbacks.SUB_STOP_NO]
    one = stop_confirm_reply(context(), 1)
    assert one.text.startswith("<b>Möchten Sie Ihr Abonnement wirklich beenden?</b>")
    none = stop_confirm_reply(context(), 0)
    assert none.text == "Sie haben nichts abonniert – es gibt also nichts abzubestellen."  # noqa: RUF001 - German dash
    assert _data(none) == [callbacks.SUB_OPEN]
    for r in (reply, one, none):
        _check(r)


def test_stopped_and_restored() -> None:
    """After /stopp: what happened and an undo button; after undo: active again."""
    stopped = stopped_reply(context(), 4)
    assert stopped.text.startswith(
        "Sie haben alles abbestellt (4 Abonnements). "
        "Sie erhalten keine Erinnerungen oder Neuigkeiten mehr."
    )
    assert "/abo" in stopped.text
    assert _labels(stopped) == ["Rückgängig machen"]
    assert _data(stopped) == [callbacks.SUB_UNDO]
    assert "Rückgängig" not in "".join(_labels(stopped_reply(context(), 0)))
    restored = restored_reply(context(), 4)
    assert restored.text == "Wiederhergestellt: Ihre 4 Abonnements sind wieder aktiv."
    assert restored_reply(context(), 1).text == (
        "Wiederhergestellt: Ihr Abonnement ist wieder aktiv."
    )
    assert restored_reply(context(), 0).text == "Es gab nichts wiederherzustellen."
    for r in (stopped, restored):
        _check(r)


# Cards


def test_subscribe_buttons_only_with_the_feature() -> None:
    """Cards offer one-tap subscribing only when the feature is on, events only if upcoming."""
    network = catalog().network("cyberlago")
    assert network is not None
    plain = network_card(context(), network)
    with_feature = network_card(context(features=SUBS), network)
    assert callbacks.subscribe("net:cyberlago") not in _data(plain)
    assert "🔔 Abonnieren" in _labels(with_feature)
    assert callbacks.subscribe("net:cyberlago") in _data(with_feature)
    upcoming = _event(KARLSRUHE)
    assert "🔔 Termin abonnieren" not in _labels(event_card(context(), upcoming))
    card = event_card(context(features=SUBS), upcoming)
    assert callbacks.subscribe(callbacks.event_code(KARLSRUHE)) in _data(card)
    assert "🔔 Termin abonnieren" in _labels(card)
    past = event_card(context(features=SUBS), _event("netzwerktreffen-4"))
    assert "🔔 Termin abonnieren" not in _labels(past)
    _check(card)
    _check(with_feature)


def test_channel_panel_names_the_channel_within_64_bytes() -> None:
    """A channel's panel: every network toggle kept, every button naming the channel."""
    ctx = context()
    channel = -1009999999999  # as long as Telegram's channel ids get
    followed = frozenset({callbacks.CODE_NEWS, callbacks.event_code("x" * 40)})
    plain = subscriptions_panel(ctx, followed)
    panel = for_channel(ctx, plain, channel, "Kanal <News>")
    assert panel.text.startswith("<b>Abos des Kanals Kanal &lt;News&gt;</b>")
    data = [b.data for row in panel.buttons for b in row if b.data is not None]
    assert all(d.startswith(f"c:{channel}:") for d in data)
    assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data)
    assert all(callbacks.split_chat(d) == (channel, d.split(":", 2)[2]) for d in data)
    networks = [d for d in data if ":sub:t:net:" in d]
    assert len(networks) == len(ctx.catalog.networks)
    # Only what cannot fit is left out: the long event id's toggle.
    assert len(data) == len([b for row in plain.buttons for b in row]) - 1
    group = for_group(ctx, plain, "IT-Netzwerk <Ulm>")
    assert group.buttons == plain.buttons
    assert html_errors(group.text) == []
    assert "Nur die Administratoren der Gruppe können sie ändern." in group.text
