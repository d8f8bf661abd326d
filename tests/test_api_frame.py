from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api import (
    ApiError,
    ApiRequest,
    ApiRoutes,
    bound_port,
    create_api_app,
    purge_idempotency_keys,
    start_api,
)
from core.config import Settings
from core.models import AuditEntry, Base, IdempotencyRecord, OutboxItem
from core.outbox import enqueue
from core.tokens import create_token, revoke_token
from ehcp.bootstrap import build_portal

# --- a feature the tests register, as a later issue would ---------------------------------------


class ThingIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    size: int = 1


class ThingOut(BaseModel):
    id: int
    name: str
    by: str


@dataclass
class State:
    calls: int = 0
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    fail_next: bool = False


def thing_routes(state: State) -> ApiRoutes:
    api = ApiRoutes()

    @api.post("/v1/things", body=ThingIn, response=ThingOut, status=201, summary="Create a thing", tags=["things"])
    async def create_thing(req: ApiRequest, body: ThingIn) -> ThingOut:
        state.calls += 1
        state.entered.set()
        if state.gate is not None:
            await state.gate.wait()
        if state.fail_next:
            state.fail_next = False
            raise RuntimeError("database exploded, secret detail")
        return ThingOut(id=state.calls, name=body.name, by=req.actor.id)

    @api.get("/v1/things/{id:int}", response=ThingOut, summary="Read a thing", tags=["things"])
    async def read_thing(req: ApiRequest) -> ThingOut:
        if req.params["id"] != 1:
            raise ApiError.not_found("thing")
        return ThingOut(id=1, name="one", by=req.actor.id)

    @api.delete("/v1/things/{id:int}", status=204, summary="Delete a thing", tags=["things"])
    async def delete_thing(req: ApiRequest) -> None:
        state.calls += 1
        return None

    @api.post("/v1/unavailable", summary="Always 503", tags=["things"])
    async def unavailable(req: ApiRequest) -> dict:
        state.calls += 1
        raise ApiError(503, "unavailable", "Try again later.")

    @api.get("/v1/boom", summary="Always fails", tags=["things"])
    async def boom(req: ApiRequest) -> dict:
        raise RuntimeError("secret detail")

    return api


@pytest.fixture
def state() -> State:
    return State()


@pytest.fixture
async def client(portal, state):
    async with TestClient(TestServer(create_api_app(portal, [thing_routes(state)]))) as c:
        yield c


@pytest.fixture
async def token(portal) -> str:
    return await create_token(portal, "case-system")


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


# --- auth, health, errors ---------------------------------------------------------------------


async def test_health_needs_no_token(client):
    resp = await client.get("/v1/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_health_503_when_the_database_is_unreachable(tmp_path: Path, clock):
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        secret_key="k" * 40,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite3",
    )
    portal = build_portal(settings, clock)
    try:
        async with TestClient(TestServer(create_api_app(portal))) as c:
            resp = await c.get("/v1/health")
            assert resp.status == 503
            assert await resp.json() == {"status": "unavailable"}
    finally:
        await portal.close()


async def test_missing_wrong_and_revoked_tokens_refused(client, portal, token):
    resp = await client.get("/v1/things/1")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await resp.json())["error"]["code"] == "unauthorized"

    for header in ("Bearer nope", f"Basic {token}", "Bearer ", token):
        resp = await client.get("/v1/things/1", headers={"Authorization": header})
        assert resp.status == 401, header
        assert "error" in await resp.json()

    resp = await client.get("/v1/things/1", headers=auth(token))
    assert resp.status == 200
    assert await resp.json() == {"id": 1, "name": "one", "by": "case-system"}

    await revoke_token(portal, "case-system")
    resp = await client.get("/v1/things/1", headers=auth(token))
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_token"


async def test_errors_are_json(client, token, caplog):
    resp = await client.get("/v1/nowhere", headers=auth(token))
    assert resp.status == 404 and resp.content_type == "application/json"
    assert (await resp.json())["error"]["code"] == "not_found"

    resp = await client.get("/v1/things/abc", headers=auth(token))  # not an int: no such route
    assert resp.status == 404 and resp.content_type == "application/json"

    resp = await client.get("/v1/notices/" + "9" * 5000, headers=auth(token))
    assert resp.status == 404 and resp.content_type == "application/json"

    resp = await client.get("/v1/things/2", headers=auth(token))
    assert resp.status == 404
    assert await resp.json() == {"error": {"code": "not_found", "message": "No such thing."}}

    resp = await client.put("/v1/health")
    assert resp.status == 405 and resp.content_type == "application/json"
    assert (await resp.json())["error"]["code"] == "method_not_allowed"

    with caplog.at_level(logging.ERROR):
        resp = await client.get("/v1/boom", headers=auth(token))
    assert resp.status == 500 and resp.content_type == "application/json"
    body = await resp.text()
    assert "secret detail" not in body and "Traceback" not in body
    assert (await resp.json())["error"]["code"] == "internal_error"
    assert "secret detail" in caplog.text  # logged for us, not shown to the client


