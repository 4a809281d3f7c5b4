"""Reminder times: leads, DST days, date-only events, quiet hours, weekly previews."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Event
from bot.domain.schedule import (
    DEFAULT_LEADS,
    DEFAULT_QUIET_HOURS,
    Lead,
    QuietHours,
    apply_quiet_hours,
    day_distance,
    default_quiet_hours,
    due_reminders,
    format_quiet_hours,
    in_quiet_hours,
    lead_due,
    localize,
    next_weekly_preview,
    parse_quiet_code,
    parse_quiet_hours,
    quiet_code,
    quiet_from_columns,
    quiet_to_columns,
    reminder_due,
    week_window,
)

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22, 0), time(7, 0))
LUNCH = QuietHours(time(13, 0), time(14, 0))


def wall(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """Return a naive local wall-clock value, on purpose."""
    return datetime(y, mo, d, h, mi, s)  # noqa: DTZ001 - an explicit wall-clock value


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    """Return an aware Berlin time (fold=1 picks the repeated autumn hour)."""
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Return an aware UTC time."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def timed(start: datetime) -> Event:
    """Return an event starting at ``start`` (aware), stored the way storage stores it."""
    return Event(
        id="e",
        fictional=True,
        kind="network_meeting",
        title="Treffen",
        description="",
        status="planned",
        date=start.astimezone(BERLIN).date(),
        start=start.astimezone(UTC),
    )


def on_day(day: date | None) -> Event:
    """Return an event known only by its day (or not at all)."""
    return Event(
        id="d",
        fictional=True,
        kind="network_meeting",
        title="Treffen",
        description="",
        status="planned",
        date=day,
        date_known=day is not None,
    )


# --- parsing and formatting quiet hours -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00-07:00", NIGHT),
        ("22:00\u201307:00", NIGHT),
        (" 22:00 - 7:00 ", NIGHT),
        ("22:00 \u2013 07:00", NIGHT),
        ("13:00-14:00", LUNCH),
        ("0:05-23:59", QuietHours(time(0, 5), time(23, 59))),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_quiet_hours(text: str, expected: QuietHours | None) -> None:
    """Dashes, spaces and one-digit hours are accepted; empty text means no quiet hours."""
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22-7", "must look like 22:00-07:00"),
        ("abends", "must look like 22:00-07:00"),
        ("22:00-07:00-08:00", "must look like 22:00-07:00"),
        ("22:00", "must look like 22:00-07:00"),
        ("24:00-07:00", "from 00:00 to 23:59"),
        ("22:60-07:00", "from 00:00 to 23:59"),
        ("07:00-07:00", "different times"),
    ],
)
def test_parse_quiet_hours_rejects(text: str, message: str) -> None:
    """Malformed, impossible and empty windows fail with a clear message."""
    with pytest.raises(ValueError, match=message):
        parse_quiet_hours(text)


def test_format_quiet_hours() -> None:
    """Formatting pads the hours and uses a plain hyphen."""
    assert format_quiet_hours(NIGHT) == "22:00-07:00"
    assert format_quiet_hours(QuietHours(time(7, 5), time(9, 0))) == "07:05-09:00"


@given(
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_format_then_parse_round_trips(start: time, end: time) -> None:
    """Whatever is formatted parses back to the same window."""
    if start != end:
        quiet = QuietHours(start, end)
        assert parse_quiet_hours(format_quiet_hours(quiet)) == quiet


@given(
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_quiet_codes_and_columns_round_trip(start: time, end: time) -> None:
    """The callback code and the stored columns read back as the same window (or none)."""
    quiet = QuietHours(start, end) if start != end else None
    assert parse_quiet_code(quiet_code(quiet)) == quiet
    assert quiet_from_columns(*quiet_to_columns(quiet)) == quiet
    assert len(quiet_code(quiet)) <= len("2200-0700")


@pytest.mark.parametrize("code", ["", "2400-0700", "2200-0760", "2200-2200", "22:00-07:00", "x"])
def test_malformed_quiet_codes_are_refused(code: str) -> None:
    """Forged callback data never becomes quiet hours."""
    with pytest.raises(ValueError, match="quiet"):
        parse_quiet_code(code)


def test_default_quiet_hours_from_environment_value() -> None:
    """Unset means 22:00-07:00, empty means none, anything else is parsed."""
    assert default_quiet_hours(None) == DEFAULT_QUIET_HOURS == NIGHT
    assert default_quiet_hours("") is None
    assert default_quiet_hours("23:00-06:00") == QuietHours(time(23, 0), time(6, 0))
    with pytest.raises(ValueError, match="22:00-07:00"):
        default_quiet_hours("nachts")


def test_lead_values_are_stable() -> None:
    """The values are stored in the database and must never change."""
    assert [lead.value for lead in Lead] == ["1w", "1d", "2h"]
    assert DEFAULT_LEADS == (Lead.DAY, Lead.HOURS_2)


# --- localize ---------------------------------------------------------------------------


def test_localize_plain_time() -> None:
    """An ordinary wall time just gets its zone."""
    assert localize(wall(2027, 3, 18, 10), BERLIN) == utc(2027, 3, 18, 9)
    assert localize(wall(2027, 3, 18, 10), BERLIN).tzinfo is BERLIN


@pytest.mark.parametrize("minute", [0, 1, 30, 59])
def test_localize_spring_gap_moves_to_next_valid_minute(minute: int) -> None:
    """02:xx on 2027-03-28 does not exist: it becomes 03:00 CEST."""
    result = localize(wall(2027, 3, 28, 2, minute, 15), BERLIN)
    assert result == utc(2027, 3, 28, 1)
    assert result.replace(tzinfo=None) == wall(2027, 3, 28, 3)


def test_localize_just_before_gap() -> None:
    """01:59 still exists, in winter time."""
    assert localize(wall(2027, 3, 28, 1, 59), BERLIN) == utc(2027, 3, 28, 0, 59)


@pytest.mark.parametrize("day", [date(2026, 10, 25), date(2027, 10, 31)])
def test_localize_ambiguous_takes_first_occurrence(day: date) -> None:
    """02:30 on the autumn change happens twice: the first one (CEST) wins."""
    result = localize(datetime.combine(day, time(2, 30)), BERLIN)
    # Aware == across zones is never true inside a repeated hour (PEP 495), so compare in UTC.
    assert result.astimezone(UTC) == datetime.combine(day, time(0, 30), tzinfo=UTC)
    assert result.utcoffset() == timedelta(hours=2)
    assert result.fold == 0


def test_localize_refuses_aware_input() -> None:
    """Only naive wall times are localized."""
    with pytest.raises(ValueError, match="naive"):
        localize(utc(2027, 3, 18), BERLIN)


@given(st.datetimes(min_value=wall(2026, 1, 1), max_value=wall(2030, 12, 31, 23, 59)))
def test_localize_keeps_wall_time_or_jumps_the_gap(value: datetime) -> None:
    """The wall time is kept unless it falls into the spring gap, then it becomes 03:00."""
    value = value.replace(second=0, microsecond=0)
    result = localize(value, BERLIN)
    local = result.replace(tzinfo=None)
    if local != value:
        assert value.month == 3
        assert value.weekday() == 6
        assert value.hour == 2
        assert local == value.replace(hour=3, minute=0)
    else:
        # Ambiguous or not, the result is never the later of two occurrences.
        assert result <= value.replace(tzinfo=BERLIN, fold=1)


# --- lead_due ---------------------------------------------------------------------------


def test_timed_event_leads() -> None:
    """Thu 2027-03-18 10:00 Berlin: day and week leads keep 10:00, 2h is 08:00."""
    event = timed(berlin(2027, 3, 18, 10))
    assert event.start == utc(2027, 3, 18, 9)
    assert lead_due(event, Lead.DAY, BERLIN) == berlin(2027, 3, 17, 10)
    assert lead_due(event, Lead.WEEK, BERLIN) == berlin(2027, 3, 11, 10)
    assert lead_due(event, Lead.HOURS_2, BERLIN) == berlin(2027, 3, 18, 8)
    assert lead_due(event, Lead.DAY, BERLIN) == utc(2027, 3, 17, 9)


def test_results_are_utc() -> None:
    """Every computed time is an aware UTC datetime."""
    event = timed(berlin(2027, 3, 18, 10))
    for lead in Lead:
        due = lead_due(event, lead, BERLIN)
        assert due is not None
        assert due.tzinfo is UTC


def test_day_lead_keeps_wall_time_across_spring_forward() -> None:
    """Sun 2027-03-28 10:00 CEST: 1d = Sat 10:00 CET, only 23 hours earlier."""
    event = timed(berlin(2027, 3, 28, 10))
    due = lead_due(event, Lead.DAY, BERLIN)
    assert due == utc(2027, 3, 27, 9)
    assert due is not None
    assert due.astimezone(BERLIN).time() == time(10, 0)
    assert event.start is not None
    assert event.start - due == timedelta(hours=23)


def test_day_lead_on_the_spring_forward_day() -> None:
    """Mon 2027-03-29 10:00 CEST: 1d = Sun 10:00 CEST (both summer time, 24 hours)."""
    due = lead_due(timed(berlin(2027, 3, 29, 10)), Lead.DAY, BERLIN)
    assert due == utc(2027, 3, 28, 8)


def test_week_lead_across_spring_forward() -> None:
    """Thu 2027-04-01 10:00 CEST: 1w = Thu 2027-03-25 10:00 CET."""
    assert lead_due(timed(berlin(2027, 4, 1, 10)), Lead.WEEK, BERLIN) == utc(2027, 3, 25, 9)


def test_hour_lead_is_absolute_across_spring_forward() -> None:
    """2027-03-28 04:00 CEST (02:00 UTC): 2h = 00:00 UTC, which reads 01:00 CET."""
    due = lead_due(timed(berlin(2027, 3, 28, 4)), Lead.HOURS_2, BERLIN)
    assert due == utc(2027, 3, 28, 0)
    noon = lead_due(timed(berlin(2027, 3, 28, 12)), Lead.HOURS_2, BERLIN)
    assert noon == utc(2027, 3, 28, 8) == berlin(2027, 3, 28, 10)


def test_day_lead_into_the_gap() -> None:
    """2027-03-29 02:30 exists; a day earlier it does not: 03:00 CEST, or 07:00 with quiet."""
    event = timed(berlin(2027, 3, 29, 2, 30))
    assert event.start == utc(2027, 3, 29, 0, 30)
    assert lead_due(event, Lead.DAY, BERLIN) == utc(2027, 3, 28, 1)
    assert reminder_due(event, Lead.DAY, None, BERLIN) == utc(2027, 3, 28, 1)
    assert reminder_due(event, Lead.DAY, NIGHT, BERLIN) == utc(2027, 3, 28, 5)
    assert reminder_due(event, Lead.DAY, NIGHT, BERLIN) == berlin(2027, 3, 28, 7)


@pytest.mark.parametrize("change", [date(2026, 10, 25), date(2027, 10, 31)])
def test_day_lead_into_ambiguous_hour_takes_first(change: date) -> None:
    """An event at 02:30 CET the day after the autumn change: 1d = 02:30 CEST (00:30 UTC)."""
    day_after = change + timedelta(days=1)
    event = timed(datetime.combine(day_after, time(2, 30), tzinfo=BERLIN))
    assert event.start == datetime.combine(day_after, time(1, 30), tzinfo=UTC)
    assert lead_due(event, Lead.DAY, BERLIN) == datetime.combine(change, time(0, 30), tzinfo=UTC)


def test_day_lead_from_the_repeated_hour() -> None:
    """An event at the second 02:30 (CET) on 2027-10-31: 1d = Sat 02:30 CEST, 25 h earlier."""
    event = timed(berlin(2027, 10, 31, 2, 30, fold=1))
    assert event.start == utc(2027, 10, 31, 1, 30)
    assert lead_due(event, Lead.DAY, BERLIN) == utc(2027, 10, 30, 0, 30)


def test_hour_lead_is_absolute_across_fall_back() -> None:
    """2027-10-31 04:00 CET = 03:00 UTC: 2h = 01:00 UTC, which is the second 02:00 (CET)."""
    due = lead_due(timed(berlin(2027, 10, 31, 4)), Lead.HOURS_2, BERLIN)
    assert due == utc(2027, 10, 31, 1)
    # Aware == across zones is never true inside a repeated hour (PEP 495), so compare in UTC.
    assert due == berlin(2027, 10, 31, 2, fold=1).astimezone(UTC)
    assert due is not None
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=1)


def test_date_only_event() -> None:
    """Known only by day: day and week leads at 09:00 local, no hour lead."""
    event = on_day(date(2027, 3, 18))
    assert lead_due(event, Lead.DAY, BERLIN) == berlin(2027, 3, 17, 9)
    assert lead_due(event, Lead.WEEK, BERLIN) == berlin(2027, 3, 11, 9)
    assert lead_due(event, Lead.HOURS_2, BERLIN) is None
    assert reminder_due(event, Lead.HOURS_2, NIGHT, BERLIN) is None


def test_date_only_event_after_spring_forward() -> None:
    """09:00 on the change day is summer time: 07:00 UTC."""
    assert lead_due(on_day(date(2027, 3, 29)), Lead.DAY, BERLIN) == utc(2027, 3, 28, 7)


def test_unknown_date_gets_nothing() -> None:
    """Without a known date there is no reminder at all."""
    event = on_day(None)
    now = utc(2027, 1, 1)
    for lead in Lead:
        assert lead_due(event, lead, BERLIN) is None
        assert reminder_due(event, lead, NIGHT, BERLIN) is None
    assert due_reminders(event, Lead, NIGHT, BERLIN, now=now) == {}


def test_hour_lead_with_a_start_in_local_time() -> None:
    """A start given in Berlin time still gets two real hours (not wall-clock arithmetic)."""
    event = replace(timed(berlin(2027, 3, 28, 4)), start=berlin(2027, 3, 28, 4))
    assert lead_due(event, Lead.HOURS_2, BERLIN) == utc(2027, 3, 28, 0)


def test_naive_event_start_is_refused() -> None:
    """A naive start would silently mean server time; it is an error instead."""
    event = Event(
        id="n",
        fictional=True,
        kind="network_meeting",
        title="T",
        description="",
        status="planned",
        date=date(2027, 3, 18),
        start=wall(2027, 3, 18, 9),
    )
    with pytest.raises(ValueError, match="aware"):
        lead_due(event, Lead.HOURS_2, BERLIN)


# --- quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [
        (21, 59, False),
        (22, 0, True),
        (23, 30, True),
        (0, 0, True),
        (6, 59, True),
        (7, 0, False),
        (12, 0, False),
    ],
)
def test_in_quiet_hours_boundaries(hour: int, minute: int, quiet: bool) -> None:
    """The start belongs to the quiet hours, the end does not."""
    assert in_quiet_hours(berlin(2027, 5, 10, hour, minute), NIGHT, BERLIN) is quiet


def test_in_quiet_hours_without_wrap() -> None:
    """A window inside one day: 13:00-14:00."""
    assert not in_quiet_hours(berlin(2027, 5, 10, 12, 59), LUNCH, BERLIN)
    assert in_quiet_hours(berlin(2027, 5, 10, 13), LUNCH, BERLIN)
    assert not in_quiet_hours(berlin(2027, 5, 10, 14), LUNCH, BERLIN)
    assert not in_quiet_hours(berlin(2027, 5, 10, 23), LUNCH, BERLIN)


def test_in_quiet_hours_uses_local_time() -> None:
    """21:30 UTC in May is 23:30 in Berlin: quiet."""
    assert in_quiet_hours(utc(2027, 5, 10, 21, 30), NIGHT, BERLIN)


def test_in_quiet_hours_refuses_naive() -> None:
    """A naive moment is refused rather than read as server time."""
    with pytest.raises(ValueError, match="aware"):
        in_quiet_hours(wall(2027, 5, 10, 23), NIGHT, BERLIN)


def test_early_reminder_moves_to_end_of_quiet_hours() -> None:
    """An 08:00 event's 2h reminder (06:00) goes out at 07:00."""
    event = timed(berlin(2027, 5, 10, 8))
    assert reminder_due(event, Lead.HOURS_2, NIGHT, BERLIN) == berlin(2027, 5, 10, 7)


