"""Forms (issue 6, PRODUCT.md journey 7): the core's two sides, FormFilling called as the chat calls
it (by chat id) and FormCasework as the API does, for carers made through the real onboarding services, with the bundled form definitions
(the Parental Preference Form covers every question type) and the real PDF.

What is checked is what a parent or caseworker would notice: the answer kept (or refused with
words, nothing lost), where the parent is, what the team receives, the case a request opens."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select, update

import core.schema  # noqa: F401 - every table in the metadata
from core.audit import Actor
from core.cases.dashboard import DashboardService
from core.cases.models import CaseKeyDate
from core.cases.service import CaseService
from core.errors import NotFound
from core.files import MAX_UPLOAD_BYTES
from core.forms.answers import AnswerRefused
from core.forms.base import FormRefused
from core.forms.casework import FormCasework
from core.forms.filling import FormFilling
from core.forms.models import FormAssignment, FormResponse
from core.forms.progress import REVIEW
from core.messages.models import Attachment, Message
from core.messages.service import MessageService
from core.models import AuditEntry
from core.onboarding import ChatLinkService, OnboardingSettings
from core.onboarding.models import AccessGrant, Case, ChatLink, Child
from tests.stack import rows
from tests.test_cases_api import REF, active_carer
from tests.test_files import EXE, jpeg_bytes, pdf_bytes, png_bytes
from tests.test_messages_api import Family, name_account
from tests.test_onboarding_service import make_account

ALEX = 111  # Sam's first carer
DAN = 222  # Sam's second carer (his own account and chat)
PAT = 333  # another family's carer
NEW = 444  # a linked parent with no case yet
PPF = "parental_preference"
REQUEST = "ehc_needs_assessment_request"
TEAM = Actor.caseworker("case-system")


@pytest.fixture
def svc(portal) -> FormFilling:
    """The parent's side."""
    return FormFilling(portal)


@pytest.fixture
def team(portal) -> FormCasework:
    """The SEND team's side."""
    return FormCasework(portal)


async def make_case(portal, ref: str = REF, child: tuple[str, str, date] = ("Sam", "Jones", date(2016, 5, 4))) -> int:
    view = await CaseService(portal).create_case(
        TEAM, case_reference=ref, child_forename=child[0], child_surname=child[1],
        child_date_of_birth=child[2], request_date=date(2026, 9, 1), caseworker_name="Jo Smith",
    )
    return view.id


@pytest.fixture
async def alex(portal) -> Family:
    """The case EHC-0001 (Sam Jones) and its first carer, Alex Jones, in chat 111."""
    case_id = await make_case(portal)
    child_id, account_id = await active_carer(portal, "alex@example.org", ALEX)
    await name_account(portal, account_id, "Alex", "Jones")
    return Family(child_id, account_id, ALEX, case_id)


async def second_carer(portal, alex: Family) -> Family:
    child_id, account_id = await active_carer(portal, "dan@example.org", DAN, parent=("Dan", "Jones"))
    await name_account(portal, account_id, "Dan", "Jones")
    return Family(child_id, account_id, DAN, alex.case_id)


async def other_family(portal) -> Family:
    case_id = await make_case(portal, "EHC-0002", ("Ana", "Smith", date(2015, 3, 2)))
    child_id, account_id = await active_carer(
        portal, "pat@example.org", PAT, ref="EHC-0002", child=("Ana", "Smith", date(2015, 3, 2)),
        parent=("Pat", "Smith"),
    )
    return Family(child_id, account_id, PAT, case_id)


async def linked_parent_without_a_case(portal, chat_id: int = NEW) -> int:
    account_id = await make_account(portal, "robin@example.org")
    await name_account(portal, account_id, "Robin", "Green")
    cfg = OnboardingSettings(_env_file=None, bot_username="ehcp_test_bot")
    await ChatLinkService(portal, cfg).link_chat(account_id, chat_id)
    return account_id


async def assign(team: FormCasework, form_id: str = PPF, due: date | None = date(2026, 12, 8), **kw):
    return await team.assign(TEAM, kw.pop("ref", REF), form_id=form_id, due_date=due, **kw)


async def skip_guidance(svc: FormFilling, chat: int, view):
    while view.position != REVIEW and not hasattr(view.form.item(view.position), "type"):
        view = await svc.move(chat, view.id, "next")
    return view


