"""Cases in the caseworker API (issue 4): create and read a case, record events through the
20-week process, exceptions, withdrawn events, a moved request date, the caseworker, the list of
council dates overdue or due soon, and the notices each change writes for the family.

Over real HTTP with a bearer token, on a portal built by the migrations, with a FrozenClock set in
2023 (the worked example of PRODUCT.md: a request of 30 Jan 2023)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiohttp
import pytest
from sqlalchemy import select

import core.schema  # noqa: F401 - every table in the metadata (make_account needs `accounts`)
from api.cases import build_routes
from core.clock import FrozenClock
from core.models import OutboxItem
from core.onboarding import AccessService, ChatLinkService, InvitationService, OnboardingSettings
from tests.stack import api_client
from tests.test_onboarding_service import CASEWORKER, code_and_token, invite, make_account

REF = "EHC-0001"
CHILD = ("Sam", "Jones", date(2016, 5, 4))
CASE = {
    "case_reference": REF,
    "child_forename": "Sam",
    "child_surname": "Jones",
    "child_date_of_birth": "2016-05-04",
    "request_date": "2023-01-30",
    "requestor": "Parent",
}


def at(clock: FrozenClock, y: int, m: int, d: int, hour: int = 12, minute: int = 0) -> None:
    clock.set(datetime(y, m, d, hour, minute, tzinfo=UTC))


@pytest.fixture
def clock() -> FrozenClock:
    # 1 Feb 2023, two days after the request of the worked example.
    return FrozenClock(datetime(2023, 2, 1, 12, 0, tzinfo=UTC))


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.token = http, base, token

    async def call(self, method: str, path: str, json=None, *, token: bool = True):  # noqa: ANN001
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        async with self.http.request(method, self.base + path, json=json, headers=headers) as r:
            return r.status, await r.json()

    async def create(self, **changes) -> dict:  # noqa: ANN003
        status, body = await self.call("POST", "/v1/cases", {**CASE, **changes})
        assert status == 201, body
        return body

    async def event(self, kind: str, on: str, ref: str = REF, **details) -> dict:  # noqa: ANN003
        status, body = await self.call(
            "POST", f"/v1/cases/{ref}/events", {"kind": kind, "on": on, "details": details}
        )
        assert status == 201, body
        return body["case"]

    async def case(self, ref: str = REF) -> dict:
        status, body = await self.call("GET", f"/v1/cases/{ref}")
        assert status == 200, body
        return body

    async def refused_without_a_good_token(self, calls: list[tuple[str, str, dict | None]]) -> None:
        """Each call (method, path, body) is refused (401) with no token, and with a made-up one."""
        for method, path, body in calls:
            status, err = await self.call(method, path, body, token=False)
            assert status == 401 and err["error"]["code"] == "unauthorized", path
            headers = {"Authorization": "Bearer not-a-real-token"}
            async with self.http.request(method, self.base + path, json=body, headers=headers) as r:
                assert r.status == 401 and (await r.json())["error"]["code"] == "invalid_token", path


@pytest.fixture
async def api(portal):
    async with api_client(portal, [build_routes()], Api) as client:
        yield client


def by_key(case: dict) -> dict[str, dict]:
    return {k["key"]: k for k in case["key_dates"]}


def dues(case: dict) -> dict[str, str]:
    """The key dates that apply, as {key: due}."""
    return {k["key"]: k["due"] for k in case["key_dates"] if k["status"] != "not_applicable"}


# --- a carer with active access, as onboarding makes one ------------------------------------------


async def active_carer(
    portal,  # noqa: ANN001
    email: str,
    chat_id: int,
    *,
    ref: str = REF,
    child: tuple[str, str, date] = CHILD,
    parent: tuple[str, str] = ("Alex", "Jones"),
) -> tuple[int, int]:
    """Invited for the case `ref` (the child's details must match it), the unique code given in
    `chat_id`, an account linked to the chat, the invitation accepted and access activated.
    Returns (child id, account id)."""
    settings = OnboardingSettings(_env_file=None, bot_username="ehcp_test_bot")
    invitations = InvitationService(portal, settings)
    view = await invite(invitations, email, parent=parent, child=child, ref=ref)
    code, token = await code_and_token(portal, email)
    await invitations.open_invitation_link(token, chat_id)
    await invitations.check_unique_code(view.id, chat_id, code)
    account_id = await make_account(portal, email)
    await ChatLinkService(portal, settings).link_chat(account_id, chat_id)
    await invitations.respond(account_id, chat_id, {view.id: True})
    await AccessService(portal, settings).activate_access(view.grant_id, CASEWORKER)
    return view.child_id, account_id


async def notices(portal, after: int = 0) -> list[OutboxItem]:  # noqa: ANN001
    """Case notices in the outbox (not the activation notice), oldest first, with id > after."""
    async with portal.db() as s:
        rows = (
            await s.scalars(select(OutboxItem).where(OutboxItem.id > after).order_by(OutboxItem.id))
        ).all()
    return [n for n in rows if (n.dedupe_key or "").startswith("case-")]


async def last_id(portal) -> int:  # noqa: ANN001
    async with portal.db() as s:
        return await s.scalar(select(OutboxItem.id).order_by(OutboxItem.id.desc()).limit(1)) or 0


async def told(api: Api, portal, clock: FrozenClock, kind: str, on: str) -> OutboxItem:  # noqa: ANN001
    """The one case notice that recording the event `kind` on the day it happened (`on`, the
    clock at noon that day) writes."""
    at(clock, *map(int, on.split("-")))
    start = await last_id(portal)
    await api.event(kind, on)
    [n] = await notices(portal, start)
    return n


# --- create and read ------------------------------------------------------------------------------


async def test_create_a_case_and_read_the_worked_example(api):
    created = await api.create(
        caseworker={
            "name": "Jo Smith",
            "email": "Jo.Smith@Council.example",
            "phone": "01905 000000",
        }
    )
    assert created["case_reference"] == REF and created["request_date"] == "2023-01-30"
    assert created["requestor"] == "Parent"
    assert (created["caseworker_name"], created["caseworker_email"]) == (
        "Jo Smith",
        "jo.smith@council.example",
    )
    assert created["stage"] == "deciding whether to assess"
    assert created["events"] == [] and created["exceptions"] == []
    # PRODUCT.md: request 30 Jan 2023 -> 12 Mar 2023, 21 May 2023, 18 Jun 2023.
    assert dues(created) == {
        "decision_to_assess": "2023-03-12",
        "assessment_decision": "2023-05-21",
        "final_plan": "2023-06-18",
    }
    kd = by_key(created)
    assert (
        kd["decision_to_assess"]["status"] == "due"
        and kd["decision_to_assess"]["start"] == "2023-01-30"
    )
    assert kd["decision_to_assess"]["source"] == "SEND Regulations 2014, reg 5(1)"
    assert kd["annual_review"]["status"] == "not_applicable" and kd["annual_review"]["due"] is None

    read = await api.case()
    assert read == created

    status, err = await api.call("POST", "/v1/cases", CASE)
    assert status == 409 and err["error"]["code"] == "case_exists"
    status, err = await api.call("POST", "/v1/cases", {**CASE, "child_forename": "Other"})
    assert status == 409, "the reference is taken, whoever the child"
    status, err = await api.call("GET", "/v1/cases/EHC-9999")
    assert status == 404 and err["error"]["code"] == "not_found"


async def test_create_refuses_bad_input(api):
    future = await api.call("POST", "/v1/cases", {**CASE, "request_date": "2023-02-02"})
    assert future[0] == 422 and "future" in future[1]["error"]["message"]
    for bad in (
        {**CASE, "case_reference": ""},
        {**CASE, "case_reference": "has space"},
        {**CASE, "child_date_of_birth": "yesterday"},
        {**CASE, "request_date": "30/01/2023"},
        {**CASE, "caseworker": {"name": "Jo", "email": "not-an-email"}},
        {**CASE, "extra": 1},
        {k: v for k, v in CASE.items() if k != "child_surname"},
    ):
        status, err = await api.call("POST", "/v1/cases", bad)
        assert status == 422 and err["error"]["code"] == "validation_error", bad
    status, _ = await api.call("GET", f"/v1/cases/{REF}")
    assert status == 404, "nothing was created"


async def test_today_is_a_valid_request_date(api, clock):
    at(clock, 2023, 1, 30, 23, 30)  # 23:30 GMT on 30 Jan: still 30 Jan in London
    case = await api.create()
    assert case["request_date"] == "2023-01-30"
    at(clock, 2023, 6, 30, 23, 30)  # 00:30 BST on 1 Jul in London
    case = await api.create(case_reference="EHC-0002", request_date="2023-07-01")
    assert dues(case)["decision_to_assess"] == "2023-08-11"


# --- events and the stage -------------------------------------------------------------------------


async def test_the_20_week_process_and_after_step_by_step(api, clock):
    await api.create()

    at(clock, 2023, 3, 9)
    case = await api.event("decision_to_assess", "2023-03-09")
    assert case["stage"] == "assessing"
    kd = by_key(case)["decision_to_assess"]
    assert (kd["status"], kd["met_on"], kd["due"]) == ("met", "2023-03-09", "2023-03-12")
    assert by_key(case)["assessment_decision"]["status"] == "due"

    at(clock, 2023, 5, 19)
    case = await api.event("decision_to_issue_plan", "2023-05-19")
    assert case["stage"] == "draft plan"
    assert by_key(case)["assessment_decision"]["status"] == "met"

    at(clock, 2023, 5, 22)
    case = await api.event("draft_plan_served", "2023-05-22")
    assert case["stage"] == "draft plan"
    kd = by_key(case)["draft_plan_comments"]
    assert (kd["status"], kd["due"]) == (
        "due",
        "2023-06-05",
    )  # 15 days, the day of service as day 1

    at(clock, 2023, 6, 16)
    case = await api.event("final_plan_issued", "2023-06-16")
    assert case["stage"] == "final plan issued"
    assert by_key(case)["final_plan"]["status"] == "met"
    assert by_key(case)["annual_review"]["due"] == "2024-06-15"
    # 2 months after 16 Jun 2023 is in August: the first working day of September.
    assert by_key(case)["tribunal_appeal"]["due"] == "2023-09-01"
    assert by_key(case)["draft_plan_comments"]["status"] == "not_applicable"  # the window closed

    at(clock, 2024, 5, 21)
    case = await api.event("annual_review_meeting", "2024-05-20")
    assert case["stage"] == "annual review"
    assert dues(case)["review_report"] == "2024-06-02"
    assert dues(case)["review_decision"] == "2024-06-16"
    assert dues(case)["annual_review"] == "2025-05-19"  # counted from the meeting now

    at(clock, 2024, 6, 10)
    case = await api.event("amendment_notice", "2024-06-10")
    assert case["stage"] == "amendment"
    assert by_key(case)["review_decision"]["status"] == "met"
    assert dues(case)["amendment_comments"] == "2024-06-24"
    assert dues(case)["amended_plan"] == "2024-08-04"

    at(clock, 2024, 7, 20)
    case = await api.event("amended_plan_issued", "2024-07-20")
    assert case["stage"] == "final plan issued"
    assert by_key(case)["amended_plan"]["status"] == "met"

    assert [e["kind"] for e in case["events"]] == [
        "decision_to_assess",
        "decision_to_issue_plan",
        "draft_plan_served",
        "final_plan_issued",
        "annual_review_meeting",
        "amendment_notice",
        "amended_plan_issued",
    ]
    assert case["events"][0]["name"] == "Decision to carry out an EHC needs assessment"
    assert all(
        e["recorded_by"] == "case-system" and e["withdrawn_at"] is None for e in case["events"]
    )
    assert await api.case() == case


async def test_decisions_not_to_assess_or_not_to_issue(api, clock):
    await api.create()
    await api.create(case_reference="EHC-0002", child_forename="Ana")
    at(clock, 2023, 3, 10)
    case = await api.event("decision_not_to_assess", "2023-03-10")
    assert case["stage"] == "not assessing"
    assert by_key(case)["decision_to_assess"]["status"] == "met"
    assert by_key(case)["assessment_decision"]["status"] == "not_applicable"
    assert by_key(case)["final_plan"]["status"] == "not_applicable"
    assert dues(case)["tribunal_appeal"] == "2023-05-10"

    await api.event("decision_to_assess", "2023-03-01", ref="EHC-0002")
    at(clock, 2023, 5, 1)
    case = await api.event("decision_not_to_issue_plan", "2023-05-01", ref="EHC-0002")
    assert case["stage"] == "no plan"
    assert by_key(case)["assessment_decision"]["status"] == "met"
    assert by_key(case)["final_plan"]["status"] == "not_applicable"
    # 2 months on is Sat 1 Jul 2023: the tribunal's rule 12(2) moves it to Mon 3 Jul.
    assert dues(case)["tribunal_appeal"] == "2023-07-03"


async def test_event_refusals(api, clock):
    await api.create(case_reference="NO-DATE", request_date=None)
    await api.create()
    at(clock, 2023, 3, 1)

    async def post(body: dict, ref: str = REF) -> tuple[int, dict]:
        return await api.call("POST", f"/v1/cases/{ref}/events", body)

    status, err = await post({"kind": "decision_to_assess", "on": "2023-02-20"}, "NO-DATE")
    assert status == 409 and err["error"]["code"] == "no_request_date"
    status, err = await post({"kind": "decision_to_assess", "on": "2023-01-29"})
    assert status == 422 and "before the request" in err["error"]["message"]
    status, err = await post({"kind": "decision_to_assess", "on": "2023-03-02"})
    assert status == 422 and "future" in err["error"]["message"]
    status, err = await post({"kind": "plan_approved_by_magic", "on": "2023-02-20"})
    assert status == 422 and err["error"]["code"] == "validation_error"
    status, err = await post({"kind": "phase_transfer", "on": "2023-02-20"})
    assert status == 422 and "details.year" in err["error"]["message"]
    status, err = await post(
        {"kind": "phase_transfer", "on": "2023-02-20", "details": {"year": 2030}}
    )
    assert status == 422
    status, err = await post(
        {
            "kind": "phase_transfer",
            "on": "2023-02-20",
            "details": {"year": 2024, "transfer_kind": "x"},
        }
    )
    assert status == 422
    status, err = await post(
        {"kind": "exception", "on": "2023-02-20", "details": {"exception": "flu"}}
    )
    assert status == 422 and "details.exception" in err["error"]["message"]
    status, err = await post(
        {"kind": "decision_to_assess", "on": "2023-02-20", "details": {"x": 1}}
    )
    assert status == 422 and "does not take" in err["error"]["message"]
    status, err = await post({"kind": "decision_to_assess", "on": "2023-02-20"}, "EHC-9999")
    assert status == 404
    # Nothing was recorded by any of these.
    assert (await api.case())["events"] == [] and (await api.case("NO-DATE"))["events"] == []

    case = await api.event(
        "phase_transfer", "2023-02-20", year=2024, transfer_kind="secondary_to_post16"
    )
    assert dues(case)["phase_transfer"] == "2024-03-30"  # reg 18(1)(a): "before 31 March"
    assert case["events"][0]["details"] == {"year": 2024, "transfer_kind": "secondary_to_post16"}


async def test_an_exception_is_shown_and_flags_dates_without_moving_them(api, clock):
    before = await api.create()
    at(clock, 2023, 2, 20)
    case = await api.event("exception", "2023-02-20", exception="school_closed_4_weeks")
    assert case["exceptions"] == ["the school was closed for 4 weeks or more"]
    assert case["stage"] == "deciding whether to assess"
    assert dues(case) == dues(before)
    for key in ("decision_to_assess", "assessment_decision", "final_plan"):
        kd = by_key(case)[key]
        assert kd["exception"] is True and "the statutory date is unchanged" in kd["note"], kd
    assert by_key(case)["tribunal_appeal"]["exception"] is False
    assert by_key(before)["decision_to_assess"]["exception"] is False

    withdrawn = await api.call("POST", f"/v1/cases/{REF}/events/{case['events'][0]['id']}/withdraw")
    assert withdrawn[0] == 200
    assert withdrawn[1]["exceptions"] == [] and not by_key(withdrawn[1])["final_plan"]["exception"]


async def test_withdrawing_an_event_puts_the_stage_and_dates_back(api, clock):
    await api.create()
    at(clock, 2023, 3, 9)
    status, out = await api.call(
        "POST", f"/v1/cases/{REF}/events", {"kind": "decision_to_assess", "on": "2023-03-08"}
    )
    assert status == 201 and out["case"]["stage"] == "assessing"
    event_id = out["event_id"]
    assert [e["id"] for e in out["case"]["events"]] == [event_id]

    at(clock, 2023, 3, 10)
    status, case = await api.call("POST", f"/v1/cases/{REF}/events/{event_id}/withdraw")
    assert status == 200
    assert case["stage"] == "deciding whether to assess"
    kd = by_key(case)["decision_to_assess"]
    assert (kd["status"], kd["met_on"], kd["due"]) == ("due", None, "2023-03-12")
    [event] = case["events"]
    assert event["id"] == event_id and event["kind"] == "decision_to_assess"
    assert event["withdrawn_at"] is not None and event["withdrawn_at"].startswith(
        "2023-03-10T12:00"
    )
    assert await api.case() == case

    status, err = await api.call("POST", f"/v1/cases/{REF}/events/{event_id}/withdraw")
    assert status == 409 and err["error"]["code"] == "already_withdrawn"
    status, err = await api.call("POST", f"/v1/cases/{REF}/events/99999/withdraw")
    assert status == 404
    await api.create(case_reference="EHC-0002", child_forename="Ana")
    status, err = await api.call("POST", f"/v1/cases/EHC-0002/events/{event_id}/withdraw")
    assert status == 404, "an event of another case"

    # A decision not to assess, then reversed (after mediation, say): the later decision stands,
    # with the assessment's dates. Withdrawing the reversal leaves the first decision.
    await api.event("decision_not_to_assess", "2023-03-01")
    status, out = await api.call(
        "POST", f"/v1/cases/{REF}/events", {"kind": "decision_to_assess", "on": "2023-03-02"}
    )
    reversed_ = out["case"]
    assert reversed_["stage"] == "assessing"
    assert dues(reversed_)["assessment_decision"] == "2023-05-21"
    assert dues(reversed_)["final_plan"] == "2023-06-18"
    assert "tribunal_appeal" not in dues(reversed_), "nothing left to appeal"
    status, case = await api.call("POST", f"/v1/cases/{REF}/events/{out['event_id']}/withdraw")
    assert status == 200 and case["stage"] == "not assessing" and "tribunal_appeal" in dues(case)
    assert "assessment_decision" not in dues(case)


async def test_patch_request_date_moves_the_key_dates(api, clock):
    await api.create()
    at(clock, 2023, 2, 10)
    status, case = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-02-06"})
    assert status == 200 and case["request_date"] == "2023-02-06"
    assert dues(case) == {
        "decision_to_assess": "2023-03-19",
        "assessment_decision": "2023-05-28",
        "final_plan": "2023-06-25",
    }
    assert await api.case() == case

    status, case = await api.call(
        "PATCH", f"/v1/cases/{REF}", {"child_forename": "Samuel", "requestor": "School"}
    )
    assert status == 200 and case["child_forename"] == "Samuel" and case["requestor"] == "School"
    assert case["request_date"] == "2023-02-06", "a field not sent is left as it is"

    status, err = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-02-11"})
    assert status == 422 and "future" in err["error"]["message"]
    status, err = await api.call("PATCH", f"/v1/cases/{REF}", {"stage": "final plan issued"})
    assert status == 422, "the stage is never set"
    status, err = await api.call("PATCH", "/v1/cases/EHC-9999", {"requestor": "School"})
    assert status == 404

    status, case = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": None})
    assert status == 200 and case["stage"] == "request received" and dues(case) == {}


async def test_request_date_after_a_recorded_decision_is_refused(api, clock):
    await api.create()
    at(clock, 2023, 3, 20)
    await api.event("decision_to_assess", "2023-03-09")
    status, err = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-03-10"})
    assert status == 422 and "decision" in err["error"]["message"]
    case = await api.case()
    assert case["request_date"] == "2023-01-30" and case["stage"] == "assessing"
    # Before the decision is fine.
    status, case = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-02-01"})
    assert status == 200 and by_key(case)["decision_to_assess"]["status"] == "met"


async def test_put_caseworker(api):
    await api.create()
    status, case = await api.call(
        "PUT", f"/v1/cases/{REF}/caseworker", {"name": "Jo Smith", "email": "JO@council.example"}
    )
    assert status == 200
    assert (case["caseworker_name"], case["caseworker_email"], case["caseworker_phone"]) == (
        "Jo Smith",
        "jo@council.example",
        None,
    )
    assert (await api.case())["caseworker_name"] == "Jo Smith"
    status, _ = await api.call(
        "PUT", f"/v1/cases/{REF}/caseworker", {"email": "jo@council.example"}
    )
    assert status == 422
    status, _ = await api.call("PUT", f"/v1/cases/{REF}/caseworker", {"name": ""})
    assert status == 422
    status, _ = await api.call("PUT", "/v1/cases/EHC-9999/caseworker", {"name": "Jo Smith"})
    assert status == 404


# --- the list of dates overdue or due soon --------------------------------------------------------


async def test_key_dates_overdue_and_due_soon(api, clock):
    at(clock, 2023, 2, 25)
    await api.create(
        case_reference="A",
        request_date="2023-01-30",  # due 12 Mar: 3 days overdue
        caseworker={"name": "Jo Smith"},
    )
    await api.create(
        case_reference="B",
        child_forename="Bea",
        request_date="2023-02-10",  # 23 Mar
        caseworker={"name": "Ali Khan"},
    )
    await api.create(case_reference="C", child_forename="Cal", request_date="2023-02-20")  # 2 Apr
    await api.create(
        case_reference="D",
        child_forename="Dee",
        request_date="2023-01-20",  # 2 Mar
        caseworker={"name": "Jo Smith"},
    )
    await api.create(case_reference="E", child_forename="Eve", request_date=None)
    at(clock, 2023, 3, 10)
    await api.event("draft_plan_served", "2023-03-10", ref="E")  # the parent's window: not listed
    at(clock, 2023, 3, 15)

    async def page(query: str = "") -> dict:
        status, body = await api.call("GET", "/v1/key-dates" + query)
        assert status == 200, body
        return body

    first = await page()
    rows = [
        (i["case_reference"], i["key"], i["due"], i["status"], i["days"]) for i in first["items"]
    ]
    assert rows == [
        # Days late are counted from the strict legal last day (the date shown + 1).
        ("D", "decision_to_assess", "2023-03-02", "overdue", 12),
        ("A", "decision_to_assess", "2023-03-12", "overdue", 2),
        ("B", "decision_to_assess", "2023-03-23", "due", 8),
    ]
    assert first["next_offset"] is None
    d = first["items"][0]
    assert (d["child_forename"], d["child_surname"], d["caseworker_name"]) == (
        "Dee",
        "Jones",
        "Jo Smith",
    )
    assert d["source"] == "SEND Regulations 2014, reg 5(1)"
    assert d["name"] == "Decision whether to carry out an EHC needs assessment"

    assert [i["case_reference"] for i in (await page("?within_days=30"))["items"]] == [
        "D",
        "A",
        "B",
        "C",
    ]
    assert [i["case_reference"] for i in (await page("?within_days=0"))["items"]] == ["D", "A"]
    assert [i["case_reference"] for i in (await page("?caseworker=jo%20smith"))["items"]] == [
        "D",
        "A",
    ]
    assert [i["case_reference"] for i in (await page("?caseworker=Ali%20Khan"))["items"]] == ["B"]
    assert (await page("?caseworker=Nobody"))["items"] == []

    one = await page("?limit=2")
    assert [i["case_reference"] for i in one["items"]] == ["D", "A"] and one["next_offset"] == 2
    two = await page(f"?limit=2&offset={one['next_offset']}")
    assert [i["case_reference"] for i in two["items"]] == ["B"] and two["next_offset"] is None
    jo = await page("?limit=1&caseworker=Jo%20Smith")
    assert [i["case_reference"] for i in jo["items"]] == ["D"] and jo["next_offset"] == 1
    jo2 = await page("?limit=1&offset=1&caseworker=Jo%20Smith")
    assert [i["case_reference"] for i in jo2["items"]] == ["A"] and jo2["next_offset"] is None

    for bad in ("?within_days=-1", "?limit=0", "?offset=-1", "?bogus=1"):
        status, _ = await api.call("GET", "/v1/key-dates" + bad)
        assert status == 422, bad

    # A decision recorded (late, for A) takes the date off the list; D's decision not to assess too.
    await api.event("decision_to_assess", "2023-03-14", ref="A")
    await api.event("decision_not_to_assess", "2023-03-15", ref="D")
    assert [i["case_reference"] for i in (await page())["items"]] == ["B"]
    late = by_key(await api.case("A"))["decision_to_assess"]
    assert (late["status"], late["met_on"]) == ("overdue", "2023-03-14")
    # A's next council dates are far off; they come into the list as time passes.
    at(clock, 2023, 5, 10)
    rows = [(i["case_reference"], i["key"]) for i in (await page())["items"]]
    assert rows == [
        ("B", "decision_to_assess"),
        ("C", "decision_to_assess"),
        ("A", "assessment_decision"),
    ]


async def test_every_endpoint_needs_the_token(api):
    await api.create()
    calls = [
        ("POST", "/v1/cases", {**CASE, "case_reference": "X"}),
        ("GET", f"/v1/cases/{REF}", None),
        ("PATCH", f"/v1/cases/{REF}", {"requestor": "School"}),
        ("PUT", f"/v1/cases/{REF}/caseworker", {"name": "Jo"}),
        ("POST", f"/v1/cases/{REF}/events", {"kind": "decision_to_assess", "on": "2023-02-01"}),
        ("POST", f"/v1/cases/{REF}/events/1/withdraw", None),
        ("GET", "/v1/key-dates", None),
    ]
    for method, path, body in calls:
        status, err = await api.call(method, path, body, token=False)
        assert status == 401 and err["error"]["code"] == "unauthorized", path
    case = await api.case()
    assert (
        case["events"] == [] and case["requestor"] == "Parent" and case["caseworker_name"] is None
    )
    assert (await api.call("GET", "/v1/cases/X"))[0] == 404


# --- what the family is told ----------------------------------------------------------------------


async def test_notices_to_the_family_through_the_process(api, portal, clock):
    case = await api.create(caseworker={"name": "Jo Smith", "email": "jo@council.example"})
    child_id, _ = await active_carer(portal, "alex@example.org", 111)
    assert child_id == case["child_id"]
    start = await last_id(portal)
    assert await notices(portal) == [], "creating a case with no carer told nobody"

    at(clock, 2023, 3, 9)
    await api.event("decision_to_assess", "2023-03-09")
    [n] = await notices(portal, start)
    assert n.chat_id == 111 and n.child_id == child_id and n.important and n.kind == "notice"
    assert n.fallback_email == "alex@example.org"
    assert n.payload["buttons"] == [
        [{"text": "📊 SEND Dashboard", "data": f"dash:{child_id}"}]
    ]
    assert "The council has decided to carry out an EHC needs assessment for Sam." in n.text
    assert "The next date is <b>21 May 2023</b>" in n.text
    assert "the council's notice if it will not issue an EHC plan" in n.text  # reg 10(1)
    assert "12 Mar 2023" not in n.text, "the date just met is not the next date"

    n = await told(api, portal, clock, "decision_to_issue_plan", "2023-05-19")
    assert "decided to issue an EHC plan for Sam" in n.text
    assert "The next date is <b>18 Jun 2023</b>: the final EHC plan." in n.text

    n = await told(api, portal, clock, "draft_plan_served", "2023-05-22")
    assert "The draft EHC plan for Sam was sent to you on 22 May 2023." in n.text
    assert "You have until <b>5 Jun 2023</b> to send your comments" in n.text
    assert "The next date is <b>5 Jun 2023</b>" in n.text

    n = await told(api, portal, clock, "final_plan_issued", "2023-06-16")
    assert "The final EHC plan for Sam was issued on 16 Jun 2023." in n.text
    # 16 Aug 2023 is in August: rule 12(3)(a) moves it to Fri 1 Sep; said with the 5pm cut-off.
    assert "The tribunal must have your appeal by <b>5pm on Fri 1 Sep 2023</b>." in n.text
    assert n.payload["buttons"][0] == [{"text": "⚖️ What can I do?", "data": f"rights:{n.child_id}:"}]


async def test_decision_not_to_assess_tells_the_appeal_deadline(api, portal, clock):
    await api.create()
    await active_carer(portal, "alex@example.org", 111)
    n = await told(api, portal, clock, "decision_not_to_assess", "2023-03-10")
    assert "The council has decided not to carry out an EHC needs assessment for Sam." in n.text
    assert "you can appeal to the SEND Tribunal" in n.text
    assert "The tribunal must have your appeal by <b>5pm on Wed 10 May 2023</b>." in n.text
    assert "First contact the mediation adviser" in n.text


async def test_exception_and_withdrawal_notices(api, portal, clock):
    await api.create()
    await active_carer(portal, "alex@example.org", 111)
    at(clock, 2023, 2, 20)
    start = await last_id(portal)
    case = await api.event("exception", "2023-02-20", exception="absent_from_area_4_weeks")
    [n] = await notices(portal, start)
    assert (
        "recorded an exception on Sam's case: absence from the area for 4 weeks or more" in n.text
    )
    assert "The dates on the SEND Dashboard stay as the law sets them" in n.text
    assert "The next date is <b>12 Mar 2023</b>" in n.text

    at(clock, 2023, 3, 9)
    decided = await api.event("decision_to_assess", "2023-03-09")
    start = await last_id(portal)
    await api.call("POST", f"/v1/cases/{REF}/events/{decided['events'][-1]['id']}/withdraw")
    [n] = await notices(portal, start)
    assert (
        '"Decision to carry out an EHC needs assessment" on 9 Mar 2023 was recorded by mistake'
        in n.text
    )
    assert "The next date is <b>12 Mar 2023</b>" in n.text
    assert case["exceptions"]


async def test_request_date_notices(api, portal, clock):
    await api.create(request_date=None)
    await active_carer(portal, "alex@example.org", 111)
    at(clock, 2023, 2, 10)
    start = await last_id(portal)
    await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-01-30"})
    await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-01-30"})  # no change
    await api.call("PATCH", f"/v1/cases/{REF}", {"requestor": "School"})  # not a date
    [n] = await notices(portal, start)
    assert "the request for an EHC needs assessment for Sam, dated <b>30 Jan 2023</b>" in n.text
    assert "The next date is <b>12 Mar 2023</b>" in n.text

    # Corrected, then corrected back: the family is told each time.
    status, _ = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-02-06"})
    assert status == 200
    at(clock, 2023, 2, 11)
    status, body = await api.call("PATCH", f"/v1/cases/{REF}", {"request_date": "2023-01-30"})
    assert status == 200, body
    texts = [n.text for n in await notices(portal, start)]
    assert len(texts) == 3
    assert (
        "dated <b>6 Feb 2023</b>" in texts[1] and "The next date is <b>19 Mar 2023</b>" in texts[1]
    )
    assert (
        "dated <b>30 Jan 2023</b>" in texts[2] and "The next date is <b>12 Mar 2023</b>" in texts[2]
    )


async def test_caseworker_notices(api, portal):
    await api.create()
    await active_carer(portal, "alex@example.org", 111)
    start = await last_id(portal)
    await api.call(
        "PUT", f"/v1/cases/{REF}/caseworker", {"name": "Jo Smith", "email": "jo@council.example"}
    )
    [n] = await notices(portal, start)
    assert "<b>Jo Smith</b> is now Sam's SEND caseworker." in n.text
    assert "jo@council.example" in n.text and n.chat_id == 111

    # The same caseworker with a new phone number: the family is told the new details.
    status, case = await api.call(
        "PUT",
        f"/v1/cases/{REF}/caseworker",
        {"name": "Jo Smith", "email": "jo@council.example", "phone": "01905 000000"},
    )
    assert status == 200 and case["caseworker_phone"] == "01905 000000"
    texts = [n.text for n in await notices(portal, start)]
    assert len(texts) == 2
    assert "has new contact details: jo@council.example or 01905 000000" in texts[1]

    # The same again, nothing changed: no notice.
    await api.call(
        "PUT",
        f"/v1/cases/{REF}/caseworker",
        {"name": "Jo Smith", "email": "jo@council.example", "phone": "01905 000000"},
    )
    assert len(await notices(portal, start)) == 2

    # Another caseworker, then back to Jo, at the same instant: each is introduced.
    for name in ("Ali Khan", "Jo Smith"):
        status, body = await api.call("PUT", f"/v1/cases/{REF}/caseworker", {"name": name})
        assert status == 200, body
    texts = [n.text for n in await notices(portal, start)]
    assert len(texts) == 4
    assert "<b>Ali Khan</b> is now Sam's SEND caseworker." in texts[2]
    # No contact for the caseworker: the SEND team's contact instead.
    assert "the SEND team at the council" in texts[2]
    assert "<b>Jo Smith</b> is now" in texts[3]


async def test_every_carer_with_active_access_is_told_and_nobody_else(api, portal, clock):
    await api.create()
    await api.create(case_reference="EHC-0002", child_forename="Ana")
    child_id, _ = await active_carer(portal, "mum@example.org", 111, parent=("Mary", "Jones"))
    await active_carer(portal, "dad@example.org", 222, parent=("Dan", "Jones"))
    await ChatLinkService(portal, OnboardingSettings(_env_file=None)).unlink_chat(222, "logout")
    # A third carer invited but not yet active.
    settings = OnboardingSettings(_env_file=None, bot_username="ehcp_test_bot")
    await invite(
        InvitationService(portal, settings),
        "gran@example.org",
        parent=("Gran", "Jones"),
        child=CHILD,
        ref=REF,
    )
    at(clock, 2023, 3, 9)
    start = await last_id(portal)
    await api.event("decision_to_assess", "2023-03-09")
    sent = await notices(portal, start)
    assert sorted((n.chat_id or 0, n.fallback_email) for n in sent) == [
        (0, "dad@example.org"),  # no linked chat: by email
        (111, "mum@example.org"),
    ]
    assert all(n.child_id == child_id for n in sent)

    # The other child's case has no carer: nobody is told.
    start = await last_id(portal)
    await api.event("decision_to_assess", "2023-03-09", ref="EHC-0002")
    await api.call("PUT", "/v1/cases/EHC-0002/caseworker", {"name": "Jo Smith"})
    assert await notices(portal, start) == []
