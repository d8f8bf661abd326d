"""The reminders a carer gets (faces word these: see core.notices). They wait for the morning
in quiet hours (kind REMINDER)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.notices import FamilyNotice
from core.outbox import REMINDER


@dataclass(frozen=True, kw_only=True)
class DateReminder(FamilyNotice):
    """A key date coming (7 days, 1 day before, on the day) or missed by the council."""

    kind: str = REMINDER
    reminder: str  # before_7 | before_1 | on_day | missed
    date_key: str  # the rule's key (core.timescales)
    child_forename: str
    due: date
    party: str  # council | parent: who must act by the date
    contact: str
    caseworker_name: str | None
    today: date  # the day it is sent (a late one says the real time left)


@dataclass(frozen=True, kw_only=True)
class FormReminder(FamilyNotice):
    """A form the SEND team asked for, not yet submitted, coming due."""

    kind: str = REMINDER
    assignment_id: int
    form_title: str
    child_forename: str
    due: date
    today: date


__all__ = ["DateReminder", "FormReminder"]
