"""What a family is told about the forms the SEND team asks for (faces word these: see
core.notices). A form reminder is in core.reminders.notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.notices import FamilyNotice


@dataclass(frozen=True, kw_only=True)
class FormAssigned(FamilyNotice):
    assignment_id: int
    child_forename: str
    form_title: str
    due_date: date | None
    note: str | None


@dataclass(frozen=True, kw_only=True)
class FormWithdrawn(FamilyNotice):
    assignment_id: int
    child_forename: str
    form_title: str


__all__ = ["FormAssigned", "FormWithdrawn"]
