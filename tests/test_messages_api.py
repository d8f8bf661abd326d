"""Messages between a carer and the SEND team (PRODUCT.md journey 5, issue 5): the core's
MessageService (the parent's side by chat id, the team's side by actor) and the caseworker API
(/v1/messages, /v1/cases/{reference}/messages, attachments, staff mapping).

Over real HTTP with a bearer token, on a portal built by the migrations; the parents are made
through the real onboarding services (tests.test_cases_api.active_carer)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

import core.schema  # noqa: F401 - every table in the metadata
from api.cases import build_routes as cases_routes
from api.messages import build_routes as messages_routes
from core.accounts.models import Account
from core.audit import Actor
from core.files import MAX_UPLOAD_BYTES, FileRefused
from core.messages.models import Attachment, Message
from core.messages.service import (
    MAX_BODY,
    TYPE_NAMES,
    KeptFile,
    MessageRefused,
    MessageService,
    MessageType,
    NewAttachment,
    NotFound,
)
from core.messages.staff import StaffDirectory
from core.models import AuditEntry, OutboxItem
from core.onboarding import ChatLinkService, InvitationService, OnboardingSettings
from core.onboarding.models import Case
from tests.stack import api_client, count, rows
from tests.test_cases_api import CASE, REF, Api, active_carer
from tests.test_files import EXE, docx_bytes, jpeg_bytes, pdf_bytes, png_bytes
from tests.test_onboarding_service import code_and_token, invite, make_account

ALEX = 111  # the first carer's chat
DAN = 222  # a second carer of the same child (separated parents), another account and chat
OTHER = 333  # another family's carer
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CASEWORKER = Actor.caseworker("case-system")  # the API token's name, as the API's actor


# --- fixtures and helpers -------------------------------------------------------------------------


class Client(Api):
    async def raw(self, method: str, path: str, *, token: bool = True):
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        async with self.http.request(method, self.base + path, headers=headers) as r:
            return r.status, r.headers, await r.read()

    async def send(self, ref: str = REF, **body):
        body = {"sender_name": "Jo Smith", "subject": "Your plan", "text": "Hello", **body}
        return await self.call("POST", f"/v1/cases/{ref}/messages", body)


@pytest.fixture
async def api(portal):
    async with api_client(portal, [cases_routes(), messages_routes()], Client) as client:
        yield client


@pytest.fixture
def svc(portal) -> MessageService:
    return MessageService(portal)


@dataclass
class Family:
    child_id: int
    account_id: int
    chat_id: int
    case_id: int


async def name_account(portal, account_id: int, forename: str, surname: str) -> None:
    async with portal.db() as s, s.begin():
        await s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(forename=forename, surname=surname)
        )


@pytest.fixture
async def alex(api, portal) -> Family:
    """The case EHC-0001 (Sam, caseworker Jo Smith) and its first carer, Alex Jones, in chat 111."""
    case = await api.create(caseworker={"name": "Jo Smith", "email": "jo@council.example"})
    child_id, account_id = await active_carer(portal, "alex@example.org", ALEX)
    await name_account(portal, account_id, "Alex", "Jones")
    return Family(child_id, account_id, ALEX, case["id"])


async def case_id(portal, ref: str = REF) -> int:
    async with portal.db() as s:
        return await s.scalar(select(Case.id).where(Case.case_reference == ref))


async def second_carer(portal, alex: Family) -> Family:
    """Dan Jones: the same child, his own account with active access, his own chat."""
    child_id, account_id = await active_carer(
        portal, "dan@example.org", DAN, parent=("Dan", "Jones")
    )
    assert child_id == alex.child_id and account_id != alex.account_id
    await name_account(portal, account_id, "Dan", "Jones")
    return Family(child_id, account_id, DAN, alex.case_id)


async def other_family(api, portal) -> Family:
    await api.create(case_reference="EHC-0002", child_forename="Ana", child_surname="Smith")
    child_id, account_id = await active_carer(
        portal,
        "pat@example.org",
        OTHER,
        ref="EHC-0002",
        child=("Ana", "Smith", date(2016, 5, 4)),
        parent=("Pat", "Smith"),
    )
    await name_account(portal, account_id, "Pat", "Smith")
    return Family(child_id, account_id, OTHER, await case_id(portal, "EHC-0002"))


async def pending_carer(portal, chat_id: int) -> tuple[int, int]:
    """Gran: invited to Sam's case, code given, chat linked, invitation accepted, but the SEND team
    has not activated her access yet. Returns (child id, account id)."""
    settings = OnboardingSettings(_env_file=None, bot_username="ehcp_test_bot")
    invitations = InvitationService(portal, settings)
    view = await invite(
        invitations,
        "gran@example.org",
        parent=("Gran", "Jones"),
        child=("Sam", "Jones", date(2016, 5, 4)),
        ref=REF,
    )
    code, token = await code_and_token(portal, "gran@example.org")
    await invitations.open_invitation_link(token, chat_id)
    await invitations.check_unique_code(view.id, chat_id, code)
    account_id = await make_account(portal, "gran@example.org")
    await ChatLinkService(portal, settings).link_chat(account_id, chat_id)
    await invitations.respond(account_id, chat_id, {view.id: True})
    return view.child_id, account_id


async def message_notices(portal) -> list[OutboxItem]:
    async with portal.db() as s:
        rows = (await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    return [n for n in rows if (n.dedupe_key or "").startswith("message:")]


async def audits(portal, action: str | None = None) -> list[AuditEntry]:
    return await rows(portal, AuditEntry, *([] if action is None else [AuditEntry.action == action]))


def files_on_disk(portal) -> list[Path]:
    root = portal.settings.storage.data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


async def parent_sends(svc: MessageService, f: Family, subject: str = "About school", **kw):
    kw.setdefault("type", MessageType.GENERAL)
    kw.setdefault("body", "Please call me.")
    return await svc.send_from_parent(f.chat_id, f.child_id, subject=subject, **kw)


async def team_sends(svc: MessageService, f: Family, subject: str = "Your plan", **kw):
    kw.setdefault("type", MessageType.GENERAL)
    kw.setdefault("body", "Here it is.")
    kw.setdefault("sender_name", "Jo Smith")
    return await svc.send_to_parent(CASEWORKER, REF, account_id=f.account_id, subject=subject, **kw)


# --- a parent sends; the API lists --------------------------------------------------------------


async def test_a_parent_sends_each_type_and_the_api_lists_them_oldest_first(api, svc, alex, clock):
    sent = []
    for n, kind in enumerate(MessageType):
        clock.advance(timedelta(minutes=1))
        sent.append(
            await parent_sends(svc, alex, f"Question {n}", type=kind, body=f"Body {n}\nsecond line")
        )
    assert [m.type_name for m in sent] == [
        "EHC Needs Assessment (0-20 weeks)",
        "Annual Review",
        "School Placement",
        "General",
    ]
    m = sent[0]
    assert (m.direction, m.source, m.account_id, m.child_id) == (
        "to_team",
        "chat",
        alex.account_id,
        alex.child_id,
    )
    assert (m.sender_name, m.recipient_name) == ("Alex Jones", "Jo Smith")
    assert m.case_reference == REF and m.body == "Body 0\nsecond line" and m.read_at is None

    status, body = await api.call("GET", f"/v1/cases/{REF}/messages")
    assert status == 200, body
    assert [i["id"] for i in body["items"]] == [m.id for m in sent] and body["next_after"] is None
    first = body["items"][0]
    assert first["type"] == "ehc_needs_assessment"
    assert first["type_name"] == "EHC Needs Assessment (0-20 weeks)"
    assert (first["subject"], first["text"]) == ("Question 0", "Body 0\nsecond line")
    assert (first["sender_name"], first["recipient_name"]) == ("Alex Jones", "Jo Smith")
    assert (first["direction"], first["source"], first["account_id"]) == (
        "to_team",
        "chat",
        alex.account_id,
    )
    assert first["case_reference"] == REF and first["child_id"] == alex.child_id
    assert first["reply_to"] is None and first["read_at"] is None and first["attachments"] == []

    # Paged by id: `next_after` while a page is full, null once up to date.
    for path in (f"/v1/cases/{REF}/messages", "/v1/messages"):
        seen, after, pages = [], 0, 0
        while True:
            status, body = await api.call("GET", f"{path}?after={after}&limit=3")
            assert status == 200, body
            seen += [i["id"] for i in body["items"]]
            pages += 1
            if body["next_after"] is None:
                break
            assert body["next_after"] == body["items"][-1]["id"]
            after = body["next_after"]
        assert seen == [m.id for m in sent] and pages == 2, path
        status, body = await api.call("GET", f"{path}?after={sent[-1].id}")
        assert body == {"items": [], "next_after": None}
    status, body = await api.call("GET", "/v1/messages?after=-1")
    assert status == 422 and body["error"]["code"] == "validation_error"

    status, one = await api.call("GET", f"/v1/messages/{sent[2].id}")
    assert (
        status == 200 and one["type_name"] == "School Placement" and one["subject"] == "Question 2"
    )
    assert (await api.call("GET", "/v1/messages/999999"))[0] == 404
    assert (await api.call("GET", "/v1/cases/EHC-9999/messages"))[0] == 404


async def test_with_no_caseworker_a_parent_writes_to_the_team(api, svc, portal):
    await api.create()  # no caseworker
    child_id, account_id = await active_carer(portal, "alex@example.org", ALEX)
    await name_account(portal, account_id, "Alex", "Jones")
    m = await svc.send_from_parent(ALEX, child_id, type="general", subject="Hello", body="Hi")
    assert m.recipient_name == "SEND team" and m.sender_name == "Alex Jones"


async def test_a_send_repeated_with_the_same_key_is_stored_once(svc, alex, portal):
    first = await svc.send_from_parent(
        ALEX, alex.child_id, type="general", subject="Hello", body="Hi", client_key="draft-1"
    )
    again = await svc.send_from_parent(
        ALEX, alex.child_id, type="general", subject="Hello", body="Hi", client_key="draft-1"
    )
    other = await svc.send_from_parent(
        ALEX, alex.child_id, type="general", subject="Hello", body="Hi", client_key="draft-2"
    )
    assert again.id == first.id and other.id != first.id
    assert await count(portal, Message) == 2


async def test_a_parent_message_must_have_a_subject_and_text(svc, alex, portal):
    for subject, body, code in (
        ("", "text", "no_subject"),
        ("   ", "text", "no_subject"),
        ("Subject", "", "no_text"),
        ("Subject", " \n ", "no_text"),
        ("S" * 201, "text", "subject_too_long"),
    ):
        with pytest.raises(MessageRefused) as caught:
            await parent_sends(svc, alex, subject, body=body)
        assert caught.value.code == code and caught.value.message.endswith(".")
    with pytest.raises(ValueError):
        await parent_sends(svc, alex, type="complaint")
    assert await count(portal, Message) == 0


async def test_a_message_of_20000_characters_is_stored_whole_and_longer_is_refused(api, svc, alex):
    longest = ("Sam needs help with reading. " * 700)[: MAX_BODY - 1] + "!"
    assert len(longest) == MAX_BODY == 20_000
    m = await parent_sends(svc, alex, body=longest)
    status, body = await api.call("GET", f"/v1/messages/{m.id}")
    assert status == 200 and body["text"] == longest

    with pytest.raises(MessageRefused) as caught:
        await parent_sends(svc, alex, body=longest + "x")
    assert caught.value.code == "too_long"
    assert "20,000 characters" in caught.value.message and "two messages" in caught.value.message

    status, body = await api.send(account_id=alex.account_id, text=longest)
    assert status == 201 and body["text"] == longest
    status, err = await api.send(account_id=alex.account_id, text=longest + "x")
    assert status == 422 and "20000 characters" in str(err["error"]), err
    assert len((await api.call("GET", f"/v1/cases/{REF}/messages"))[1]["items"]) == 2


# --- the SEND team sends; the parent's notice ----------------------------------------------------


async def test_a_caseworker_sends_to_a_carer_and_the_notice_is_written(api, portal, alex):
    subject = "Your <b>plan</b> & the review"
    status, m = await api.send(
        account_id=alex.account_id,
        sender_name="Jo Smith",
        type="annual_review",
        subject=subject,
        text="Please read the draft.",
    )
    assert status == 201, m
    assert (m["direction"], m["source"], m["account_id"]) == ("to_parent", "api", alex.account_id)
    assert (m["sender_name"], m["recipient_name"]) == ("Jo Smith", "Alex Jones")
    assert m["subject"] == subject and m["type_name"] == "Annual Review" and m["read_at"] is None

    [n] = await message_notices(portal)
    assert n.chat_id == ALEX and n.child_id == alex.child_id and n.important
    assert n.fallback_email == "alex@example.org" and n.email_subject == "A new message about Sam"
    assert n.payload["markup"] == "HTML"
    assert n.payload["buttons"] == [
        [
            {"text": "📖 Read", "data": f"msg:{m['id']}:read"},
            {"text": "↩️ Reply", "data": f"msg:{m['id']}:reply"},
        ]
    ]
    assert "New message from Jo Smith about Sam" in plain(n.text)
    assert "Subject: Your &lt;b&gt;plan&lt;/b&gt; &amp; the review" in n.text
    assert "Type: Annual Review" in n.text and "Please read the draft." not in n.text
    assert "<b>plan</b>" not in n.text and "attached" not in n.text

    # A sender name with markup is escaped too.
    status, m2 = await api.send(account_id=alex.account_id, sender_name="Jo <i>Smith</i> & Co")
    assert status == 201
    n2 = (await message_notices(portal))[-1]
    assert "New message from Jo &lt;i&gt;Smith&lt;/i&gt; &amp; Co</b> about Sam" in n2.text


async def test_a_caseworker_replies_by_reply_to(api, svc, portal, alex):
    asked = await parent_sends(svc, alex, "Transport", type=MessageType.SCHOOL_PLACEMENT)
    status, m = await api.send(reply_to=asked.id, type="school_placement", subject="Re: Transport")
    assert status == 201, m
    assert m["account_id"] == alex.account_id and m["reply_to"] == asked.id
    assert m["recipient_name"] == "Alex Jones"
    [n] = await message_notices(portal)
    assert n.chat_id == ALEX and f"msg:{m['id']}:reply" in str(n.payload["buttons"])
    # account_id given with reply_to must agree with it.
    status, m = await api.send(reply_to=asked.id, account_id=alex.account_id)
    assert status == 201
    dan = await second_carer(portal, alex)
    status, err = await api.send(reply_to=asked.id, account_id=dan.account_id)
    assert status == 422 and err["error"]["code"] == "wrong_thread"


async def test_an_unlinked_carer_is_told_by_email(api, portal, alex):
    await ChatLinkService(portal, OnboardingSettings(_env_file=None)).unlink_chat(ALEX, "logout")
    status, _ = await api.send(account_id=alex.account_id)
    assert status == 201
    [n] = await message_notices(portal)
    assert n.chat_id is None and n.fallback_email == "alex@example.org" and n.important


async def test_the_notice_is_written_in_the_same_transaction_as_the_message(
    svc, portal, alex, monkeypatch
):
    import core.notices

    def broken(*_a, **_kw):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(core.notices, "enqueue", broken)  # where every family notice is written
    with pytest.raises(RuntimeError):
        await team_sends(svc, alex)
    assert await count(portal, Message) == 0, "no message without its notice"
    assert await audits(portal, "message.send") == []


async def test_the_api_send_replays_an_idempotency_key(api, portal, alex):
    body = {
        "sender_name": "Jo Smith",
        "subject": "Once",
        "text": "Only once",
        "account_id": alex.account_id,
    }
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": "send-1"}
    answers = []
    for _ in range(2):
        async with api.http.post(
            f"{api.base}/v1/cases/{REF}/messages", json=body, headers=headers
        ) as r:
            answers.append((r.status, await r.json(), r.headers.get("Idempotency-Replayed")))
    assert answers[0][0] == answers[1][0] == 201 and answers[0][1] == answers[1][1]
    assert answers[1][2] == "true"
    assert await count(portal, Message) == 1 and len(await message_notices(portal)) == 1


# --- the parent's inbox and sent items -----------------------------------------------------------


async def test_inbox_and_sent_pages_newest_first(svc, alex):
    to_parent = [await team_sends(svc, alex, f"Letter {n}") for n in range(12)]
    from_parent = [await parent_sends(svc, alex, f"Question {n}") for n in range(3)]

    p = await svc.page(ALEX, alex.child_id, "inbox", 0)
    assert (p.page, p.pages, p.total) == (0, 3, 12)
    assert [m.subject for m in p.items] == [f"Letter {n}" for n in (11, 10, 9, 8, 7)]
    assert all(m.direction == "to_parent" and m.sender_name == "Jo Smith" for m in p.items)
    p = await svc.page(ALEX, alex.child_id, "inbox", 1)
    assert [m.id for m in p.items] == [m.id for m in reversed(to_parent[2:7])]
    last = await svc.page(ALEX, alex.child_id, "inbox", 2)
    assert [m.subject for m in last.items] == ["Letter 1", "Letter 0"] and last.page == 2
    # A page beyond the last, or before the first, is clamped.
    assert (await svc.page(ALEX, alex.child_id, "inbox", 99)).page == 2
    assert (await svc.page(ALEX, alex.child_id, "inbox", -5)).page == 0

    sent = await svc.page(ALEX, alex.child_id, "sent")
    assert (sent.page, sent.pages, sent.total) == (0, 1, 3)
    assert [m.id for m in sent.items] == [m.id for m in reversed(from_parent)]
    assert all(m.recipient_name == "Jo Smith" and m.sender_name == "Alex Jones" for m in sent.items)


async def test_empty_boxes_have_one_empty_page(svc, alex):
    for box in ("inbox", "sent"):
        p = await svc.page(ALEX, alex.child_id, box, 3)
        assert (p.items, p.page, p.pages, p.total) == ([], 0, 1, 0)


async def test_open_marks_read_and_unread_counts(api, svc, portal, alex, clock):
    sent = [await team_sends(svc, alex, f"Letter {n}") for n in range(3)]
    own = await parent_sends(svc, alex)

    async def unread() -> int:
        async with portal.db() as s:
            return await MessageService.unread_for(s, alex.account_id, alex.case_id)

    assert await unread() == 3
    opened_at = clock.now()
    m = await svc.open(ALEX, sent[1].id)
    assert m.read_at == opened_at and m.body == "Here it is." and m.subject == "Letter 1"
    assert await unread() == 2
    clock.set(opened_at + timedelta(hours=1))
    assert (await svc.open(ALEX, sent[1].id)).read_at == opened_at, "read once, at the first time"
    assert await unread() == 2
    # Opening one's own message does not mark it read (the SEND team reads it).
    assert (await svc.open(ALEX, own.id)).read_at is None
    status, body = await api.call("GET", f"/v1/messages/{sent[1].id}")
    assert body["read_at"] is not None and datetime.fromisoformat(body["read_at"]) == opened_at
    # Another case or carer counts nothing.
    async with portal.db() as s:
        assert await MessageService.unread_for(s, alex.account_id, alex.case_id + 1000) == 0
        assert await MessageService.unread_for(s, alex.account_id + 1000, alex.case_id) == 0


async def test_the_team_marks_a_parents_message_read(api, svc, alex, clock):
    asked = await parent_sends(svc, alex)
    answer = await team_sends(svc, alex)
    status, body = await api.call("POST", f"/v1/messages/{asked.id}/read")
    assert status == 200 and body["read_at"] is not None
    first = body["read_at"]
    clock.set(clock.now() + timedelta(hours=2))
    status, body = await api.call("POST", f"/v1/messages/{asked.id}/read")
    assert status == 200 and body["read_at"] == first
    # Only a parent's message can be marked read by the team.
    assert (await api.call("POST", f"/v1/messages/{answer.id}/read"))[0] == 404
    assert (await api.call("POST", "/v1/messages/999999/read"))[0] == 404
    assert (await svc.open(ALEX, answer.id)).read_at is not None


# --- attachments ----------------------------------------------------------------------------------


async def test_a_parents_attachments_are_stored_once_and_served_back(api, svc, portal, alex):
    pdf, png, jpg, docx = pdf_bytes(), png_bytes(), jpeg_bytes(), docx_bytes()
    kept = await svc.keep_upload(png, "image/png", "../photo of letter.png", "tg-file-1")
    assert (
        kept.mime == "image/png"
        and kept.filename == "photo of letter.png"
        and kept.size == len(png)
    )
    m1 = await parent_sends(
        svc,
        alex,
        "With files",
        attachments=[
            NewAttachment(pdf, "report.pdf", "application/pdf"),
            NewAttachment(jpg, "IMG_1.jpeg", "image/jpeg"),
            NewAttachment(docx, "views.docx", DOCX),
        ],
        kept=[kept],
    )
    m2 = await parent_sends(
        svc,
        alex,
        "Same report again",
        attachments=[NewAttachment(pdf, "report copy.pdf", "application/pdf")],
    )
    assert [a.filename for a in m1.attachments] == [
        "report.pdf",
        "IMG_1.jpeg",
        "views.docx",
        "photo of letter.png",
    ]
    assert m1.attachments[3].telegram_file_id == "tg-file-1"
    assert m2.attachments[0].sha256 == m1.attachments[0].sha256
    assert len(files_on_disk(portal)) == 4, "the same PDF twice is one file"
    assert await count(portal, Attachment) == 5

    status, body = await api.call("GET", f"/v1/messages/{m1.id}")
    assert [(a["filename"], a["mime"], a["size"]) for a in body["attachments"]] == [
        ("report.pdf", "application/pdf", len(pdf)),
        ("IMG_1.jpeg", "image/jpeg", len(jpg)),
        ("views.docx", DOCX, len(docx)),
        ("photo of letter.png", "image/png", len(png)),
    ]
    for a, data in zip(body["attachments"], (pdf, jpg, docx, png), strict=True):
        status, headers, got = await api.raw("GET", f"/v1/messages/{m1.id}/attachments/{a['id']}")
        assert status == 200 and got == data
        assert headers["Content-Type"] == a["mime"]
        assert a["filename"] in headers["Content-Disposition"]
        assert headers["X-Content-Type-Options"] == "nosniff"
    # An attachment only through its own message.
    other = m2.attachments[0].id
    assert (await api.raw("GET", f"/v1/messages/{m1.id}/attachments/{other}"))[0] == 404
    assert (await api.raw("GET", f"/v1/messages/999999/attachments/{other}"))[0] == 404
    # The parent gets their own file back too.
    view, data = await svc.attachment_for_chat(ALEX, m1.id, m1.attachments[0].id)
    assert data == pdf and view.mime == "application/pdf"


async def test_a_caseworkers_attachment_reaches_the_parent(api, svc, portal, alex):
    pdf = pdf_bytes("Draft plan")
    status, m = await api.send(
        account_id=alex.account_id,
        subject="Draft plan",
        attachments=[
            {
                "filename": "Draft EHC plan.pdf",
                "mime": "application/pdf",
                "content_base64": b64(pdf),
            },
            {"filename": "Отчёт.png", "mime": "image/png", "content_base64": b64(png_bytes())},
        ],
    )
    assert status == 201, m
    [a, b] = m["attachments"]
    assert (a["filename"], a["mime"], a["size"]) == (
        "Draft EHC plan.pdf",
        "application/pdf",
        len(pdf),
    )
    assert b["filename"] == "Отчёт.png"
    [n] = await message_notices(portal)
    assert "With attached files." in n.text
    view, data = await svc.attachment_for_chat(ALEX, m["id"], a["id"])
    assert data == pdf and view.filename == "Draft EHC plan.pdf"
    # A name in any script is served (the header must not break the answer).
    status, headers, got = await api.raw("GET", f"/v1/messages/{m['id']}/attachments/{b['id']}")
    assert status == 200 and got == png_bytes() and headers["Content-Type"] == "image/png"


async def test_refused_files_get_a_plain_answer(api, svc, portal, alex):
    def one(data: bytes, mime: str, name: str = "f") -> dict:
        return {"filename": name, "mime": mime, "content_base64": b64(data)}

    for attachment, code in (
        (one(EXE, "application/x-msdownload", "setup.exe"), "file_type"),
        (one(png_bytes(), "application/pdf", "letter.pdf"), "file_mismatch"),
        (one(EXE, "text/plain", "notes.txt"), "file_mismatch"),
        (one(b"", "application/pdf"), "file_empty"),
        (
            {"filename": "x.pdf", "mime": "application/pdf", "content_base64": "not base64!"},
            "bad_base64",
        ),
    ):
        status, err = await api.send(account_id=alex.account_id, attachments=[attachment])
        assert status == 422 and err["error"]["code"] == code, err
        message = err["error"]["message"]
        assert message.endswith(".") and "Traceback" not in message
    status, err = await api.send(
        account_id=alex.account_id, attachments=[one(pdf_bytes(), "application/pdf")] * 11
    )
    assert status == 422
    assert await count(portal, Message) == 0 and await message_notices(portal) == []

    # The parent's side: refused before anything is stored.
    for data, mime, code in (
        (EXE, "application/x-msdownload", "type"),
        (png_bytes(), "application/pdf", "mismatch"),
        (b"", "image/png", "empty"),
    ):
        with pytest.raises(FileRefused) as caught:
            await svc.keep_upload(data, mime, "f")
        assert caught.value.code == code
        with pytest.raises(FileRefused):
            await parent_sends(svc, alex, attachments=[NewAttachment(data, "f", mime)])
    assert files_on_disk(portal) == []
    assert await count(portal, Message) == 0 and await count(portal, Attachment) == 0
    # A kept file that has gone missing is not silently dropped.
    lost = KeptFile("0" * 64, 10, "application/pdf", "lost.pdf")
    with pytest.raises(MessageRefused) as caught:
        await parent_sends(svc, alex, kept=[lost])
    assert caught.value.code == "file_lost"
    with pytest.raises(MessageRefused) as caught:
        await parent_sends(
            svc, alex, attachments=[NewAttachment(pdf_bytes(), "a.pdf", "application/pdf")] * 11
        )
    assert caught.value.code == "too_many_files"


async def test_files_over_20_mb_are_refused_by_the_api_with_a_plain_answer(api, svc, portal, alex):
    big = bytearray(MAX_UPLOAD_BYTES + 1)
    big[:8] = b"%PDF-1.4"
    encoded = b64(bytes(big))
    status, err = await api.send(
        account_id=alex.account_id,
        attachments=[{"filename": "big.pdf", "mime": "application/pdf", "content_base64": encoded}],
    )
    del encoded
    assert status == 422 and err["error"]["code"] == "file_too_big", err
    assert "20 MB" in err["error"]["message"]
    with pytest.raises(FileRefused) as caught:
        await svc.keep_upload(big, "application/pdf", "big.pdf")
    assert caught.value.code == "too_big"
    assert await count(portal, Message) == 0 and files_on_disk(portal) == []


# --- isolation ------------------------------------------------------------------------------------


async def private_question(svc: MessageService, f: Family):  # noqa: ANN201
    """A carer's message "Private" with a PDF: what nobody else may see."""
    return await parent_sends(
        svc, f, "Private", attachments=[NewAttachment(pdf_bytes(), "mine.pdf", "application/pdf")]
    )


