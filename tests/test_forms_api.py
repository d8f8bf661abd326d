"""Forms in the caseworker API (issue 6): the definitions, assigning a form to a case (and the
notice each carer gets, with its button), withdrawing one, and reading submissions as JSON, as a
PDF (its text extracted) and their supporting files.

Over real HTTP with a bearer token, on a portal built by the migrations; the carers are made
through the real onboarding services and fill the forms in through FormFilling by chat id."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import core.schema  # noqa: F401 - every table in the metadata
from api.cases import build_routes as cases_routes
from api.forms import build_routes as forms_routes
from api.messages import build_routes as messages_routes
from core.models import AuditEntry, OutboxItem
from tests.stack import api_client
from tests.test_files import pdf_bytes
from tests.test_forms_service import (
    ALEX,
    DAN,
    PPF,
    REQUEST,
    alex,  # noqa: F401 - fixture
    fill_ppf,
    other_family,
    pdf_text,
    second_carer,
    svc,  # noqa: F401 - fixture
)
from tests.test_messages_api import Client

REF = "EHC-0001"


@pytest.fixture
async def api(portal):
    async with api_client(portal, [cases_routes(), messages_routes(), forms_routes()], Client) as client:
        yield client


async def form_notices(portal, prefix: str) -> list[OutboxItem]:
    async with portal.db() as s:
        rows = (await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    return [n for n in rows if (n.dedupe_key or "").startswith(prefix)]


async def assign(api, ref: str = REF, **body):
    body = {"form_id": PPF, "due_date": "2026-12-08", **body}
    return await api.call("POST", f"/v1/cases/{ref}/forms", body)


async def submitted(forms, api, chat: int = ALEX) -> int:  # noqa: ANN001
    status, a = await assign(api)
    assert status == 201, a
    rid = (await forms.open_assignment(chat, a["id"])).id
    await fill_ppf(forms, chat, rid)
    await forms.submit(chat, rid)
    return rid


# --- definitions -------------------------------------------------------------------------------


async def test_the_definitions(api):
    status, body = await api.call("GET", "/v1/forms")
    assert status == 200
    forms = {f["id"]: f for f in body["items"]}
    assert {PPF, REQUEST, "annual_review_views"} <= set(forms)
    ppf = forms[PPF]
    assert ppf["title"] == "Parental Preference Form" and ppf["started_by"] == "team" and not ppf["creates_case"]
    assert len(ppf["steps"]) == 6 and ppf["steps"][0]["name"] == "Parental Preference Form"
    questions = {q["id"]: q["type"] for st in ppf["steps"] for q in st["questions"]}
    assert questions["school_1"] == "list_choice" and questions["supporting_documents"] == "file"
    assert forms[REQUEST]["started_by"] == "parent" and forms[REQUEST]["creates_case"]

    status, whole = await api.call("GET", f"/v1/forms/{PPF}")
    assert status == 200 and whole["id"] == PPF and whole["version"] >= 1
    items = {i.get("id"): i for st in whole["steps"] for i in st["items"]}
    assert items["school_1"]["list"] == "schools", "by alias, as the definition files spell it"
    assert items["relationship_other"]["show_if"]["question"] == "relationship"

    status, err = await api.call("GET", "/v1/forms/nope")
    assert status == 404 and err["error"]["code"] == "not_found"
    for path in ("/v1/forms", f"/v1/forms/{PPF}", f"/v1/cases/{REF}/forms", "/v1/form-submissions",
                 "/v1/form-submissions/1", "/v1/form-submissions/1/pdf"):
        status, err = await api.call("GET", path, token=False)
        assert status == 401, path


# --- assigning -----------------------------------------------------------------------------------


async def test_assigning_is_refused_plainly(api, alex, portal):  # noqa: F811
    pat = await other_family(portal)
    for body, code in (
        ({"form_id": "no_such_form"}, "unknown_form"),
        ({"form_id": REQUEST}, "not_assignable"),
        ({"due_date": "2026-11-23"}, "due_in_past"),
        ({"account_id": pat.account_id}, "no_access"),
        ({"account_id": 10**9}, "no_access"),
        ({"due_date": "8 Dec 2026"}, "validation_error"),
        ({"colour": "red"}, "validation_error"),
        ({"note": "x" * 2001}, "validation_error"),
    ):
        status, err = await assign(api, **body)
        assert (status, err["error"]["code"]) == (422, code), body
    status, err = await assign(api, "EHC-9999")
    assert status == 404
    status, _ = await api.call("POST", f"/v1/cases/{REF}/forms", {"form_id": PPF}, token=False)
    assert status == 401
    assert await form_notices(portal, "form-") == []
    status, body = await api.call("GET", f"/v1/cases/{REF}/forms")
    assert (status, body["items"]) == (200, [])


async def test_assigning_tells_each_carer_with_a_button_and_withdrawing_tells_them_again(api, alex, portal, svc):  # noqa: F811
    dan = await second_carer(portal, alex)
    status, a = await assign(api, note="Please send it before the meeting on <Friday>.")
    assert status == 201, a
    assert (a["form_id"], a["title"], a["due_date"], a["account_id"], a["assigned_by"]) == (
        PPF, "Parental Preference Form", "2026-12-08", None, "case-system")
    assert a["withdrawn_at"] is None and a["submissions"] == []

    notices = await form_notices(portal, "form-assigned:")
    assert sorted(n.chat_id for n in notices) == [ALEX, DAN]
    n = notices[0]
    assert n.text == (
        "✍️ <b>A form to complete for Sam</b>\n"
        "The SEND team asks you to fill in the Parental Preference Form.\n"
        "Please complete it by 8 Dec 2026.\n"
        "Please send it before the meeting on &lt;Friday&gt;.\n\n"
        "Your answers are saved as you go, so you can stop and carry on later."
    )
    assert n.payload["buttons"] == [[{"text": "✍️ Open the form", "data": f"form:{a['id']}:open"}]]
    assert n.payload["markup"] == "HTML" and n.important and n.child_id == alex.child_id
    assert n.email_subject.startswith("A form to complete for Sam")
    # The button's assignment opens for each of them.
    assert (await svc.open_assignment(ALEX, a["id"])).form.id == PPF

    status, one = await assign(api, form_id="annual_review_views", due_date=None, account_id=dan.account_id)
    assert status == 201 and one["account_id"] == dan.account_id
    assert [x.chat_id for x in await form_notices(portal, f"form-assigned:{one['id']}:")] == [DAN]
    assert "Please complete it by" not in (await form_notices(portal, f"form-assigned:{one['id']}:"))[0].text

    status, listed = await api.call("GET", f"/v1/cases/{REF}/forms")
    assert status == 200 and [x["id"] for x in listed["items"]] == [a["id"], one["id"]]

    status, w = await api.call("POST", f"/v1/form-assignments/{a['id']}/withdraw")
    assert status == 200 and w["withdrawn_at"] is not None
    gone = await form_notices(portal, "form-withdrawn:")
    assert sorted(x.chat_id for x in gone) == [ALEX, DAN]
    assert "no longer needs the Parental Preference Form" in gone[0].text
    assert await svc.actions(ALEX, alex.child_id) == []
    status, again = await api.call("POST", f"/v1/form-assignments/{a['id']}/withdraw")
    assert status == 200 and again["withdrawn_at"] == w["withdrawn_at"]
    assert len(await form_notices(portal, "form-withdrawn:")) == 2, "told once"
    status, _ = await api.call("POST", "/v1/form-assignments/999999/withdraw")
    assert status == 404
    status, _ = await api.call("GET", "/v1/cases/EHC-9999/forms")
    assert status == 404


# --- submissions -----------------------------------------------------------------------------------


async def test_submissions_as_json_pdf_and_files(api, alex, portal, svc):  # noqa: F811
    status, body = await api.call("GET", "/v1/form-submissions")
    assert (status, body) == (200, {"items": [], "next_after": None})
    rid = await submitted(svc, api)

    status, body = await api.call("GET", "/v1/form-submissions")
    assert status == 200 and [x["id"] for x in body["items"]] == [rid]
    sub = body["items"][0]
    assert (sub["form_id"], sub["case_reference"], sub["carer_name"], sub["child_id"]) == (
        PPF, REF, "Alex Jones", alex.child_id)
    answers = {a["question_id"]: a for a in sub["answers"]}
    assert "school_2" not in answers and "relationship_other" not in answers, "hidden questions are left out"
    assert answers["start_date"]["value"] == "2027-02-03" and answers["start_date"]["text"] == "3 Feb 2027"
    assert answers["read_guidance"]["value"] is True and answers["read_guidance"]["text"] == "Yes"
    assert answers["school_1"]["step"] and answers["school_1"]["type"] == "list_choice"
    assert answers["anything_else"]["value"] == "Thank you."
    assert [f["filename"] for f in sub["files"]] == ["report.pdf"]

    status, one = await api.call("GET", f"/v1/form-submissions/{rid}")
    assert status == 200 and one == sub

    status, headers, data = await api.raw("GET", f"/v1/form-submissions/{rid}/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert "attachment" in headers["Content-Disposition"] and ".pdf" in headers["Content-Disposition"]
    text = " ".join(pdf_text(data).split())
    for a in sub["answers"]:
        if a["type"] != "file":
            assert " ".join(a["text"].split()) in text, a
    assert "report.pdf" in text

    sha = sub["files"][0]["sha256"]
    status, headers, data = await api.raw("GET", f"/v1/form-submissions/{rid}/files/{sha}")
    assert status == 200 and data == pdf_bytes("School report") and headers["Content-Type"] == "application/pdf"
    for path in (f"/v1/form-submissions/{rid}/files/{'0' * 64}", "/v1/form-submissions/999/pdf",
                 "/v1/form-submissions/999", f"/v1/form-submissions/{rid}/files/..%2F..%2Fetc"):
        status, _, _ = await api.raw("GET", path)
        assert status == 404, path

    # The team's message poll carries the submission with its PDF and the supporting file.
    status, msgs = await api.call("GET", "/v1/messages")
    (m,) = msgs["items"]
    assert (m["source"], m["type"], m["subject"], m["id"]) == (
        "form", "school_placement", "Parental Preference Form submitted", sub["message_id"])
    assert [x["filename"] for x in m["attachments"]] == ["Parental Preference Form - Sam.pdf", "report.pdf"]

    status, listed = await api.call("GET", f"/v1/cases/{REF}/forms")
    assert listed["items"][0]["submissions"] == [rid]
    reads = {e.action for e in (await _audits(portal))}
    assert {"form.submission.poll", "form.submission.read", "form.submission.pdf", "form.submission.file"} <= reads


async def _audits(portal) -> list[AuditEntry]:
    async with portal.db() as s:
        return list((await s.scalars(select(AuditEntry))).all())


async def test_a_draft_is_not_a_submission(api, alex, svc):  # noqa: F811
    status, a = await assign(api)
    rid = (await svc.open_assignment(ALEX, a["id"])).id
    status, _, _ = await api.raw("GET", f"/v1/form-submissions/{rid}")
    assert status == 404
    status, body = await api.call("GET", "/v1/form-submissions")
    assert body["items"] == []


async def test_polling_misses_nothing_submitted_out_of_order(api, alex, portal, svc):  # noqa: F811
    """Alex starts first and sends last; Dan starts later and sends first. A case system that
    polls after Dan's submission still gets Alex's."""
    dan = await second_carer(portal, alex)
    status, a = await assign(api)
    first = (await svc.open_assignment(ALEX, a["id"])).id
    second = (await svc.open_assignment(DAN, a["id"])).id
    assert first < second
    await fill_ppf(svc, DAN, second)
    await svc.submit(DAN, second)
    status, body = await api.call("GET", "/v1/form-submissions?limit=1")
    assert [x["id"] for x in body["items"]] == [second] and body["next_after"] is not None
    cursor = body["next_after"]
    status, body = await api.call("GET", f"/v1/form-submissions?after={cursor}")
    assert body == {"items": [], "next_after": None}

    await fill_ppf(svc, ALEX, first)
    await svc.submit(ALEX, first)
    status, body = await api.call("GET", f"/v1/form-submissions?after={cursor}")
    assert [x["id"] for x in body["items"]] == [first]
    assert [x["carer_name"] for x in body["items"]] == ["Alex Jones"]

    await other_family(portal)
    status, body = await api.call("GET", f"/v1/form-submissions?case={REF}")
    assert [x["id"] for x in body["items"]] == [second, first]
    status, body = await api.call("GET", "/v1/form-submissions?case=EHC-0002")
    assert body["items"] == []
    status, _ = await api.call("GET", "/v1/form-submissions?case=EHC-9999")
    assert status == 404
    status, err = await api.call("GET", "/v1/form-submissions?limit=0")
    assert status == 422
    assert dan.account_id != alex.account_id
