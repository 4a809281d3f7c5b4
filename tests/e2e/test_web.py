"""The HTTP listener: health, readiness, metrics and webhook mode, over real HTTP."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import JOB_DISPATCH, BotApp, build_application, running, services_of
from bot.config import HttpSettings, WebhookSettings
from bot.web.webhook import SECRET_HEADER, secret_token
from tests.conftest import BERLIN
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox

SECRET: Final = "s3cret_Token-for-tests"
# The Karlsruhe demo meeting's reminder one day before: 17 March 2027, 10:00 Berlin.
ONE_DAY_BEFORE: Final = datetime(2027, 3, 17, 10, 0, tzinfo=BERLIN)
HOOK_PATH: Final = "/telegram/hook"


def free_port() -> int:
    """Return a port that is free on the loopback address right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_url(app: BotApp) -> str:
    """Return the listener's base URL (it may have picked its own port)."""
    listener = services_of(app).listener
    assert listener is not None
    return f"http://127.0.0.1:{listener.port}"


async def get(url: str) -> tuple[int, str]:
    """GET a URL; return the status and the body."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST a body; return the status."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        await response.read()
        return response.status


async def scrape(app: BotApp) -> dict[str, float]:
    """Return every sample of /metrics as "name{labels}" -> value."""
    status, text = await get(base_url(app) + "/metrics")
    assert status == 200
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


@pytest.fixture
async def web_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with long polling and the listener on a port of its own choosing."""
    app = build_application(
        dataclasses.replace(settings, http=HttpSettings("127.0.0.1", 0)),
        clock=clock,
        seed_demo=True,
    )
    async with running(app):
        yield app


@pytest.fixture
async def hook_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot in webhook mode: the sandbox posts the updates to the listener."""
    port = free_port()
    app = build_application(
        dataclasses.replace(
            settings,
            http=HttpSettings("127.0.0.1", port),
            webhook=WebhookSettings(f"http://127.0.0.1:{port}{HOOK_PATH}", SECRET),
        ),
        clock=clock,
        seed_demo=True,
    )
    async with running(app):
        yield app


async def test_healthz_answers(web_bot: BotApp) -> None:
    """/healthz is 200 with a small JSON body while the bot runs."""
    status, body = await get(base_url(web_bot) + "/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok"
    assert set(health["checks"]) == {"application", "jobs", "updates"}


async def test_metrics_move_after_traffic(web_bot: BotApp, person: Person) -> None:
    """Updates and replies are counted; gauges and build info come from the registry."""
    before = await scrape(web_bot)
    assert before["netzwerkbot_build_info{version=0.1.0}"] == 1
    await person.say("/start")
    (panel,) = await person.say("/abo")
    await person.press("Alle Netzwerktreffen", panel)
    after = await scrape(web_bot)
    assert (
        after["netzwerkbot_updates_received_total{}"]
        >= before["netzwerkbot_updates_received_total{}"] + 2
    )
    assert (
        after["netzwerkbot_replies_sent_total{}"] >= before["netzwerkbot_replies_sent_total{}"] + 2
    )
    assert after["netzwerkbot_chats{status=active}"] == 1
    assert after["netzwerkbot_subscribers{topic=meetings}"] == 1
    assert after["netzwerkbot_oldest_due_age_seconds{}"] == 0
    assert "netzwerkbot_pushes_total{kind=reminder,outcome=sent}" in after


async def test_readyz_names_a_locked_database(web_bot: BotApp, person: Person) -> None:
    """/readyz turns 503 and names "database" while another process holds the write lock."""
    await person.say("/start")  # an answered getUpdates: updates flow
    url = base_url(web_bot) + "/readyz"
    status, body = await get(url)
    assert (status, json.loads(body)["failing"]) == (200, [])
    # An operator's sqlite3 shell with an open write transaction (or a stuck second program).
    other = sqlite3.connect(services_of(web_bot).settings.database, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        status, body = await get(url)
    finally:
        other.execute("ROLLBACK")
        other.close()
    answer = json.loads(body)
    assert status == 503
    assert answer["failing"] == ["database"]
    assert "locked" in answer["checks"]["database"]
    status, _ = await get(url)
    assert status == 200


async def test_webhook_takes_updates_with_the_secret(hook_bot: BotApp, sandbox: Sandbox) -> None:
    """setWebhook is called with the secret and all update types; deliveries are processed."""
    (call,) = [c for c in sandbox.calls if c.method == "setWebhook"]
    assert call.params["secret_token"] == SECRET
    assert "callback_query" in call.params["allowed_updates"]
    assert sandbox.webhook_url.endswith(HOOK_PATH)
    person = Person(sandbox, 1001)
    (reply,) = await person.say("/start")
    assert reply.text
    assert {d.status for d in sandbox.webhook_deliveries} == {200}
    assert not [c for c in sandbox.calls if c.method == "getUpdates"]
    samples = await scrape(hook_bot)
    assert samples["netzwerkbot_webhook_requests_total{result=accepted}"] >= 1
    status, body = await get(base_url(hook_bot) + "/readyz")
    assert (status, json.loads(body)["failing"]) == (200, [])


async def test_webhook_refuses_wrong_secret_and_bad_bodies(
    hook_bot: BotApp, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong or missing secret gets 403, a malformed body 400; neither is processed."""
    person = Person(sandbox, 1002)
    await person.say("/start")
    url = base_url(hook_bot) + HOOK_PATH
    update: dict[str, Any] = {
        "update_id": 9001,
        "message": {
            "message_id": 77,
            "date": 1_800_000_000,
            "chat": {"id": 1002, "type": "private", "first_name": "Erika"},
            "from": {"id": 1002, "is_bot": False, "first_name": "Erika"},
            "text": "/hilfe",
        },
    }
    body = json.dumps(update).encode()
    before = len(person.messages())
    counted = (await scrape(hook_bot))["netzwerkbot_updates_received_total{}"]
    json_type = {"Content-Type": "application/json"}
    assert await post(url, body, {**json_type, SECRET_HEADER: "wrong"}) == 403
    assert await post(url, body, json_type) == 403
    with caplog.at_level(logging.WARNING, logger="bot.web.webhook"):
        secret = {**json_type, SECRET_HEADER: SECRET}
        assert await post(url, b'{"update_id": "Erika Mustermann"', secret) == 400
        assert await post(url, b'["Erika Mustermann"]', secret) == 400
    assert "Erika" not in caplog.text
    assert "malformed" in caplog.text
    await sandbox.wait_idle(quiet=0.3)
    assert len(person.messages()) == before  # nothing was processed
    samples = await scrape(hook_bot)
    assert samples["netzwerkbot_updates_received_total{}"] == counted
    assert samples["netzwerkbot_webhook_requests_total{result=forbidden}"] == 2
    assert samples["netzwerkbot_webhook_requests_total{result=malformed}"] == 2
    # The same update with the right secret is processed.
    assert await post(url, body, {**json_type, SECRET_HEADER: SECRET}) == 200
    (answer,) = await person._new_since(before, 1, 10.0)
    assert answer.text