async def test_carers_of_one_child_do_not_see_each_others_messages(api, svc, portal, alex):
    dan = await second_carer(portal, alex)
    asked = await private_question(svc, alex)
    answer = await team_sends(
        svc,
        alex,
        "Private answer",
        attachments=[NewAttachment(png_bytes(), "yours.png", "image/png")],
    )
    dans = await parent_sends(svc, dan, "Dan's question")
    messages_before = await count(portal, Message)

    for mid in (asked.id, answer.id):
        with pytest.raises(NotFound) as caught:
            await svc.open(DAN, mid)
        with pytest.raises(NotFound) as missing:
            await svc.open(DAN, 10**9)
        assert str(caught.value) == str(missing.value), "nothing says the message exists"
    for mid, aid in ((asked.id, asked.attachments[0].id), (answer.id, answer.attachments[0].id)):
        with pytest.raises(NotFound):
            await svc.attachment_for_chat(DAN, mid, aid)
    with pytest.raises(NotFound):
        await parent_sends(svc, dan, "Re: Private", reply_to_id=asked.id)
    with pytest.raises(NotFound):
        await parent_sends(svc, dan, "Re: Private answer", reply_to_id=answer.id)

    inbox = await svc.page(DAN, dan.child_id, "inbox")
    sent = await svc.page(DAN, dan.child_id, "sent")
    assert inbox.total == 0 and [m.id for m in sent.items] == [dans.id]
    assert [m.id for m in (await svc.page(ALEX, alex.child_id, "sent")).items] == [asked.id]
    assert (await svc.open(ALEX, answer.id)).read_at is not None
    async with portal.db() as s:
        assert await MessageService.unread_for(s, dan.account_id, dan.case_id) == 0
    assert await count(portal, Message) == messages_before, "nothing sent"

    # Each carer can reply in their own thread; the team's reply to Dan goes to Dan only.
    mine = await parent_sends(svc, alex, "Re: Private answer", reply_to_id=answer.id)
    assert mine.reply_to_id == answer.id
    before = len(await message_notices(portal))
    status, m = await api.send(reply_to=dans.id)
    assert (
        status == 201 and m["account_id"] == dan.account_id and m["recipient_name"] == "Dan Jones"
    )
    new = (await message_notices(portal))[before:]
    assert [(n.chat_id, n.fallback_email) for n in new] == [(DAN, "dan@example.org")]
    with pytest.raises(NotFound):
        await svc.open(ALEX, m["id"])


