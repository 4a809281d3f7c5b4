"""German date and time input: what admins type, what is refused, and round trips."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parse import (
    format_date_time,
    format_time,
    parse_coordinates,
    parse_date,
    parse_date_time,
    parse_time,
)
from tests.conftest import BERLIN


@pytest.mark.parametrize(
    "text",
    [
        "18.03.2027 14:00",
        "18.3.2027 14:00",
        "18.03.2027, 14:00 Uhr",
        "18.03.2027 um 14 Uhr",
        "  18.03.27   14.00 ",
        "18.03.2027 14",
        "2027-03-18 14:00",
        "18.03.2027\u00a014:00",
    ],
)
def test_date_time_forms(text: str) -> None:
    """The usual German ways of writing a date and a time all mean the same instant."""
    assert parse_date_time(text, BERLIN) == datetime(2027, 3, 18, 14, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "morgen",
        "32.13.2027 25:00",
        "31.02.2027 10:00",
        "18.03.2027 24:00",
        "18.03.2027 14:60",
        "18.03.2027",
        "14:00 18.03.2027",
        "18/03/2027 14:00",
        "\uff11\uff18.03.2027 14:00",  # full-width digits are not what the hint asks for
        "18.03.2027 14:00" + " " * 100,
    ],
)
def test_date_time_refused(text: str) -> None:
    """Anything else raises ValueError, which the bot answers with the hint."""
    with pytest.raises(ValueError):  # noqa: PT011 - ValueError is the contract
        parse_date_time(text, BERLIN)


def test_dst_gap_and_overlap() -> None:
    """A wall time in the spring gap moves forward; an autumn one takes its first occurrence."""
    gap = parse_date_time("28.03.2027 02:30", BERLIN)
    assert gap.astimezone(UTC) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 CEST
    overlap = parse_date_time("31.10.2027 02:30", BERLIN)
    assert overlap.astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # CEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [("16:00", time(16)), ("16 Uhr", time(16)), ("16.00", time(16)), ("9:30", time(9, 30))],
)
def test_time_forms(text: str, expected: time) -> None:
    """Times: with colon or dot, with "Uhr", a bare hour."""
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "24:00", "16:0", "sechzehn", "16:00:00", "-1"])
def test_time_refused(text: str) -> None:
    """Malformed times raise ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011
        parse_time(text)


def test_dates() -> None:
    """Dates alone, with two-digit years read as 20JJ."""
    assert parse_date("18.03.2027") == date(2027, 3, 18)
    assert parse_date("1.4.27") == date(2027, 4, 1)
    assert parse_date("2027-03-18") == date(2027, 3, 18)
    with pytest.raises(ValueError):  # noqa: PT011
        parse_date("29.02.2027")


@given(st.text(max_size=80))
def test_arbitrary_text_only_value_error(text: str) -> None:
    """No input makes the parsers raise anything but ValueError."""
    for parse in (parse_date, parse_time, lambda t: parse_date_time(t, BERLIN)):
        with contextlib.suppress(ValueError):
            parse(text)


@given(
    st.from_regex(
        r"[0-9]{1,2}[.:][0-9]{1,2}[.:]?[0-9]{0,4}( ?,? ?(um )?)[0-9]{1,2}([:.][0-9]{2})?( ?uhr)?",
        fullmatch=True,
    )
)
def test_near_misses_only_value_error(text: str) -> None:
    """Inputs shaped almost like dates (bad days, hours, years) raise only ValueError."""
    try:
        moment = parse_date_time(text, BERLIN)
    except ValueError:
        return
    assert moment.tzinfo is not None


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds for hypothesis
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_round_trip(moment: datetime) -> None:
    """What format_date_time writes, parse_date_time reads back (to the minute)."""
    minute = moment.replace(second=0, microsecond=0)
    parsed = parse_date_time(format_date_time(minute, BERLIN), BERLIN)
    local = minute.astimezone(BERLIN)
    # In the autumn overlap the first occurrence is chosen: at most one hour earlier.
    assert timedelta(0) <= minute - parsed <= timedelta(hours=1)
    assert parsed.astimezone(BERLIN).replace(tzinfo=None) == local.replace(tzinfo=None)
    assert parse_time(format_time(minute, BERLIN)) == local.time()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48.7784, 9.18", (48.7784, 9.18)),
        ("48,7784; 9,18", (48.7784, 9.18)),
        ("48,7784 9,18", (48.7784, 9.18)),
        ("-33.86 151.21", (-33.86, 151.21)),
        ("  90, -180 ", (90.0, -180.0)),
    ],
)
def test_coordinates_are_read(text: str, expected: tuple[float, float]) -> None:
    """Dot or German comma decimals, separated by ", ", ";" or a space."""
    assert parse_coordinates(text) == expected


@pytest.mark.parametrize("text", ["", "48.7", "48,7,9,1", "91, 9", "48, 181", "a, b", "1e3 2"])
def test_bad_coordinates_are_refused(text: str) -> None:
    """Anything else, or degrees out of range, is a ValueError."""
    with pytest.raises(ValueError, match=r".*"):
        parse_coordinates(text)