async def test_webhook_secret_is_derived_from_the_key(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Without NETZWERKBOT_WEBHOOK_SECRET the secret comes from the secret key (an HMAC).

    It is redacted from the logs like the token.
    """
    port = free_port()
    hook = WebhookSettings(f"http://127.0.0.1:{port}/")
    configured = dataclasses.replace(
        settings, http=HttpSettings("127.0.0.1", port), webhook=hook, secret_key="k" * 40
    )
    app = build_application(configured, clock=clock, seed_demo=True)
    async with running(app):
        (call,) = [c for c in sandbox.calls if c.method == "setWebhook"]
        assert call.params["secret_token"] == secret_token(configured, hook)
        assert len(call.params["secret_token"]) == 64
        # Whatever logs it by mistake (a library at DEBUG, a traceback): never readable.
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("somewhere").debug("secret: %s", secret_token(configured, hook))
        assert secret_token(configured, hook) not in caplog.text
        assert "secret: [REDACTED]" in caplog.text
        (reply,) = await Person(sandbox, 1003).say("/start")
        assert reply.text


async def test_polling_deletes_a_webhook_left_over(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> None:
    """A webhook from an earlier run is removed at start, and polling works."""
    async with aiohttp.ClientSession() as session:
        await session.post(
            f"{sandbox.base_url}{sandbox.token}/setWebhook",
            json={"url": "https://bot.example.org/old", "secret_token": "old"},
        )
    assert sandbox.webhook_url == "https://bot.example.org/old"
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        (reply,) = await Person(sandbox, 1004).say("/start")
        assert reply.text
    assert sandbox.webhook_url == ""
    assert any(c.method == "deleteWebhook" for c in sandbox.calls)


async def test_late_dispatcher_and_push_counters(
    web_bot: BotApp, person: Person, clock: ManualClock, sandbox: Sandbox
) -> None:
    """A reminder due for 5 minutes makes /readyz name "dispatcher"; sending it is counted,
    and so is the 429 on its way."""
    assert web_bot.job_queue is not None
    (job,) = web_bot.job_queue.get_jobs_by_name(JOB_DISPATCH)
    job.enabled = False  # the test wakes the dispatcher itself
    await person.say("/start")
    (panel,) = await person.say("/abo")
    await person.press("Alle Netzwerktreffen", panel)
    url = base_url(web_bot) + "/readyz"
    clock.set(ONE_DAY_BEFORE + timedelta(minutes=5))
    status, body = await get(url)
    answer = json.loads(body)
    assert (status, answer["failing"]) == (503, ["dispatcher"])
    assert "300 s" in answer["checks"]["dispatcher"]
    assert (await scrape(web_bot))["netzwerkbot_oldest_due_age_seconds{}"] == 300
    # Telegram's flood control answers 429 for a moment (longer than the chat's 1 s pause).
    sandbox.storm(1.5, retry_after=1)
    await job.run(web_bot)
    samples = await scrape(web_bot)
    assert samples["netzwerkbot_pushes_total{kind=reminder,outcome=sent}"] == 1
    assert sandbox.storm_refusals >= 1
    assert samples["netzwerkbot_telegram_429_total{}"] >= 1
    assert samples["netzwerkbot_oldest_due_age_seconds{}"] == 0
    status, _ = await get(url)
    assert status == 200