async def test_another_family_sees_nothing(api, svc, portal, alex):
    other = await other_family(api, portal)
    asked = await private_question(svc, alex)
    answer = await team_sends(svc, alex, "Private answer")
    theirs = await parent_sends(svc, other, "Ana's question")

    for chat in (OTHER, 999):  # another family; a chat linked to nobody
        for mid in (asked.id, answer.id):
            with pytest.raises(NotFound):
                await svc.open(chat, mid)
        with pytest.raises(NotFound):
            await svc.attachment_for_chat(chat, asked.id, asked.attachments[0].id)
        for box in ("inbox", "sent"):
            with pytest.raises(NotFound):
                await svc.page(chat, alex.child_id, box)
        with pytest.raises(NotFound):
            await svc.send_from_parent(chat, alex.child_id, type="general", subject="Hi", body="Hi")
    with pytest.raises(NotFound):
        await parent_sends(svc, other, "Re", reply_to_id=asked.id)
    # Alex cannot use Ana's child id or Ana's messages either.
    with pytest.raises(NotFound):
        await svc.page(ALEX, other.child_id, "inbox")
    with pytest.raises(NotFound):
        await svc.open(ALEX, theirs.id)
    with pytest.raises(NotFound):
        await parent_sends(svc, alex, "Re", reply_to_id=theirs.id)
    assert (await svc.page(OTHER, other.child_id, "sent")).total == 1

    # The API: a reply_to of another case, or an account with no access to this child.
    status, err = await api.send(ref="EHC-0002", reply_to=asked.id)
    assert status == 404 and err["error"]["code"] == "not_found"
    status, err = await api.send(reply_to=theirs.id)
    assert status == 404
    status, err = await api.send(account_id=other.account_id)
    assert status == 422 and err["error"]["code"] == "no_access"
    status, err = await api.send(ref="EHC-0002", account_id=alex.account_id)
    assert status == 422 and err["error"]["code"] == "no_access"
    # EHC-0002's list has only its own family's message.
    status, body = await api.call("GET", "/v1/cases/EHC-0002/messages")
    assert [i["id"] for i in body["items"]] == [theirs.id]