def test_reminder_moves_to_evening_before_when_event_starts_first() -> None:
    """A 06:30 event's 2h reminder (04:30): 07:00 is too late, so 21:45 the evening before."""
    event = timed(berlin(2027, 5, 10, 6, 30))
    assert reminder_due(event, Lead.HOURS_2, NIGHT, BERLIN) == berlin(2027, 5, 9, 21, 45)


def test_day_reminder_late_evening_moves_to_morning() -> None:
    """A 23:00 event's 1d reminder (23:00 the day before) goes out at 07:00 the next morning."""
    event = timed(berlin(2027, 5, 10, 23))
    assert reminder_due(event, Lead.DAY, NIGHT, BERLIN) == berlin(2027, 5, 10, 7)


def test_window_end_equal_to_start_is_too_late() -> None:
    """A 07:00 event: quiet hours end as it begins, so the reminder goes the evening before."""
    event = timed(berlin(2027, 5, 10, 7))
    assert reminder_due(event, Lead.HOURS_2, NIGHT, BERLIN) == berlin(2027, 5, 9, 21, 45)


def test_no_quiet_hours() -> None:
    """Without quiet hours a 04:30 reminder stays at 04:30."""
    event = timed(berlin(2027, 5, 10, 6, 30))
    assert reminder_due(event, Lead.HOURS_2, None, BERLIN) == berlin(2027, 5, 10, 4, 30)


