"""Portal accounts: registering, logging in, forgotten password, changing the password or email.

Every function takes the `Portal` and returns a small result with a status the caller turns into
a kind answer. Rules kept here:

- No answer reveals whether an email has an account. Registering with an email that has one says
  "we sent you a code" and emails the holder a note instead of a code; a reset for an email with
  no account says the same and sends nothing; a wrong email and a wrong password give the same
  answer after the same argon2 work (a dummy hash when there is no account). Such requests are
  "decoys": their code exists, counts tries and limits as a real one, and can never succeed.
- Passwords live only as argon2id hashes, codes and request ids only as HMACs under the key.
  argon2 runs in a worker thread, outside any database transaction.
- Every change is audited (`account.<action>`, actor = the account), never the data itself, and
  the emails that go with a change are queued in its transaction.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import codes, emails
from core.accounts.codes import (
    CodeCheck,
    CodeScope,
    CodeStatus,
    Purpose,
    new_request_id,
    request_key,
)
from core.accounts.config import AccountSettings, default_account_settings
from core.accounts.models import Account, AccountRequest, PasswordHistory
from core.audit import Actor, audit
from core.outbox import enqueue_email
from core.portal import Portal
from core.text import has_visible_text, trim

log = logging.getLogger(__name__)

# Longer input than this is never a password we could have stored; refused without hashing it.
MAX_PASSWORD_INPUT = 4096
# After the reset code is right, the new password must be set within this time.
RESET_WINDOW = timedelta(minutes=30)

# ---------------------------------------------------------------------------------------------
# Input


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.][^@\s]*\.[^@\s.]{2,}$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
EMAIL_PROBLEM = "Please enter a full email address, like name@example.com."
POSTCODE_PROBLEM = "Please enter a UK postcode, like WR5 2YA."
PASSWORDS_DIFFER = (
    "The two passwords are not the same. Please type your password again in both boxes."
)


def normalise_email(value: str) -> str:
    """Trimmed and lower-case. Raises ValueError (with a message for the parent) if not an email."""
    v = (value or "").strip().lower()
    if len(v) > 254 or not _EMAIL.match(v) or not v.isprintable():
        raise ValueError(EMAIL_PROBLEM)
    return v


def normalise_postcode(value: str) -> str:
    """A UK postcode, checked loosely, upper-case with one space: "wr52ya" -> "WR5 2YA"."""
    v = re.sub(r"\s+", "", (value or "").upper())
    if v == "GIR0AA":
        return "GIR 0AA"
    m = _POSTCODE.match(v)
    if not m:
        raise ValueError(POSTCODE_PROBLEM)
    return f"{m.group(1)} {m.group(2)}"


Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptText100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None

LABELS = {
    "forename": "forename",
    "surname": "surname",
    "house": "house number or name",
    "street": "street",
    "area": "area",
    "town": "town",
    "postcode": "postcode",
    "email": "email address",
    "password": "password",
    "confirm_password": "password again",
}


class RegistrationForm(BaseModel):
    """The guide's registration fields (no "professional capacity" box). Required: forename,
    surname, street, town, postcode, email, password."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    forename: Text100
    surname: Text100
    house: OptText100 = None
    street: Text200
    area: OptText100 = None
    town: Text100
    postcode: str
    email: str
    password: SecretStr
    confirm_password: SecretStr | None = None

    @field_validator("forename", "surname", "house", "street", "area", "town", mode="before")
    @classmethod
    def _visible(cls, v: Any) -> Any:
        """Spaces and invisible characters (zero-width spaces, joiners, fillers...) at either end
        go; a value of nothing else is empty: "Please enter your forename"."""
        if not isinstance(v, str):
            return v
        return trim(v) if has_visible_text(v) else ""

    @field_validator("house", "area", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not has_visible_text(v) else v

    @field_validator("forename", "surname", "house", "street", "area", "town")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        if v is not None and not v.isprintable():
            raise ValueError("Please use letters, numbers and ordinary punctuation only.")
        return v

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str) -> str:
        return normalise_postcode(v)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return normalise_email(v)

    def address(self) -> dict[str, str | None]:
        return {
            "forename": self.forename,
            "surname": self.surname,
            "house": self.house,
            "street": self.street,
            "area": self.area,
            "town": self.town,
            "postcode": self.postcode,
        }