async def test_a_carer_without_active_access_cannot_send_or_read(api, svc, portal, alex):
    child_id, gran = await pending_carer(portal, 444)
    assert child_id == alex.child_id
    with pytest.raises(NotFound):
        await svc.send_from_parent(444, child_id, type="general", subject="Hi", body="Hi")
    with pytest.raises(NotFound):
        await svc.page(444, child_id, "inbox")
    status, err = await api.send(account_id=gran)
    assert status == 422 and err["error"]["code"] == "no_access"
    assert await count(portal, Message) == 0

    # A carer whose chat was unlinked cannot send from it any more.
    await ChatLinkService(portal, OnboardingSettings(_env_file=None)).unlink_chat(ALEX, "logout")
    with pytest.raises(NotFound):
        await parent_sends(svc, alex)


async def test_api_refusals(api, svc, alex):
    status, err = await api.send()  # neither account_id nor reply_to
    assert status == 422 and err["error"]["code"] == "no_recipient"
    assert "account_id or reply_to" in err["error"]["message"]
    assert (await api.send(reply_to=999999))[0] == 404
    assert (await api.send(ref="EHC-9999", account_id=alex.account_id))[0] == 404
    assert (await api.send(account_id=999999))[1]["error"]["code"] == "no_access"
    for bad in (
        {"type": "complaint"},
        {"subject": ""},
        {"text": ""},
        {"sender_name": ""},
        {"account_id": 0},
        {"extra": 1},
    ):
        status, err = await api.send(**{"account_id": alex.account_id, **bad})
        assert status == 422 and err["error"]["code"] == "validation_error", bad
    status, body = await api.call("GET", f"/v1/cases/{REF}/messages")
    assert body["items"] == []


