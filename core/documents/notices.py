"""What a family is told about the letters and plans the SEND team publishes (faces word these:
see core.notices)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.notices import FamilyNotice


@dataclass(frozen=True, kw_only=True)
class DocumentPublished(FamilyNotice):
    document_id: int
    child_forename: str
    description: str
    document_date: date


@dataclass(frozen=True, kw_only=True)
class DocumentWithdrawn(FamilyNotice):
    """To one carer: `received` says whether they had received a copy."""

    document_id: int
    child_forename: str
    description: str
    published_at: datetime
    received: bool


__all__ = ["DocumentPublished", "DocumentWithdrawn"]
