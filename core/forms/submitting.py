"""What a submission writes besides the response itself, in its transaction: the request for an
EHC needs assessment opens the case (a child and a case with the request date of the day it was
submitted, London, the carer's active access, the key dates and their reminders), and the
submission goes to the SEND team as a message on the case carrying the PDF and the supporting
files (so the case system's message poll and the staff group's topic both get it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.cases.events import fold
from core.cases.service import write_key_date_index
from core.clock import LONDON
from core.db import in_commit_order
from core.events import CaseDatesChanged
from core.files import FileStore
from core.forms.answers import format_answer
from core.forms.base import FormRefused, pdf_name
from core.forms.form import FormDefinition
from core.forms.models import FormResponse
from core.forms.progress import visible_questions
from core.forms.questions import QuestionType
from core.messages.models import Attachment, Message
from core.messages.service import MAX_BODY, MAX_SUBJECT, MessageService, MessageType
from core.onboarding.models import AccessGrant, Case, ChatLink, Child
from core.portal import Portal
from core.timescales import format_date

# The message type a submission goes to the SEND team under (the request for assessment: see
# `message_type`).
MESSAGE_TYPES = {
    "parental_preference": MessageType.SCHOOL_PLACEMENT,
    "annual_review_views": MessageType.ANNUAL_REVIEW,
}


def message_type(form: FormDefinition) -> MessageType:
    if form.creates_case:
        return MessageType.EHC_NEEDS_ASSESSMENT
    if form.id in MESSAGE_TYPES:
        return MESSAGE_TYPES[form.id]
    if form.id.startswith("annual_review"):
        return MessageType.ANNUAL_REVIEW
    return MessageType.GENERAL



async def open_case(
    s: AsyncSession, portal: Portal, r: FormResponse, answers: dict[str, Any],
    account_id: int, carer: str, chat_id: int, now: datetime,
) -> tuple[Case, Child]:
    """The request for assessment opens the case: the child, the case with today's request
    date, the carer's active access, the key dates and their reminders (as CaseService does)."""
    try:
        forename = str(answers["child_forename"]).strip()
        surname = str(answers["child_surname"]).strip()
        born = date.fromisoformat(str(answers["child_date_of_birth"]))
    except (KeyError, ValueError):
        raise FormRefused("The child's name and date of birth are needed before you can submit.",
                          "incomplete") from None
    today = now.astimezone(LONDON).date()
    child = Child(forename=forename[:100], surname=surname[:100], date_of_birth=born, created_at=now)
    s.add(child)
    await s.flush()
    reference, n = f"REQ-{r.id:06d}", 1
    while await s.scalar(select(Case.id).where(Case.case_reference == reference)) is not None:
        n += 1
        reference = f"REQ-{r.id:06d}-{n}"
    case = Case(
        child_id=child.id, case_reference=reference, created_at=now, request_date=today,
        requestor=carer[:100], updated_at=now,
    )
    s.add(case)
    await s.flush()
    s.add(AccessGrant(
        invitation_id=None, child_id=child.id, account_id=account_id, status="active", created_at=now,
        responded_at=now, activated_at=now, activated_by="self:request",
    ))
    await s.flush()
    # The key dates and reminders, as CaseService.create_case writes them (no events yet).
    await write_key_date_index(s, case.id, fold(case.request_date, []))
    await portal.events.publish(s, CaseDatesChanged(at=now, case_id=case.id))
    await s.execute(
        update(ChatLink)
        .where(ChatLink.active_chat_id == chat_id, ChatLink.selected_child_id.is_(None))
        .values(selected_child_id=child.id)
    )
    r.case_id, r.child_id = case.id, child.id
    audit(s, Actor.parent(account_id), "case.create", at=now, child_id=child.id, subject=f"case:{case.id}")
    return case, child


async def message_to_team(
    s: AsyncSession, portal: Portal, files: FileStore, r: FormResponse, form: FormDefinition,
    answers: dict[str, Any], case: Case, child: Child, account_id: int, carer: str, now: datetime,
    pdf_sha: str, pdf_size: int,
) -> Message:
    """The submission as a message to the SEND team on the case (the PDF and supporting files
    attached), so the message poll and the staff group's topic carry it."""
    local = now.astimezone(LONDON)
    lines = [
        f"{carer} sent the {form.title} for {child.forename} {child.surname}".rstrip() + ".",
        f"Submitted on {format_date(local.date())} at {local:%H:%M}.",
        "",
    ]
    files: list[dict[str, Any]] = []
    for q in visible_questions(form, answers):
        value = answers.get(q.id)
        lines.append(f"{q.text}: {format_answer(q, value)}")
        if q.type == QuestionType.FILE and isinstance(value, list):
            files.extend(f for f in value if f.get("sha256") not in {x["sha256"] for x in files})
    end = "\nThe answers are also in the attached PDF" + (
        f", with {len(files)} supporting file{'s' if len(files) != 1 else ''}." if files else "."
    )
    body = "\n".join(lines)
    if len(body) + len(end) > MAX_BODY:
        cut = "\n… The rest of the answers are in the attached PDF."
        body = body[: MAX_BODY - len(cut) - len(end)].rsplit("\n", 1)[0] + cut
    body += end
    subject = f"{form.title} submitted"
    if len(subject) > MAX_SUBJECT:
        subject = form.title[: MAX_SUBJECT - 11].rstrip() + " submitted"
    await in_commit_order(s, "messages")  # the submissions' `?after=` poll pages by message id
    msg = Message(
        case_id=case.id, child_id=child.id, account_id=account_id, direction="to_team",
        type=message_type(form).value, subject=subject, body=body, sender_name=carer,
        recipient_name=case.caseworker_name or MessageService(portal, files)._team(),
        reply_to_id=None, source="form", sent_by=f"account:{account_id}", created_at=now,
        client_key=f"form:{r.id}",
    )
    s.add(msg)
    await s.flush()
    s.add(Attachment(
        message_id=msg.id, sha256=pdf_sha, filename=pdf_name(form.title, child.forename),
        mime="application/pdf", size=pdf_size, created_at=now,
    ))
    for f in files:
        s.add(Attachment(
            message_id=msg.id, sha256=f["sha256"], filename=str(f.get("filename") or "file")[:200],
            mime=str(f.get("mime") or "application/octet-stream"), size=int(f.get("size") or 0),
            created_at=now, telegram_file_id=f.get("telegram_file_id"),
        ))
    audit(s, Actor.parent(account_id), "message.send", at=now, child_id=child.id, subject=f"message:{msg.id}")
    return msg