async def test_every_endpoint_needs_the_token(api, svc, portal, alex):
    m = await parent_sends(
        svc, alex, attachments=[NewAttachment(pdf_bytes(), "a.pdf", "application/pdf")]
    )
    aid = m.attachments[0].id
    audited = len(await audits(portal))
    calls = [
        ("GET", "/v1/messages", None),
        ("GET", f"/v1/cases/{REF}/messages", None),
        ("GET", f"/v1/messages/{m.id}", None),
        (
            "POST",
            f"/v1/cases/{REF}/messages",
            {"sender_name": "Jo", "subject": "S", "text": "T", "account_id": alex.account_id},
        ),
        ("POST", f"/v1/messages/{m.id}/read", None),
        ("GET", f"/v1/messages/{m.id}/attachments/{aid}", None),
        ("PUT", "/v1/staff/555", {"caseworker_name": "Jo Smith"}),
        ("DELETE", "/v1/staff/555", None),
    ]
    await api.refused_without_a_good_token(calls)
    assert len(await audits(portal)) == audited, "nothing read, nothing changed"
    assert await count(portal, Message) == 1 and (await svc.open(ALEX, m.id)).read_at is None
    assert await StaffDirectory(portal).name_of(555) is None


# --- staff mapping --------------------------------------------------------------------------------


