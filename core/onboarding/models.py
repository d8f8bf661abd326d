"""Tables of onboarding: children, their cases, invitations, access grants and chat links.

A child and their case are made by the first invitation that names the case reference. Each
carer invited for a child has an invitation and an access grant of their own. Nothing secret is
kept in clear: the invitation's unique code is an HMAC under the server key, its deep-link token
a SHA-256 digest.

`accounts` (core/accounts/models.py) is referred to by table name only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class Child(Base):
    """A child or young person with a case. Statutory record: never erased by a chat."""

    __tablename__ = "children"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class Case(Base):
    """A child's EHCP case, known to the council's case system by its reference."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    case_reference: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[datetime]
    # The request for an EHC needs assessment: its date starts the 20-week clock (core.cases).
    request_date: Mapped[date | None] = mapped_column(Date)
    requestor: Mapped[str | None] = mapped_column(String(100))
    # The allocated caseworker, and how parents reach them (or the team).
    caseworker_name: Mapped[str | None] = mapped_column(String(100))
    caseworker_email: Mapped[str | None] = mapped_column(String(254))
    caseworker_phone: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime | None]


class Invitation(Base):
    """The SEND team's invitation of one carer (by email) for one child.

    Status is derived (see core.onboarding.invitations.invitation_status): accepted or declined
    once answered, else expired after `expires_at`, else verified or sent.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # lower-case
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))  # API token name
    expires_at: Mapped[datetime]
    # HMAC(server key, "invitation-code", code): unique, so a code quoted by phone finds one invitation.
    code_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the deep-link token
    sent_count: Mapped[int] = mapped_column(Integer, default=1)
    last_sent_at: Mapped[datetime]
    # The first chat that opened the deep link (erased with "delete my data from this chat").
    bound_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    bound_at: Mapped[datetime | None]
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]  # too many wrong codes: until the SEND team resends
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(16))  # "code" | "phone"
    response: Mapped[str | None] = mapped_column(String(16))  # "accepted" | "declined"
    responded_at: Mapped[datetime | None]
    responded_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_used_at: Mapped[datetime | None]


class AccessGrant(Base):
    """One carer's access to one child: pending -> accepted | declined; accepted -> active -> revoked."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # None for the access a parent has to the case their own request for assessment opened.
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_access_grants_account_status", "account_id", "status"),)


class ChatLink(Base):
    """A Telegram chat logged in to an account. One active link per chat; an account may have several.

    `active_chat_id` is the chat id while the link is active and NULL after (its unique index
    makes "one active link per chat" hold in the database). `chat_id` keeps which chat it was
    until "delete my data from this chat" erases it.
    """

    __tablename__ = "chat_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    active_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    linked_at: Mapped[datetime]
    unlinked_at: Mapped[datetime | None]
    unlink_reason: Mapped[str | None] = mapped_column(String(16))  # logout | revoked | deleted | replaced
    # The child this chat last chose (dashboard, /settings); checked against access on every use.
    selected_child_id: Mapped[int | None] = mapped_column(BigInteger)
