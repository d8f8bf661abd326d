"""The caseworker API against its own OpenAPI document, by Schemathesis.

The real API (every feature's routes) is served on loopback over a real SQLite database with
some families in it (a case with an active carer, a pending invitation, messages both ways, a
document, a form asked for and one submitted, a staff mapping), so that lookups can succeed
too. Schemathesis' CLI then reads /v1/openapi.json and runs all its phases (examples from
captured answers, coverage of the bounds, fuzzing of valid and invalid data, stateful
sequences) with every check on, deterministically (a fixed seed), and must find nothing.

Where a check is narrowed, the reason is written beside it in CONFIG.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import sys
import time
from pathlib import Path

import aiohttp
import schemathesis

import core.schema  # noqa: F401 - every table in the metadata
from api.cases import api as cases_api
from api.documents import api as documents_api
from api.forms import api as forms_api
from api.messages import api as messages_api
from api.onboarding import api as onboarding_api
from core.forms.filling import FormFilling
from core.idempotency import KEY_MAX, valid_key
from core.messages.service import MessageService
from tests.stack import api_server
from tests.test_cases_api import active_carer
from tests.test_files import pdf_bytes
from tests.test_forms_service import fill_ppf
from tests.test_messages_api import name_account

SEED = 20261124
MAX_EXAMPLES = 5  # per operation, in the examples and fuzzing phases
STATEFUL_SCENARIOS = 25
STATEFUL_STEPS = 10  # with the coverage phase, the whole run stays within ~2 minutes on 2 cores
ROOT = Path(__file__).resolve().parent.parent
REF = "EHC-0001"
ALEX = 111  # the carer's chat
STAFF = 4242  # a staff Telegram account mapped to a caseworker
ROUTES = [onboarding_api, cases_api, messages_api, documents_api, forms_api]


# --- run inside Schemathesis (SCHEMATHESIS_HOOKS names this module) ----------------------------

_KEYS = itertools.count(1)


@schemathesis.hook
def before_call(context, case, kwargs) -> None:  # noqa: ANN001
    """A generated Idempotency-Key that the server takes is made unique (a suffix), so that two
    different requests never share one. Otherwise Hypothesis' short keys ("0", "A") repeat, and
    the server rightly answers 422 (the key was used with another request) to a valid request.
    Keys the server refuses (400) are sent as generated."""
    for name, value in list((case.headers or {}).items()):
        if name.lower() == "idempotency-key" and isinstance(value, str):
            key = value.strip(" \t")
            if valid_key(key):
                case.headers[name] = f"{key[: KEY_MAX - 16]}~{next(_KEYS):x}"


# --- the test --------------------------------------------------------------------------------------


async def _call(http: aiohttp.ClientSession, base: str, token: str, method: str, path: str, body=None):  # noqa: ANN001
    async with http.request(method, base + path, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
        data = await r.json() if r.content_type == "application/json" else None
        assert r.status < 300, (method, path, r.status, data)
        return data


async def seed(portal, base: str, token: str) -> dict[str, list]:  # noqa: ANN001
    """Families for the lookups to find; returns the ids and names made, for the run's dictionaries."""
    async with aiohttp.ClientSession() as http:
        case = await _call(http, base, token, "POST", "/v1/cases", {
            "case_reference": REF, "child_forename": "Sam", "child_surname": "Jones",
            "child_date_of_birth": "2016-05-04", "request_date": "2026-09-01", "requestor": "Parent",
            "caseworker": {"name": "Jo Smith", "email": "jo@council.example", "phone": "01905 000000"},
        })
        child_id, account_id = await active_carer(portal, "alex@example.org", ALEX)
        await name_account(portal, account_id, "Alex", "Jones")
        pending = await _call(http, base, token, "POST", "/v1/invitations", {
            "parent_email": "dan@example.org", "parent_forename": "Dan", "parent_surname": "Jones",
            "child_forename": "Sam", "child_surname": "Jones", "child_date_of_birth": "2016-05-04",
            "case_reference": REF,
        })
        event = await _call(http, base, token, "POST", f"/v1/cases/{REF}/events",
                            {"kind": "decision_to_assess", "on": "2026-10-20", "details": {"note": "Panel."}})
        pdf = base64.b64encode(pdf_bytes()).decode()
        to_parent = await _call(http, base, token, "POST", f"/v1/cases/{REF}/messages", {
            "sender_name": "Jo Smith", "account_id": account_id, "subject": "Your plan", "text": "Hello",
            "attachments": [{"filename": "letter.pdf", "mime": "application/pdf", "content_base64": pdf}],
        })
        from_parent = await MessageService(portal).send_from_parent(
            ALEX, child_id, type="general", subject="Thank you", body="Got it.", reply_to_id=to_parent["id"]
        )
        document = await _call(http, base, token, "POST", f"/v1/cases/{REF}/documents", {
            "filename": "AR1 letter.pdf", "mime": "application/pdf", "content_base64": pdf,
            "description": "EHCP - AR1 Letter to Parent", "document_date": "2026-11-20",
        })
        forms = FormFilling(portal)
        assigned = await _call(http, base, token, "POST", f"/v1/cases/{REF}/forms",
                               {"form_id": "parental_preference", "due_date": "2026-12-08"})
        rid = (await forms.open_assignment(ALEX, assigned["id"])).id
        await fill_ppf(forms, ALEX, rid)
        await forms.submit(ALEX, rid)
        again = await _call(http, base, token, "POST", f"/v1/cases/{REF}/forms",
                            {"form_id": "parental_preference", "note": "The second school, please."})
        await _call(http, base, token, "PUT", f"/v1/staff/{STAFF}", {"caseworker_name": "Jo Smith"})
        submissions = await _call(http, base, token, "GET", "/v1/form-submissions")
        files = [f["sha256"] for s in submissions["items"] for f in s["files"]]
        form_ids = [f["id"] for f in (await _call(http, base, token, "GET", "/v1/forms"))["items"]]
    return {
        "ids": sorted({case["child_id"], account_id, pending["id"], pending["grant_id"], event["event_id"],
                       to_parent["id"], from_parent.id, document["id"], assigned["id"], again["id"], 1, 2}),
        "refs": [REF],
        "sha256": files + [to_parent["attachments"][0]["sha256"]],
        "forms": form_ids,
    }