async def fill_ppf(svc: FormFilling, chat: int, rid: int, *, with_file: bool = True):
    """Every required answer of the Parental Preference Form, with one supporting document."""
    v = await svc.get(chat, rid)
    answers = {
        "completed_by_name": "Alex Jones", "relationship": "mother", "phone": "07700 900123",
        "email": "alex@example.org", "read_guidance": "yes", "school_1": "Abbey Lane Primary School",
        "school_1_reasons": "Close to home and small classes.", "wants_school_2": "no",
        "setting_type": "mainstream", "attends_school": "yes", "days_a_week": "5", "start_date": "3/2/2027",
        "document_kinds": ["school_report"], "anything_else": "Thank you.", "declaration": "yes",
    }
    while v.position != REVIEW:
        v = await skip_guidance(svc, chat, v)
        if v.position == REVIEW:
            break
        q = v.form.item(v.position)
        if q.type == "file":
            if with_file:
                v = await svc.add_file(chat, rid, q.id, pdf_bytes("School report"), "application/pdf", "report.pdf")
            v = await svc.move(chat, rid, "next")
        else:
            v = await svc.answer(chat, rid, q.id, answers.get(q.id))
    return v


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


async def refused(coro, *words: str) -> str:
    with pytest.raises(AnswerRefused) as exc:
        await coro
    for w in words:
        assert w.lower() in exc.value.message.lower(), exc.value.message
    return exc.value.message


# --- answering every question type ------------------------------------------------------------------


async def test_every_question_type_takes_a_right_answer_and_refuses_a_wrong_one(svc, alex, portal, team):
    a = await assign(team)
    v = await svc.open_assignment(ALEX, a.id)
    assert v.position == "intro" and v.child_name == "Sam" and v.due_date == date(2026, 12, 8)
    rid = v.id

    async def check(qid: str, wrong: list, right, stored, *, then: str):
        nonlocal v
        assert v.position == qid
        for bad in wrong:
            before = await svc.get(ALEX, rid)
            await refused(svc.answer(ALEX, rid, qid, bad))
            after = await svc.get(ALEX, rid)
            assert (after.answers, after.position) == (before.answers, before.position), "nothing lost or moved"
        v = await svc.answer(ALEX, rid, qid, right)
        assert v.answers[qid] == stored and v.position == then, (qid, v.answers.get(qid), v.position)

    v = await svc.move(ALEX, rid, "next")  # past the first guidance page
    await check("completed_by_name", [None, "   ", "x" * 101], "  Alex Jones ", "Alex Jones", then="relationship")  # text
    await check("relationship", ["grandmother", ["mother", "father"]], "mother", "mother", then="phone")  # one choice
    for bad in ("call me", "12"):
        await refused(svc.answer(ALEX, rid, "phone", bad))
    v = await svc.answer(ALEX, rid, "phone", "07700 900123")  # phone: normalised
    assert "07700" in v.answers["phone"].replace(" ", "") or v.answers["phone"].endswith("7700900123")
    assert v.position == "email"
    await check("email", ["not-an-email", "a@b"], " Alex@Example.org ", "Alex@example.org", then="guidance_preference")
    v = await skip_guidance(svc, ALEX, v)
    await check("read_guidance", ["maybe", "2"], "yes", True, then="school_1")  # yes/no; guidance hidden
    await check("school_1", [None, ""], "abbey lane primary school", "Abbey Lane Primary School",
                then="school_1_reasons")  # list choice, found whatever the case
    await check("school_1_reasons", ["ok"], "Close to home.", "Close to home.", then="wants_school_2")  # long text
    await check("wants_school_2", ["perhaps"], "no", False, then="setting_type")  # schools 2 and 3 hidden
    await check("setting_type", ["7", "boarding"], "special", "special", then="attends_school")
    await check("attends_school", ["y-e-s"], "yes", True, then="days_a_week")
    await check("days_a_week", ["six", "9", "-1", "2.5"], "4", 4, then="start_date")  # number, whole, 0..5
    await check("start_date", ["31/02/2027", "1/1/2020", "soon"], "3/2/2027", "2027-02-03",
                then="guidance_documents")  # date, not in the past
    v = await svc.move(ALEX, rid, "next")
    assert v.position == "supporting_documents"
    await refused(svc.answer(ALEX, rid, "supporting_documents", "here it is"), "file")  # text where a file is wanted
    v = await svc.add_file(ALEX, rid, "supporting_documents", pdf_bytes("Report"), "application/pdf", "report.pdf")
    assert v.position == "supporting_documents" and [f["filename"] for f in v.answers["supporting_documents"]] == ["report.pdf"]
    v = await svc.move(ALEX, rid, "next")
    await check("document_kinds", [["nope"], "nope"], ["school_report", "letter"], ["school_report", "letter"],
                then="guidance_submit")  # several choices
    v = await svc.move(ALEX, rid, "next")
    v = await svc.answer(ALEX, rid, "anything_else", None)  # optional: skipped
    assert "anything_else" not in v.answers and v.position == "declaration"
    await check("declaration", ["no"], "yes", True, then=REVIEW)
    assert v.form.missing(v.answers) == []

    # Everything is in the core: a new service (a restarted bot) finds the parent where they were.
    again = await FormFilling(portal).get(ALEX, rid)
    assert again.answers == v.answers and again.position == REVIEW


