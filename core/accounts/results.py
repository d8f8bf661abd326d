"""What each account step answers: a status the caller turns into a kind answer (most results
carry a `.message` in plain English), and the request id to keep for the next step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.accounts.codes import CodeAnswer, code_message
from core.accounts.models import Account


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
class ConfirmResult(CodeAnswer):
    """The answer to a typed code. `account_id` is set when the step signs the parent in (a new
    registration, a login, an email change). `email_in_use`: the code was right but the address
    got an account meanwhile (only its owner can see this: they had the code)."""

    account_id: int | None = None
    tries_left: int | None = None
    email_in_use: bool = False
    minutes: int = 10  # how long a code works (for the message)

    @property
    def message(self) -> str:
        if self.email_in_use:
            return "This email address already has an account. Please log in with it instead."
        return code_message(self.status, self.minutes)


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

