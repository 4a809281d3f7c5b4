"""Fixtures: a started sandbox and a real PTB Bot talking to it over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pytest
import telegram

from bot.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

USER: Final = 42


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """Start a sandbox on a free port with one known user."""
    async with Sandbox() as box:
        box.add_user(USER, first_name="Ada", username="ada")
        yield box


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[telegram.Bot]:
    """Return an initialised PTB Bot pointed at the sandbox."""
    client = telegram.Bot(
        sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url
    )
    async with client:
        yield client
