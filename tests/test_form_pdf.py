"""The PDF of a form's answers (core.forms.pdf): every answer is in it, whatever the script,
long answers wrap onto more pages, and a draft says it is not submitted."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from core.forms.form import FormDefinition
from core.forms.loading import load_forms
from core.forms.pdf import form_pdf

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ppf() -> FormDefinition:
    return load_forms()["parental_preference"]


LONG = " ".join(f"Reason{n} is that the school is close to home and knows her well." for n in range(60))

ANSWERS: dict[str, Any] = {
    "completed_by_name": "Siân Łukasz Zoë Ñúñez-Čapek",
    "relationship": "foster_carer",
    "phone": "07700900123",
    "email": "sian@example.org",
    "read_guidance": True,
    "school_1": "St Anne's CE Primary School",
    "school_1_reasons": LONG,
    "wants_school_2": True,
    "school_2": "Żabka Community School",
    "school_2_reasons": "Ełk is where her grandmother lives; Ørsted Street is on the bus route.",
    "wants_school_3": False,
    "setting_type": "resourced_provision",
    "attends_school": True,
    "days_a_week": 3,
    "start_date": "2027-02-03",
    "supporting_documents": [
        {"sha256": "a" * 64, "filename": "speech_therapy_report.pdf", "mime": "application/pdf", "size": 1234},
        {"sha256": "b" * 64, "filename": "letter-from-GP.docx", "mime": "application/msword", "size": 99},
    ],
    "document_kinds": ["medical_report", "therapy_report"],
    "declaration": True,
}


def text_of(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def make(form: FormDefinition, answers: dict[str, Any], submitted: datetime | None) -> bytes:
    return form_pdf(
        form,
        answers,
        council_name="Stanbury Borough Council",
        child_name="Zoë Kowalczyk",
        carer_name="Siân Kowalczyk",
        submitted_at=submitted,
        generated_at=NOW,
        reference="EHC-2026-0042",
    )


def test_every_answer_is_in_the_pdf(ppf: FormDefinition) -> None:
    pdf = make(ppf, ANSWERS, submitted=NOW)
    assert pdf.startswith(b"%PDF-")
    text, pages = text_of(pdf)
    words = flat(text)
    for expected in (
        "Stanbury Borough Council",
        "Parental Preference Form",
        "Zoë Kowalczyk",
        "Siân Kowalczyk",
        "EHC-2026-0042",
        "Submitted on 24 Nov 2026 at 14:00",
        "Siân Łukasz Zoë Ñúñez-Čapek",  # text
        "Foster carer",  # one_choice, by label
        "07700 900123",  # phone
        "sian@example.org",  # email
        "St Anne's CE Primary School",  # list_choice
        "Żabka Community School",  # allow_other
        "Ełk is where her grandmother lives; Ørsted Street is on the bus route.",
        "Resourced provision or SEN unit",
        "3 Feb 2027",  # date
        "speech_therapy_report.pdf, letter-from-GP.docx",  # files by name
        "Medical report, Therapy report",  # several_choices
        "Would you like to name a third preference? No",  # yes_no
        "How many school days a week does your child go at the moment? 3",  # number
        "Step 4 of 6: Parental Preference Form",
        "Step 5 of 6: Supporting Documentation",
    ):
        assert expected in words, expected
    # The long answer wraps (across a page break) and is there whole, sentence by sentence.
    at = [words.index(f"Reason{n} is that the school is close to home and knows her well.") for n in range(60)]
    assert at == sorted(at)
    assert pages >= 2
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    # Questions hidden by the answers are left out; guidance is not printed.
    assert "third preference?" in words and "Which school or college is your third preference?" not in words
    assert "section 38" not in words


def test_a_draft_says_it_is_not_submitted(ppf: FormDefinition) -> None:
    answers = {"completed_by_name": "Ann Smith", "wants_school_2": False}
    text, pages = text_of(make(ppf, answers, submitted=None))
    words = flat(text)
    assert "Not submitted yet: the answers so far" in words
    assert "Submitted on" not in words
    assert "What is your full name? Ann Smith" in words
    assert "What is your email address? Not answered" in words
    assert "Page 1 of" in words


def test_a_british_summer_time_submission_shows_london_time(ppf: FormDefinition) -> None:
    text, _ = text_of(make(ppf, {}, submitted=datetime(2027, 7, 1, 8, 30, tzinfo=UTC)))
    assert "Submitted on 1 Jul 2027 at 09:30" in flat(text)


def test_awkward_text_prints(ppf: FormDefinition) -> None:
    answers = {
        "completed_by_name": "Tab\there\x07 and a bell",
        "school_1_reasons": "x" * 700 + "\r\nSecond line",
        "anything_else": "Ελένη, Дмитрий, Þórunn",
    }
    text, _ = text_of(make(ppf, answers, submitted=None))
    words = flat(text)
    assert "Tab" in words and "and a bell" in words
    assert "Second line" in words
    assert "Ελένη, Дмитрий, Þórunn" in words
    assert "x" * 700 in text.replace("\n", "")


def test_every_shipped_form_makes_a_pdf() -> None:
    for form in load_forms().values():
        text, _ = text_of(make(form, {}, submitted=None))
        assert form.title in flat(text)