async def test_body_validation_422_with_pydantic_errors(client, token, state):
    resp = await client.post("/v1/things", data=b"{not json", headers=auth(token))
    assert resp.status == 422
    err = (await resp.json())["error"]
    assert err["code"] == "validation_error" and err["details"][0]["type"] == "json_invalid"

    resp = await client.post("/v1/things", json={"name": "", "size": "big"}, headers=auth(token))
    assert resp.status == 422
    details = (await resp.json())["error"]["details"]
    assert {tuple(d["loc"]) for d in details} == {("name",), ("size",)}
    assert all("input" not in d for d in details)  # the input is not echoed back

    resp = await client.post("/v1/things", headers=auth(token))
    assert resp.status == 422
    assert state.calls == 0


async def test_body_size_limit(client, token, state):
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    resp = await client.post("/v1/things", data=big, headers=auth(token, **{"Content-Type": "application/json"}))
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"
    assert state.calls == 0


async def test_post_without_key_is_allowed_and_not_deduplicated(client, token, state):
    for _ in range(2):
        resp = await client.post("/v1/things", json={"name": "a"}, headers=auth(token))
        assert resp.status == 201
        assert "Idempotency-Replayed" not in resp.headers
    assert state.calls == 2


async def test_delete_204(client, token, state):
    resp = await client.delete("/v1/things/1", headers=auth(token, **{"Idempotency-Key": "d1"}))
    assert resp.status == 204
    resp = await client.delete("/v1/things/1", headers=auth(token, **{"Idempotency-Key": "d1"}))
    assert resp.status == 204 and resp.headers["Idempotency-Replayed"] == "true"
    assert state.calls == 1


# --- OpenAPI ----------------------------------------------------------------------------------


