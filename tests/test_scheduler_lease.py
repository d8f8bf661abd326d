"""Several delivery processes on one database: one scheduler, elected by a lease row; the once-only
jobs run only there; a long send keeps its outbox leases. Time is a controllable clock or an
event: nothing here sleeps for time to pass."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from core import leases
from core.clock import FrozenClock
from core.models import OutboxItem
from core.outbox import enqueue
from core.portal import Portal
from notifications import liveness
from notifications import reminders as reminder_job
from notifications import scheduler as scheduler_module
from notifications.liveness import HOST, Heartbeat, Leadership, new_worker_id
from notifications.mail import Mailer
from notifications.reminders import ReminderJob
from notifications.scheduler import build_scheduler
from notifications.telegram import TelegramDelivery
from notifications.worker import run_delivery

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


async def wait_for(condition: Any, within: float, what: str) -> None:
    """Short polls with a deadline (for a state kept in the database or another task)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------ the lease row (core)


async def test_a_lease_is_one_holders_until_it_expires(portal: Portal) -> None:
    async def take(holder: str, at: datetime, dead: tuple[str, ...] = ()) -> bool:
        async with portal.db() as s, s.begin():
            return await leases.take(s, "scheduler", holder, now=at, ttl=TTL, dead=dead)

    assert await take("a", T0)
    assert not await take("b", T0 + timedelta(seconds=10))  # a's until T0+15
    assert await take("a", T0 + timedelta(seconds=10))  # renewed: until T0+25
    assert not await take("b", T0 + timedelta(seconds=20))
    held = await leases.Leases(portal).current("scheduler")
    assert held is not None and held.holder == "a"
    assert held.acquired_at == T0 and held.expires_at == T0 + timedelta(seconds=25)
    assert await take("b", T0 + timedelta(seconds=26))  # expired: b takes it
    assert not await take("a", T0 + timedelta(seconds=27))
    assert await take("a", T0 + timedelta(seconds=27), dead=("b",))  # b known dead: at once
    held = await leases.Leases(portal).current("scheduler")
    assert held is not None and held.holder == "a" and held.acquired_at == T0 + timedelta(seconds=27)
    assert not await leases.Leases(portal).give_up("scheduler", "b")  # not b's to give
    assert await leases.Leases(portal).give_up("scheduler", "a")
    assert await take("b", T0 + timedelta(seconds=28))


async def test_two_processes_racing_for_a_free_lease_get_one_winner(portal: Portal) -> None:
    store = leases.Leases(portal)
    got = await asyncio.gather(*(store.take("scheduler", f"p{i}", now=T0, ttl=TTL) for i in range(8)))
    assert sum(got) == 1
    held = await store.current("scheduler")
    assert held is not None and held.holder == f"p{got.index(True)}"


# ------------------------------------------------------------------ Leadership (notifications)