async def test_a_required_question_cannot_be_skipped(svc, alex, team):
    a = await assign(team)
    v = await svc.open_assignment(ALEX, a.id)
    v = await svc.move(ALEX, v.id, "next")
    await refused(svc.answer(ALEX, v.id, "completed_by_name", None), "answer")
    await refused(svc.move(ALEX, v.id, "next"), "answer")
    assert (await svc.get(ALEX, v.id)).position == "completed_by_name"


# --- navigation ----------------------------------------------------------------------------------


async def test_shown_questions_follow_the_answers_and_hidden_answers_are_dropped(svc, alex, team):
    a = await assign(team)
    rid = (await svc.open_assignment(ALEX, a.id)).id
    v = await fill_ppf(svc, ALEX, rid)
    assert v.position == REVIEW and "school_2" not in v.answers

    # Change "a second school?" from the review to Yes: the new required questions come first,
    # then the review again.
    v = await svc.move(ALEX, rid, "wants_school_2")
    assert v.position == "wants_school_2" and v.from_review
    v = await svc.answer(ALEX, rid, "wants_school_2", "yes")
    assert v.position == "school_2" and v.from_review
    v = await svc.answer(ALEX, rid, "school_2", "Ashgrove Junior School")
    assert v.position == "school_2_reasons"
    v = await svc.answer(ALEX, rid, "school_2_reasons", "Her friends go there.")
    assert v.position == "wants_school_3"
    v = await svc.answer(ALEX, rid, "wants_school_3", "yes")
    v = await svc.answer(ALEX, rid, "school_3", "My own choice of school")  # allow_other
    v = await svc.answer(ALEX, rid, "school_3_reasons", "Near Gran.")
    assert v.position == REVIEW and not v.from_review
    assert v.answers["school_3"] == "My own choice of school"

    # Back to No: the answers about schools 2 and 3 are dropped, so neither the review, the PDF
    # nor the caseworker ever sees them.
    v = await svc.move(ALEX, rid, "wants_school_2")
    v = await svc.answer(ALEX, rid, "wants_school_2", "no")
    assert v.position == REVIEW
    assert not {"school_2", "school_2_reasons", "wants_school_3", "school_3", "school_3_reasons"} & set(v.answers)
    _, data = await svc.pdf(ALEX, rid)
    text = pdf_text(data)
    assert "Ashgrove Junior" not in text and "Near Gran" not in text and "Abbey Lane Primary School" in text

    # A guidance page shown only for an answer: "No, I have not read it" shows it.
    v = await svc.move(ALEX, rid, "read_guidance")
    v = await svc.answer(ALEX, rid, "read_guidance", "no")
    assert v.position == REVIEW
    v = await svc.move(ALEX, rid, "read_guidance")
    v = await svc.move(ALEX, rid, "back")
    assert v.position == "guidance_next"
    v = await svc.move(ALEX, rid, "next")
    v = await svc.move(ALEX, rid, "next")
    assert v.position == "guidance_questions"


