"""Writing notices. Call `enqueue` inside the transaction of the change that causes the notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import EmailItem, OutboxItem

# Reminders wait out quiet hours; every other kind goes at once (silently at night).
REMINDER = "reminder"
NOTICE = "notice"


def enqueue(
    session: AsyncSession,
    *,
    now: datetime,
    text: str,
    chat_id: int | None,
    kind: str = NOTICE,
    important: bool = False,
    fallback_email: str | None = None,
    email_subject: str | None = None,
    child_id: int | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    parse_mode: str | None = None,
) -> OutboxItem:
    """Add a notice to the outbox in the caller's transaction. Returns the (unflushed) row.

    `buttons` is rows of {"text": ..., "callback_data": ...} or {"text": ..., "url": ...}.
    `important` notices go by email to `fallback_email` when the chat is blocked or missing.
    """
    payload: dict[str, Any] = {}
    if buttons:
        payload["buttons"] = buttons
    if parse_mode:
        payload["parse_mode"] = parse_mode  # "HTML": the text's names must be escaped by the caller
    item = OutboxItem(
        created_at=now,
        kind=kind,
        important=important,
        chat_id=chat_id,
        fallback_email=fallback_email,
        email_subject=email_subject,
        child_id=child_id,
        text=text,
        payload=payload,
        dedupe_key=dedupe_key,
        not_before=not_before or now,
        status="pending",
        attempts=0,
    )
    session.add(item)
    return item


def enqueue_email(
    session: AsyncSession,
    *,
    now: datetime,
    to_addr: str,
    subject: str,
    body: str,
    outbox_id: int | None = None,
    dedupe_key: str | None = None,
) -> EmailItem:
    """Queue an email in the caller's transaction; the mail job sends it and retries on failure."""
    item = EmailItem(
        created_at=now,
        to_addr=to_addr,
        subject=subject,
        body=body,
        outbox_id=outbox_id,
        dedupe_key=dedupe_key,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    session.add(item)
    return item