async def test_openapi_lists_every_route(client, portal):
    resp = await client.get("/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")

    registered = set()
    for route in client.server.app.router.routes():
        if route.method == "HEAD":
            continue
        path = route.resource.canonical.replace(r":\d+", "")
        registered.add((route.method.lower(), path))
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert registered == documented
    assert ("post", "/v1/things") in documented and ("get", "/v1/notices/{id}") in documented

    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    create = doc["paths"]["/v1/things"]["post"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in create["parameters"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ThingIn"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingOut"
    }
    assert {"401", "409", "422", "500"} <= set(create["responses"])
    assert doc["paths"]["/v1/health"]["get"]["security"] == []
    read = doc["paths"]["/v1/things/{id}"]["get"]
    assert read["parameters"][0] == {
        "name": "id", "in": "path", "required": True,
        "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1},
    }
    listing = doc["paths"]["/v1/notices"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"child_id", "status", "limit", "cursor"}

    # Every $ref points at a component that exists.
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    refs.append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    for ref in refs:
        _, section, name = ref.rsplit("/", 2)
        assert name in doc["components"][section], ref
    assert {"ThingIn", "ThingOut", "NoticeOut", "NoticePage", "ErrorResponse"} <= set(doc["components"]["schemas"])


def test_duplicate_operation_ids_refused(portal):
    a, b = ApiRoutes(), ApiRoutes()

    async def same(req: ApiRequest) -> None:
        return None

    a.get("/v1/a")(same)
    b.get("/v1/b")(same)
    with pytest.raises(ValueError, match="operation id"):
        create_api_app(portal, [a, b])


# --- idempotency ------------------------------------------------------------------------------


async def test_same_key_same_body_replays(client, token, state):
    h = auth(token, **{"Idempotency-Key": "abc-1"})
    first = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert first.status == 201
    first_body = await first.read()
    assert "Idempotency-Replayed" not in first.headers

    again = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert again.status == 201
    assert await again.read() == first_body
    assert again.headers["Idempotency-Replayed"] == "true"
    assert state.calls == 1


async def test_same_key_other_body_422(client, token, state):
    h = auth(token, **{"Idempotency-Key": "abc-2"})
    assert (await client.post("/v1/things", json={"name": "a"}, headers=h)).status == 201
    resp = await client.post("/v1/things", json={"name": "b"}, headers=h)
    assert resp.status == 422
    assert (await resp.json())["error"]["code"] == "idempotency_key_reused"
    assert state.calls == 1


async def test_key_scoped_per_token(client, portal, token, state):
    other = await create_token(portal, "caseworker-2")
    r1 = await client.post("/v1/things", json={"name": "a"}, headers=auth(token, **{"Idempotency-Key": "k"}))
    r2 = await client.post("/v1/things", json={"name": "a"}, headers=auth(other, **{"Idempotency-Key": "k"}))
    assert (await r1.json())["by"] == "case-system"
    assert (await r2.json())["by"] == "caseworker-2"
    assert "Idempotency-Replayed" not in r2.headers
    assert state.calls == 2


async def test_same_key_in_progress_409(client, token, state):
    state.gate = asyncio.Event()
    h = auth(token, **{"Idempotency-Key": "slow"})
    first = asyncio.create_task(client.post("/v1/things", json={"name": "a"}, headers=h))
    await state.entered.wait()

    resp = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "idempotency_in_progress"

    state.gate.set()
    assert (await first).status == 201
    replay = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert replay.status == 201 and replay.headers["Idempotency-Replayed"] == "true"
    assert state.calls == 1


async def test_two_concurrent_first_requests_one_wins(client, token, state):
    state.gate = asyncio.Event()
    h = auth(token, **{"Idempotency-Key": "race"})
    tasks = [asyncio.create_task(client.post("/v1/things", json={"name": "a"}, headers=h)) for _ in range(2)]
    await state.entered.wait()
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    assert [t.result().status for t in done] == [409]
    state.gate.set()
    assert sorted([(await t).status for t in tasks]) == [201, 409]
    assert state.calls == 1


async def test_two_processes_with_the_same_key_at_once_do_the_work_once(portal, token, state):
    """Two API processes (two apps over one database, each with its own record of running keys):
    the second request waits for the first's transaction and replays its answer."""
    state.gate = asyncio.Event()
    h = auth(token, **{"Idempotency-Key": "two-processes"})
    async with (
        TestClient(TestServer(create_api_app(portal, [thing_routes(state)]))) as one,
        TestClient(TestServer(create_api_app(portal, [thing_routes(state)]))) as two,
    ):
        first = asyncio.create_task(one.post("/v1/things", json={"name": "a"}, headers=h))
        await state.entered.wait()
        second = asyncio.create_task(two.post("/v1/things", json={"name": "a"}, headers=h))
        await asyncio.sleep(0.2)
        assert not second.done()  # waiting for the first's transaction, not refused, not run
        state.gate.set()
        r1, r2 = await first, await second
        assert (r1.status, r2.status) == (201, 201)
        assert await r1.json() == await r2.json()
        assert r2.headers["Idempotency-Replayed"] == "true"
    assert state.calls == 1


async def test_the_key_and_the_effects_are_committed_together_or_not_at_all(portal, token):
    """A request's effects (here a notice in the outbox) and its key's answer are one unit of work:
    a failure after the effects were written leaves neither, so the retry does the work once."""
    calls = {"n": 0, "fail": True}
    api = ApiRoutes()

    @api.post("/v1/notices-test", body=ThingIn, response=ThingOut, status=201, summary="Tell a parent", tags=["t"])
    async def tell(req: ApiRequest, body: ThingIn) -> ThingOut:
        calls["n"] += 1
        async with req.db() as s, s.begin():
            enqueue(s, now=req.now, text=f"notice {body.name}", chat_id=42)
        if calls["fail"]:
            calls["fail"] = False
            raise RuntimeError("the process died here")
        return ThingOut(id=calls["n"], name=body.name, by=req.actor.id)

    async with TestClient(TestServer(create_api_app(portal, [api]))) as c:
        h = auth(token, **{"Idempotency-Key": "effects"})
        assert (await c.post("/v1/notices-test", json={"name": "a"}, headers=h)).status == 500
        async with portal.db() as s:
            assert (await s.execute(select(func.count()).select_from(OutboxItem))).scalar() == 0
            assert (await s.execute(select(func.count()).select_from(IdempotencyRecord))).scalar() == 0
        ok = await c.post("/v1/notices-test", json={"name": "a"}, headers=h)
        again = await c.post("/v1/notices-test", json={"name": "a"}, headers=h)
        assert (ok.status, again.status) == (201, 201) and again.headers["Idempotency-Replayed"] == "true"
        assert await ok.json() == await again.json()
    async with portal.db() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxItem))).scalar() == 1
    assert calls["n"] == 2


