"""The bot's counters for Prometheus: one ``Metrics`` object per application.

Each application has its own ``CollectorRegistry`` (never the global one), so tests that run
several bots in one process do not clash. The counters are incremented where things happen
(the update processor, the send budget, the dispatcher, the broadcast runner); gauges that
need the database are read at scrape time by ``bot.web.metrics``. Nothing here talks to
Telegram or the database, so every layer that counts may import it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Final, Literal

from prometheus_client import CollectorRegistry, Counter, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from bot.domain.stats import Gauges

PushKind = Literal["reminder", "notice", "preview", "circular", "mail"]
# sent/blocked/failed/unknown as in bot.delivery.sender.PushOutcome; retried: the row went back to
# pending after a transient failure (PushOutcome.RETRY) and will be tried again.
PushOutcomeName = Literal["sent", "blocked", "failed", "unknown", "retried"]
PUSH_KINDS: Final[tuple[PushKind, ...]] = ("reminder", "notice", "preview", "circular", "mail")
PUSH_OUTCOMES: Final[tuple[PushOutcomeName, ...]] = (
    "sent",
    "blocked",
    "failed",
    "unknown",
    "retried",
)
WEBHOOK_RESULTS: Final = ("accepted", "forbidden", "malformed")
NAMESPACE: Final = "netzwerkbot"


def version() -> str:
    """Return the installed version of the bot ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("netzwerkbot")
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    """The counters of one application, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started = time.monotonic()
        self.updates = Counter(
            "updates_received",
            "Updates received from Telegram (long polling or webhook).",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.replies = Counter(
            "replies_sent",
            "Messages sent in answer to someone (not pushes), accepted by Telegram.",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.pushes = Counter(
            "pushes",
            "Pushes (reminders, notices, weekly previews, circulars, mails) by outcome.",
            ["kind", "outcome"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.flood = Counter(
            "telegram_429",
            "429 Too Many Requests answers received from Telegram.",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.webhook = Counter(
            "webhook_requests",
            "Requests to the webhook path by result (accepted, forbidden, malformed).",
            ["result"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        info = Info("build", "The running version.", namespace=NAMESPACE, registry=self.registry)
        info.info({"version": version()})
        # Every label combination from the start, so a rate() sees the first increment.
        for kind in PUSH_KINDS:
            for outcome in PUSH_OUTCOMES:
                self.pushes.labels(kind=kind, outcome=outcome)
        for result in WEBHOOK_RESULTS:
            self.webhook.labels(result=result)
        self.mails = Counter(
            "mails",
            "Mails (codes, confirmations) by outcome.",
            ["outcome"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        for outcome in ("sent", "failed"):
            self.mails.labels(outcome=outcome)
        self.database = DatabaseGauges()
        self.registry.register(self.database)

    def push(self, kind: PushKind, outcome: PushOutcomeName | str) -> None:
        """Count one push's outcome (a ``PushOutcomeName``; PushOutcome values are those)."""
        self.pushes.labels(kind=kind, outcome=outcome).inc()

    def mail(self, outcome: Literal["sent", "failed"]) -> None:
        """Count one mail's outcome (also as a push of kind "mail")."""
        self.mails.labels(outcome=outcome).inc()
        self.push("mail", outcome)


@dataclass
class Pulse:
    """When updates last flowed (monotonic seconds)."""

    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    last: float | None = None

    def beat(self) -> None:
        """Record that updates flow now."""
        self.last = self.clock()

    def age(self) -> float | None:
        """Return the seconds since the last beat (None: never)."""
        return None if self.last is None else self.clock() - self.last


class DatabaseGauges(Collector):
    """Gauges read from the database at scrape time (``bot.web.metrics`` sets ``gauges``).

    ``collect`` runs inside ``generate_latest`` and must not block the event loop on SQL,
    so the scrape reads the numbers asynchronously first and this collector only reports them.
    """

    def __init__(self) -> None:
        self.gauges: Gauges | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Report the last numbers read (nothing before the first scrape read them)."""
        gauges = self.gauges
        if gauges is None:
            return
        yield GaugeMetricFamily(
            f"{NAMESPACE}_reminders_pending",
            "Reminder rows waiting to be sent (due or not yet due).",
            value=gauges.reminders_pending,
        )
        outbox = GaugeMetricFamily(
            f"{NAMESPACE}_outbox_pending",
            "Outbox rows waiting to be sent, by kind (notice, weekly, broadcast).",
            labels=["kind"],
        )
        for kind in ("notice", "weekly", "broadcast"):
            outbox.add_metric([kind], gauges.outbox_pending.get(kind, 0))
        yield outbox
        yield GaugeMetricFamily(
            f"{NAMESPACE}_oldest_due_age_seconds",
            "How long the oldest due but unsent reminder or notice has been due (0: none).",
            value=gauges.oldest_due_seconds,
        )
        chats = GaugeMetricFamily(
            f"{NAMESPACE}_chats", "Subscribers by status (active, blocked).", labels=["status"]
        )
        for status in ("active", "blocked"):
            chats.add_metric([status], gauges.chats.get(status, 0))
        yield chats
        topics = GaugeMetricFamily(
            f"{NAMESPACE}_subscribers",
            "Active subscribers following at least one topic of this kind.",
            labels=["topic"],
        )
        for topic in ("network", "meetings", "news", "event", "weekly"):
            topics.add_metric([topic], gauges.subscribers_by_topic.get(topic, 0))
        yield topics
        yield GaugeMetricFamily(
            f"{NAMESPACE}_circulars_open",
            "Circulars planned, running or paused.",
            value=gauges.open_circulars,
        )
