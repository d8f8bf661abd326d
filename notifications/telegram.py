"""The Telegram delivery worker: the outbox, sent to chats at least once, within Telegram's limits.

One tick (`run_once`):

1. **Claim** a batch in a short transaction: due rows (`pending` with `not_before <= now`, or
   `sending` whose lease ran out: a worker died holding them) become `sending`, locked by this
   worker until now + lease. On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so
   workers never wait on each other; SQLite serialises writers already (BEGIN IMMEDIATE). At most
   a few rows per chat are taken, first rows of every chat first, and chats another worker is
   sending to are left alone (so one chat's notices go out in order, from one worker at a time).
   Rows that cannot go to Telegram are settled in the same transaction: no chat, or the chat is
   known to be blocked (important ones go by email instead); reminders due during quiet hours
   are moved to the morning.
2. **Send**: chats in parallel, each chat's rows in id order, paced by a global limiter
   (`delivery_rate`) and a per-chat one (`delivery_rate_per_chat`, plus a margin), with a bound on
   requests in flight. A 429 pauses all sending for its `retry_after` and the same row is tried
   again (not counted as an attempt).
3. **Record** each result in its own transaction straight after the send, only on a row this
   worker still holds. So a crash can only repeat the one send Telegram accepted in the instant
   before it; a row recorded `sent` is never sent again.

While a batch runs its leases are renewed (liveness.leases_kept): a slow send keeps its rows.

Logs carry ids only: never the text of a notice, a token or a code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import LinkPreviewOptions
from sqlalchemy import Select, and_, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.chats import get_or_create
from core.models import Chat, EmailItem, OutboxItem
from core.ops_queries import due_at
from core.outbox import REMINDER, enqueue_email
from core.portal import Portal
from core.quiet import is_quiet, quiet_ends_at
from notifications.liveness import dead_holders, leases_kept, wall_now
from notifications.loop import run_until_stopped
from notifications.mail import backoff_seconds
from notifications.pacing import PER_CHAT_MARGIN, RateLimiter, TelegramPacer, pre_paced
from notifications.payload import email_body, markup_of, reply_markup
from notifications.results import record_leased
from ops.metrics import NOT_COUNTED, Counting

log = logging.getLogger(__name__)

UNAUTHORIZED_PAUSE = 30.0  # a 401 is a configuration problem: wait, keep the notices
COOLING_LIST_MAX = 1000  # chats named in the claim query as "just sent to"
RECORD_TRIES = 12  # attempts to write a send's result before giving up (database busy)
BATCH_SECONDS = 2.0  # a batch is at most this much sending at full rate
CHAT_SPREAD = 1.3  # a batch spans this many times the chats the global rate needs

_O = OutboxItem.__table__


@dataclass
class _Row:
    id: int
    chat_id: int | None
    kind: str
    important: bool
    text: str
    payload: dict[str, Any]
    fallback_email: str | None
    email_subject: str | None
    attempts: int
    due: datetime | None = None  # when it became due (core.ops_queries.due_at), for its delay


@dataclass
class _Tally:
    sent: int = 0
    blocked: int = 0
    emailed: int = 0
    failed: int = 0
    retry: int = 0
    deferred: int = 0
    released: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.blocked + self.emailed + self.failed + self.retry + self.deferred


def _err(exc: BaseException) -> str:
    """An error for `last_error`: its type and Telegram's description, never the notice's text."""
    msg = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {msg}"[:500]


class TelegramDelivery:
    """Delivers the outbox to Telegram. Several may run at once (in one or many processes)."""

    renew_every: float | None = None  # seconds between lease renewals in a batch (None: lease / 4)

    def __init__(
        self,
        portal: Portal,
        bot: Bot,
        worker_id: str,
        *,
        stop: asyncio.Event | None = None,
        pacer: TelegramPacer | None = None,
        metrics: Counting | None = None,
    ) -> None:
        self.portal = portal
        self.metrics = metrics if metrics is not None else NOT_COUNTED  # ops.Metrics: results, 429s, delays
        self.bot = bot
        self.worker_id = worker_id
        cfg = portal.settings.delivery
        # The process's flood-limit state, shared with the bot's own answers (see pacing.py).
        self.pacer = pacer or TelegramPacer(cfg.delivery_rate, cfg.delivery_rate_per_chat)
        self.limiter: RateLimiter = self.pacer.limiter
        self.chat_interval = self.pacer.chat_interval
        self._chat_next = self.pacer.chat_next
        # A send and the record of its result are one step: with N steps at once, a kill can
        # leave N sends that Telegram accepted unrecorded (each sent again after the restart).
        self._in_flight = asyncio.Semaphore(max(1, min(cfg.delivery_in_flight, math.ceil(cfg.delivery_rate))))
        self._error_streak = 0
        self._stop = stop  # once set: finish the sends in flight, give back the rest
        self._deadline = 0.0

    # ------------------------------------------------------------------ sizing

    @property
    def _cfg(self):  # noqa: ANN202
        return self.portal.settings.delivery

    def _batch_limits(self) -> tuple[int, int]:
        """(rows per batch, rows per chat per batch).

        A batch is at most BATCH_SECONDS of sending at full rate, and never more than fits in a
        quarter of the lease (sends stop at half the lease: see run_once). Each chat gives at
        most what it can take in that time, less a spread factor, so a batch spans more chats
        than the global rate needs (the per-chat limit never becomes the bottleneck) and several
        workers tend to get different chats.
        """
        cfg = self._cfg
        seconds = min(BATCH_SECONDS, cfg.delivery_lease_seconds / 4)
        per_chat_rate = 1.0 / (self.chat_interval + PER_CHAT_MARGIN) if self.chat_interval else cfg.delivery_rate
        batch = max(1, min(cfg.delivery_batch, int(cfg.delivery_rate * seconds)))
        per_chat = max(1, int(batch / cfg.delivery_rate * per_chat_rate / CHAT_SPREAD))
        return batch, per_chat

    def _request_timeout(self) -> int:
        return max(1, min(30, int(self._cfg.delivery_lease_seconds / 4)))

    # ------------------------------------------------------------------ claim

    def claim_statement(self, now: datetime, *, postgres: bool, dead: list[str] | None = None) -> Select:
        """The ids to claim: due rows, breadth first across chats, a few per chat at most.

        On PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED (the due condition is repeated
        on the locking query, so a row another worker claimed meanwhile drops out). Rows held by
        a `dead` worker are due at once, whatever their lease says.
        """
        me = self.worker_id
        batch, per_chat = self._batch_limits()
        o2 = _O.alias("o2")
        due = self._due(now, dead)
        live = o2.c.locked_by.not_in(dead) if dead else True
        # Leave a chat alone while another worker holds one of its rows or sent to it less than
        # a per-chat interval ago (Telegram's limit is per chat, whoever sends), or while an
        # earlier row of it waits for a retry (its notices go in order). A sent row's
        # locked_until is that chat's cooldown, in wall-clock time (pacing, like the monotonic
        # clock within one worker, is real time even when portal.clock is frozen).
        busy_chat = exists().where(
            o2.c.chat_id == _O.c.chat_id,
            or_(
                and_(o2.c.status == "sending", o2.c.locked_until >= now, o2.c.locked_by != me, live),
                and_(o2.c.status == "sent", o2.c.locked_until > wall_now(), o2.c.locked_by != me),
                and_(o2.c.id < _O.c.id, o2.c.status == "pending", o2.c.attempts > 0, o2.c.not_before > now),
            ),
        )
        rn = func.row_number().over(partition_by=_O.c.chat_id, order_by=_O.c.id).label("rn")
        ranked = select(_O.c.id, _O.c.chat_id, rn).where(due, ~busy_chat).subquery()
        # Breadth first: every chat's first due row, then every chat's second... (a parent with
        # one notice never waits behind another's backlog), up to per_chat rows a chat. Chats
        # this worker sent to a moment ago (which must wait a second) after those ready now.
        soon = time.monotonic() + 0.25
        cooling = [c for c, t in self._chat_next.items() if t > soon][:COOLING_LIST_MAX]
        order = [ranked.c.rn, ranked.c.id]
        if cooling:
            order.insert(0, case((ranked.c.chat_id.in_(cooling), 1), else_=0))
        # (Rows with no chat are settled at once, by email or as failed: no cap for them.)
        pick = (
            select(ranked.c.id)
            .where(or_(ranked.c.rn <= per_chat, ranked.c.chat_id.is_(None)))
            .order_by(*order)
            .limit(batch)
        )
        if postgres:
            return select(_O.c.id).where(_O.c.id.in_(pick.scalar_subquery()), due).with_for_update(skip_locked=True)
        return pick

    @staticmethod
    def _due(now: datetime, dead: list[str] | None = None):  # noqa: ANN205
        taken_back = [and_(_O.c.status == "sending", _O.c.locked_by.in_(dead))] if dead else []
        return or_(
            and_(_O.c.status == "pending", _O.c.not_before <= now),
            and_(_O.c.status == "sending", _O.c.locked_until < now),
            *taken_back,
        )

    async def _dead_holders(self, session: AsyncSession, now: datetime) -> list[str]:
        """Workers holding live leases whose process is known to be gone (see liveness.py)."""
        holders = (
            await session.scalars(
                select(OutboxItem.locked_by)
                .where(OutboxItem.status == "sending", OutboxItem.locked_until >= now,
                       OutboxItem.locked_by != self.worker_id)
                .distinct()
            )
        ).all()
        dead = await dead_holders(session, [h for h in holders if h])
        if dead:
            log.info("taking back the notices held by stopped worker(s) %s", ", ".join(sorted(dead)))
        return dead

    async def _claim(self, tally: _Tally) -> list[_Row]:
        cfg = self._cfg
        me = self.worker_id
        now = self.portal.clock.now()
        quiet = is_quiet(now, cfg.quiet_hours_start, cfg.quiet_hours_end)
        async with self.portal.db() as session, session.begin():
            dead = await self._dead_holders(session, now)
            q = self.claim_statement(now, postgres=self.portal.engine.dialect.name == "postgresql", dead=dead)
            if quiet:
                # Reminders wait for the morning: one statement, then they are simply not due.
                morning = quiet_ends_at(now, cfg.quiet_hours_start, cfg.quiet_hours_end)
                res = await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.kind == REMINDER, OutboxItem.status == "pending", OutboxItem.not_before <= now)
                    .values(not_before=morning)
                    .execution_options(synchronize_session=False)
                )
                if res.rowcount:
                    tally.deferred += res.rowcount
                    log.info("quiet hours: %s reminder(s) wait until %s", res.rowcount, morning.isoformat())
            ids = list((await session.scalars(q)).all())
            if not ids:
                return []
            rows = (
                await session.execute(
                    select(
                        OutboxItem.id,
                        OutboxItem.chat_id,
                        OutboxItem.kind,
                        OutboxItem.important,
                        OutboxItem.text,
                        OutboxItem.payload,
                        OutboxItem.fallback_email,
                        OutboxItem.email_subject,
                        OutboxItem.attempts,
                        OutboxItem.status,
                        OutboxItem.created_at, OutboxItem.not_before,
                        Chat.blocked_at,
                        Chat.fallback_email.label("chat_email"),
                    )
                    .outerjoin(Chat, Chat.chat_id == OutboxItem.chat_id)
                    .where(OutboxItem.id.in_(ids))
                    .order_by(OutboxItem.id)
                )
            ).all()
            claim: list[int] = []
            out: list[_Row] = []
            for r in rows:
                # A lease that ran out means a worker died holding the row: that counts as a try,
                # so a notice that kills its worker cannot loop for ever.
                attempts = r.attempts + (1 if r.status == "sending" else 0)
                row = _Row(
                    r.id, r.chat_id, r.kind, bool(r.important), r.text, dict(r.payload or {}),
                    r.fallback_email, r.email_subject, attempts, due_at(r.kind, r.created_at, r.not_before),
                )
                if r.chat_id is None or r.blocked_at is not None:
                    await self._settle_unreachable(session, row, r.chat_email, now, tally)
                    continue
                if attempts >= cfg.delivery_max_attempts:
                    await session.execute(
                        update(OutboxItem)
                        .where(OutboxItem.id == row.id)
                        .values(status="failed", attempts=attempts, last_error="lease expired too often",
                                locked_by=None, locked_until=None)
                    )
                    log.error("outbox %s failed: its worker's lease expired %s times", row.id, attempts)
                    tally.failed += 1
                    continue
                claim.append(row.id)
                out.append(row)
            if claim:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_(claim))
                    .values(
                        status="sending",
                        locked_by=me,
                        locked_until=now + timedelta(seconds=cfg.delivery_lease_seconds),
                        attempts=case((OutboxItem.status == "sending", OutboxItem.attempts + 1), else_=OutboxItem.attempts),
                    )
                    .execution_options(synchronize_session=False)
                )
        return out

    async def _settle_unreachable(
        self, session: AsyncSession, row: _Row, chat_email: str | None, now: datetime, tally: _Tally
    ) -> str:
        """No chat, or a blocked chat: 'emailed' if important with an address, else 'blocked'
        ('failed' with no chat at all). Runs in the caller's transaction."""
        email = row.fallback_email or chat_email
        if row.important and email:
            key = f"outbox:{row.id}"
            if await session.scalar(select(EmailItem.id).where(EmailItem.dedupe_key == key)) is None:
                enqueue_email(
                    session,
                    now=now,
                    to_addr=email,
                    subject=row.email_subject or "A message from the SEND team",
                    body=email_body(row.text, row.payload),
                    outbox_id=row.id,
                    dedupe_key=key,
                )
            status, error = "emailed", None
            tally.emailed += 1
        elif row.chat_id is None:
            status, error = "failed", "no chat and no email to send to"
            tally.failed += 1
        else:
            status, error = "blocked", None
            tally.blocked += 1
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == row.id)
            .values(status=status, last_error=error, attempts=row.attempts, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        log.info("outbox %s to chat %s: %s", row.id, row.chat_id, status)
        return status

    # ------------------------------------------------------------------ record

    def _mine(self, row_id: int):  # noqa: ANN202
        return and_(OutboxItem.id == row_id, OutboxItem.locked_by == self.worker_id, OutboxItem.status == "sending")

    async def _record(self, row: _Row, **values: Any) -> bool:
        # A result must not be lost to a passing lock: an unrecorded send would be sent again.
        stmt = update(OutboxItem).where(self._mine(row.id)).values(**values)
        if not await record_leased(self.portal, stmt, tries=RECORD_TRIES, log=log, what=f"outbox {row.id}"):
            log.warning("outbox %s: lease lost before its result was recorded", row.id)
            return False
        return True

    async def _release(
        self, rows: list[_Row], tally: _Tally, not_before: datetime | None = None, *, count: bool = True
    ) -> None:
        """Give rows back unsent, without counting an attempt."""
        if not rows:
            return
        values: dict[str, Any] = {"status": "pending", "locked_by": None, "locked_until": None}
        if not_before is not None:
            values["not_before"] = not_before
        async with self.portal.db() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_([r.id for r in rows]),
                    OutboxItem.locked_by == self.worker_id,
                    OutboxItem.status == "sending",
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if count:
            tally.released += len(rows)

    async def _mark_blocked(self, row: _Row, tally: _Tally) -> None:
        """A 403: the chat is marked blocked and the row settled, with its email, in one transaction."""
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            held = await session.scalar(select(OutboxItem.id).where(self._mine(row.id)))
            chat = await get_or_create(session, row.chat_id, now)
            if chat.blocked_at is None:
                chat.blocked_at = now
            if held is None:
                log.warning("outbox %s: lease lost before the 403 was recorded", row.id)
                return
            await self._settle_unreachable(session, row, chat.fallback_email, now, tally)

    async def _retry_later(self, row: _Row, exc: BaseException, tally: _Tally) -> None:
        now = self.portal.clock.now()
        attempts = row.attempts + 1
        if attempts >= self._cfg.delivery_max_attempts:
            log.error("outbox %s to chat %s failed after %s attempts: %s", row.id, row.chat_id, attempts, type(exc).__name__)
            await self._record(row, status="failed", attempts=attempts, last_error=_err(exc), locked_until=None)
            tally.failed += 1
            return
        retry_at = now + timedelta(seconds=backoff_seconds(attempts))
        log.warning(
            "outbox %s to chat %s: attempt %s failed (%s), retry at %s",
            row.id, row.chat_id, attempts, type(exc).__name__, retry_at.isoformat(),
        )
        await self._record(
            row, status="pending", attempts=attempts, last_error=_err(exc), not_before=retry_at,
            locked_by=None, locked_until=None,
        )
        tally.retry += 1

    # ------------------------------------------------------------------ send

    def _may_start(self) -> bool:
        if self._stop is not None and self._stop.is_set():
            return False
        return time.monotonic() < self._deadline

    async def _deliver_chat(self, chat_id: int, rows: list[_Row], tally: _Tally) -> None:
        for i, row in enumerate(rows):
            wait = self._chat_next.get(chat_id, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            outcome = await self._send(row, tally)
            if outcome in ("sent", "failed", "deferred"):
                continue
            rest = rows[i + 1 :]
            if not rest:
                return
            if outcome == "blocked":
                # Settle the chat's other rows now (no more sends to it).
                now = self.portal.clock.now()
                async with self.portal.db() as session, session.begin():
                    email = await session.scalar(select(Chat.fallback_email).where(Chat.chat_id == chat_id))
                    for r in rest:
                        if await session.scalar(select(OutboxItem.id).where(self._mine(r.id))) is not None:
                            await self._settle_unreachable(session, r, email, now, tally)
                return
            # retry / released / deferred: later rows of the chat wait behind this one.
            await self._release(rest, tally)
            return

    async def _send(self, row: _Row, tally: _Tally) -> str:
        cfg = self._cfg
        try:
            markup = reply_markup(row.payload)
        except Exception as exc:  # noqa: BLE001 - a malformed payload is permanent
            log.error("outbox %s: bad buttons in payload, failed", row.id)
            await self._record(row, status="failed", attempts=row.attempts + 1, last_error=_err(exc), locked_until=None)
            tally.failed += 1
            return "failed"
        while True:
            async with self._in_flight:
                await self.pacer.wait_chat(row.chat_id)  # the bot's own answers share the chat's turns
                await self.limiter.acquire()
                if not self._may_start():
                    await self._release([row], tally)
                    return "released"
                now = self.portal.clock.now()
                quiet = is_quiet(now, cfg.quiet_hours_start, cfg.quiet_hours_end)
                if quiet and row.kind == REMINDER:
                    morning = quiet_ends_at(now, cfg.quiet_hours_start, cfg.quiet_hours_end)
                    await self._release([row], tally, not_before=morning, count=False)
                    tally.deferred += 1
                    return "deferred"
                started = time.monotonic()
                try:
                    with pre_paced():  # paced here; a 429 is handled below, not by the middleware
                        msg = await self.bot.send_message(
                            chat_id=row.chat_id,
                            text=row.text,
                            parse_mode=markup_of(row.payload),
                            reply_markup=markup,
                            disable_notification=quiet,
                            link_preview_options=LinkPreviewOptions(is_disabled=True),
                            request_timeout=self._request_timeout(),
                        )
                except TelegramRetryAfter as exc:
                    self.metrics.flood()
                    self.pacer.flood(exc.retry_after, row.chat_id)
                    log.warning("outbox %s: flood control, all sending paused %ss", row.id, exc.retry_after)
                    continue  # the same row again, after the pause; not a failed attempt
                except TelegramForbiddenError:
                    self._paced(row.chat_id, started)
                    log.info("outbox %s: chat %s blocked the bot (403)", row.id, row.chat_id)
                    await self._mark_blocked(row, tally)
                    return "blocked"
                except TelegramUnauthorizedError:
                    self.limiter.pause(UNAUTHORIZED_PAUSE)
                    log.error("Telegram refused the bot token (401); sending paused, notices kept")
                    await self._release([row], tally)
                    return "released"
                except (TelegramBadRequest, TelegramNotFound, TelegramMigrateToChat, TelegramEntityTooLarge) as exc:
                    self._paced(row.chat_id, started)
                    log.error("outbox %s to chat %s refused by Telegram, failed: %s", row.id, row.chat_id, _err(exc))
                    await self._record(
                        row, status="failed", attempts=row.attempts + 1, last_error=_err(exc), locked_until=None
                    )
                    tally.failed += 1
                    return "failed"
                except (AiogramError, OSError, TimeoutError) as exc:
                    # Network, 5xx, an unreadable answer: back off, for this row and for everyone.
                    self._paced(row.chat_id, started)
                    self._error_streak += 1
                    self.limiter.pause(min(0.5 * 2 ** (self._error_streak - 1), 30.0) * random.uniform(0.8, 1.0))
                    await self._retry_later(row, exc, tally)
                    return "retry"
                self._paced(row.chat_id, started)
                self._error_streak = 0
                # Recorded before the next send may start (see _in_flight).
                await self._record(
                    row,
                    status="sent",
                    sent_at=self.portal.clock.now(),
                    telegram_message_id=msg.message_id,
                    silent=quiet,
                    attempts=row.attempts + 1,
                    last_error=None,
                    locked_until=wall_now() + timedelta(seconds=self.chat_interval + PER_CHAT_MARGIN),
                )
            log.debug("outbox %s to chat %s: sent as message %s", row.id, row.chat_id, msg.message_id)
            tally.sent += 1
            self.metrics.notice_sent(row.due, self.portal.clock.now())
            return "sent"

    def _paced(self, chat_id: int, started: float) -> None:
        """The chat's next slot (see TelegramPacer.sent)."""
        self.pacer.sent(chat_id, started)

    # ------------------------------------------------------------------ loop

    async def run_once(self) -> int:
        """Claim a batch and deliver it. Returns how many notices were handled (sent, settled,
        failed or rescheduled)."""
        tally = _Tally()
        rows = await self._claim(tally)
        if rows:
            self._deadline = time.monotonic() + self._cfg.delivery_lease_seconds / 2
            by_chat: dict[int, list[_Row]] = defaultdict(list)
            for r in rows:
                by_chat[r.chat_id].append(r)  # ids ascending: claimed in order
            tasks = [asyncio.ensure_future(self._deliver_chat(c, rs, tally)) for c, rs in by_chat.items()]
            try:
                # One chat's failure (say, the database) must not cancel another chat's send in
                # flight: that send could be accepted by Telegram and never recorded.
                async with leases_kept(self.portal, self.worker_id, self.renew_every):
                    results = await asyncio.gather(*tasks, return_exceptions=True)
            except BaseException:  # this tick was cancelled: give back what is still held
                with contextlib.suppress(Exception):
                    await self._release(rows, _Tally())
                raise
            errors = [(c, r) for c, r in zip(by_chat, results, strict=True) if isinstance(r, BaseException)]
            for chat_id, exc in errors:
                log.error("delivery to chat %s stopped by an error", chat_id, exc_info=exc)
            if errors:
                with contextlib.suppress(Exception):
                    await self._release(rows, _Tally())  # only rows still held, unsent
        self.pacer.forget_idle()
        self.metrics.deliveries(vars(tally))
        if tally.handled or tally.released:
            log.info(
                "outbox batch: sent=%s blocked=%s emailed=%s failed=%s retry=%s deferred=%s released=%s",
                tally.sent, tally.blocked, tally.emailed, tally.failed, tally.retry, tally.deferred, tally.released,
            )
        return tally.handled

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: straight on while there is work, else every interval.

        A plain loop for tests and the benchmark; the service ticks `run_once` from APScheduler
        (`notifications.scheduler.build_scheduler`, run by `notifications.worker.run_delivery`)."""
        self._stop = stop
        await run_until_stopped(self.run_once, stop, self._cfg.delivery_interval, "telegram delivery")


__all__ = ["RateLimiter", "TelegramDelivery", "email_body", "reply_markup"]