def test_quiet_hours_without_wrap() -> None:
    """13:00-14:00: to 14:00 if the event is later, else to 12:45."""
    later = berlin(2027, 5, 10, 18)
    assert apply_quiet_hours(berlin(2027, 5, 10, 13, 30), LUNCH, later, BERLIN) == berlin(
        2027, 5, 10, 14
    )
    soon = berlin(2027, 5, 10, 13, 45)
    assert apply_quiet_hours(berlin(2027, 5, 10, 13, 30), LUNCH, soon, BERLIN) == berlin(
        2027, 5, 10, 12, 45
    )
    event = timed(berlin(2027, 5, 10, 15, 30))
    assert reminder_due(event, Lead.HOURS_2, LUNCH, BERLIN) == berlin(2027, 5, 10, 14)


def test_outside_quiet_hours_nothing_moves() -> None:
    """A due time in waking hours is returned as it is, in UTC."""
    due = berlin(2027, 5, 10, 12)
    result = apply_quiet_hours(due, NIGHT, berlin(2027, 5, 11), BERLIN)
    assert result == due
    assert result.tzinfo is UTC


def test_date_only_event_and_quiet_hours() -> None:
    """09:00 is awake with the default; with quiet hours until 10:00 the reminder waits."""
    event = on_day(date(2027, 5, 10))
    assert reminder_due(event, Lead.DAY, NIGHT, BERLIN) == berlin(2027, 5, 9, 9)
    late_sleeper = QuietHours(time(23, 0), time(10, 0))
    assert reminder_due(event, Lead.DAY, late_sleeper, BERLIN) == berlin(2027, 5, 9, 10)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (berlin(2027, 3, 27, 23), utc(2027, 3, 28, 5)),
        (berlin(2027, 3, 28, 1, 30), utc(2027, 3, 28, 5)),
        (berlin(2027, 3, 28, 4), utc(2027, 3, 28, 5)),
        (berlin(2027, 10, 30, 23), utc(2027, 10, 31, 6)),
        (berlin(2027, 10, 31, 2, 30), utc(2027, 10, 31, 6)),
        (berlin(2027, 10, 31, 2, 30, fold=1), utc(2027, 10, 31, 6)),
        (berlin(2026, 10, 24, 22), utc(2026, 10, 25, 6)),
    ],
)
def test_quiet_window_end_on_dst_nights(due: datetime, expected: datetime) -> None:
    """The window still ends at 07:00 local when the clocks change during the night."""
    result = apply_quiet_hours(due, NIGHT, berlin(2027, 12, 1), BERLIN)
    assert result == expected
    assert result.astimezone(BERLIN).time() == time(7, 0)