def _form_errors(exc: ValidationError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else "form"
        label = LABELS.get(name, name)
        kind = err.get("type", "")
        if kind in ("missing", "string_too_short"):
            msg = f"Please enter your {label}."
        elif kind == "string_too_long":
            msg = f"Your {label} is too long (at most {err.get('ctx', {}).get('max_length')} characters)."
        elif kind == "value_error":
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
        else:
            msg = f"Please check your {label}."
        out.setdefault(name, []).append(msg)
    return out


# ---------------------------------------------------------------------------------------------
# Results


class StartStatus(StrEnum):
    CODE_SENT = "code_sent"  # "We have sent you a code" (also said for decoys)
    INVALID = "invalid"  # see `errors`, field by field
    WRONG_PASSWORD = "wrong_password"  # the current password (changing the email)
    RATE_LIMITED = "rate_limited"
    NO_REQUEST = "no_request"  # a new code for a step that is over or unknown: start again
    NO_ACCOUNT = "no_account"  # a signed-in call for an account that no longer exists


START_MESSAGES = {
    StartStatus.CODE_SENT: "We have sent you an email with a code. It works for {minutes} minutes. "
    "If you cannot find it, look in your spam or junk folder.",
    StartStatus.INVALID: "Please check the details below.",
    StartStatus.WRONG_PASSWORD: "That password is not right. Please try again.",
    StartStatus.RATE_LIMITED: "There have been too many tries for now. Please wait an hour and try again, "
    "or contact the SEND team.",
    StartStatus.NO_REQUEST: "This step has timed out. Please start again.",
    StartStatus.NO_ACCOUNT: "We could not find your account. Please log in again.",
}


@dataclass(frozen=True, slots=True)
class StartResult:
    status: StartStatus
    request_id: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    minutes: int = 10  # how long the code works (for the message)

    @property
    def message(self) -> str:
        return START_MESSAGES[self.status].format(minutes=self.minutes)


class LoginStatus(StrEnum):
    CODE_SENT = "code_sent"
    WRONG_CREDENTIALS = "wrong_credentials"  # the same for an unknown email and a wrong password
    RATE_LIMITED = "rate_limited"


LOGIN_MESSAGES = {
    LoginStatus.CODE_SENT: "For additional security we have sent you an email with a code. It works for {minutes} minutes.",
    LoginStatus.WRONG_CREDENTIALS: 'That email address and password do not match an account. Please try again, or choose "Forgotten password".',
    LoginStatus.RATE_LIMITED: "There have been too many tries for now. Please wait an hour and try again, "
    'or choose "Forgotten password".',
}


@dataclass(frozen=True, slots=True)
class LoginResult:
    status: LoginStatus
    request_id: str | None = None
    minutes: int = 10  # how long the code works (for the message)

    @property
    def message(self) -> str:
        return LOGIN_MESSAGES[self.status].format(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    """The answer to a typed code. `account_id` is set when the step signs the parent in (a new
    registration, a login, an email change). `email_in_use`: the code was right but the address
    got an account meanwhile (only its owner can see this: they had the code)."""

    status: CodeStatus
    account_id: int | None = None
    tries_left: int | None = None
    email_in_use: bool = False
    minutes: int = 10  # how long a code works (for the message)

    @property
    def ok(self) -> bool:
        return self.status is CodeStatus.OK

    @property
    def message(self) -> str:
        if self.email_in_use:
            return "This email address already has an account. Please log in with it instead."
        return codes.code_message(self.status, self.minutes)


class PasswordStatus(StrEnum):
    CHANGED = "changed"
    INVALID = "invalid"  # see `problems`
    WRONG_PASSWORD = "wrong_password"  # the current password
    EXPIRED = "expired"  # the reset step is over (or was never verified): ask for a new code
    RATE_LIMITED = "rate_limited"
    NO_ACCOUNT = "no_account"


@dataclass(frozen=True, slots=True)
class PasswordResult:
    status: PasswordStatus
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status is PasswordStatus.CHANGED


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    forename: str
    surname: str
    house: str | None
    street: str
    area: str | None
    town: str
    postcode: str
    email: str
    email_confirmed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, a: Account) -> AccountInfo:
        return cls(
            a.id,
            a.forename,
            a.surname,
            a.house,
            a.street,
            a.area,
            a.town,
            a.postcode,
            a.email,
            a.email_confirmed_at,
            a.created_at,
        )


# ---------------------------------------------------------------------------------------------
# Helpers


def _cfg(config: AccountSettings | None) -> AccountSettings:
    return config or default_account_settings()


def _council(portal: Portal) -> str:
    return portal.settings.product.council_name


def _contact(portal: Portal) -> str:
    return portal.settings.product.send_team_contact


def _request_id(request_id: str | None) -> str:
    if request_id is None:
        return new_request_id()
    if not (16 <= len(request_id) <= 200) or not request_id.isprintable():
        raise ValueError("a request id is a random string of 16 to 200 characters")
    return request_id


async def _find_request(
    session: AsyncSession, portal: Portal, purpose: Purpose, request_id: str
) -> AccountRequest | None:
    return (
        await session.execute(
            select(AccountRequest).where(
                AccountRequest.purpose == purpose.value,
                AccountRequest.request_key == request_key(portal.secret_key, request_id),
            )
        )
    ).scalar_one_or_none()


def _open(req: AccountRequest | None, now: datetime) -> bool:
    return req is not None and req.completed_at is None and now < req.expires_at


async def _replace_request(
    session: AsyncSession, portal: Portal, purpose: Purpose, request_id: str, **values: Any
) -> AccountRequest:
    rkey = request_key(portal.secret_key, request_id)
    await session.execute(
        delete(AccountRequest).where(
            AccountRequest.purpose == purpose.value, AccountRequest.request_key == rkey
        )
    )
    req = AccountRequest(purpose=purpose.value, request_key=rkey, **values)
    session.add(req)
    return req


def _scope(req: AccountRequest, chat_id: int | None) -> CodeScope:
    chat = chat_id if chat_id is not None else req.chat_id
    if req.purpose in (Purpose.REGISTER.value, Purpose.RESET.value):
        return CodeScope(email=req.email, chat_id=chat)  # per email before there is an account
    if req.purpose == Purpose.CHANGE_EMAIL.value:
        return CodeScope(account_id=req.account_id, email=req.email, chat_id=chat)
    return CodeScope(account_id=req.account_id, chat_id=chat)


async def _history_hashes(session: AsyncSession, account: Account, keep: int) -> list[str]:
    """The current hash, then the previous `keep`, newest first."""
    rows = (
        (
            await session.execute(
                select(PasswordHistory.hash)
                .where(PasswordHistory.account_id == account.id)
                .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                .limit(max(keep, 0))
            )
        )
        .scalars()
        .all()
        if keep > 0
        else []
    )
    return [account.password_hash, *rows]


async def _set_password(
    session: AsyncSession, account: Account, new_hash: str, now: datetime, keep: int
) -> None:
    """Make `new_hash` current; the old one goes into the history, which keeps `keep` entries."""
    session.add(PasswordHistory(account_id=account.id, hash=account.password_hash, created_at=now))
    account.password_hash = new_hash
    account.password_changed_at = now
    account.updated_at = now
    await session.flush()
    stale = (
        (
            await session.execute(
                select(PasswordHistory.id)
                .where(PasswordHistory.account_id == account.id)
                .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                .offset(keep)
            )
        )
        .scalars()
        .all()
    )
    if stale:
        await session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(stale)))