async def test_back_review_and_change(svc, alex, team):
    a = await assign(team)
    v = await svc.open_assignment(ALEX, a.id)
    rid = v.id
    v = await svc.move(ALEX, rid, "back")
    assert v.position == "intro", "Back on the first page stays there"
    v = await svc.move(ALEX, rid, "next")
    v = await svc.answer(ALEX, rid, "completed_by_name", "Alex Jones")
    v = await svc.answer(ALEX, rid, "relationship", "other")
    assert v.position == "relationship_other"
    v = await svc.move(ALEX, rid, "back")
    assert v.position == "relationship" and v.answers["relationship"] == "other", "Back keeps the answer"
    v = await svc.move(ALEX, rid, "back")
    assert v.position == "completed_by_name"
    v = await svc.move(ALEX, rid, "next")  # answered already: Next goes on
    assert v.position == "relationship"
    v = await svc.answer(ALEX, rid, "relationship", "mother")
    v = await svc.answer(ALEX, rid, "phone", "07700 900123")
    v = await svc.answer(ALEX, rid, "email", "alex@example.org")
    assert v.position == "guidance_preference"

    v = await svc.move(ALEX, rid, REVIEW)
    assert v.position == REVIEW
    v = await svc.move(ALEX, rid, "back")
    assert v.position == "declaration", "Back from the review: the last question"
    v = await svc.move(ALEX, rid, "completed_by_name")  # Change, from the review
    assert v.from_review
    v = await svc.answer(ALEX, rid, "completed_by_name", "Alex M Jones")
    assert v.position == REVIEW and v.answers["completed_by_name"] == "Alex M Jones" and not v.from_review
    # A change that shows a question next asks it first, then returns to the review.
    v = await svc.move(ALEX, rid, "relationship")
    v = await svc.answer(ALEX, rid, "relationship", "father")
    assert v.position == REVIEW and v.answers["relationship"] == "father"
    v = await svc.move(ALEX, rid, "relationship")
    v = await svc.answer(ALEX, rid, "relationship", "other")
    assert v.position == "relationship_other" and v.from_review
    v = await svc.answer(ALEX, rid, "relationship_other", "Aunt")
    assert v.position == REVIEW and not v.from_review
    assert (v.answers["relationship"], v.answers["relationship_other"]) == ("other", "Aunt")

    with pytest.raises(NotFound):
        await svc.move(ALEX, rid, "no_such_question")
    with pytest.raises(NotFound):
        await svc.move(ALEX, rid, "school_2")  # hidden
    with pytest.raises(NotFound):
        await svc.answer(ALEX, rid, "school_3", "Abbey Lane Primary School")  # hidden
    with pytest.raises(NotFound):
        await svc.answer(ALEX, rid, "nope", "x")


# --- files ---------------------------------------------------------------------------------------


async def test_files_are_kept_checked_and_limited(svc, alex, portal, team):
    a = await assign(team)
    v = await svc.open_assignment(ALEX, a.id)
    rid, q = v.id, "supporting_documents"
    await svc.move(ALEX, rid, "supporting_documents")

    await refused(svc.add_file(ALEX, rid, q, EXE, "application/pdf", "report.pdf"))
    await refused(svc.add_file(ALEX, rid, q, b"%PDF" + b"x" * MAX_UPLOAD_BYTES, "application/pdf", "big.pdf"), "20 MB")
    await refused(svc.add_file(ALEX, rid, q, b"", "application/pdf", "empty.pdf"))
    assert q not in (await svc.get(ALEX, rid)).answers

    files = [
        (pdf_bytes("one"), "application/pdf", "one.pdf"),
        (png_bytes((1, 2, 3)), "image/png", "photo.png"),
        (jpeg_bytes(), "image/jpeg", "scan.jpg"),
        (b"notes from the GP", "text/plain", "gp.txt"),
        (pdf_bytes("two"), "application/pdf", "two.pdf"),
    ]
    for data, mime, name in files:
        v = await svc.add_file(ALEX, rid, q, data, mime, name, telegram_file_id=f"tg-{name}")
    v = await svc.add_file(ALEX, rid, q, pdf_bytes("one"), "application/pdf", "again.pdf")  # the same file: once
    assert [f["filename"] for f in v.answers[q]] == ["one.pdf", "photo.png", "scan.jpg", "gp.txt", "two.pdf"]
    assert v.position == q, "the position stays while files arrive"
    msg = await refused(svc.add_file(ALEX, rid, q, pdf_bytes("six"), "application/pdf", "six.pdf"), "up to 5 files")
    assert "Next" in msg
    entry, data = await svc.file_of_answer(ALEX, rid, q, 1)
    assert data == png_bytes((1, 2, 3)) and entry["mime"] == "image/png" and entry["telegram_file_id"] == "tg-photo.png"
    with pytest.raises(NotFound):
        await svc.file_of_answer(ALEX, rid, q, 5)

    await refused(svc.add_file(ALEX, rid, "completed_by_name", pdf_bytes(), "application/pdf", "x.pdf"), "typed")
    v = await svc.remove_files(ALEX, rid, q)
    assert q not in v.answers
    v = await svc.move(ALEX, rid, "next")  # optional: Next with no file goes on (here: from "Change")
    assert v.position == REVIEW