async def test_staff_are_mapped_and_unmapped(api, portal):
    staff = StaffDirectory(portal)
    status, body = await api.call("PUT", "/v1/staff/555", {"caseworker_name": "  Jo Smith "})
    assert status == 200 and body == {"telegram_user_id": 555, "caseworker_name": "Jo Smith"}
    assert await staff.name_of(555) == "Jo Smith"
    status, body = await api.call("PUT", "/v1/staff/555", {"caseworker_name": "Ali Khan"})
    assert status == 200 and await staff.name_of(555) == "Ali Khan"
    assert (await api.call("PUT", "/v1/staff/556", {"caseworker_name": ""}))[0] == 422
    assert (await api.call("PUT", "/v1/staff/556", {}))[0] == 422
    assert await staff.name_of(556) is None

    status, _, data = await api.raw("DELETE", "/v1/staff/555")
    assert status == 204 and data == b""
    assert await staff.name_of(555) is None
    status, err = await api.call("DELETE", "/v1/staff/555")
    assert status == 404 and err["error"]["code"] == "not_found"

    # The directory directly (as the staff group relay uses it).
    await staff.map(7001, " Sam Lee ", CASEWORKER)
    assert await staff.name_of(7001) == "Sam Lee"
    assert (
        await staff.unmap(7001, CASEWORKER) is True and await staff.unmap(7001, CASEWORKER) is False
    )
    maps = await audits(portal, "staff.map")
    assert [(a.actor_id, a.subject) for a in maps] == [("case-system", "staff:555")] * 2 + [
        ("case-system", "staff:7001")
    ]
    assert len(await audits(portal, "staff.unmap")) == 4  # a no-op unmap is still recorded