def _code_result(check: CodeCheck, account_id: int | None = None) -> ConfirmResult:
    return ConfirmResult(check.status, account_id if check.ok else None, check.tries_left, minutes=check.minutes)


async def _send_code(
    s: AsyncSession,
    portal: Portal,
    cfg: AccountSettings,
    purpose: Purpose,
    request_id: str,
    now: datetime,
    scope: CodeScope,
    email_to: str | None,
) -> bool:
    """Issue a code for the step (emailed to `email_to`; None for a decoy). False if rate-limited."""
    issued = await codes.issue_code(
        s,
        key=portal.secret_key,
        now=now,
        purpose=purpose,
        request_id=request_id,
        scope=scope,
        limits=cfg.code_limits(),
        email_to=email_to,
        council=_council(portal),
    )
    return issued.sent


async def _start_request(
    s: AsyncSession,
    portal: Portal,
    cfg: AccountSettings,
    purpose: Purpose,
    request_id: str,
    now: datetime,
    scope: CodeScope,
    email_to: str | None,
    **values: Any,
) -> bool:
    """`_send_code`, then (if it was sent) a fresh request for the step holding `values`."""
    if not await _send_code(s, portal, cfg, purpose, request_id, now, scope, email_to):
        return False
    await _replace_request(
        s,
        portal,
        purpose,
        request_id,
        chat_id=scope.chat_id,
        created_at=now,
        expires_at=now + cfg.request_ttl,
        **values,
    )
    return True


