"""What invitations are, as the SEND team and the parent see them: statuses, views, the outcome
of checking a unique code, the pending invitations of an account and the answer to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import and_, false
from sqlalchemy.sql.elements import ColumnElement

from core.onboarding.models import Child, Invitation


class InvitationStatus(StrEnum):
    SENT = "sent"
    VERIFIED = "verified"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


def invitation_status(inv: Invitation, now: datetime) -> InvitationStatus:
    if inv.response == "accepted":
        return InvitationStatus.ACCEPTED
    if inv.response == "declined":
        return InvitationStatus.DECLINED
    if inv.expires_at <= now:
        return InvitationStatus.EXPIRED
    if inv.verified_at is not None:
        return InvitationStatus.VERIFIED
    return InvitationStatus.SENT


def status_condition(status: InvitationStatus | str, now: datetime) -> ColumnElement[bool]:
    """The SQL condition for a derived status (the same rules as `invitation_status`)."""
    open_ = and_(Invitation.response.is_(None), Invitation.expires_at > now)
    match InvitationStatus(status):
        case InvitationStatus.ACCEPTED:
            return Invitation.response == "accepted"
        case InvitationStatus.DECLINED:
            return Invitation.response == "declined"
        case InvitationStatus.EXPIRED:
            return and_(Invitation.response.is_(None), Invitation.expires_at <= now)
        case InvitationStatus.VERIFIED:
            return and_(open_, Invitation.verified_at.is_not(None))
        case InvitationStatus.SENT:
            return and_(open_, Invitation.verified_at.is_(None))
    return false()  # pragma: no cover


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation as the SEND team sees it. Never its code or link."""

    id: int
    status: InvitationStatus
    locked: bool
    case_reference: str
    case_id: int
    child_id: int
    child_forename: str
    child_surname: str
    child_date_of_birth: date
    parent_email: str
    parent_forename: str
    parent_surname: str
    grant_id: int
    grant_status: str
    created_at: datetime
    expires_at: datetime
    sent_count: int
    last_sent_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    responded_at: datetime | None


class CheckOutcome(StrEnum):
    """What a deep link or a unique code led to. Only NEEDS_CODE, VERIFIED and ALREADY_VERIFIED go on."""

    NEEDS_CODE = "needs_code"  # link ok: ask for the unique code
    ALREADY_VERIFIED = "already_verified"  # link ok and verified (code given before, or by phone)
    VERIFIED = "verified"  # the code was right
    WRONG = "wrong"  # the code was wrong; `tries_left` more
    MALFORMED = "malformed"  # not a code at all (not counted as a try)
    LOCKED = "locked"  # too many wrong codes: the SEND team must resend
    EXPIRED = "expired"
    USED = "used"  # the invitation was answered already
    OTHER_CHAT = "other_chat"  # the link belongs to another chat (nothing else is said)
    UNKNOWN = "unknown"  # no such link (or a dead one, replaced by a resend)


@dataclass(frozen=True, slots=True)
class InvitationCheck:
    outcome: CheckOutcome
    invitation_id: int | None = None
    tries_left: int | None = None
    # Given only once the invitation is verified (the link alone reveals no name).
    child_forename: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (CheckOutcome.NEEDS_CODE, CheckOutcome.ALREADY_VERIFIED, CheckOutcome.VERIFIED)

    @property
    def verified(self) -> bool:
        return self.outcome in (CheckOutcome.ALREADY_VERIFIED, CheckOutcome.VERIFIED)


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An invitation awaiting this parent's approval, as the parent sees it."""

    invitation_id: int
    child_id: int
    child_forename: str
    child_surname: str
    verified: bool
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ChildChoice:
    invitation_id: int
    grant_id: int
    child_id: int
    child_forename: str


@dataclass(frozen=True, slots=True)
class RespondResult:
    accepted: list[ChildChoice]
    declined: list[ChildChoice]


def _same_child(child: Child, forename: str, surname: str, dob: date) -> bool:
    return (
        child.forename.strip().casefold() == forename.casefold()
        and child.surname.strip().casefold() == surname.casefold()
        and child.date_of_birth == dob
    )
