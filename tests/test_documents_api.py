"""Documents to View (PRODUCT.md journey 6, issue 6): the core's DocumentService (the team's side
by actor, the parent's side by chat id) and the caseworker API (/v1/cases/{reference}/documents,
/v1/documents/{id}, its file, withdraw, deliveries).

Over real HTTP with a bearer token, on a portal built by the migrations; the parents are made
through the real onboarding services (tests.test_cases_api.active_carer)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

import core.schema  # noqa: F401 - every table in the metadata
from api.cases import build_routes as cases_routes
from api.documents import build_routes as documents_routes
from core.documents.models import Document, DocumentDelivery
from core.documents.service import DocumentService, NotFound, Withdrawn
from core.files import MAX_UPLOAD_BYTES
from core.models import AuditEntry, OutboxItem
from tests.stack import api_client, count, rows
from tests.test_cases_api import REF, Api, active_carer
from tests.test_files import EXE, png_bytes
from tests.test_messages_api import name_account

ALEX = 111  # Sam's carer
DAN = 222  # Sam's other carer (his own account and chat)
PAT = 333  # another family's carer
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = date(2026, 11, 24)  # the clock fixture's day


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Client(Api):
    async def raw(self, method: str, path: str, *, token: bool = True):  # noqa: ANN201
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        async with self.http.request(method, self.base + path, headers=headers) as r:
            return r.status, r.headers, await r.read()

    async def publish(self, ref: str = REF, data: bytes = PDF, **body):  # noqa: ANN003, ANN201
        body = {
            "filename": "letter.pdf",
            "mime": "application/pdf",
            "content_base64": b64(data),
            "description": "EHCP - AR1 Letter to Parent",
            "document_date": "2026-11-20",
            **body,
        }
        return await self.call("POST", f"/v1/cases/{ref}/documents", body)


@pytest.fixture
async def api(portal):
    async with api_client(portal, [cases_routes(), documents_routes()], Client) as client:
        yield client


@dataclass
class Family:
    child_id: int
    account_id: int
    chat_id: int


@pytest.fixture
async def alex(api, portal) -> Family:
    await api.create(caseworker={"name": "Jo Smith", "email": "jo@council.example"})
    child_id, account_id = await active_carer(portal, "alex@example.org", ALEX)
    await name_account(portal, account_id, "Alex", "Jones")
    return Family(child_id, account_id, ALEX)


async def dan_of(portal, alex: Family) -> Family:  # noqa: ANN001
    child_id, account_id = await active_carer(portal, "dan@example.org", DAN, parent=("Dan", "Jones"))
    assert child_id == alex.child_id
    await name_account(portal, account_id, "Dan", "Jones")
    return Family(child_id, account_id, DAN)


async def other_family(api, portal) -> Family:  # noqa: ANN001
    await api.create(case_reference="EHC-0002", child_forename="Ana", child_surname="Smith",
                     child_date_of_birth="2016-05-04")
    child_id, account_id = await active_carer(
        portal, "pat@example.org", PAT, ref="EHC-0002", child=("Ana", "Smith", date(2016, 5, 4)),
        parent=("Pat", "Smith"),
    )
    return Family(child_id, account_id, PAT)


async def doc_notices(portal, prefix: str = "document:") -> list[OutboxItem]:  # noqa: ANN001
    async with portal.db() as s:
        rows = (await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    return [n for n in rows if (n.dedupe_key or "").startswith(prefix)]


async def audits(portal, action: str) -> list[AuditEntry]:  # noqa: ANN001
    return await rows(portal, AuditEntry, AuditEntry.action == action)


async def unviewed(portal, f: Family) -> int:  # noqa: ANN001
    from core.onboarding.models import Case

    async with portal.db() as s:
        case_id = await s.scalar(select(Case.id).where(Case.child_id == f.child_id))
        return await DocumentService.unviewed_for(s, f.account_id, case_id)


# --- publishing ---------------------------------------------------------------------------------


async def test_a_published_document_is_stored_listed_served_and_announced(api, portal, alex, clock):
    await dan_of(portal, alex)
    status, doc = await api.publish(description="  EHC Plan   by Jo  ", filename="plan.pdf")
    assert status == 201, doc
    assert doc["case_reference"] == REF and doc["child_id"] == alex.child_id
    assert doc["description"] == "EHC Plan by Jo" and doc["document_date"] == "2026-11-20"
    assert datetime.fromisoformat(doc["published_at"]) == clock.now()
    assert doc["published_by"] == "case-system"
    assert (doc["filename"], doc["mime"], doc["size"]) == ("plan.pdf", "application/pdf", len(PDF))
    assert doc["withdrawn_at"] is None

    # Each carer is told in the same transaction: what, for whom, and a Receive button.
    notices = await doc_notices(portal)
    assert sorted(n.chat_id for n in notices) == [ALEX, DAN]
    n = notices[0]
    assert n.text == (
        "📄 <b>New document for Sam</b>\nEHC Plan by Jo\nDocument date: 20 Nov 2026\n\n"
        "Tap Receive to get it here."
    )
    assert n.payload["buttons"] == [[{"text": "📥 Receive the document", "data": f"doc:{doc['id']}:get"}]]
    assert n.payload["markup"] == "HTML" and n.important and n.email_subject == "A new document for Sam"
    assert [a.subject for a in await audits(portal, "document.publish")] == [f"document:{doc['id']}"]

    # Read back: one, the list (newest first), and the file with safe headers.
    clock.advance(minutes=5)
    _, second = await api.publish(description="Second <letter> & more", filename="two.png",
                                  mime="image/png", data=png_bytes())
    status, got = await api.call("GET", f"/v1/documents/{doc['id']}")
    assert status == 200 and got == doc
    status, listed = await api.call("GET", f"/v1/cases/{REF}/documents")
    assert status == 200 and [d["id"] for d in listed["items"]] == [second["id"], doc["id"]]
    status, headers, data = await api.raw("GET", f"/v1/documents/{doc['id']}/file")
    assert status == 200 and data == PDF
    assert headers["Content-Type"] == "application/pdf" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith('attachment; filename="plan.pdf"')
    assert await audits(portal, "document.download")
    # HTML in a description is escaped in the notice.
    last = (await doc_notices(portal))[-1]
    assert "Second &lt;letter&gt; &amp; more" in last.text

    # Stored once, by content: the same file again is the same stored file.
    _, third = await api.publish(description="Copy")
    assert third["sha256"] == doc["sha256"]
    assert (portal.settings.storage.data_dir / "files" / doc["sha256"][:2] / doc["sha256"][2:]).read_bytes() == PDF


async def test_publishing_refuses_bad_files_dates_and_cases(api, portal, alex, clock):
    cases = [
        ({"filename": "x.zip", "mime": "application/zip", "content_base64": b64(b"PK\x03\x04zip")}, "file_type"),
        ({"filename": "x.exe", "mime": "application/pdf", "content_base64": b64(EXE)}, "file_mismatch"),
        ({"content_base64": ""}, "file_empty"),
        ({"content_base64": "not base64!!"}, "bad_base64"),
        ({"document_date": (TODAY + timedelta(days=2)).isoformat()}, "future_date"),
        ({"document_date": "2026-02-30"}, "validation_error"),
        ({"description": "   "}, "validation_error"),
        ({"description": "x" * 301}, "validation_error"),
    ]
    for change, code in cases:
        status, err = await api.publish(**change)
        assert status == 422 and err["error"]["code"] == code, (change.keys(), err)
    status, err = await api.publish(ref="EHC-9999")
    assert status == 404 and err["error"]["code"] == "not_found"
    # Today and tomorrow (a letter dated for the morning) are taken.
    for day in (TODAY, TODAY + timedelta(days=1), date(2023, 1, 23)):
        status, doc = await api.publish(document_date=day.isoformat())
        assert status == 201, doc
    # Nothing refused was kept; only the good ones were announced.
    assert await count(portal, Document) == 3
    assert len(await doc_notices(portal)) == 3


async def test_just_over_20_mb_is_refused_and_exactly_20_mb_is_taken(api, portal, alex):
    status, err = await api.publish(data=b"%PDF" + bytes(MAX_UPLOAD_BYTES - 4 + 1))
    assert status == 422 and err["error"]["code"] == "file_too_big"
    assert "up to 20 MB" in err["error"]["message"]
    status, doc = await api.publish(data=b"%PDF" + bytes(MAX_UPLOAD_BYTES - 4))
    assert status == 201 and doc["size"] == MAX_UPLOAD_BYTES


# --- withdrawing --------------------------------------------------------------------------------


async def test_withdrawing_takes_it_off_the_list_tells_each_carer_once_and_keeps_the_record(
    api, portal, alex, clock
):
    dan = await dan_of(portal, alex)
    svc = DocumentService(portal)
    _, doc = await api.publish(description="Letter for another family")
    _, keep = await api.publish(description="A letter that stays")
    # Alex received it; Dan did not.
    await svc.record_delivery(ALEX, doc["id"], "FILE-1")
    assert await unviewed(portal, alex) == 1 and await unviewed(portal, dan) == 2

    clock.advance(hours=1)
    status, out = await api.call("POST", f"/v1/documents/{doc['id']}/withdraw", {"reason": "Wrong family"})
    assert status == 200, out
    assert datetime.fromisoformat(out["withdrawn_at"]) == clock.now()
    assert out["withdrawn_by"] == "case-system" and out["withdraw_reason"] == "Wrong family"

    notices = {n.chat_id: n for n in await doc_notices(portal, "document-withdrawn:")}
    assert set(notices) == {ALEX, DAN}
    for n in notices.values():
        assert "The SEND team has withdrawn a document: Letter for another family (published 24 Nov 2026)" in n.text
        assert "This happens when a document was sent by mistake or has been replaced." in n.text
        assert "It is no longer in Documents to View." in n.text
        assert "Wrong family" not in n.text  # the reason is the council's record
    assert "Please delete any copy you saved" in notices[ALEX].text
    assert "Please delete" not in notices[DAN].text and "You do not need to do anything." in notices[DAN].text

    # Off the list at once (the API can still show it), off the counts, not deliverable.
    _, listed = await api.call("GET", f"/v1/cases/{REF}/documents?include_withdrawn=false")
    assert [d["id"] for d in listed["items"]] == [keep["id"]]
    _, listed = await api.call("GET", f"/v1/cases/{REF}/documents")
    assert {d["id"] for d in listed["items"]} == {keep["id"], doc["id"]}
    page = await svc.page(ALEX, alex.child_id)
    assert [v.id for v in page.items] == [keep["id"]]
    assert await unviewed(portal, alex) == 1 and await unviewed(portal, dan) == 1
    with pytest.raises(Withdrawn) as raised:
        await svc.deliver(ALEX, doc["id"])
    assert raised.value.child_id == alex.child_id

    # Again: harmless, nobody is told twice, the first record stays.
    clock.advance(hours=1)
    status, again = await api.call("POST", f"/v1/documents/{doc['id']}/withdraw")  # no body: no reason
    assert status == 200 and again["withdrawn_at"] == out["withdrawn_at"]
    assert again["withdraw_reason"] == "Wrong family"
    assert len(await doc_notices(portal, "document-withdrawn:")) == 2
    assert len(await audits(portal, "document.withdraw")) == 1
    status, err = await api.call("POST", "/v1/documents/999999/withdraw", {})
    assert status == 404


# --- the parent's side, and deliveries ----------------------------------------------------------


async def test_the_chat_side_sees_only_its_own_familys_documents(api, portal, alex, clock):
    pat = await other_family(api, portal)
    svc = DocumentService(portal)
    ids = []
    for i in range(7):
        clock.advance(minutes=1)
        _, d = await api.publish(description=f"Letter {i + 1}")
        ids.append(d["id"])
    _, theirs = await api.publish(ref="EHC-0002", description="Ana's plan")

    page = await svc.page(ALEX, alex.child_id)
    assert [v.description for v in page.items] == [f"Letter {i}" for i in (7, 6, 5, 4, 3)]
    assert (page.page, page.pages, page.total, page.child_forename) == (0, 2, 7, "Sam")
    assert not any(v.received for v in page.items)
    page2 = await svc.page(ALEX, None, page=1)  # the chat's only child
    assert [v.description for v in page2.items] == ["Letter 2", "Letter 1"]
    assert (await svc.page(ALEX, alex.child_id, page=99)).page == 1  # clamped

    # First delivery: the bytes (Telegram has no copy yet); after it, the file id only.
    view, data = await svc.deliver(ALEX, ids[0])
    assert data == PDF and view.telegram_file_id is None
    await svc.record_delivery(ALEX, ids[0], "TG-FILE-1")
    view, data = await svc.deliver(ALEX, ids[0])
    assert data is None and view.telegram_file_id == "TG-FILE-1" and view.received
    assert (await svc.deliver(ALEX, ids[0], with_bytes=True))[1] == PDF
    assert [v.received for v in (await svc.page(ALEX, alex.child_id, page=1)).items] == [False, True]
    assert await unviewed(portal, alex) == 6

    # Another family: every id is NotFound (never Withdrawn: it says nothing), and no list.
    for chat, doc_id in ((PAT, ids[0]), (ALEX, theirs["id"]), (ALEX, 999999), (444, ids[0])):
        with pytest.raises(NotFound) as raised:
            await svc.deliver(chat, doc_id)
        assert type(raised.value) is NotFound
        with pytest.raises(NotFound):
            await svc.record_delivery(chat, doc_id, "X")
    with pytest.raises(NotFound):
        await svc.page(PAT, alex.child_id)
    await api.call("POST", f"/v1/documents/{ids[0]}/withdraw", {})
    with pytest.raises(NotFound) as raised:
        await svc.deliver(PAT, ids[0])
    assert type(raised.value) is NotFound
    assert [v.description for v in (await svc.page(PAT, pat.child_id)).items] == ["Ana's plan"]

    # The deliveries, for the team: who, when, which chat; each one in the audit log.
    clock.advance(minutes=1)
    await svc.record_delivery(ALEX, ids[1], "TG-FILE-2")
    status, body = await api.call("GET", f"/v1/documents/{ids[0]}/deliveries")
    assert status == 200 and body["document_id"] == ids[0]
    assert [(d["account_id"], d["carer_name"], d["chat_id"]) for d in body["items"]] == [
        (alex.account_id, "Alex Jones", ALEX)
    ]
    assert datetime.fromisoformat(body["items"][0]["delivered_at"]) == datetime(2026, 11, 24, 14, 7, tzinfo=UTC)
    delivered = await audits(portal, "document.deliver")
    assert [(a.actor_kind, a.actor_id, a.subject, a.child_id) for a in delivered] == [
        ("parent", str(alex.account_id), f"document:{ids[0]}", alex.child_id),
        ("parent", str(alex.account_id), f"document:{ids[1]}", alex.child_id),
    ]
    assert await count(portal, DocumentDelivery) == 2
    status, _ = await api.call("GET", "/v1/documents/999999/deliveries")
    assert status == 404


async def test_every_endpoint_needs_the_token(api, portal, alex):
    _, doc = await api.publish()
    calls = [
        ("POST", f"/v1/cases/{REF}/documents", {"filename": "a.pdf", "mime": "application/pdf",
                                                "content_base64": b64(PDF), "description": "X",
                                                "document_date": "2026-11-20"}),
        ("GET", f"/v1/cases/{REF}/documents", None),
        ("GET", f"/v1/documents/{doc['id']}", None),
        ("GET", f"/v1/documents/{doc['id']}/file", None),
        ("POST", f"/v1/documents/{doc['id']}/withdraw", {}),
        ("GET", f"/v1/documents/{doc['id']}/deliveries", None),
    ]
    await api.refused_without_a_good_token(calls)
    assert await count(portal, Document) == 1
    _, still = await api.call("GET", f"/v1/documents/{doc['id']}")
    assert still["withdrawn_at"] is None


def test_the_routes_are_documented():
    from api.documents import api

    paths = {(r.method, r.openapi_path) for r in api}
    assert paths == {
        ("POST", "/v1/cases/{reference}/documents"),
        ("GET", "/v1/cases/{reference}/documents"),
        ("GET", "/v1/documents/{id}"),
        ("GET", "/v1/documents/{id}/file"),
        ("POST", "/v1/documents/{id}/withdraw"),
        ("GET", "/v1/documents/{id}/deliveries"),
    }
    assert all(r.tags == ("documents",) for r in api)
