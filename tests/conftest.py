"""Fixtures shared by all tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import ManualClock

BERLIN: Final = ZoneInfo("Europe/Berlin")
REPO: Final = Path(__file__).resolve().parents[1]
SHARED_DATA: Final = REPO.parent / "shared" / "data"
# Inside the public question set's window: the next meeting is the Karlsruhe demo meeting.
TODAY: Final = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def clock() -> ManualClock:
    """Return a clock standing at 26 November 2026, 10:00 in Berlin."""
    return ManualClock(TODAY)