def test_quiet_fallback_before_a_dst_night() -> None:
    """A 06:30 CEST event on 2027-03-28: the 2h reminder goes at 21:45 CET the evening before."""
    event = timed(berlin(2027, 3, 28, 6, 30))
    assert reminder_due(event, Lead.HOURS_2, NIGHT, BERLIN) == utc(2027, 3, 27, 20, 45)


def test_ambiguous_window_end_uses_the_repeat_when_passed() -> None:
    """Quiet 01:00-02:30 on 2027-10-31: a reminder in the second 02:15 ends at the second 02:30."""
    quiet = QuietHours(time(1, 0), time(2, 30))
    later = berlin(2027, 10, 31, 12)
    first = apply_quiet_hours(berlin(2027, 10, 31, 2, 15), quiet, later, BERLIN)
    assert first == utc(2027, 10, 31, 0, 30)
    second = apply_quiet_hours(berlin(2027, 10, 31, 2, 15, fold=1), quiet, later, BERLIN)
    assert second == utc(2027, 10, 31, 1, 30)


def test_short_waking_time_clamps_the_fallback() -> None:
    """Awake only 07:00-07:05: the fallback is 07:00, not the still quiet 06:50."""
    quiet = QuietHours(time(7, 5), time(7, 0))
    result = apply_quiet_hours(berlin(2027, 5, 10, 12), quiet, berlin(2027, 5, 11, 6), BERLIN)
    assert result == berlin(2027, 5, 10, 7)