# --- whose form it is ------------------------------------------------------------------------------


async def test_only_the_carer_it_belongs_to_can_open_or_change_it(svc, alex, portal, team):
    dan = await second_carer(portal, alex)
    pat = await other_family(portal)
    mine = await assign(team, account_id=alex.account_id)  # for Alex only
    both = await assign(team, "annual_review_views", due=None)
    v = await svc.open_assignment(ALEX, mine.id)
    rid = v.id
    await svc.move(ALEX, rid, "next")
    await svc.answer(ALEX, rid, "completed_by_name", "Alex Jones")

    for chat in (DAN, PAT, 999):  # the other carer, another family, a chat with no account
        with pytest.raises(NotFound):
            await svc.open_assignment(chat, mine.id)
        for call in (
            svc.get(chat, rid), svc.answer(chat, rid, "relationship", "mother"), svc.move(chat, rid, "next"),
            svc.pdf(chat, rid), svc.submit(chat, rid), svc.remove_files(chat, rid, "supporting_documents"),
            svc.add_file(chat, rid, "supporting_documents", pdf_bytes(), "application/pdf", "x.pdf"),
            svc.file_of_answer(chat, rid, "supporting_documents", 0),
        ):
            with pytest.raises(NotFound):
                await call
    with pytest.raises(NotFound):
        await svc.open_assignment(PAT, both.id)  # another family's form, by a crafted button
    for forged in (0, -1, 2**70, rid + 1000):
        with pytest.raises(NotFound):
            await svc.get(ALEX, forged)
        with pytest.raises(NotFound):
            await svc.open_assignment(ALEX, forged)
    with pytest.raises(NotFound):
        await svc.actions(PAT, alex.child_id)

    # Each carer of Sam fills in their own copy of a form for both.
    d = await svc.open_assignment(DAN, both.id)
    x = await svc.open_assignment(ALEX, both.id)
    assert d.id != x.id and d.account_id == dan.account_id
    assert (await svc.open_assignment(DAN, both.id)).id == d.id, "opened again: the same copy"
    assert [act.assignment_id for act in await svc.actions(DAN, alex.child_id)] == [both.id]
    assert pat.child_id != alex.child_id

    # Access revoked: Alex's copy is gone for the chat.
    async with portal.db() as s, s.begin():
        await s.execute(
            update(AccessGrant).where(AccessGrant.account_id == alex.account_id).values(status="revoked")
        )
    with pytest.raises(NotFound):
        await svc.get(ALEX, rid)
    with pytest.raises(NotFound):
        await svc.open_assignment(ALEX, both.id)
    with pytest.raises(NotFound):
        await svc.actions(ALEX, alex.child_id)


async def test_a_withdrawn_form_cannot_be_opened(svc, alex, portal, team):
    a = await assign(team)
    rid = (await svc.open_assignment(ALEX, a.id)).id
    await team.withdraw_assignment(TEAM, a.id)
    for call in (svc.get(ALEX, rid), svc.open_assignment(ALEX, a.id), svc.move(ALEX, rid, "next")):
        with pytest.raises(NotFound):
            await call
    assert await svc.actions(ALEX, alex.child_id) == []


# --- Actions to Complete -----------------------------------------------------------------------------


