"""Email: the Mailer (SMTP, or .eml files when no SMTP host) and the email outbox worker.

The worker claims `email_outbox` rows under a lease, sends each, and records the result in its own
transaction. A server that is down, refuses connections, times out or answers 4xx only delays an
email (it stays pending and is retried with backoff, never dropped); a 5xx answer is retried too
and marks the email failed after `delivery_max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

import aiosmtplib
from sqlalchemy import and_, or_, select, update

from core.config import Settings
from core.models import EmailItem
from core.portal import Portal
from notifications.loop import run_until_stopped
from notifications.results import record_leased

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
RECORD_TRIES = 5
# What `body` becomes once an email is sent or has failed for good: bodies carry one-time codes and
# invitation codes, which must not stay in the database in clear.
SENT_BODY = "(sent; body not kept)"
FAILED_BODY = "(failed; body not kept)"


class PermanentMailError(Exception):
    """The server refused this email for good (5xx): retrying the same message will not help."""


def _domain(addr: str) -> str:
    _, email = parseaddr(addr)
    return email.rpartition("@")[2] or "?"


def _is_permanent(exc: BaseException) -> bool:
    """5xx answers about this message or its recipients. Authentication and TLS problems are the
    council's configuration, not the email's fault: they stay retryable."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500
    return isinstance(exc, PermanentMailError)


def _is_connection_error(exc: BaseException) -> bool:
    """The server cannot be reached at all: every other email would fail the same way now."""
    return isinstance(
        exc,
        (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPTimeoutError,
            ConnectionError,
            TimeoutError,
            OSError,
        ),
    ) and not isinstance(exc, aiosmtplib.SMTPResponseException)