def test_fallback_counts_real_minutes_when_quiet_starts_in_the_gap() -> None:
    """Quiet from 02:30 (=03:00 CEST on 2027-03-28): 15 real minutes earlier is 01:45 CET."""
    quiet = QuietHours(time(2, 30), time(23, 0))
    result = apply_quiet_hours(berlin(2027, 3, 28, 12), quiet, berlin(2027, 3, 28, 20), BERLIN)
    assert result == utc(2027, 3, 28, 0, 45)


def test_fallback_counts_real_minutes_after_fall_back() -> None:
    """Quiet from 03:10 on 2027-10-31 (CET): 15 minutes earlier is 02:55 CET, not CEST."""
    quiet = QuietHours(time(3, 10), time(23, 0))
    result = apply_quiet_hours(berlin(2027, 10, 31, 12), quiet, berlin(2027, 10, 31, 20), BERLIN)
    assert result == utc(2027, 10, 31, 1, 55)


def test_dst_gap_swallowing_the_waking_time_keeps_due() -> None:
    """Awake only 02:10-02:40, which 2027-03-28 skips: there is no better time, due stays."""
    quiet = QuietHours(time(2, 40), time(2, 10))
    due = berlin(2027, 3, 28, 5)
    assert apply_quiet_hours(due, quiet, berlin(2027, 3, 28, 12), BERLIN) == due


