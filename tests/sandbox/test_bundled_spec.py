"""The sandbox's copy of the Bot API specification matches the shared one."""

from __future__ import annotations

import pytest

from bot.sandbox.spec import DEFAULT_API_SPEC
from tests.conftest import REPO

SHARED = REPO.parent / "shared" / "telegram-bot-api" / "api.json"


def test_bundled_copy_is_the_shared_spec() -> None:
    """A refresh of ../shared/telegram-bot-api/api.json must be copied into the package."""
    if not SHARED.is_file():
        pytest.skip(f"shared specification not found: {SHARED}")
    assert DEFAULT_API_SPEC.read_bytes() == SHARED.read_bytes()
