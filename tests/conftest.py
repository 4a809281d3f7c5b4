"""Fixtures shared by all tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import ManualClock
from tests.slapd import Slapd, openssl_binary, running_slapd, slapd_binary

if TYPE_CHECKING:
    from collections.abc import Iterator

BERLIN: Final = ZoneInfo("Europe/Berlin")
REPO: Final = Path(__file__).resolve().parents[1]
SHARED_DATA: Final = REPO.parent / "shared" / "data"
# Inside the public question set's window: the next meeting is the Karlsruhe demo meeting.
TODAY: Final = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def clock() -> ManualClock:
    """Return a clock standing at 26 November 2026, 10:00 in Berlin."""
    return ManualClock(TODAY)


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[Slapd]:
    """Run a real OpenLDAP server with the fixture tree (skipped where slapd is missing)."""
    if slapd_binary() is None:
        pytest.skip("slapd is not installed (apt-get install slapd); .ci/run installs it")
    yield from running_slapd(tmp_path / "slapd")


@pytest.fixture
def slapd_tls(tmp_path: Path) -> Iterator[Slapd]:
    """Run slapd with TLS: ldaps://, StartTLS, and nothing else without encryption."""
    if slapd_binary() is None:
        pytest.skip("slapd is not installed (apt-get install slapd); .ci/run installs it")
    if openssl_binary() is None:
        pytest.skip("openssl is not installed (apt-get install openssl); .ci/run installs it")
    yield from running_slapd(tmp_path / "slapd-tls", tls=True)