# --- due_reminders ----------------------------------------------------------------------


def test_due_reminders_all_ahead() -> None:
    """Far ahead, every lead is due, earliest first."""
    event = timed(berlin(2027, 3, 18, 10))
    result = due_reminders(event, DEFAULT_LEADS, NIGHT, BERLIN, now=utc(2027, 1, 1))
    assert result == {Lead.DAY: berlin(2027, 3, 17, 10), Lead.HOURS_2: berlin(2027, 3, 18, 8)}
    assert list(
        due_reminders(event, [Lead.HOURS_2, Lead.WEEK], None, BERLIN, now=utc(2027, 1, 1))
    ) == [Lead.WEEK, Lead.HOURS_2]


def test_event_added_shortly_before_gets_no_stale_day_reminder() -> None:
    """Added three hours before it starts: only the 2h reminder remains."""
    start = berlin(2027, 3, 18, 10)
    event = timed(start)
    now = start - timedelta(hours=3)
    assert due_reminders(event, Lead, NIGHT, BERLIN, now=now) == {
        Lead.HOURS_2: berlin(2027, 3, 18, 8)
    }
    # Exactly two hours before, even the 2h reminder is no longer strictly ahead.
    assert due_reminders(event, Lead, NIGHT, BERLIN, now=start - timedelta(hours=2)) == {}