async def test_a_key_left_without_an_answer_by_an_older_version_is_taken_over(portal, client, token, state, clock):
    """Before keys were kept with their effects, a crash could strand a key "in progress" for a day.
    Such a record no longer blocks: the request runs."""
    async with portal.db() as s, s.begin():
        s.add(IdempotencyRecord(token_name="case-system", key="stranded", method="POST", path="/v1/things",
                                request_hash="old", created_at=clock.now()))
    resp = await client.post("/v1/things", json={"name": "a"}, headers=auth(token, **{"Idempotency-Key": "stranded"}))
    assert resp.status == 201 and "Idempotency-Replayed" not in resp.headers
    assert state.calls == 1


async def test_key_expires_after_24_hours(client, portal, token, state, clock):
    h = auth(token, **{"Idempotency-Key": "old"})
    assert (await client.post("/v1/things", json={"name": "a"}, headers=h)).status == 201
    clock.advance(hours=23, minutes=59)
    resp = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert resp.headers.get("Idempotency-Replayed") == "true"
    clock.advance(minutes=1)
    resp = await client.post("/v1/things", json={"name": "b"}, headers=h)  # expired: the key is free
    assert resp.status == 201 and "Idempotency-Replayed" not in resp.headers
    assert (await resp.json())["name"] == "b"
    assert state.calls == 2

    async with portal.db() as s:
        assert (await s.execute(select(func.count()).select_from(IdempotencyRecord))).scalar() == 1


async def test_5xx_and_refused_requests_do_not_keep_the_key(client, token, state):
    h = auth(token, **{"Idempotency-Key": "retry-me"})
    state.fail_next = True
    resp = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert resp.status == 500
    resp = await client.post("/v1/things", json={"name": "a"}, headers=h)
    assert resp.status == 201 and "Idempotency-Replayed" not in resp.headers
    assert state.calls == 2

    h = auth(token, **{"Idempotency-Key": "unavailable"})
    assert (await client.post("/v1/unavailable", json={}, headers=h)).status == 503
    assert (await client.post("/v1/unavailable", json={}, headers=h)).status == 503
    assert state.calls == 4

    # A body refused by validation did not run: the fixed request may use the same key.
    h = auth(token, **{"Idempotency-Key": "fix-me"})
    assert (await client.post("/v1/things", json={"name": ""}, headers=h)).status == 422
    assert (await client.post("/v1/things", json={"name": "ok"}, headers=h)).status == 201


async def test_4xx_from_handler_is_kept(client, token, state):
    h = auth(token, **{"Idempotency-Key": "nf"})
    state_before = state.calls
    r1 = await client.delete("/v1/things/1", headers=h)
    r2 = await client.delete("/v1/things/1", headers=h)
    assert r1.status == r2.status == 204 and r2.headers["Idempotency-Replayed"] == "true"
    assert state.calls == state_before + 1


async def test_invalid_key_400(client, token, state):
    resp = await client.post("/v1/things", json={"name": "a"}, headers=auth(token, **{"Idempotency-Key": "x" * 201}))
    assert resp.status == 400
    assert state.calls == 0


async def test_purge_deletes_old_records(client, portal, token, clock):
    await client.post("/v1/things", json={"name": "a"}, headers=auth(token, **{"Idempotency-Key": "1"}))
    clock.advance(hours=12)
    await client.post("/v1/things", json={"name": "a"}, headers=auth(token, **{"Idempotency-Key": "2"}))
    clock.advance(hours=12)
    assert await purge_idempotency_keys(portal) == 1
    async with portal.db() as s:
        keys = (await s.execute(select(IdempotencyRecord.key))).scalars().all()
    assert keys == ["2"]


# --- notices ----------------------------------------------------------------------------------


async def _notices(portal, clock):
    async with portal.db() as s, s.begin():
        a = enqueue(s, now=clock.now(), text="Your plan is ready, Private Text", chat_id=10, child_id=7)
        b = enqueue(s, now=clock.now(), text="Reminder", chat_id=10, child_id=7, kind="reminder")
        c = enqueue(s, now=clock.now(), text="Other family", chat_id=20, child_id=8)
        await s.flush()
        b.status, b.attempts, b.sent_at, b.silent = "sent", 1, clock.now() + timedelta(minutes=1), True
        c.status, c.attempts, c.last_error = "blocked", 2, "Forbidden: bot was blocked by the user"
    return a.id, b.id, c.id


