"""Tables of messages between a carer and the SEND team, their attachments, and the staff
group's topics, posts and members.

Each carer's messages are a thread of their own (`account_id`): two carers of one child never
see each other's messages. A message is stored whole whatever its length (up to the product's
limit); the chat splits it only to show it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the carer's thread
    direction: Mapped[str] = mapped_column(String(10))  # to_team | to_parent
    type: Mapped[str] = mapped_column(String(20))  # core.messages.service.MessageType
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sender_name: Mapped[str] = mapped_column(String(200))
    recipient_name: Mapped[str] = mapped_column(String(200))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    source: Mapped[str] = mapped_column(String(12))  # chat | api | staff_group | form
    # The sender's own key for this message (the chat's draft id): a Send repeated after a crash
    # finds the stored message instead of storing it twice.
    client_key: Mapped[str | None] = mapped_column(String(64))
    sent_by: Mapped[str] = mapped_column(String(100))  # account id, API token name, staff user
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]  # by its recipient (the parent, or the SEND team)
    # When the staff group relay posted it (a parent's message, or a reply sent by the API).
    staff_posted_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_messages_thread", "account_id", "child_id", "direction", "id"),
        Index("ix_messages_case", "case_id", "id"),
        UniqueConstraint("account_id", "client_key", name="uq_messages_client_key"),
    )


class Attachment(Base):
    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the file, in core.files storage
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # Telegram's id for the file once it was sent into a chat or uploaded from one (reused).
    telegram_file_id: Mapped[str | None] = mapped_column(String(200))


class StaffTopic(Base):
    """The staff group's forum topic for one carer's thread about one case."""

    __tablename__ = "staff_topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("staff_chat_id", "case_id", "account_id", name="uq_staff_topics_thread"),
        UniqueConstraint("staff_chat_id", "thread_id", name="uq_staff_topics_topic"),
    )


class StaffPost(Base):
    """A message as posted in the staff group: (chat, message id) -> the stored message."""

    __tablename__ = "staff_posts"

    staff_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    staff_message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)


class StaffMember(Base):
    """A staff Telegram account and the caseworker name its replies are sent under."""

    __tablename__ = "staff_members"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    caseworker_name: Mapped[str] = mapped_column(String(100))
    mapped_at: Mapped[datetime]
    mapped_by: Mapped[str] = mapped_column(String(100))