async def test_the_scheduler_role_moves_when_its_lease_expires(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    clock = FrozenClock(T0)
    a = Leadership(portal, new_worker_id(), clock=clock.now)
    b = Leadership(portal, new_worker_id(), clock=clock.now)
    with caplog.at_level(logging.INFO, logger="notifications.liveness"):
        assert await a.step() and a()
        assert not await b.step() and not b()
        clock.advance(seconds=10)
        assert await a.step()  # renewed
        clock.advance(seconds=10)
        assert a() and not await b.step()
        clock.advance(seconds=6)  # a stopped renewing (a stalled process): its lease is over
        assert not a()
        assert await b.step() and b()
        assert not await a.step()
    lines = [r.getMessage() for r in caplog.records if r.name == "notifications.liveness"]
    assert lines == [
        f"{a.holder} is now the scheduler (runs the daily jobs)",
        f"{b.holder} is now the scheduler (runs the daily jobs)",
        f"{a.holder} is no longer the scheduler",
    ]


async def test_a_dead_schedulers_role_is_taken_at_once(portal: Portal) -> None:
    clock = FrozenClock(T0)
    # A process of this host that has exited (its pid no longer runs).
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    crashed = Leadership(portal, f"worker:{HOST}:{gone.pid}:dead0001", clock=clock.now)
    assert await crashed.step()
    b = Leadership(portal, new_worker_id(), clock=clock.now)
    assert await b.step()  # no wait for the lease to run out

    # A worker of this process that stopped without giving the role up (its heartbeat ended).
    c_id = new_worker_id()
    heartbeat = Heartbeat(portal, c_id)
    await heartbeat.start()
    clock.advance(seconds=20)
    c = Leadership(portal, c_id, clock=clock.now)
    assert await c.step()
    assert not await b.step()
    await heartbeat.stop()
    assert await b.step()

    # A clean stop gives the role up: the next step of another takes it.
    await b.resign()
    assert not b()
    assert await c.step()


# ------------------------------------------------------------------ the gated jobs


async def test_only_the_scheduler_plans_reminders_but_every_process_sends_them(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned: list[datetime] = []
    sent: list[datetime] = []

    async def plan_all(portal: Portal, now: datetime) -> int:
        planned.append(now)
        return 0

    async def send_due(portal: Portal, now: datetime, *, batch: int) -> int:
        sent.append(now)
        return 0

    monkeypatch.setattr(reminder_job, "plan_all", plan_all)
    monkeypatch.setattr(reminder_job, "send_due", send_due)
    leading = False
    job = ReminderJob(portal, may_plan=lambda: leading)
    await job.run_once()
    await job.run_once()
    assert planned == [] and len(sent) == 2
    leading = True  # became the scheduler: plans at its next tick, once a day
    await job.run_once()
    await job.run_once()
    assert len(planned) == 1 and len(sent) == 4


async def test_the_daily_jobs_do_nothing_outside_the_scheduler(
    portal: Portal, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cleaned: list[int] = []

    async def daily_cleanup(portal: Portal) -> None:
        cleaned.append(1)

    monkeypatch.setattr(scheduler_module, "daily_cleanup", daily_cleanup)
    leading = False
    scheduler = build_scheduler(portal, None, Mailer(settings, portal.clock), leader=lambda: leading)
    job = scheduler.get_job("daily_cleanup")
    await job.func()
    assert cleaned == []
    leading = True
    await job.func()
    assert cleaned == [1]
    assert scheduler.get_job("leadership") is None  # a plain callable: nothing to renew


async def test_two_delivery_processes_elect_one_scheduler_and_hand_over_on_stop(
    portal: Portal, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two run_delivery (as two `worker` processes) on one database: the first is the scheduler
    and alone plans reminders, both send them; once it stops, the other takes over and plans."""
    settings.delivery.delivery_interval = 0.05
    settings.reminders.reminder_interval = 0.02
    monkeypatch.setattr(scheduler_module, "RENEW_EVERY", 0.05)
    plans: list[str] = []
    sends = 0
    elected: list[Leadership] = []
    changed = asyncio.Event()

    class Watched(Leadership):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            elected.append(self)

        def _changed(self) -> None:
            super()._changed()
            changed.set()

    async def plan_all(portal: Portal, now: datetime) -> int:
        plans.append(next(e.holder for e in elected if e()))  # only the scheduler plans
        return 0

    async def send_due(portal: Portal, now: datetime, *, batch: int) -> int:
        nonlocal sends
        sends += 1
        return 0

    monkeypatch.setattr("notifications.worker.Leadership", Watched)
    monkeypatch.setattr(reminder_job, "plan_all", plan_all)
    monkeypatch.setattr(reminder_job, "send_due", send_due)
    stops = [asyncio.Event(), asyncio.Event()]
    first = asyncio.create_task(run_delivery(portal, None, stops[0]))
    await wait_for(lambda: len(plans) == 1, 10, "the first process to plan")
    second = asyncio.create_task(run_delivery(portal, None, stops[1]))
    await wait_for(lambda: len(elected) == 2, 10, "the second process to start")
    a, b = elected
    assert plans == [a.holder] and a() and not b()
    seen = sends
    await wait_for(lambda: sends >= seen + 20, 10, "reminder ticks in both processes")
    assert plans == [a.holder] and a() and not b()  # b ticked too, and never planned
    changed.clear()
    stops[0].set()
    await asyncio.wait_for(first, 10)
    await wait_for(b, 10, "the second process to become the scheduler")
    await wait_for(lambda: len(plans) == 2, 10, "the new scheduler to plan")
    assert plans == [a.holder, b.holder]
    stops[1].set()
    await asyncio.wait_for(second, 10)
    assert await leases.Leases(portal).current("scheduler") is None  # given up on stop


async def test_a_worker_with_the_scheduler_role_off_never_plans(
    portal: Portal, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.reminders.reminder_interval = 0.02
    plans = 0
    ticks = 0

    async def plan_all(portal: Portal, now: datetime) -> int:
        nonlocal plans
        plans += 1
        return 0

    async def send_due(portal: Portal, now: datetime, *, batch: int) -> int:
        nonlocal ticks
        ticks += 1
        return 0

    monkeypatch.setattr(reminder_job, "plan_all", plan_all)
    monkeypatch.setattr(reminder_job, "send_due", send_due)
    stop = asyncio.Event()
    task = asyncio.create_task(run_delivery(portal, None, stop, scheduler_role=False))
    await wait_for(lambda: ticks >= 5, 10, "reminder ticks")
    stop.set()
    await asyncio.wait_for(task, 10)
    assert plans == 0
    assert await leases.Leases(portal).current("scheduler") is None


# ------------------------------------------------------------------ outbox leases during a long send


class SlowBot:
    """Answers sendMessage only when told to (a send that takes as long as the test likes)."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.answer = asyncio.Event()
        self.calls: list[int] = []

    async def send_message(self, *, chat_id: int, **_: Any) -> SimpleNamespace:
        self.calls.append(chat_id)
        self.called.set()
        await self.answer.wait()
        return SimpleNamespace(message_id=len(self.calls))


async def test_a_long_send_keeps_its_lease(portal: Portal, settings: Any, clock: FrozenClock) -> None:
    """While worker A waits on a slow send, it renews the lease of the rows it holds: worker B,
    with the clock past A's first lease, takes nothing, and A records its send."""
    settings.delivery.delivery_lease_seconds = 2
    async with portal.db() as s, s.begin():
        item = enqueue(s, now=clock.now(), text="Your plan", chat_id=501)
        await s.flush()
        row_id = item.id
    slow, other = SlowBot(), SlowBot()
    a = TelegramDelivery(portal, slow, "worker-a")  # type: ignore[arg-type]
    b = TelegramDelivery(portal, other, "worker-b")  # type: ignore[arg-type]
    a.renew_every = 0.02  # (a quarter lease, 0.5 s, in service)
    sending = asyncio.create_task(a.run_once())
    await asyncio.wait_for(slow.called.wait(), 10)

    async def locked_until() -> datetime:
        async with portal.db() as s:
            return (await s.execute(select(OutboxItem.locked_until).where(OutboxItem.id == row_id))).scalar_one()

    first = await locked_until()
    assert first == clock.now() + timedelta(seconds=2)
    clock.advance(seconds=1.5)
    renewed = clock.now() + timedelta(seconds=2)
    last = first
    deadline = time.monotonic() + 10
    while last != renewed:  # short polls with a deadline
        assert time.monotonic() < deadline, "the lease was not renewed"
        await asyncio.sleep(0.02)
        last = await locked_until()
    clock.advance(seconds=1.5)  # past A's first lease, within the renewed one
    assert clock.now() > first
    assert await b.run_once() == 0
    assert other.calls == []
    slow.answer.set()
    assert await asyncio.wait_for(sending, 10) == 1
    async with portal.db() as s:
        done = await s.get(OutboxItem, row_id)
    assert done is not None and done.status == "sent" and done.locked_by == "worker-a"
    assert slow.calls == [501]


def test_liveness_exports_the_role() -> None:
    assert liveness.LEASE_FOR == timedelta(seconds=15) and liveness.RENEW_EVERY < liveness.LEASE_FOR.total_seconds() / 2