async def test_notice_status(client, portal, token, clock):
    a, b, c = await _notices(portal, clock)
    resp = await client.get(f"/v1/notices/{b}", headers=auth(token))
    assert resp.status == 200
    assert await resp.json() == {
        "id": b,
        "kind": "reminder",
        "status": "sent",
        "attempts": 1,
        "created_at": "2026-11-24T14:00:00Z",
        "sent_at": "2026-11-24T14:01:00Z",
        "silent": True,
        "last_error": None,
        "child_id": 7,
    }
    resp = await client.get(f"/v1/notices/{c}", headers=auth(token))
    body = await resp.json()
    assert (body["status"], body["attempts"], body["last_error"]) == ("blocked", 2, "Forbidden: bot was blocked by the user")
    resp = await client.get(f"/v1/notices/{a}", headers=auth(token))
    assert "Private Text" not in await resp.text()

    assert (await client.get("/v1/notices/999", headers=auth(token))).status == 404
    assert (await client.get(f"/v1/notices/{a}")).status == 401

    async with portal.db() as s:
        entries = (await s.execute(select(AuditEntry).where(AuditEntry.action == "notice.read"))).scalars().all()
    assert [(e.actor_kind, e.actor_id, e.child_id, e.subject) for e in entries] == [
        ("caseworker", "case-system", 7, f"outbox:{b}"),
        ("caseworker", "case-system", 8, f"outbox:{c}"),
        ("caseworker", "case-system", 7, f"outbox:{a}"),
    ]


async def test_notice_list_filters_and_pages(client, portal, token, clock):
    a, b, c = await _notices(portal, clock)
    resp = await client.get("/v1/notices", headers=auth(token))
    page = await resp.json()
    assert [n["id"] for n in page["items"]] == [c, b, a] and page["next_cursor"] is None

    resp = await client.get("/v1/notices", params={"child_id": 7, "limit": 1}, headers=auth(token))
    page = await resp.json()
    assert [n["id"] for n in page["items"]] == [b] and page["next_cursor"] == b
    resp = await client.get("/v1/notices", params={"child_id": 7, "limit": 1, "cursor": b}, headers=auth(token))
    page = await resp.json()
    assert [n["id"] for n in page["items"]] == [a] and page["next_cursor"] is None

    resp = await client.get("/v1/notices", params={"status": "blocked"}, headers=auth(token))
    assert [n["id"] for n in (await resp.json())["items"]] == [c]

    for bad in ({"status": "lost"}, {"limit": 0}, {"limit": "many"}, {"colour": "red"}):
        resp = await client.get("/v1/notices", params=bad, headers=auth(token))
        assert resp.status == 422, bad
        assert (await resp.json())["error"]["code"] == "validation_error"

    async with portal.db() as s:
        children = (
            await s.execute(select(AuditEntry.child_id).where(AuditEntry.action == "notice.list"))
        ).scalars().all()
    assert sorted(children) == [7, 7, 7, 8, 8]


# --- the real server: the token never in the database or the logs --------------------------------


async def test_real_server_token_never_stored_or_logged(portal, settings, caplog):
    settings.http.api_port = 0
    caplog.set_level(logging.DEBUG)
    token = await create_token(portal, "case-system")
    runner = await start_api(portal)
    try:
        port = bound_port(runner)
        assert port > 0
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/v1/health") as resp:
                assert resp.status == 200
            async with http.post(
                f"{base}/v1/notices/1", headers=auth(token, **{"Idempotency-Key": "k1"}), json={"x": token}
            ) as resp:
                assert resp.status == 405
            async with http.get(f"{base}/v1/notices", headers=auth(token)) as resp:
                assert resp.status == 200
            async with http.get(f"{base}/v1/notices", headers={"Authorization": f"Bearer {token}x"}) as resp:
                assert resp.status == 401
    finally:
        await runner.cleanup()

    assert "GET /v1/notices 200" in caplog.text  # the access log works...
    assert token not in caplog.text  # ...and never shows the token
    assert "Authorization" not in caplog.text and "Bearer" not in caplog.text

    # Every text in every table.
    async with portal.db() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            assert token not in repr(rows), table.name
    url = settings.storage.resolved_database_url()
    if url.startswith("sqlite"):  # SQLite's files too (PostgreSQL's pages are its server's)
        db_file = Path(url.split("///", 1)[1])
        files = list(db_file.parent.glob(db_file.name + "*"))  # the database, its WAL and shm
        assert db_file in files
        for f in files:
            assert token.encode() not in f.read_bytes(), f