async def _checked_request(
    s: AsyncSession,
    portal: Portal,
    cfg: AccountSettings,
    purpose: Purpose,
    request_id: str,
    code: str,
    chat_id: int | None,
    now: datetime,
    req: AccountRequest | None = None,
) -> tuple[ConfirmResult | None, AccountRequest | None, CodeCheck]:
    """Check a typed code (counting the try), then find its open request (`req` if the caller
    already has it). (refusal, None, check) when the code is not right, the request is over, or
    it is a decoy (nobody was sent this code; a lucky guess is still a wrong one); else
    (None, request, check)."""
    check = await codes.verify_code(
        s,
        key=portal.secret_key,
        now=now,
        purpose=purpose,
        request_id=request_id,
        code=code,
        chat_id=chat_id,
        limits=cfg.code_limits(),
    )
    if not check.ok:
        return _code_result(check), None, check
    if req is None:
        req = await _find_request(s, portal, purpose, request_id)
    if req is None or not _open(req, now):
        return ConfirmResult(CodeStatus.NO_CODE), None, check
    if req.decoy:
        return ConfirmResult(CodeStatus.WRONG, tries_left=check.tries_left), None, check
    return None, req, check


# ---------------------------------------------------------------------------------------------
# Registration


async def start_registration(
    portal: Portal,
    form: RegistrationForm | Mapping[str, Any],
    *,
    chat_id: int | None = None,
    request_id: str | None = None,
    config: AccountSettings | None = None,
) -> StartResult:
    """Step 1 and 2 of "Register for new account": check the form and the password, then email a
    code to confirm the address. Keep the returned `request_id` for `confirm_registration` and
    `resend_code`; passing the same `request_id` again replaces the earlier form (the guide's
    "back" to change the email address)."""
    cfg = _cfg(config)
    try:
        f = (
            form
            if isinstance(form, RegistrationForm)
            else RegistrationForm.model_validate(dict(form))
        )
    except ValidationError as exc:
        return StartResult(StartStatus.INVALID, None, _form_errors(exc))
    password = f.password.get_secret_value()
    errors: dict[str, list[str]] = {}
    if f.confirm_password is not None and f.confirm_password.get_secret_value() != password:
        errors["confirm_password"] = [PASSWORDS_DIFFER]
    problems = cfg.policy().check(password, email=f.email, names=(f.forename, f.surname))
    if problems:
        errors["password"] = problems
    if errors:
        return StartResult(StartStatus.INVALID, None, errors)
    # Hashed whether or not the email has an account, so both take the same time.
    password_hash = await asyncio.to_thread(cfg.hasher().hash, password)
    rid = _request_id(request_id)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        existing = (
            await s.execute(select(Account.id).where(Account.email == f.email))
        ).scalar_one_or_none()
        decoy = existing is not None
        if not await _start_request(
            s,
            portal,
            cfg,
            Purpose.REGISTER,
            rid,
            now,
            CodeScope(email=f.email, chat_id=chat_id),
            None if decoy else f.email,
            email=f.email,
            decoy=decoy,
            data={} if decoy else {**f.address(), "password_hash": password_hash},
        ):
            return StartResult(StartStatus.RATE_LIMITED, rid)
        if decoy:
            subject, body = emails.someone_tried_to_register(_council(portal))
            enqueue_email(s, now=now, to_addr=f.email, subject=subject, body=body)
            audit(s, Actor.parent(existing), "account.registration_attempt_existing", at=now)
    return StartResult(StartStatus.CODE_SENT, rid, minutes=cfg.code_minutes)


