"""Tables of published documents and of each delivery of one into a parent's chat.

A document belongs to a case: every carer with active access to the child sees it. The file is
kept in core.files storage (content-addressed); the row holds what the parent sees (description,
document date, published date) and Telegram's id for the file once it has been sent, so the same
file is not uploaded twice. A withdrawn document stays as a row (the council's record) but is
never listed or delivered again.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    description: Mapped[str] = mapped_column(String(300))
    document_date: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(100))  # API token name
    sha256: Mapped[str] = mapped_column(String(64))  # the file, in core.files storage
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # Telegram's id for the file once it was sent into a chat (reused, not uploaded again).
    telegram_file_id: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdraw_reason: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_documents_case", "case_id", "withdrawn_at", "id"),)


class DocumentDelivery(Base):
    """One sending of a document into a chat (also in the audit log): who received what, when.
    The dashboard's "Documents to View (n)" counts the documents a carer has not received yet."""

    __tablename__ = "document_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    delivered_at: Mapped[datetime]

    __table_args__ = (Index("ix_document_deliveries_account", "account_id", "document_id"),)