# --- the audit log --------------------------------------------------------------------------------


async def test_reads_and_sends_are_audited_with_the_child(api, svc, portal, alex):
    start = len(await audits(portal))
    asked = await parent_sends(
        svc,
        alex,
        "Secret subject",
        body="Secret body",
        attachments=[NewAttachment(pdf_bytes(), "a.pdf", "application/pdf")],
    )
    await svc.page(ALEX, alex.child_id, "inbox")
    await svc.page(ALEX, alex.child_id, "sent")
    await svc.open(ALEX, asked.id)
    status, reply = await api.send(reply_to=asked.id, subject="Secret reply")
    await api.call("GET", f"/v1/cases/{REF}/messages")
    await api.call("GET", f"/v1/messages/{asked.id}")
    await api.call("POST", f"/v1/messages/{asked.id}/read")
    await api.raw("GET", f"/v1/messages/{asked.id}/attachments/{asked.attachments[0].id}")
    await api.call("GET", "/v1/messages?after=0")

    rows = (await audits(portal))[start:]
    got = [(a.actor_kind, a.action) for a in rows]
    parent, team = ("parent", str(alex.account_id)), ("caseworker", "case-system")
    assert got == [
        ("parent", "message.send"),
        ("parent", "message.list.inbox"),
        ("parent", "message.list.sent"),
        ("parent", "message.read"),
        ("caseworker", "message.send"),
        ("caseworker", "message.list"),
        ("caseworker", "message.read"),
        ("caseworker", "message.mark_read"),
        ("caseworker", "message.read"),  # the attachment, read through its message
        ("caseworker", "message.poll"),
    ]
    for a in rows:
        assert a.child_id == alex.child_id, (a.action, a.child_id)
        assert (a.actor_kind, a.actor_id) in (parent, team)
        assert a.at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
        assert "Secret" not in (a.subject or ""), "never the content"
    assert rows[0].subject == f"message:{asked.id}" and rows[4].subject == f"message:{reply['id']}"


async def test_the_poll_audits_each_child_it_reads(api, svc, portal, alex):
    other = await other_family(api, portal)
    await parent_sends(svc, alex)
    await parent_sends(svc, other)
    start = len(await audits(portal))
    status, body = await api.call("GET", "/v1/messages")
    assert status == 200 and len(body["items"]) == 2
    rows = (await audits(portal))[start:]
    assert {a.action for a in rows} == {"message.poll"}
    assert sorted(a.child_id for a in rows) == sorted([alex.child_id, other.child_id])


def test_type_names_are_the_guides():
    assert list(TYPE_NAMES.values()) == [
        "EHC Needs Assessment (0-20 weeks)",
        "Annual Review",
        "School Placement",
        "General",
    ]
    assert CASE["case_reference"] == REF