def test_late_subscriber_gets_no_stale_reminder() -> None:
    """Subscribing three days ahead skips the week lead."""
    event = timed(berlin(2027, 3, 18, 10))
    result = due_reminders(event, Lead, NIGHT, BERLIN, now=berlin(2027, 3, 15, 12))
    assert set(result) == {Lead.DAY, Lead.HOURS_2}


def test_staleness_is_judged_after_quiet_hours() -> None:
    """A 06:30 event's 2h reminder moved to 21:45 the evening before is stale at 23:00."""
    event = timed(berlin(2027, 5, 10, 6, 30))
    assert due_reminders(event, [Lead.HOURS_2], NIGHT, BERLIN, now=berlin(2027, 5, 9, 21)) == {
        Lead.HOURS_2: berlin(2027, 5, 9, 21, 45)
    }
    assert due_reminders(event, [Lead.HOURS_2], NIGHT, BERLIN, now=berlin(2027, 5, 9, 23)) == {}


def test_due_reminders_repeated_leads_count_once() -> None:
    """The same lead twice yields one entry."""
    event = timed(berlin(2027, 3, 18, 10))
    result = due_reminders(event, [Lead.DAY, Lead.DAY], None, BERLIN, now=utc(2027, 1, 1))
    assert list(result) == [Lead.DAY]


# --- day words, weekly preview ----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "day", "expected"),
    [
        (berlin(2027, 5, 10, 23, 59), date(2027, 5, 11), 1),
        (berlin(2027, 5, 11, 0, 0), date(2027, 5, 11), 0),
        (utc(2027, 5, 10, 22, 30), date(2027, 5, 11), 0),
        (berlin(2027, 5, 11, 12), date(2027, 5, 10), -1),
        (berlin(2027, 5, 11, 12), date(2027, 5, 18), 7),
        (berlin(2027, 3, 27, 23, 30), date(2027, 3, 28), 1),
        (berlin(2027, 3, 28, 23, 30), date(2027, 3, 29), 1),
        (berlin(2027, 3, 27, 23, 30), date(2027, 4, 3), 7),
        (utc(2027, 10, 30, 22, 30), date(2027, 10, 31), 0),
        (berlin(2027, 10, 31, 23, 59), date(2027, 11, 1), 1),
    ],
)
def test_day_distance(now: datetime, day: date, expected: int) -> None:
    """Calendar days in Berlin, not 24-hour blocks and not UTC days."""
    assert day_distance(day, now, BERLIN) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2027, 5, 10, 7, 59), berlin(2027, 5, 10, 8)),
        (berlin(2027, 5, 10, 8, 0), berlin(2027, 5, 17, 8)),
        (berlin(2027, 5, 10, 9), berlin(2027, 5, 17, 8)),
        (berlin(2027, 5, 9, 23), berlin(2027, 5, 10, 8)),
        (berlin(2027, 5, 12, 12), berlin(2027, 5, 17, 8)),
        (berlin(2027, 3, 28, 12), utc(2027, 3, 29, 6)),
        (berlin(2027, 3, 22, 9), utc(2027, 3, 29, 6)),
        (berlin(2027, 10, 25, 9), utc(2027, 11, 1, 7)),
    ],
)
def test_next_weekly_preview(now: datetime, expected: datetime) -> None:
    """Next Monday 08:00 local strictly after now, also across clock changes."""
    result = next_weekly_preview(now, BERLIN)
    assert result == expected
    assert result.tzinfo is UTC


def test_week_window() -> None:
    """Monday 00:00 to next Monday 00:00 local; 167 hours in the spring-forward week."""
    start, end = week_window(berlin(2027, 3, 24, 15), BERLIN)
    assert (start, end) == (utc(2027, 3, 21, 23), utc(2027, 3, 28, 22))
    assert end - start == timedelta(hours=167)
    assert week_window(berlin(2027, 3, 22, 0), BERLIN) == (start, end)
    assert week_window(berlin(2027, 3, 28, 23, 59), BERLIN) == (start, end)
    # 22:30 UTC on Sunday is already Monday in Berlin: the next week.
    assert week_window(utc(2027, 3, 28, 22, 30), BERLIN)[0] == utc(2027, 3, 28, 22)
    autumn = week_window(berlin(2027, 10, 27), BERLIN)
    assert autumn[1] - autumn[0] == timedelta(hours=169)


