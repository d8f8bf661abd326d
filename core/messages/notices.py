"""What a carer is told when the SEND team writes to them (faces word it: see core.notices)."""

from __future__ import annotations

from dataclasses import dataclass

from core.notices import FamilyNotice


@dataclass(frozen=True, kw_only=True)
class MessageToCarer(FamilyNotice):
    message_id: int
    sender_name: str
    child_forename: str
    subject: str
    type_name: str
    with_files: bool


__all__ = ["MessageToCarer"]