async def confirm_registration(
    portal: Portal,
    request_id: str,
    code: str,
    *,
    chat_id: int | None = None,
    config: AccountSettings | None = None,
) -> ConfirmResult:
    """Step 3: the emailed code confirms the email, and the account is made. On OK the
    `account_id` is the new account's (the parent is signed in)."""
    cfg = _cfg(config)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        refused, req, check = await _checked_request(
            s, portal, cfg, Purpose.REGISTER, request_id, code, chat_id, now
        )
        if refused is not None or req is None:
            return refused or ConfirmResult(CodeStatus.NO_CODE)
        req.completed_at = now
        taken = (
            await s.execute(select(Account.id).where(Account.email == req.email))
        ).scalar_one_or_none()
        if taken is not None:
            req.data = {}
            return ConfirmResult(CodeStatus.OK, None, email_in_use=True)
        d = dict(req.data)
        account = Account(
            forename=d["forename"],
            surname=d["surname"],
            house=d.get("house"),
            street=d["street"],
            area=d.get("area"),
            town=d["town"],
            postcode=d["postcode"],
            email=req.email,
            email_confirmed_at=now,
            password_hash=d["password_hash"],
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        s.add(account)
        req.data = {}  # the account holds it now
        await s.flush()
        audit(s, Actor.parent(account.id), "account.registered", at=now)
        log.info("account %s registered", account.id)
        return ConfirmResult(CodeStatus.OK, account.id, check.tries_left)


async def resend_code(
    portal: Portal,
    request_id: str,
    purpose: Purpose | str,
    *,
    chat_id: int | None = None,
    config: AccountSettings | None = None,
) -> StartResult:
    """ "Please send me a new code": a new code for the same step (the old one stops working)."""
    cfg = _cfg(config)
    purpose = Purpose(purpose)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        req = await _find_request(s, portal, purpose, request_id)
        if not _open(req, now) or (req is not None and req.verified_at is not None):
            return StartResult(StartStatus.NO_REQUEST, request_id)
        assert req is not None
        if not await _send_code(
            s,
            portal,
            cfg,
            purpose,
            request_id,
            now,
            _scope(req, chat_id),
            None if req.decoy else req.email,
        ):
            return StartResult(StartStatus.RATE_LIMITED, request_id)
        if req.decoy and purpose is Purpose.REGISTER:
            subject, body = emails.someone_tried_to_register(_council(portal))
            enqueue_email(s, now=now, to_addr=req.email, subject=subject, body=body)
        elif req.decoy and purpose is Purpose.CHANGE_EMAIL:
            subject, body = emails.address_already_used(_council(portal))
            enqueue_email(s, now=now, to_addr=req.email, subject=subject, body=body)
    return StartResult(StartStatus.CODE_SENT, request_id, minutes=cfg.code_minutes)


# ---------------------------------------------------------------------------------------------
# Logging in


async def start_login(
    portal: Portal,
    email: str,
    password: str,
    *,
    chat_id: int | None = None,
    request_id: str | None = None,
    config: AccountSettings | None = None,
) -> LoginResult:
    """Step 1 of logging in: email and password. If they match, a login code is emailed. An
    unknown email and a wrong password give the same answer after the same argon2 work."""
    cfg = _cfg(config)
    hasher = cfg.hasher()
    now = portal.clock.now()
    try:
        email_n = normalise_email(email)
    except ValueError:
        email_n = None
    scopes = codes.scope_list(
        None, codes.email_key(portal.secret_key, email_n) if email_n else None, [chat_id]
    )
    async with portal.db() as s:
        if await codes.over_limit(s, scopes, codes.LOGIN_FAIL, cfg.login_failures_per_hour, now):
            return LoginResult(LoginStatus.RATE_LIMITED)
        row = None
        if email_n is not None:
            row = (
                await s.execute(
                    select(Account.id, Account.password_hash).where(Account.email == email_n)
                )
            ).first()
    password = password or ""
    if row is None or len(password) > MAX_PASSWORD_INPUT:
        ok = await asyncio.to_thread(hasher.verify_dummy, password[:MAX_PASSWORD_INPUT])
    else:
        ok = await asyncio.to_thread(hasher.verify, row.password_hash, password)
    if not ok:
        async with portal.db() as s, s.begin():
            codes.record(s, scopes, codes.LOGIN_FAIL, now)
            if row is not None:
                audit(s, Actor.parent(row.id), "account.login_failed", at=now)
        return LoginResult(LoginStatus.WRONG_CREDENTIALS)
    assert row is not None
    new_hash = (
        await asyncio.to_thread(hasher.hash, password)
        if hasher.needs_rehash(row.password_hash)
        else None
    )
    rid = _request_id(request_id)
    async with portal.db() as s, s.begin():
        account = await s.get(Account, row.id)
        if account is None:
            return LoginResult(LoginStatus.WRONG_CREDENTIALS)
        if new_hash is not None and account.password_hash == row.password_hash:
            account.password_hash = new_hash  # stronger argon2 settings since it was made
        if not await _start_request(
            s,
            portal,
            cfg,
            Purpose.LOGIN,
            rid,
            now,
            CodeScope(account_id=account.id, chat_id=chat_id),
            account.email,
            account_id=account.id,
            email=account.email,
            decoy=False,
            data={},
        ):
            return LoginResult(LoginStatus.RATE_LIMITED)
    return LoginResult(LoginStatus.CODE_SENT, rid, minutes=cfg.code_minutes)


async def finish_login(
    portal: Portal,
    request_id: str,
    code: str,
    *,
    chat_id: int | None = None,
    config: AccountSettings | None = None,
) -> ConfirmResult:
    """Step 2 of logging in: the emailed code. On OK, `account_id` is the account logged in to."""
    cfg = _cfg(config)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        refused, req, check = await _checked_request(
            s, portal, cfg, Purpose.LOGIN, request_id, code, chat_id, now
        )
        if refused is not None or req is None or req.account_id is None:
            return refused or ConfirmResult(CodeStatus.NO_CODE)
        req.completed_at = now
        audit(s, Actor.parent(req.account_id), "account.login", at=now)
        return ConfirmResult(CodeStatus.OK, req.account_id, check.tries_left)


# ---------------------------------------------------------------------------------------------
# Forgotten password


async def request_password_reset(
    portal: Portal,
    email: str,
    *,
    chat_id: int | None = None,
    request_id: str | None = None,
    config: AccountSettings | None = None,
) -> StartResult:
    """ "Forgotten password": a code by email if the address has an account; the same answer
    either way."""
    cfg = _cfg(config)
    try:
        email_n = normalise_email(email)
    except ValueError as exc:
        return StartResult(StartStatus.INVALID, None, {"email": [str(exc)]})
    rid = _request_id(request_id)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        account = (
            await s.execute(select(Account).where(Account.email == email_n))
        ).scalar_one_or_none()
        if not await _start_request(
            s,
            portal,
            cfg,
            Purpose.RESET,
            rid,
            now,
            CodeScope(email=email_n, chat_id=chat_id),
            account.email if account else None,
            account_id=account.id if account else None,
            email=email_n,
            decoy=account is None,
            data={},
        ):
            return StartResult(StartStatus.RATE_LIMITED, rid)
        if account is not None:
            audit(s, Actor.parent(account.id), "account.password_reset_requested", at=now)
    return StartResult(StartStatus.CODE_SENT, rid, minutes=cfg.code_minutes)


async def verify_password_reset(
    portal: Portal,
    request_id: str,
    code: str,
    *,
    chat_id: int | None = None,
    config: AccountSettings | None = None,
) -> ConfirmResult:
    """The reset code. On OK the new password may be set with `complete_password_reset` (within
    30 minutes). Nobody is signed in by this (`account_id` stays None)."""
    cfg = _cfg(config)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        refused, req, check = await _checked_request(
            s, portal, cfg, Purpose.RESET, request_id, code, chat_id, now
        )
        if refused is not None or req is None:
            return refused or ConfirmResult(CodeStatus.NO_CODE)
        if req.account_id is None:
            return ConfirmResult(CodeStatus.WRONG, tries_left=check.tries_left)
        req.verified_at = now
        return ConfirmResult(CodeStatus.OK, None, check.tries_left)


async def complete_password_reset(
    portal: Portal,
    request_id: str,
    new_password: str,
    *,
    confirm_password: str | None = None,
    config: AccountSettings | None = None,
) -> PasswordResult:
    """Set the new password after `verify_password_reset`, under the policy and the history."""
    cfg = _cfg(config)
    now = portal.clock.now()
    expired = PasswordResult(
        PasswordStatus.EXPIRED,
        ['This step has timed out. Please choose "Forgotten password" again to get a new code.'],
    )
    async with portal.db() as s:
        req = await _find_request(s, portal, Purpose.RESET, request_id)
        if (
            not _open(req, now)
            or req is None
            or req.verified_at is None
            or now >= req.verified_at + RESET_WINDOW
            or req.account_id is None
        ):
            return expired
        account = await s.get(Account, req.account_id)
        if account is None:
            return expired
        history = await _history_hashes(s, account, cfg.password_history)
    result = await _new_password_problems(cfg, account, new_password, confirm_password, history)
    if result is not None:
        return result
    new_hash = await asyncio.to_thread(cfg.hasher().hash, new_password)
    async with portal.db() as s, s.begin():
        req2 = await _find_request(s, portal, Purpose.RESET, request_id)
        fresh = await s.get(Account, account.id)
        if (
            req2 is None
            or req2.completed_at is not None
            or fresh is None
            or fresh.password_hash != account.password_hash
        ):
            return expired
        await _set_password(s, fresh, new_hash, now, cfg.password_history)
        req2.completed_at = now
        audit(s, Actor.parent(fresh.id), "account.password_reset", at=now)
        subject, body = emails.password_changed(now, _contact(portal), _council(portal))
        enqueue_email(s, now=now, to_addr=fresh.email, subject=subject, body=body)
    return PasswordResult(PasswordStatus.CHANGED)


async def _new_password_problems(
    cfg: AccountSettings,
    account: Account,
    new_password: str,
    confirm_password: str | None,
    history: list[str],
) -> PasswordResult | None:
    if confirm_password is not None and confirm_password != new_password:
        return PasswordResult(PasswordStatus.INVALID, [PASSWORDS_DIFFER])
    problems = await asyncio.to_thread(
        cfg.policy().check,
        new_password,
        email=account.email,
        names=(account.forename, account.surname),
        history_hashes=history,
    )
    if problems:
        return PasswordResult(PasswordStatus.INVALID, problems)
    return None


# ---------------------------------------------------------------------------------------------
# Signed in: change password, change email


async def _check_current_password(
    portal: Portal,
    cfg: AccountSettings,
    account_id: int,
    password: str,
    chat_id: int | None,
    now: datetime,
) -> tuple[Account | None, str | None]:
    """(account, None) if the password is right; else (account or None, a status value)."""
    scopes = codes.scope_list(account_id, None, [chat_id])
    async with portal.db() as s:
        if await codes.over_limit(s, scopes, codes.LOGIN_FAIL, cfg.login_failures_per_hour, now):
            return None, "rate_limited"
        account = await s.get(Account, account_id)
    if account is None:
        return None, "no_account"
    password = password or ""
    ok = len(password) <= MAX_PASSWORD_INPUT and await asyncio.to_thread(
        cfg.hasher().verify, account.password_hash, password
    )
    if not ok:
        async with portal.db() as s, s.begin():
            codes.record(s, scopes, codes.LOGIN_FAIL, now)
        return account, "wrong_password"
    return account, None


async def change_password(
    portal: Portal,
    account_id: int,
    current_password: str,
    new_password: str,
    *,
    confirm_password: str | None = None,
    chat_id: int | None = None,
    config: AccountSettings | None = None,
) -> PasswordResult:
    """Change the password: the current one is needed; the new one meets the policy and is not
    the current or one of the previous 8. The holder is emailed."""
    cfg = _cfg(config)
    now = portal.clock.now()
    account, failure = await _check_current_password(
        portal, cfg, account_id, current_password, chat_id, now
    )
    if failure is not None or account is None:
        return PasswordResult(PasswordStatus(failure or "no_account"))
    async with portal.db() as s:
        history = await _history_hashes(s, account, cfg.password_history)
    result = await _new_password_problems(cfg, account, new_password, confirm_password, history)
    if result is not None:
        return result
    new_hash = await asyncio.to_thread(cfg.hasher().hash, new_password)
    async with portal.db() as s, s.begin():
        fresh = await s.get(Account, account_id)
        if fresh is None:
            return PasswordResult(PasswordStatus.NO_ACCOUNT)
        if (
            fresh.password_hash != account.password_hash
        ):  # changed meanwhile: the current one is not current
            return PasswordResult(PasswordStatus.WRONG_PASSWORD)
        await _set_password(s, fresh, new_hash, now, cfg.password_history)
        audit(s, Actor.parent(account_id), "account.password_changed", at=now)
        subject, body = emails.password_changed(now, _contact(portal), _council(portal))
        enqueue_email(s, now=now, to_addr=fresh.email, subject=subject, body=body)
    return PasswordResult(PasswordStatus.CHANGED)


async def start_email_change(
    portal: Portal,
    account_id: int,
    password: str,
    new_email: str,
    *,
    chat_id: int | None = None,
    request_id: str | None = None,
    config: AccountSettings | None = None,
) -> StartResult:
    """Change the email, step 1: the current password, then a code to the NEW address. If the
    new address has an account, the answer is the same and that address gets a note instead."""
    cfg = _cfg(config)
    now = portal.clock.now()
    try:
        email_n = normalise_email(new_email)
    except ValueError as exc:
        return StartResult(StartStatus.INVALID, None, {"email": [str(exc)]})
    account, failure = await _check_current_password(
        portal, cfg, account_id, password, chat_id, now
    )
    if failure is not None or account is None:
        return StartResult(StartStatus(failure or "no_account"))
    if email_n == account.email:
        return StartResult(
            StartStatus.INVALID, None, {"email": ["This is already your email address."]}
        )
    rid = _request_id(request_id)
    async with portal.db() as s, s.begin():
        taken = (
            await s.execute(
                select(Account.id).where(Account.email == email_n, Account.id != account_id)
            )
        ).scalar_one_or_none()
        decoy = taken is not None
        if not await _start_request(
            s,
            portal,
            cfg,
            Purpose.CHANGE_EMAIL,
            rid,
            now,
            CodeScope(account_id=account_id, email=email_n, chat_id=chat_id),
            None if decoy else email_n,
            account_id=account_id,
            email=email_n,
            decoy=decoy,
            data={},
        ):
            return StartResult(StartStatus.RATE_LIMITED, rid)
        if decoy:
            subject, body = emails.address_already_used(_council(portal))
            enqueue_email(s, now=now, to_addr=email_n, subject=subject, body=body)
        audit(s, Actor.parent(account_id), "account.email_change_requested", at=now)
    return StartResult(StartStatus.CODE_SENT, rid, minutes=cfg.code_minutes)


async def confirm_email_change(
    portal: Portal,
    account_id: int,
    request_id: str,
    code: str,
    *,
    chat_id: int | None = None,
    config: AccountSettings | None = None,
) -> ConfirmResult:
    """Change the email, step 2: the code sent to the new address. The old address is told."""
    cfg = _cfg(config)
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        found = await _find_request(s, portal, Purpose.CHANGE_EMAIL, request_id)
        if found is None or found.account_id != account_id:
            return ConfirmResult(CodeStatus.NO_CODE)  # before the code: no try is counted
        refused, req, check = await _checked_request(
            s, portal, cfg, Purpose.CHANGE_EMAIL, request_id, code, chat_id, now, found
        )
        if refused is not None or req is None:
            return refused or ConfirmResult(CodeStatus.NO_CODE)
        account = await s.get(Account, account_id)
        if account is None:
            return ConfirmResult(CodeStatus.NO_CODE)
        req.completed_at = now
        taken = (
            await s.execute(
                select(Account.id).where(Account.email == req.email, Account.id != account_id)
            )
        ).scalar_one_or_none()
        if taken is not None:
            return ConfirmResult(CodeStatus.OK, account_id, email_in_use=True)
        old = account.email
        account.email = req.email
        account.email_confirmed_at = now
        account.updated_at = now
        audit(s, Actor.parent(account_id), "account.email_changed", at=now)
        subject, body = emails.email_changed(req.email, now, _contact(portal), _council(portal))
        enqueue_email(s, now=now, to_addr=old, subject=subject, body=body)
        return ConfirmResult(CodeStatus.OK, account_id, check.tries_left)


# ---------------------------------------------------------------------------------------------
# Reading, housekeeping


async def get_account(portal: Portal, account_id: int) -> AccountInfo | None:
    async with portal.db() as s:
        account = await s.get(Account, account_id)
        return AccountInfo.of(account) if account is not None else None


def password_rules(config: AccountSettings | None = None) -> list[str]:
    """The password rules in force, as the guide lists them."""
    return _cfg(config).policy().describe()


async def purge_expired(portal: Portal) -> int:
    """Drop finished and timed-out requests, old codes and old rate records (a scheduled job)."""
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        n = await codes.purge(s, now)
        n += (
            await s.execute(delete(AccountRequest).where(AccountRequest.expires_at < now))
        ).rowcount or 0
        n += (
            await s.execute(
                delete(AccountRequest).where(
                    AccountRequest.completed_at.is_not(None),
                    AccountRequest.completed_at < now - timedelta(hours=1),
                )
            )
        ).rowcount or 0
    return n


async def forget_chat(portal: Portal, chat_id: int) -> None:
    """Erase the chat id from these tables ("delete my data from this chat")."""
    async with portal.db() as s, s.begin():
        await codes.forget_chat(s, chat_id)
        rows = (
            (await s.execute(select(AccountRequest).where(AccountRequest.chat_id == chat_id)))
            .scalars()
            .all()
        )
        for row in rows:
            row.chat_id = None