async def test_actions_to_complete_and_the_dashboard_count(svc, alex, portal, team):
    dan = await second_carer(portal, alex)
    ppf = await assign(team, due=date(2026, 12, 8), note="Please send it before the meeting.")
    views = await assign(team, "annual_review_views", due=date(2026, 12, 1))
    later = await assign(team, "annual_review_views", due=None)
    for_dan = await assign(team, due=date(2026, 11, 30), account_id=dan.account_id)

    acts = await svc.actions(ALEX, alex.child_id)
    assert [x.assignment_id for x in acts] == [views.id, ppf.id, later.id], "soonest due first, no date last"
    assert acts[1].note == "Please send it before the meeting." and acts[1].response_id is None
    assert [x.assignment_id for x in await svc.actions(DAN, alex.child_id)] == [for_dan.id, views.id, ppf.id, later.id]

    v = await svc.open_assignment(ALEX, ppf.id)
    await svc.move(ALEX, v.id, "next")
    await svc.answer(ALEX, v.id, "completed_by_name", "Alex Jones")
    await svc.answer(ALEX, v.id, "relationship", "mother")
    acts = await svc.actions(ALEX, alex.child_id)
    assert (acts[1].response_id, acts[1].answered) == (v.id, 2)

    async def counted(account_id: int) -> tuple[int, int]:
        seen: list[str] = []

        def on_execute(*args) -> None:  # noqa: ANN002
            seen.append(args[2])

        engine = portal.engine.sync_engine
        async with portal.db() as s:
            event.listen(engine, "before_cursor_execute", on_execute)
            try:
                n = await FormFilling.open_for(s, account_id, alex.case_id)
            finally:
                event.remove(engine, "before_cursor_execute", on_execute)
        return n, len([q for q in seen if q.strip().lower().startswith("select")])

    assert await counted(alex.account_id) == (3, 1), "one query"
    assert (await counted(dan.account_id))[0] == 4

    await fill_ppf(svc, ALEX, v.id)
    await svc.submit(ALEX, v.id)
    assert [x.assignment_id for x in await svc.actions(ALEX, alex.child_id)] == [views.id, later.id]
    assert (await counted(alex.account_id))[0] == 2
    assert (await counted(dan.account_id))[0] == 4, "Dan's own copy is still to do"
    with pytest.raises(NotFound):
        await svc.open_assignment(ALEX, ppf.id)  # sent already
    await team.withdraw_assignment(TEAM, later.id)
    assert (await counted(alex.account_id))[0] == 1


# --- submitting ------------------------------------------------------------------------------------


async def test_submitting_with_answers_missing_is_refused_naming_them(svc, alex, portal, team):
    a = await assign(team)
    rid = (await svc.open_assignment(ALEX, a.id)).id
    await svc.move(ALEX, rid, "next")
    await svc.answer(ALEX, rid, "completed_by_name", "Alex Jones")
    with pytest.raises(FormRefused) as exc:
        await svc.submit(ALEX, rid)
    assert exc.value.code == "incomplete"
    assert "relationship" in exc.value.message.lower() or "you" in exc.value.message.lower()
    form = svc.forms[PPF]
    for qid in ("relationship", "school_1", "declaration"):
        assert form.item(qid).text in exc.value.message
    assert form.item("school_2").text not in exc.value.message, "hidden questions are not asked for"
    assert (await svc.get(ALEX, rid)).status == "draft"
    assert await rows(portal, Message) == []


