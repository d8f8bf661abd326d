"""Tables of the portal service. Times are UTC (see UTCDateTime); ids are integers.

The platform's tables: chats (delivery addresses and their state), the notification outbox and
email outbox, the audit log, caseworker API tokens, idempotency records, dialogue state and the
record of processed Telegram updates. Journeys add their own tables beside these.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger that is still an autoincrementing rowid on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class Chat(Base):
    """A Telegram chat the bot has spoken with. Exists only because of the chat (erasable)."""

    __tablename__ = "chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_seen_at: Mapped[datetime]
    privacy_shown_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    # Where important notices go when the chat cannot be reached. Set by onboarding (issue 3).
    fallback_email: Mapped[str | None] = mapped_column(String(320))


class OutboxItem(Base):
    """A notice to a parent's chat, written in the transaction of the change that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))  # "reminder" waits out quiet hours; others go at once
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    fallback_email: Mapped[str | None] = mapped_column(String(320))
    child_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    email_subject: Mapped[str | None] = mapped_column(String(200))
    # Extra send options: {"buttons": [[{"text":..., "data"|"url":...}]], "markup": ...} (see core.outbox)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    not_before: Mapped[datetime]
    # pending -> sending -> sent | blocked | failed | emailed ; "sending" means a worker holds the lease
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    silent: Mapped[bool | None] = mapped_column(Boolean)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_chat_status", "chat_id", "status"),  # the claim's "is this chat busy?"
    )


class EmailItem(Base):
    """An email waiting to go (or gone). Retried while the SMTP server is down."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime]
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The notice it stands in for, when a chat could not be reached.
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(64))  # the worker holding the lease
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_email_due", "status", "next_attempt_at"),)


class AuditEntry(Base):
    """Who did what to which child's data, and when. Never the data itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))  # parent | caseworker | system
    actor_id: Mapped[str] = mapped_column(String(100))  # account id, token name, chat id, job name
    action: Mapped[str] = mapped_column(String(64))
    child_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    subject: Mapped[str | None] = mapped_column(String(100))  # e.g. "outbox:12" - an id, never content


class ApiToken(Base):
    """A caseworker API bearer token. Only its SHA-256 digest is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """A POST's Idempotency-Key and the first answer to it, replayed for 24 hours."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("token_name", "key", name="uq_idempotency_token_key"),)


class DialogState(Base):
    """The chat face's dialogue state and data (its stacks and contexts too), keyed as it keys them."""

    __tablename__ = "dialog_state"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # 0 = none
    business_connection_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" = none
    destiny: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[str | None] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime]


class InboundUpdate(Base):
    """A Telegram update, stored before Telegram is answered and processed from here.

    The row is written before getUpdates confirms it (or before a webhook gets its 200), so an
    update in flight survives a crash; the primary key drops a repeated update_id. Once handled,
    the payload is cleared (the message lives in its own tables) and the row stays a while as
    the record that this update_id was seen. An update that cannot be read, or keeps failing,
    is marked failed instead: it keeps its payload and error for the operator.
    """

    __tablename__ = "inbound_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[str | None] = mapped_column(Text)  # JSON; None once processed
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_inbound_pending", "bot_id", "processed_at"),)



class WorkerHeartbeat(Base):
    """A running delivery process, and when it was last seen (wall-clock time, not the portal's
    clock: liveness is real time). A lease held by a worker whose process is gone is taken back
    at once instead of when the lease runs out."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


class LeaderLease(Base):
    """A role that one process at a time may hold (the scheduler of the daily jobs), leased until
    `expires_at` (wall-clock time) and renewed by its holder. See core/leases.py."""

    __tablename__ = "leader_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PageLink(Base):
    """A link from the chat to one of the parents' pages (register, log in, reset a password,
    change the password or the email).

    Made for one chat, so bound to it from the start; only its SHA-256 digest is kept. Opening
    it does not use it up (link previews open links); it is used up when its step completes.
    """

    __tablename__ = "page_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]  # the form was accepted; a code was emailed
    verified_at: Mapped[datetime | None]  # the emailed code was right (forgotten password): choose a new one
    completed_at: Mapped[datetime | None]  # the step is done: the link is used up
    cancelled_at: Mapped[datetime | None]  # a newer link for the same chat replaced it


class AskedQuestion(Base):
    """A question a parent typed in the chat that the knowledge base answered or declined (core/
    questions.py): the passage shown and "Was this helpful?", for the council to improve its pages.
    Not whose question it was; its text only while EHCP_QUESTION_RETENTION_DAYS allows."""

    __tablename__ = "asked_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(16))  # carried by the answer's buttons
    outcome: Mapped[str] = mapped_column(String(16))  # "answered" or "declined"
    passage_id: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(index=True)
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[datetime | None]
    question: Mapped[str | None] = mapped_column(Text)
