"""The process's Prometheus metrics, in a registry of its own (several stacks may run in one
process, as the tests do: nothing is counted in a module global).

The bot and the delivery are handed a `Metrics` (or count into `NOT_COUNTED`, which does
nothing). What the database knows (the queue, its oldest notice, the 10-second share) is read at
scrape time (`refresh`). Labels are sources, outcomes and results only: never a chat, a child or
a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.ops_queries import outbox_health

if TYPE_CHECKING:
    from datetime import datetime

    from core.portal import Portal

SOURCES = ("polling", "webhook")
OUTCOMES = ("done", "failed", "retried")
RESULTS = ("sent", "blocked", "failed", "retry", "emailed", "deferred")
UPDATE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELAY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class Counting:
    """What the bot and the delivery count. This one counts nothing (the default)."""

    def received(self, source: str) -> None:
        """An update was received (and stored) by polling or by webhook."""

    def handled(self, outcome: str, seconds: float | None = None) -> None:
        """An update was handled (done), given up (failed), or is being tried again (retried);
        `seconds`: from its arrival in this process to done or failed."""

    def refused(self) -> None:
        """A webhook request without the right secret was refused."""

    def deliveries(self, counts: Mapping[str, int]) -> None:
        """A delivery batch's results ({"sent": 3, "retry": 1, ...}; other keys are ignored)."""

    def flood(self) -> None:
        """Telegram answered 429 (flood control)."""

    def notice_sent(self, due: datetime | None, sent: datetime) -> None:
        """A notice reached Telegram: the delay from when it was due (None: not known)."""


NOT_COUNTED = Counting()


class Metrics(Counting):
    """This process's metrics, in its own registry (`render` gives the Prometheus text)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry()
        self.updates_received = Counter(
            "ehcp_updates_received", "Telegram updates received and stored, by source.", ["source"], registry=r)
        self.updates_handled = Counter(
            "ehcp_updates_handled", "Updates handled, by outcome (retried: each try again).", ["outcome"],
            registry=r)
        self.update_seconds = Histogram(
            "ehcp_update_handling_seconds", "From an update's arrival in this process to its handling done or failed.",
            buckets=UPDATE_BUCKETS, registry=r)
        self.webhook_refused = Counter(
            "ehcp_webhook_refused", "Webhook requests refused for a missing or wrong secret.", registry=r)
        self.deliveries_total = Counter(
            "ehcp_deliveries", "Notices delivered by this process's workers, by result.", ["result"], registry=r)
        self.telegram_429 = Counter("ehcp_telegram_429", "Flood-control answers (429) from Telegram.", registry=r)
        self.notice_delay = Histogram(
            "ehcp_notice_delay_seconds", "From a notice being due to Telegram accepting it.",
            buckets=DELAY_BUCKETS, registry=r)
        self.outbox_due = Gauge("ehcp_outbox_due", "Notices due now and waiting to be sent (the queue).", registry=r)
        self.outbox_oldest = Gauge(
            "ehcp_outbox_oldest_due_age_seconds", "How long the oldest due, unsent notice has been due (0: none).",
            registry=r)
        self.due_last_hour = Gauge(
            "ehcp_notices_due_last_hour", "Notices that became due in the hour before the last 10 seconds.",
            registry=r)
        self.within_share = Gauge(
            "ehcp_notices_sent_within_10s_ratio",
            "Share of the last hour's due notices sent within 10 seconds (NaN: none were due).", registry=r)
        for source in SOURCES:  # every series shown from the start, at 0
            self.updates_received.labels(source)
        for outcome in OUTCOMES:
            self.updates_handled.labels(outcome)
        for result in RESULTS:
            self.deliveries_total.labels(result)

    def received(self, source: str) -> None:
        self.updates_received.labels(source).inc()

    def handled(self, outcome: str, seconds: float | None = None) -> None:
        self.updates_handled.labels(outcome).inc()
        if seconds is not None:
            self.update_seconds.observe(max(0.0, seconds))

    def refused(self) -> None:
        self.webhook_refused.inc()

    def deliveries(self, counts: Mapping[str, int]) -> None:
        for result in RESULTS:
            n = counts.get(result, 0)
            if n:
                self.deliveries_total.labels(result).inc(n)

    def flood(self) -> None:
        self.telegram_429.inc()

    def notice_sent(self, due: datetime | None, sent: datetime) -> None:
        if due is not None:
            self.notice_delay.observe(max(0.0, (sent - due).total_seconds()))

    async def refresh(self, portal: Portal) -> None:
        """Read the outbox's gauges from the database (at scrape time). When it cannot be read
        they show NaN (not a stale or a zero queue), and the error is raised."""
        try:
            health = await outbox_health(portal)
        except BaseException:
            for gauge in (self.outbox_due, self.outbox_oldest, self.due_last_hour, self.within_share):
                gauge.set(float("nan"))
            raise
        self.outbox_due.set(health.due)
        self.outbox_oldest.set(health.oldest_due_seconds)
        self.due_last_hour.set(health.due_last_hour)
        share = health.share_within
        self.within_share.set(float("nan") if share is None else share)

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["NOT_COUNTED", "Counting", "Metrics"]