# positive_data_acceptance expects a schema-valid request to be accepted. These operations also
# refuse (422) what JSON Schema cannot say: a rule about today, about the data already stored, or
# about a file's bytes. For them alone, 422 is added to the statuses the check takes.
REFUSES_WHAT_SCHEMA_CANNOT_SAY = {
    "create_case": "a request date in the future",
    "update_case": "a request date in the future or after a decision already recorded",
    "record_event": "an event in the future, a decision before the request, a transfer year too far from the date",
    "send": "a file whose bytes are not its type; a carer without access; reply_to in another carer's thread",
    "publish_document": "a file whose bytes are not its type; a document date in the future",
    "assign_form": "a form that does not exist or is started by parents; a due date in the past; no carer",
    "verify_invitation": "a unique code that is not this invitation's",
}
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis' default
NARROWED = "".join(
    f"""
[[operations]]
include-operation-id = "{op}"
# Also 422: {why}.
checks.positive_data_acceptance.expected-statuses = {json.dumps([*POSITIVE, "422"])}
"""
    for op, why in REFUSES_WHAT_SCHEMA_CANNOT_SAY.items()
)


def config(token: str, seeded: dict[str, list]) -> str:
    """schemathesis.toml for the run: every check on, the seeded values offered as dictionaries."""
    return f"""
seed = {SEED}
warnings = false

[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[auth.openapi.bearerAuth]
bearer = "{token}"

[phases.examples]
fill-missing = true

[phases.stateful]
max-steps = {STATEFUL_STEPS}

[phases.stateful.generation]
max-examples = {STATEFUL_SCENARIOS}
{NARROWED}
[dictionaries.ids]
values = {json.dumps(seeded["ids"])}

[dictionaries.refs]
values = {json.dumps(seeded["refs"])}

[dictionaries.sha256]
values = {json.dumps(seeded["sha256"])}

[dictionaries.forms]
values = {json.dumps(seeded["forms"])}

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"path.grant_id" = {{ dictionary = "ids", probability = 0.5 }}
"path.aid" = {{ dictionary = "ids", probability = 0.5 }}
"path.reference" = {{ dictionary = "refs", probability = 0.6 }}
"path.sha256" = {{ dictionary = "sha256", probability = 0.6 }}
"path.form_id" = {{ dictionary = "forms", probability = 0.6 }}
"body.account_id" = {{ dictionary = "ids", probability = 0.5 }}
"body.reply_to" = {{ dictionary = "ids", probability = 0.5 }}
"""


