"""The PDF of a form's answers: for the parent ("Create PDF", their copy on Submit) and for the
caseworker (the submission's PDF). fpdf2 with the bundled DejaVu fonts, so any script prints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.forms.definition import FormDefinition


def form_pdf(
    form: FormDefinition,
    answers: dict[str, Any],
    *,
    council_name: str,
    child_name: str | None,
    carer_name: str | None,
    submitted_at: datetime | None,
    generated_at: datetime,
    reference: str | None = None,
) -> bytes:
    """Title, who and about whom, "Submitted on 24 Nov 2026 at 14:00" (or "Not submitted yet:
    the answers so far"), then each step by name with each shown question and its answer
    (format_answer; "Not answered" for a gap; files by name). Long answers wrap; pages numbered."""
    raise NotImplementedError