def _error_text(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    text = f"{type(exc).__name__}" + (f" {code}" if code else "") + f": {message}"
    return text[:500]


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: between half and all of min(2**attempts, 300) seconds."""
    base = min(2.0 ** max(attempts, 0), MAX_BACKOFF_SECONDS)
    return base / 2 + random.uniform(0, base / 2)


class Mailer:
    """Sends one email. SMTP when `smtp_host` is set, else an RFC 5322 .eml file in the mail folder."""

    def __init__(self, settings: Settings, clock=None) -> None:  # noqa: ANN001
        self.settings = settings
        self.clock = clock

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def build(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> EmailMessage:
        cfg = self.settings.mail
        msg = EmailMessage()
        msg["From"] = cfg.smtp_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(self._now().astimezone(UTC))
        msg["Message-ID"] = message_id or make_msgid(domain=_domain(cfg.smtp_from))
        msg.set_content(body)
        return msg

    async def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        msg = self.build(to, subject, body, message_id=message_id)
        cfg = self.settings.mail
        if not cfg.smtp_host:
            path = await asyncio.to_thread(self._write_eml, msg)
            log.info("email written to %s for @%s subject=%r", path.name, _domain(to), subject)
            return
        password = cfg.smtp_password.get_secret_value() if cfg.smtp_password else None
        await aiosmtplib.send(
            msg,
            hostname=cfg.smtp_host,
            port=cfg.smtp_port,
            username=cfg.smtp_user or None,
            password=password if cfg.smtp_user else None,
            use_tls=cfg.smtp_tls == "tls",
            start_tls=True if cfg.smtp_tls == "starttls" else False,
            timeout=cfg.smtp_timeout,
        )
        log.info("email sent by SMTP to @%s subject=%r", _domain(to), subject)

    def _write_eml(self, msg: EmailMessage) -> Path:
        folder = self.settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self._now().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{secrets.token_hex(4)}.eml"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(msg.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            final = folder / name
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return final


@dataclass
class _Claimed:
    id: int
    to_addr: str
    subject: str
    body: str
    attempts: int


class EmailDelivery:
    """The email outbox worker. Safe to run in several processes (leases, SKIP LOCKED on PostgreSQL).

    A claimed row is `sending`, `locked_by` this worker until `locked_until`; a result is recorded
    only on a row this worker still holds. Once an email is sent (or has failed for good) its body
    is blanked in the same update: codes in it do not stay in the database.
    """

    def __init__(self, portal: Portal, mailer: Mailer, worker_id: str, *, stop: asyncio.Event | None = None) -> None:
        self.portal = portal
        self.mailer = mailer
        self.worker_id = worker_id
        self._stop = stop  # once set: finish the email in flight, give back the rest

    @property
    def _cfg(self):  # noqa: ANN202
        return self.portal.settings.delivery

    def _message_id(self, item_id: int) -> str:
        # Stable per email: a resend after a crash carries the same Message-ID, so mail clients
        # can fold the duplicate.
        return f"<ehcp-email-{item_id}@{_domain(self.portal.settings.mail.smtp_from)}>"

    async def _claim(self) -> list[_Claimed]:
        cfg = self._cfg
        now = self.portal.clock.now()
        lease = cfg.delivery_lease_seconds
        due = or_(
            and_(EmailItem.status == "pending", EmailItem.next_attempt_at <= now),
            and_(EmailItem.status == "sending", EmailItem.locked_until < now),
        )
        # Claim no more than can be sent well within the lease (a second an email, pessimistic).
        limit = max(1, min(cfg.delivery_batch, lease // 2))
        async with self.portal.db() as session, session.begin():
            q = select(EmailItem.id).where(due).order_by(EmailItem.id).limit(limit)
            if self.portal.engine.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = list((await session.scalars(q)).all())
            if not ids:
                return []
            await session.execute(
                update(EmailItem)
                .where(EmailItem.id.in_(ids), due)
                .values(status="sending", locked_by=self.worker_id, locked_until=now + timedelta(seconds=lease))
                .execution_options(synchronize_session=False)
            )
            rows = (
                await session.execute(
                    select(
                        EmailItem.id, EmailItem.to_addr, EmailItem.subject, EmailItem.body, EmailItem.attempts
                    )
                    .where(EmailItem.id.in_(ids), self._mine())
                    .order_by(EmailItem.id)
                )
            ).all()
        return [_Claimed(r.id, r.to_addr, r.subject, r.body, r.attempts) for r in rows]

    def _mine(self):  # noqa: ANN202
        return and_(EmailItem.status == "sending", EmailItem.locked_by == self.worker_id)

    async def _record(self, item: _Claimed, **values: object) -> bool:
        # Retried on a busy database: an email sent but not recorded would be sent again.
        stmt = update(EmailItem).where(EmailItem.id == item.id, self._mine()).values(**values)
        if not await record_leased(self.portal, stmt, tries=RECORD_TRIES):
            log.warning("email %s: lease lost before the result was recorded", item.id)
            return False
        return True

    async def _release(self, items: list[_Claimed], next_attempt_at: datetime | None = None) -> None:
        """Give rows back unsent (no attempt counted)."""
        for item in items:
            values: dict[str, object] = {"status": "pending", "locked_by": None, "locked_until": None}
            if next_attempt_at is not None:
                values["next_attempt_at"] = next_attempt_at
            await self._record(item, **values)

    async def run_once(self) -> int:
        """Claim a batch of due emails and send them. Returns how many were sent or rescheduled."""
        items = await self._claim()
        if not items:
            return 0
        lease = self._cfg.delivery_lease_seconds
        timeout = self.portal.settings.mail.smtp_timeout
        deadline = time.monotonic() + lease - min(lease / 2, timeout + 1)
        handled = 0
        for i, item in enumerate(items):
            if time.monotonic() > deadline or (self._stop is not None and self._stop.is_set()):
                await self._release(items[i:])
                break
            try:
                await self.mailer.send(
                    item.to_addr, item.subject, item.body, message_id=self._message_id(item.id)
                )
            except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
                handled += 1
                now = self.portal.clock.now()
                attempts = item.attempts + 1
                err = _error_text(exc)
                if _is_permanent(exc) and attempts >= self._cfg.delivery_max_attempts:
                    log.error("email %s failed for good after %s attempts: %s", item.id, attempts, err)
                    await self._record(
                        item, status="failed", attempts=attempts, last_error=err, locked_until=None, body=FAILED_BODY
                    )
                    continue
                retry_at = now + timedelta(seconds=backoff_seconds(attempts))
                log.warning("email %s not sent (attempt %s), retry at %s: %s", item.id, attempts, retry_at, err)
                await self._record(
                    item,
                    status="pending",
                    attempts=attempts,
                    last_error=err,
                    next_attempt_at=retry_at,
                    locked_by=None,
                    locked_until=None,
                )
                if _is_connection_error(exc):
                    # The server is unreachable: the rest of the batch waits with this one.
                    await self._release(items[i + 1 :], next_attempt_at=retry_at)
                    break
                continue
            handled += 1
            await self._record(
                item,
                status="sent",
                sent_at=self.portal.clock.now(),
                attempts=item.attempts + 1,
                last_error=None,
                locked_until=None,
                body=SENT_BODY,
            )
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: straight on while there is work, else every interval.

        A plain loop for tests; the service ticks `run_once` from APScheduler (`run_delivery`)."""
        self._stop = stop
        await run_until_stopped(self.run_once, stop, self._cfg.delivery_interval, "email delivery")
