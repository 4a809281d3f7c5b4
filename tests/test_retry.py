"""The retry policy: the delay ladder, deadlines, whole seconds, and the shared outage gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.retry import PATIENCE, Outage, next_attempt, retry_delay, whole_second_up

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_the_ladder_grows_and_is_capped_at_15_minutes() -> None:
    """5 s, 15 s, 1 min, 5 min, then 15 min however long it goes on."""
    delays = [retry_delay(n).total_seconds() for n in range(1, 9)]
    assert delays == [5, 15, 60, 300, 900, 900, 900, 900]
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0)


def test_next_attempt_respects_the_deadline_and_retry_after() -> None:
    """No try at or after the deadline; a longer retry_after wins; times round up."""
    assert next_attempt(1, T0, deadline=T0 + PATIENCE) == T0 + timedelta(seconds=5)
    assert next_attempt(3, T0, deadline=T0 + timedelta(minutes=1)) is None
    assert next_attempt(1, T0, deadline=None) is None
    later = next_attempt(1, T0, deadline=T0 + PATIENCE, retry_after=42)
    assert later == T0 + timedelta(seconds=42)
    odd = T0 + timedelta(microseconds=1)
    assert next_attempt(1, odd, deadline=T0 + PATIENCE) == T0 + timedelta(seconds=6)
    assert whole_second_up(T0) == T0


def test_outage_gate_escalates_only_when_open_and_resets_on_success() -> None:
    """Failures already in flight do not lengthen the wait; a success ends it."""
    gate = Outage()
    assert not gate.closed(T0)
    assert gate.failed(T0) == T0 + timedelta(seconds=5)
    assert gate.failed(T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=5), "in flight"
    assert gate.closed(T0 + timedelta(seconds=4))
    assert not gate.closed(T0 + timedelta(seconds=5))
    assert gate.failed(T0 + timedelta(seconds=5)) == T0 + timedelta(seconds=20)
    assert gate.failed(T0 + timedelta(seconds=20), retry_after=120) == T0 + timedelta(seconds=140)
    gate.succeeded()
    assert not gate.closed(T0 + timedelta(seconds=21))
    assert gate.failed(T0 + timedelta(seconds=30)) == T0 + timedelta(seconds=35)
