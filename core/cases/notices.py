"""What the family of a case is told when the SEND team changes it (faces word these: see
core.notices). Each carries the facts a notice needs; the recipients are every carer with active
access to the child, each with the notice's key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.cases.events import EventKind
from core.notices import FamilyNotice
from core.timescales import KeyDate


@dataclass(frozen=True, kw_only=True)
class CaseNotice(FamilyNotice):
    child_forename: str
    next_date: KeyDate | None = None  # the next date ahead, as the case now stands


@dataclass(frozen=True, kw_only=True)
class CaseEventRecorded(CaseNotice):
    """A dated event (a decision, a draft or final plan, a review...) or an exception."""

    event: EventKind
    on: date
    details: dict[str, Any] = field(default_factory=dict)
    key_dates: dict[str, KeyDate] = field(default_factory=dict)  # by rule key, as they now stand


@dataclass(frozen=True, kw_only=True)
class CaseEventWithdrawn(CaseNotice):
    """An event recorded by mistake was taken back."""

    event_name: str
    on: date


@dataclass(frozen=True, kw_only=True)
class RequestDateRecorded(CaseNotice):
    """The date of the request for an assessment was recorded or corrected."""

    request_date: date


@dataclass(frozen=True, kw_only=True)
class CaseworkerChanged(CaseNotice):
    """A new caseworker (`new`), or the caseworker's new contact details."""

    name: str
    contact: str
    new: bool


__all__ = ["CaseEventRecorded", "CaseEventWithdrawn", "CaseNotice", "CaseworkerChanged", "RequestDateRecorded"]