async def test_submit_stores_the_pdf_and_tells_the_team(svc, alex, portal, clock, team):
    a = await assign(team)
    rid = (await svc.open_assignment(ALEX, a.id)).id
    await fill_ppf(svc, ALEX, rid)
    _, draft_pdf = await svc.pdf(ALEX, rid)
    assert "Abbey Lane Primary School" in pdf_text(draft_pdf)

    clock.advance(minutes=5)
    v = await svc.submit(ALEX, rid)
    assert v.status == "submitted" and v.submitted_at == clock.now() and v.position == REVIEW

    (r,) = await rows(portal, FormResponse)
    assert r.pdf_sha256 and r.message_id
    (msg,) = await rows(portal, Message)
    assert (msg.id, msg.direction, msg.source, msg.type) == (r.message_id, "to_team", "form", "school_placement")
    assert (msg.case_id, msg.child_id, msg.account_id) == (alex.case_id, alex.child_id, alex.account_id)
    assert msg.subject == "Parental Preference Form submitted" and msg.sender_name == "Alex Jones"
    assert msg.recipient_name == "Jo Smith" and msg.staff_posted_at is None, "the staff relay picks it up"
    form = svc.forms[PPF]
    assert f"{form.item('school_1').text}: Abbey Lane Primary School" in msg.body
    assert f"{form.item('start_date').text}: 3 Feb 2027" in msg.body
    files = await rows(portal, Attachment, Attachment.message_id == msg.id)
    assert [(f.mime, f.filename) for f in files] == [
        ("application/pdf", "Parental Preference Form - Sam.pdf"), ("application/pdf", "report.pdf")
    ]
    assert files[0].sha256 == r.pdf_sha256
    stored = await svc.files.get(r.pdf_sha256)
    text = pdf_text(stored)
    for words in ("Parental Preference Form", "Sam Jones", "Alex Jones", "Abbey Lane Primary School",
                  "Close to home and small classes.", "3 Feb 2027", "report.pdf"):
        assert words in text, words
    name, again = await svc.pdf(ALEX, rid)
    assert again == stored and name.endswith(".pdf"), "the parent's copy is the one sent"

    # The case system's message poll carries it too.
    polled = await MessageService(portal).since(TEAM)
    assert [(m.id, m.source, len(m.attachments)) for m in polled] == [(msg.id, "form", 2)]

    # Submitting again changes nothing; answering after is refused plainly.
    clock.advance(minutes=5)
    v2 = await svc.submit(ALEX, rid)
    assert v2.submitted_at == v.submitted_at and len(await rows(portal, Message)) == 1
    with pytest.raises(FormRefused) as exc:
        await svc.answer(ALEX, rid, "completed_by_name", "Someone else")
    assert exc.value.code == "submitted"
    assert [e.action for e in await rows(portal, AuditEntry, AuditEntry.action.like("form.%"))].count("form.submit") == 1


async def test_annual_review_views_go_as_an_annual_review_message(svc, alex, portal, team):
    a = await assign(team, "annual_review_views", due=None)
    rid = (await svc.open_assignment(ALEX, a.id)).id

    def answer(item):  # noqa: ANN001, ANN202
        if item.type == "yes_no":
            return "yes"
        return first_option(item) or "Things are going well at school."

    v = await walk_to_review(svc, ALEX, rid, answer)
    await svc.submit(ALEX, rid)
    (msg,) = await rows(portal, Message)
    assert msg.type == "annual_review" and msg.subject == f"{v.form.title} submitted"


async def walk_to_review(svc: FormFilling, chat: int, rid: int, answer: Callable[[Any], Any]):  # noqa: ANN201
    """Through the form to its review: past guidance and file questions, every other question
    answered with `answer(question)`."""
    v = await svc.get(chat, rid)
    guard = 0
    while v.position != REVIEW and guard < 40:
        guard += 1
        item = v.form.item(v.position)
        kind = getattr(item, "type", None)
        if kind is None or kind == "file":
            v = await svc.move(chat, rid, "next")
        else:
            v = await svc.answer(chat, rid, item.id, answer(item))
    return v


def first_option(item: Any) -> Any:
    """The first option of a choice (a list of it for several choices); None for other questions."""
    if item.type == "one_choice":
        return item.options[0].value
    if item.type == "several_choices":
        return [item.options[0].value]
    return None


# --- the request for an EHC needs assessment ----------------------------------------------------------


async def fill_request(svc: FormFilling, chat: int, rid: int):
    answers = {
        "child_forename": "Mia", "child_surname": "Green", "child_date_of_birth": "12/03/2019",
        "child_agrees": "yes", "needs": "Mia finds reading and noise very hard.",
        "support_so_far": "Speech therapy since 2024.", "relationship": "mother", "declaration": "yes",
    }

    def answer(item):  # noqa: ANN001, ANN202
        if item.id in answers:
            return answers[item.id]
        return first_option(item) or ("Some words" if item.required else None)

    return await walk_to_review(svc, chat, rid, answer)


