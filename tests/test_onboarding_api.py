"""The onboarding endpoints of the caseworker API, over real HTTP with a bearer token."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

import tests.test_onboarding_service as service_tests
from api.onboarding import build_routes
from core.models import AuditEntry, EmailItem, OutboxItem
from core.onboarding import ChatLinkService, InvitationService
from core.onboarding.models import Invitation
from tests.stack import api_client, count
from tests.test_onboarding_service import code_and_token, emails, make_account

# The service tests' fixtures, shared.
db = service_tests.db
onboarding_settings = service_tests.onboarding_settings
invitations = service_tests.invitations
links = service_tests.links
access = service_tests.access

INVITE = {
    "parent_email": "Jane.Parent@example.org",
    "parent_forename": "Jane",
    "parent_surname": "Parent",
    "child_forename": "Sam",
    "child_surname": "Parent",
    "child_date_of_birth": "2016-05-04",
    "case_reference": "EHC-0001",
}


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.token = http, base, token

    async def call(self, method: str, path: str, *, json=None, key: str | None = None, token: str | None = "default"):  # noqa: ANN001
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        async with self.http.request(method, self.base + path, json=json, headers=headers) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body, resp.headers

    async def post(self, path: str, json=None, **kw):  # noqa: ANN001
        return await self.call("POST", path, json=json, **kw)

    async def get(self, path: str, **kw):
        return await self.call("GET", path, **kw)


@pytest.fixture
async def api(db, onboarding_settings):
    db.settings.onboarding = onboarding_settings
    async with api_client(db, [build_routes()], Api) as client:
        yield client


async def test_every_endpoint_needs_a_token(api):
    calls = [
        ("POST", "/v1/invitations", INVITE),
        ("GET", "/v1/invitations", None),
        ("GET", "/v1/invitations/1", None),
        ("POST", "/v1/invitations/1/verify", {}),
        ("POST", "/v1/invitations/1/resend", None),
        ("POST", "/v1/access/1/activate", None),
        ("GET", "/v1/children/1/access", None),
        ("GET", "/v1/accounts/1/chats", None),
        ("POST", "/v1/chats/111/revoke", None),
    ]
    for method, path, body in calls:
        status, err, headers = await api.call(method, path, json=body, token=None)
        assert status == 401 and err["error"]["code"] == "unauthorized", path
        status, _, _ = await api.call(method, path, json=body, token="not-a-real-token")
        assert status == 401, path


async def test_create_read_and_list_invitations(api, db):
    status, body, _ = await api.post("/v1/invitations", INVITE)
    assert status == 201
    assert body["status"] == "sent" and body["case_reference"] == "EHC-0001" and not body["locked"]
    assert body["parent_email"] == "jane.parent@example.org" and body["grant_status"] == "pending"
    code, token = await code_and_token(db, "jane.parent@example.org")
    text = str(body)
    assert code not in text and code.replace("-", "") not in text and token not in text
    assert not {"code", "token", "code_hmac", "token_digest", "link"} & set(body)

    status, one, _ = await api.get(f"/v1/invitations/{body['id']}")
    assert status == 200 and one == body
    status, err, _ = await api.get("/v1/invitations/999")
    assert status == 404 and err["error"]["code"] == "not_found"

    other = {**INVITE, "parent_email": "dad@example.org", "parent_forename": "Dan"}
    second = (await api.post("/v1/invitations", other))[1]
    assert second["child_id"] == body["child_id"] and second["grant_id"] != body["grant_id"]
    third = (await api.post("/v1/invitations", {**INVITE, "child_forename": "Ana", "case_reference": "EHC-0002"}))[1]

    status, page, _ = await api.get("/v1/invitations?limit=2")
    assert status == 200 and [i["id"] for i in page["items"]] == [third["id"], second["id"]]
    status, page2, _ = await api.get(f"/v1/invitations?limit=2&cursor={page['next_cursor']}")
    assert [i["id"] for i in page2["items"]] == [body["id"]] and page2["next_cursor"] is None
    _, by_ref, _ = await api.get("/v1/invitations?case_reference=EHC-0001")
    assert {i["id"] for i in by_ref["items"]} == {body["id"], second["id"]}
    _, sent, _ = await api.get("/v1/invitations?status=sent")
    assert len(sent["items"]) == 3
    _, verified, _ = await api.get("/v1/invitations?status=verified")
    assert verified["items"] == []
    status, err, _ = await api.get("/v1/invitations?status=bogus")
    assert status == 422

    async with db.db() as s:
        actions = {a for (a,) in (await s.execute(select(AuditEntry.action))).all()}
    assert {"invitation.create", "invitation.read", "invitation.list"} <= actions


async def test_create_refusals(api):
    assert (await api.post("/v1/invitations", INVITE))[0] == 201
    status, err, _ = await api.post("/v1/invitations", {**INVITE, "parent_email": "b@example.org", "child_forename": "Alex"})
    assert status == 409 and err["error"]["code"] == "case_reference_conflict"
    status, err, _ = await api.post("/v1/invitations", INVITE)
    assert status == 409 and err["error"]["code"] == "already_invited"
    for bad in ({**INVITE, "parent_email": "not-an-email"}, {**INVITE, "child_date_of_birth": "yesterday"},
                {**INVITE, "case_reference": ""}, {k: v for k, v in INVITE.items() if k != "parent_surname"},
                {**INVITE, "extra": 1}):
        status, err, _ = await api.post("/v1/invitations", bad)
        assert status == 422 and err["error"]["code"] == "validation_error", bad


async def test_post_is_idempotent(api, db):
    first = await api.post("/v1/invitations", INVITE, key="inv-1")
    again = await api.post("/v1/invitations", INVITE, key="inv-1")
    assert first[0] == again[0] == 201 and first[1] == again[1]
    assert again[2].get("Idempotency-Replayed") == "true"
    assert await count(db, Invitation) == 1 and await count(db, EmailItem) == 1
    status, err, _ = await api.post("/v1/invitations", {**INVITE, "case_reference": "EHC-9"}, key="inv-1")
    assert status == 422 and err["error"]["code"] == "idempotency_key_reused"

    inv_id = first[1]["id"]
    r1 = await api.post(f"/v1/invitations/{inv_id}/resend", key="resend-1")
    r2 = await api.post(f"/v1/invitations/{inv_id}/resend", key="resend-1")
    assert r1[0] == r2[0] == 200 and r1[1]["sent_count"] == r2[1]["sent_count"] == 2
    assert await count(db, EmailItem) == 2


async def test_verify_by_phone_and_resend(api, db, invitations):
    _, body, _ = await api.post("/v1/invitations", INVITE)
    code, token = await code_and_token(db, "jane.parent@example.org")
    inv_id = body["id"]

    status, err, _ = await api.post(f"/v1/invitations/{inv_id}/verify", {"code": "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"})
    assert status == 422 and err["error"]["code"] == "wrong_code"
    status, err, _ = await api.post(f"/v1/invitations/{inv_id}/verify")
    assert status == 422  # a JSON body ({} at least) is needed
    status, out, _ = await api.post(f"/v1/invitations/{inv_id}/verify", {"code": code})
    assert status == 200 and out["status"] == "verified" and out["verified_by"] == "phone"
    assert (await api.post(f"/v1/invitations/{inv_id}/verify", {}))[0] == 200  # again: no change
    _, verified, _ = await api.get("/v1/invitations?status=verified")
    assert [i["id"] for i in verified["items"]] == [inv_id]
    assert (await invitations.open_invitation_link(token, 111)).outcome == "already_verified"

    status, out, _ = await api.post(f"/v1/invitations/{inv_id}/resend")
    assert status == 200 and out["sent_count"] == 2 and out["status"] == "verified"
    assert (await invitations.open_invitation_link(token, 111)).outcome == "unknown"
    _, new_token = await code_and_token(db, "jane.parent@example.org")
    assert new_token != token

    assert (await api.post("/v1/invitations/999/verify", {}))[0] == 404
    assert (await api.post("/v1/invitations/999/resend"))[0] == 404


async def test_expired_invitation_cannot_be_verified_but_can_be_resent(api, db, clock):
    _, body, _ = await api.post("/v1/invitations", INVITE)
    clock.advance(timedelta(days=29))
    _, expired, _ = await api.get("/v1/invitations?status=expired")
    assert [i["id"] for i in expired["items"]] == [body["id"]]
    status, err, _ = await api.post(f"/v1/invitations/{body['id']}/verify", {})
    assert status == 409 and err["error"]["code"] == "expired"
    status, out, _ = await api.post(f"/v1/invitations/{body['id']}/resend")
    assert status == 200 and out["status"] == "sent"


async def test_activate_access_child_access_and_revoke(api, db, invitations, links, access):
    _, body, _ = await api.post("/v1/invitations", INVITE)
    dad = (await api.post("/v1/invitations", {**INVITE, "parent_email": "dad@example.org", "parent_forename": "Dan"}))[1]
    code, token = await code_and_token(db, "jane.parent@example.org")
    await invitations.open_invitation_link(token, 111)
    await invitations.check_unique_code(body["id"], 111, code)
    account_id = await make_account(db, "jane.parent@example.org")
    await links.link_chat(account_id, 111)

    status, err, _ = await api.post(f"/v1/access/{body['grant_id']}/activate")
    assert status == 409 and err["error"]["code"] == "not_accepted"
    await invitations.respond(account_id, 111, {body["id"]: True})
    _, accepted, _ = await api.get("/v1/invitations?status=accepted")
    assert [i["id"] for i in accepted["items"]] == [body["id"]]

    status, grant, _ = await api.post(f"/v1/access/{body['grant_id']}/activate", key="act-1")
    assert status == 200 and grant["status"] == "active" and grant["account_id"] == account_id
    async with db.db() as s:
        [notice] = (await s.scalars(select(OutboxItem))).all()
    assert notice.chat_id == 111 and notice.important and notice.text.startswith("Good news")
    assert (await api.post(f"/v1/access/{body['grant_id']}/activate", key="act-1"))[2].get("Idempotency-Replayed") == "true"
    assert (await api.post("/v1/access/999/activate"))[0] == 404

    status, child, _ = await api.get(f"/v1/children/{body['child_id']}/access")
    assert status == 200 and child["child_id"] == body["child_id"]
    assert [(g["carer_forename"], g["status"]) for g in child["grants"]] == [("Jane", "active"), ("Dan", "pending")]
    assert "@" not in str(child) and dad["grant_id"] in {g["id"] for g in child["grants"]}
    assert (await api.get("/v1/children/999/access"))[0] == 404

    status, chats, _ = await api.get(f"/v1/accounts/{account_id}/chats")
    assert status == 200 and [c["chat_id"] for c in chats["chats"]] == [111]

    status, revoked, _ = await api.post("/v1/chats/111/revoke", key="rev-1")
    assert status == 200 and revoked["account_id"] == account_id and revoked["chat_id"] == 111
    assert await links.account_for_chat(111) is None
    assert await access.children_for_chat(111) == []
    assert "unlinked" in (await emails(db, "jane.parent@example.org"))[-1].subject
    replay = await api.post("/v1/chats/111/revoke", key="rev-1")
    assert replay[0] == 200 and replay[2].get("Idempotency-Replayed") == "true"
    status, err, _ = await api.post("/v1/chats/111/revoke")
    assert status == 404
    assert (await api.get(f"/v1/accounts/{account_id}/chats"))[1]["chats"] == []


async def test_openapi_lists_the_endpoints(api):
    status, doc, _ = await api.get("/v1/openapi.json", token=None)
    assert status == 200
    for path in (
        "/v1/invitations",
        "/v1/invitations/{id}",
        "/v1/invitations/{id}/verify",
        "/v1/invitations/{id}/resend",
        "/v1/access/{grant_id}/activate",
        "/v1/children/{id}/access",
        "/v1/accounts/{id}/chats",
        "/v1/chats/{chat_id}/revoke",
    ):
        assert path in doc["paths"], path


def test_module_level_routes_exist():
    from api.onboarding import api

    assert {r.path for r in api} >= {"/v1/invitations", "/v1/chats/{chat_id:int}/revoke"}
    assert InvitationService and ChatLinkService
