"""One-time codes: 6 random digits, single use, 10 minutes (EHCP_CODE_MINUTES), 5 tries, hourly limits.

A code is bound to a purpose ("register", "login", "reset", "change_email") and to the request
that asked for it (a random request id the caller keeps, e.g. in a page token or the dialogue).
Only HMAC(server key, purpose, request id, code) is stored: a plain hash of 6 digits would be
guessed offline in a moment. A new code for the same request and purpose replaces the old one.

Limits, counted in `account_rate_events` over the last hour: codes sent per account (or, before
there is one, per email address) and per chat; wrong codes per account and per chat. With 5 tries
a code and 10 wrong codes an hour, a guesser has about 1 chance in 100,000 an hour.

Both functions work inside the caller's transaction, so the code's email (`enqueue_email`) and the
change it completes commit together. No code is ever logged.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import emails
from core.accounts.models import OneTimeCode, RateEvent
from core.outbox import enqueue_email
from core.security import constant_time_equal, hmac_hex, new_token

CODE_DIGITS = 6
RATE_WINDOW = timedelta(hours=1)
ISSUE = "issue"
WRONG = "wrong"
LOGIN_FAIL = "login_fail"


class Purpose(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    RESET = "reset"
    CHANGE_EMAIL = "change_email"


class CodeStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    TOO_MANY_TRIES = "too_many_tries"  # this code is dead: ask for a new one
    NO_CODE = "no_code"
    RATE_LIMITED = "rate_limited"  # too many wrong codes from this account or chat in the hour


CODE_MESSAGES: dict[CodeStatus, str] = {
    CodeStatus.OK: "Thank you, that code is right.",
    CodeStatus.WRONG: "That code is not right. Please check the email and try again, or ask for a new code.",
    CodeStatus.EXPIRED: "That code has run out (codes work for {minutes} minutes). Please ask for a new code.",
    CodeStatus.USED: "That code has already been used. Please ask for a new code.",
    CodeStatus.TOO_MANY_TRIES: "That code was tried too many times, so it no longer works. Please ask for a new code.",
    CodeStatus.NO_CODE: "We have no code waiting for this step. Please ask for a new code.",
    CodeStatus.RATE_LIMITED: (
        "There have been too many tries for now. Please wait an hour and ask for a new code, "
        "or contact the SEND team."
    ),
}


def code_message(status: CodeStatus, minutes: int = 10) -> str:
    """A kind answer for the parent, with the way to get a new code (`minutes`: how long a code
    works, as the settings say)."""
    return CODE_MESSAGES[status].format(minutes=minutes)


@dataclass(frozen=True, slots=True)
class CodeLimits:
    ttl: timedelta = timedelta(minutes=10)
    max_tries: int = 5
    issues_per_hour: int = 5
    wrong_per_hour: int = 10

    @property
    def minutes(self) -> int:
        """How long a code works, in whole minutes (as the email and the chat say it)."""
        return max(1, int(self.ttl.total_seconds() // 60))


@dataclass(frozen=True, slots=True)
class CodeScope:
    """Who the hourly limits count against: the account (or the email before there is an
    account) and the chat."""

    account_id: int | None = None
    email: str | None = None
    chat_id: int | None = None


def new_request_id() -> str:
    """A random id for a step (kept by the caller, e.g. in a page token or the dialogue)."""
    return new_token(24)


def request_key(key: bytes, request_id: str) -> str:
    return hmac_hex(key, "request-id", request_id)


def email_key(key: bytes, email: str) -> str:
    return hmac_hex(key, "email", email.strip().lower())


def code_hmac(key: bytes, purpose: str, request_id: str, code: str) -> str:
    return hmac_hex(key, str(purpose), request_id, code)


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def scope_list(
    account_id: int | None, email_hmac: str | None, chat_ids: Iterable[int | None]
) -> list[str]:
    out: list[str] = []
    if account_id is not None:
        out.append(f"account:{account_id}")
    if email_hmac:
        out.append(f"email:{email_hmac}")
    for chat_id in chat_ids:
        if chat_id is not None and f"chat:{chat_id}" not in out:
            out.append(f"chat:{chat_id}")
    return out


async def over_limit(
    session: AsyncSession, scopes: list[str], kind: str, limit: int, now: datetime
) -> bool:
    """True if any scope has `limit` or more events of `kind` in the last hour."""
    if not scopes:
        return False
    rows = await session.execute(
        select(RateEvent.scope, func.count())
        .where(
            RateEvent.scope.in_(scopes), RateEvent.kind == kind, RateEvent.at > now - RATE_WINDOW
        )
        .group_by(RateEvent.scope)
    )
    return any(n >= limit for _, n in rows.all())


def record(session: AsyncSession, scopes: list[str], kind: str, now: datetime) -> None:
    for scope in scopes:
        session.add(RateEvent(scope=scope, kind=kind, at=now))


def scope_keys(key: bytes, scope: CodeScope) -> list[str]:
    return scope_list(
        scope.account_id, email_key(key, scope.email) if scope.email else None, [scope.chat_id]
    )


class IssueStatus(StrEnum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class IssueResult:
    status: IssueStatus
    expires_at: datetime | None = None

    @property
    def sent(self) -> bool:
        return self.status is IssueStatus.SENT


async def issue_code(
    session: AsyncSession,
    *,
    key: bytes,
    now: datetime,
    purpose: Purpose | str,
    request_id: str,
    scope: CodeScope,
    limits: CodeLimits = CodeLimits(),  # noqa: B008 - frozen dataclass
    email_to: str | None,
    council: str = "the council",
) -> IssueResult:
    """Make a code for (purpose, request id), replacing any earlier one, and email it to
    `email_to` in this transaction. With `email_to=None` the code is made but sent nowhere (a
    decoy: it counts and answers exactly as a real one, but nobody can know it)."""
    purpose = Purpose(purpose)
    ekey = email_key(key, scope.email) if scope.email else None
    scopes = scope_list(scope.account_id, ekey, [scope.chat_id])
    if await over_limit(session, scopes, ISSUE, limits.issues_per_hour, now):
        return IssueResult(IssueStatus.RATE_LIMITED)
    rkey = request_key(key, request_id)
    await session.execute(
        delete(OneTimeCode).where(
            OneTimeCode.purpose == purpose.value, OneTimeCode.request_key == rkey
        )
    )
    code = generate_code()
    expires = now + limits.ttl
    session.add(
        OneTimeCode(
            purpose=purpose.value,
            request_key=rkey,
            code_hmac=code_hmac(key, purpose.value, request_id, code),
            account_id=scope.account_id,
            email_key=ekey,
            chat_id=scope.chat_id,
            created_at=now,
            expires_at=expires,
            used_at=None,
            wrong_tries=0,
        )
    )
    record(session, scopes, ISSUE, now)
    if email_to is not None:
        subject, body = emails.code_email(purpose.value, code, limits.minutes, council)
        enqueue_email(session, now=now, to_addr=email_to, subject=subject, body=body)
    del code
    return IssueResult(IssueStatus.SENT, expires)


@dataclass(frozen=True, slots=True)
class CodeAnswer:
    """What a typed code came to: right, or why not."""

    status: CodeStatus

    @property
    def ok(self) -> bool:
        return self.status is CodeStatus.OK


@dataclass(frozen=True, slots=True)
class CodeCheck(CodeAnswer):
    tries_left: int | None = None
    account_id: int | None = field(default=None)
    minutes: int = 10  # how long a code works (for the message)

    @property
    def message(self) -> str:
        return code_message(self.status, self.minutes)


_NOT_DIGITS = re.compile(r"[\s-]+")


async def verify_code(
    session: AsyncSession,
    *,
    key: bytes,
    now: datetime,
    purpose: Purpose | str,
    request_id: str,
    code: str,
    chat_id: int | None = None,
    limits: CodeLimits = CodeLimits(),  # noqa: B008 - frozen dataclass
    consume: bool = True,
) -> CodeCheck:
    """Check a code typed by the parent. A wrong code counts against the code (5 tries) and
    against the account and chat for the hour; with `consume` a right code is used up."""
    purpose = Purpose(purpose)
    rkey = request_key(key, request_id)
    row = (
        await session.execute(
            select(OneTimeCode)
            .where(OneTimeCode.purpose == purpose.value, OneTimeCode.request_key == rkey)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        return CodeCheck(CodeStatus.NO_CODE)
    if row.used_at is not None:
        return CodeCheck(CodeStatus.USED)
    if row.wrong_tries >= limits.max_tries:
        return CodeCheck(CodeStatus.TOO_MANY_TRIES, 0)
    if now >= row.expires_at:
        return CodeCheck(CodeStatus.EXPIRED, minutes=limits.minutes)
    scopes = scope_list(row.account_id, row.email_key, [row.chat_id, chat_id])
    if await over_limit(session, scopes, WRONG, limits.wrong_per_hour, now):
        return CodeCheck(CodeStatus.RATE_LIMITED)
    typed = _NOT_DIGITS.sub("", unicodedata.normalize("NFKC", code or ""))
    tries_left = limits.max_tries - row.wrong_tries
    if not (len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit()):
        return CodeCheck(CodeStatus.WRONG, tries_left)  # not a code at all: no try spent
    if constant_time_equal(code_hmac(key, purpose.value, request_id, typed), row.code_hmac):
        if consume:
            row.used_at = now
        return CodeCheck(CodeStatus.OK, tries_left, row.account_id)
    row.wrong_tries += 1
    record(session, scopes, WRONG, now)
    if row.wrong_tries >= limits.max_tries:
        return CodeCheck(CodeStatus.TOO_MANY_TRIES, 0)
    return CodeCheck(CodeStatus.WRONG, limits.max_tries - row.wrong_tries)


async def consume_code(
    session: AsyncSession, *, key: bytes, now: datetime, purpose: Purpose | str, request_id: str
) -> None:
    """Use up a code checked earlier with `consume=False`."""
    row = (
        await session.execute(
            select(OneTimeCode).where(
                OneTimeCode.purpose == Purpose(purpose).value,
                OneTimeCode.request_key == request_key(key, request_id),
            )
        )
    ).scalar_one_or_none()
    if row is not None and row.used_at is None:
        row.used_at = now


async def purge(session: AsyncSession, now: datetime) -> int:
    """Drop rate records older than the window and codes a day past their end."""
    n = (
        await session.execute(delete(RateEvent).where(RateEvent.at <= now - RATE_WINDOW))
    ).rowcount or 0
    n += (
        await session.execute(
            delete(OneTimeCode).where(OneTimeCode.expires_at < now - timedelta(days=1))
        )
    ).rowcount or 0
    return n


async def forget_chat(session: AsyncSession, chat_id: int) -> None:
    """Erase what these tables keep only because of a chat ("delete my data from this chat")."""
    await session.execute(delete(RateEvent).where(RateEvent.scope == f"chat:{chat_id}"))
    rows = (
        (await session.execute(select(OneTimeCode).where(OneTimeCode.chat_id == chat_id)))
        .scalars()
        .all()
    )
    for row in rows:
        row.chat_id = None