async def test_schemathesis_finds_nothing(portal, tmp_path: Path):
    async with api_server(portal, ROUTES) as (base, token):
        seeded = await seed(portal, base, token)
        (tmp_path / "schemathesis.toml").write_text(config(token, seeded))
        report = tmp_path / "report.json"
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()", "--config-file", str(tmp_path / "schemathesis.toml"),
            "run", f"{base}/v1/openapi.json", "--checks", "all", "--no-color",
            "--report", "json", "--report-json-path", str(report),
            *os.environ.get("EHCP_SCHEMATHESIS_ARGS", "").split(),  # e.g. "--include-path-regex staff"
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "140", "PYTHONPATH": str(ROOT),
                 "SCHEMATHESIS_HOOKS": __name__},
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
        took = time.monotonic() - started
    text = out.decode(errors="replace")
    print(text)
    print(f"Schemathesis took {took:.0f} s")
    found = json.loads(report.read_text()) if report.exists() else {}
    failures = text[text.find("= FAILURES ="): text.find("= SUMMARY =")] if "= FAILURES =" in text else ""
    errors = text[text.find("= ERRORS ="): text.find("= SUMMARY =")] if "= ERRORS =" in text else ""
    assert proc.returncode == 0 and found.get("complete") and not found.get("failures") and not found.get("errors"), (
        f"Schemathesis found {len(found.get('failures') or [])} failures and "
        f"{len(found.get('errors') or [])} errors (exit code {proc.returncode}):\n"
        + ((failures + errors) or text[-3000:])
    )
    assert found["test_cases"]["generated"] > 1000, "Schemathesis hardly tested anything"


async def test_what_the_outside_tester_found(portal):
    """Integers past 64 bits, text with nothing visible, DELETE's 204, the Idempotency-Key."""
    async with api_server(portal, ROUTES) as (base, token):
        await seed(portal, base, token)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:

            async def status(method: str, path: str, body=None, **headers: str) -> int:  # noqa: ANN001
                async with http.request(method, base + path, json=body, headers=headers) as r:
                    if r.status >= 400:
                        assert set((await r.json())["error"]) <= {"code", "message", "details"}
                    return r.status

            message = {"sender_name": "Jo Smith", "subject": "Your plan", "text": "Hello", "account_id": 1}
            send = f"/v1/cases/{REF}/messages"
            for big in ({"reply_to": 2**63}, {"account_id": 2**64}, {"account_id": 10**30}, {"account_id": 0}):
                assert await status("POST", send, {**message, **big}) == 422, big
            for blank in (" ", "\u200b", " \u200d\ufeff\t", "\u2800", "\u0301"):
                for field in ("sender_name", "subject", "text"):
                    assert await status("POST", send, {**message, field: blank}) == 422, (field, blank)
                assert await status("PUT", f"/v1/staff/{STAFF}", {"caseworker_name": blank}) == 422
            assert await status("POST", send, {**message, "subject": "x" * 201}) == 422
            assert await status("POST", send, {**message, "account_id": "1"}) == 422  # a string is not a number
            assert await status("POST", send, {**message, "account_id": 1.0}) == 201  # but 1.0 is 1
            assert await status("GET", f"/v1/notices?child_id={2**63}") == 422
            assert await status("GET", "/v1/notices?limit=+5") == 422
            assert await status("GET", f"/v1/messages/{2**63}") == 404
            assert await status("GET", f"/v1/cases/{REF}/documents?include_withdrawn=yes") == 422
            assert await status("POST", send, message, **{"Idempotency-Key": "clé"}) == 400
            assert await status("POST", send, message, **{"Idempotency-Key": "x" * 201}) == 400

            async with http.delete(f"{base}/v1/staff/{STAFF}") as r:
                assert r.status == 204 and await r.read() == b""
            doc = await (await http.get(base + "/v1/openapi.json")).json()
        unmap = doc["paths"]["/v1/staff/{telegram_user_id}"]["delete"]
        assert "content" not in unmap["responses"]["204"] and "200" not in unmap["responses"]
        assert unmap["parameters"][0]["schema"] == {
            "type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1,
        }
        key = doc["components"]["parameters"]["IdempotencyKey"]["schema"]
        assert key["pattern"].startswith("^") and key["pattern"].endswith("$")
        name = doc["components"]["schemas"]["StaffIn"]["properties"]["caseworker_name"]
        assert name["maxLength"] == 100 and name["pattern"]