async def test_the_request_for_assessment_opens_the_case(svc, portal, clock, team):
    account_id = await linked_parent_without_a_case(portal)
    assert [f.id for f in svc.parent_forms()] == [REQUEST]
    with pytest.raises(NotFound):
        await svc.start_own(NEW, PPF)  # a form the SEND team asks for
    with pytest.raises(NotFound):
        await svc.start_own(999, REQUEST)  # no account

    v = await svc.start_own(NEW, REQUEST)
    assert v.child_id is None and v.case_id is None and v.status == "draft"
    assert (await svc.start_own(NEW, REQUEST)).id == v.id, "the draft is resumed"
    await fill_request(svc, NEW, v.id)
    assert [d.id for d in await svc.drafts(NEW)] == [v.id]
    assert (await svc.get(NEW, v.id)).child_name == "Mia"

    # 23:30 on 30 Jun in UTC is already 1 Jul in London (BST): the request date is 1 Jul.
    clock.set(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    sent = await svc.submit(NEW, v.id)
    assert sent.status == "submitted" and sent.child_id and sent.case_id

    async with portal.db() as s:
        case = await s.get(Case, sent.case_id)
        child = await s.get(Child, sent.child_id)
        grant = await s.scalar(select(AccessGrant).where(AccessGrant.child_id == child.id))
        link = await s.scalar(select(ChatLink).where(ChatLink.active_chat_id == NEW))
        kd = {k.key: k for k in (await s.scalars(select(CaseKeyDate).where(CaseKeyDate.case_id == case.id))).all()}
        created = await s.scalar(select(AuditEntry).where(AuditEntry.action == "case.create"))
    assert case.case_reference == f"REQ-{v.id:06d}" and case.request_date == date(2026, 7, 1)
    assert case.requestor == "Robin Green" and case.child_id == child.id
    assert (child.forename, child.surname, child.date_of_birth) == ("Mia", "Green", date(2019, 3, 12))
    assert (grant.account_id, grant.status, grant.invitation_id, grant.activated_by) == (
        account_id, "active", None, "self:request")
    assert link.selected_child_id == child.id
    assert kd["decision_to_assess"].due == date(2026, 7, 1) + timedelta(weeks=6) - timedelta(days=1)
    assert kd["final_plan"].due == date(2026, 7, 1) + timedelta(weeks=20) - timedelta(days=1)
    assert (created.actor_kind, created.actor_id, created.child_id) == ("parent", str(account_id), child.id)

    (msg,) = await rows(portal, Message)
    assert (msg.type, msg.case_id, msg.source) == ("ehc_needs_assessment", case.id, "form")
    assert "Mia Green" in msg.body

    # The SEND Dashboard shows the new case with its 20-week dates at once.
    ov = await DashboardService(portal).overview(NEW)
    assert ov.dashboard is not None and ov.dashboard.child_forename == "Mia"
    dues = {k.key: k.due for k in ov.dashboard.key_dates}
    assert dues["decision_to_assess"] == date(2026, 8, 11)

    assert await svc.drafts(NEW) == []
    again = await svc.submit(NEW, v.id)
    assert again.case_id == case.id
    async with portal.db() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == 1
    assert (await svc.start_own(NEW, REQUEST)).id != v.id, "a new request is a new form"


async def test_a_request_draft_is_the_parents_own(svc, portal, alex):
    await linked_parent_without_a_case(portal)
    v = await svc.start_own(NEW, REQUEST)
    for chat in (ALEX, 999):
        with pytest.raises(NotFound):
            await svc.get(chat, v.id)
        with pytest.raises(NotFound):
            await svc.submit(chat, v.id)
    assert await svc.drafts(ALEX) == []


async def test_assignments_need_a_carer_and_a_real_form(svc, alex, portal, team):
    with pytest.raises(FormRefused) as exc:
        await assign(team, "no_such_form")
    assert exc.value.code == "unknown_form"
    with pytest.raises(FormRefused) as exc:
        await assign(team, REQUEST)
    assert exc.value.code == "not_assignable"
    with pytest.raises(FormRefused) as exc:
        await assign(team, due=date(2026, 11, 23))
    assert exc.value.code == "due_in_past"
    await assign(team, due=date(2026, 11, 24))  # today is fine
    with pytest.raises(NotFound):
        await assign(team, ref="EHC-9999")
    await make_case(portal, "EHC-0003", ("Lee", "Brown", date(2014, 1, 1)))
    with pytest.raises(FormRefused) as exc:
        await assign(team, ref="EHC-0003")
    assert exc.value.code == "no_carer"
    with pytest.raises(FormRefused) as exc:
        await assign(team, ref="EHC-0003", account_id=alex.account_id)
    assert exc.value.code == "no_access"
    assert len(await rows(portal, FormAssignment)) == 1
