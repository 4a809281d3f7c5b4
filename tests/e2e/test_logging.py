"""The token never reaches a log line, at any level; message texts stay out of INFO."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from bot.app import BotApp
    from bot.sandbox import Sandbox
    from tests.e2e.conftest import Person


async def test_token_and_texts_not_logged(
    bot: BotApp, sandbox: Sandbox, person: Person, caplog: pytest.LogCaptureFixture
) -> None:
    """Capture everything at DEBUG during a conversation with errors; no token anywhere."""
    caplog.set_level(logging.DEBUG)
    secret_question = "Wann ist das nächste Treffen, fragt Geheimnis-4711?"
    await person.say("/start")
    await person.say(secret_question)
    sandbox.inject_fault(person.user_id, "server_error", count=1)
    person.sandbox.send_text(person.user_id, "/netzwerke")
    await sandbox.wait_idle(person.user_id, quiet=0.5, timeout=10)
    assert caplog.records, "logging was captured"
    token = sandbox.token
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert token not in text, record.name
        if record.levelno >= logging.INFO:
            assert "Geheimnis-4711" not in text, record.name
    assert token.split(":")[1] not in caplog.text


async def test_json_logs_name_the_update(
    bot: BotApp, sandbox: Sandbox, person: Person, caplog: pytest.LogCaptureFixture
) -> None:
    """With the JSON format every line is one object; a handler's error names its update."""
    import io
    import json

    from bot.logs import JsonFormatter

    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        await person.say("/start")
        sandbox.inject_fault(person.user_id, "server_error", count=1)
        person.sandbox.send_text(person.user_id, "/netzwerke")
        await sandbox.wait_idle(person.user_id, quiet=0.5, timeout=10)
    finally:
        root.removeHandler(handler)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert entries
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    errors = [entry for entry in entries if entry["logger"] == "bot.errors"]
    assert errors, "the error handler logged"
    assert all(isinstance(entry.get("update_id"), int) for entry in errors)
    assert sandbox.token not in stream.getvalue()
