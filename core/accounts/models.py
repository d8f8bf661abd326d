"""Tables of portal accounts: accounts, their previous password hashes, open requests
(registration, login, reset, email change), one-time codes and the hourly rate-limit records.

Nothing secret is kept in clear: passwords are argon2id hashes, codes are HMACs under the server
key, request ids are HMACs too (so the table alone cannot be used to finish someone's step).
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
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class Account(Base):
    """A parent's (or young person's) portal account. Made once the email is confirmed."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    house: Mapped[str | None] = mapped_column(String(100))  # house number or name
    street: Mapped[str] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(100))
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    email_confirmed_at: Mapped[datetime | None]
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PasswordHistory(Base):
    """Hashes of an account's previous passwords (the current one is on the account)."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class AccountRequest(Base):
    """A step in progress that an emailed code finishes: register, login, reset, change_email.

    `request_key` is an HMAC of the caller's request id. `decoy` marks a request that looks the
    same from outside but can never succeed (the email already has an account, or has none for a
    reset), so no answer reveals which emails have accounts.
    """

    __tablename__ = "account_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    request_key: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))  # where the code goes
    decoy: Mapped[bool] = mapped_column(Boolean, default=False)
    # Registration: the form's fields and the password's argon2id hash. Never a password.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    verified_at: Mapped[
        datetime | None
    ]  # the code was right (reset: the new password may now be set)
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("purpose", "request_key", name="uq_account_requests_purpose_key"),
        Index("ix_account_requests_expires", "expires_at"),
    )


class OneTimeCode(Base):
    """An emailed 6-digit code, kept only as HMAC(server key, purpose, request id, code)."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    request_key: Mapped[str] = mapped_column(String(64))
    code_hmac: Mapped[str] = mapped_column(String(64))
    # The scope its hourly limits count against.
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    email_key: Mapped[str | None] = mapped_column(String(64))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("purpose", "request_key", name="uq_one_time_codes_purpose_key"),
        Index("ix_one_time_codes_expires", "expires_at"),
    )


class RateEvent(Base):
    """One code sent, wrong code or failed login, counted against a scope for an hour.

    `scope` is "account:<id>", "chat:<id>" or "email:<hmac>" (never an address in clear).
    """

    __tablename__ = "account_rate_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # issue | wrong | login_fail
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_account_rate_events_scope", "scope", "kind", "at"),
        Index("ix_account_rate_events_at", "at"),
    )