# --- properties -------------------------------------------------------------------------

instants = st.integers(
    min_value=int(utc(2026, 1, 1).timestamp()) // 60,
    max_value=int(utc(2030, 12, 31, 23, 59).timestamp()) // 60,
).map(lambda minute: datetime.fromtimestamp(minute * 60, tz=UTC))
clock_minutes = st.integers(min_value=0, max_value=24 * 60 - 1).map(
    lambda m: time(m // 60, m % 60)
)
quiet_windows = (
    st.tuples(clock_minutes, clock_minutes)
    .filter(lambda p: p[0] != p[1])
    .map(lambda p: QuietHours(*p))
)


def waking_minutes(quiet: QuietHours) -> int:
    """Return how many wall-clock minutes a day lie outside the quiet hours."""
    start = quiet.start.hour * 60 + quiet.start.minute
    end = quiet.end.hour * 60 + quiet.end.minute
    return (start - end) % (24 * 60)


@given(instants, st.sampled_from(Lead), st.one_of(st.none(), quiet_windows))
def test_reminder_properties(start: datetime, lead: Lead, quiet: QuietHours | None) -> None:
    """Before the event, out of the quiet hours (bar the DST last resort), deterministic."""
    event = timed(start)
    due = lead_due(event, lead, BERLIN)
    assert due is not None
    assert due < start
    result = reminder_due(event, lead, quiet, BERLIN)
    assert result is not None
    assert result == reminder_due(event, lead, quiet, BERLIN)
    assert result.tzinfo is UTC
    assert result < start
    if quiet is None:
        assert result == due
        return
    if in_quiet_hours(result, quiet, BERLIN):
        # Only when a spring gap swallows all waking time (at most 60 minutes of it).
        assert result == due
        assert waking_minutes(quiet) <= 60
    if result > due:
        # Moved later only to the end of the quiet hours (03:00 if the end is in the gap).
        local = result.astimezone(BERLIN).time()
        assert local == quiet.end or (local == time(3, 0) and quiet.end.hour == 2)
        assert result - due <= timedelta(hours=25)


@given(instants, st.sampled_from(Lead))
def test_lead_keeps_wall_time_or_duration(start: datetime, lead: Lead) -> None:
    """Day leads keep the local time N days earlier; the hour lead is exactly two hours."""
    due = lead_due(timed(start), lead, BERLIN)
    assert due is not None
    if lead is Lead.HOURS_2:
        assert start - due == timedelta(hours=2)
        return
    days = 7 if lead is Lead.WEEK else 1
    local_start, local_due = start.astimezone(BERLIN), due.astimezone(BERLIN)
    assert local_due.date() == local_start.date() - timedelta(days=days)
    assert local_due.time() == local_start.time() or (
        local_start.hour == 2 and local_due.time() == time(3, 0)
    )


@given(instants, st.lists(st.sampled_from(Lead)), st.one_of(st.none(), quiet_windows), instants)
def test_due_reminders_properties(
    start: datetime, leads: list[Lead], quiet: QuietHours | None, now: datetime
) -> None:
    """Only chosen leads, only strictly after now, equal to reminder_due, sorted by time."""
    event = timed(start)
    result = due_reminders(event, leads, quiet, BERLIN, now=now)
    assert set(result) <= set(leads)
    assert all(when > now for when in result.values())
    assert list(result.values()) == sorted(result.values())
    for lead in set(leads):
        when = reminder_due(event, lead, quiet, BERLIN)
        assert result.get(lead) == (when if when is not None and when > now else None)


@given(instants)
def test_next_weekly_preview_properties(now: datetime) -> None:
    """A Monday 08:00 local, strictly after now and at most a week later."""
    result = next_weekly_preview(now, BERLIN)
    local = result.astimezone(BERLIN)
    assert local.weekday() == 0
    assert local.time() == time(8, 0)
    assert now < result <= now + timedelta(days=7, hours=1)
    start, end = week_window(now, BERLIN)
    assert start <= now < end
