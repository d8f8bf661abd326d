"""The sandbox's demo families, made on its first start, as the council and the families would
make them: the SEND team's side through the real caseworker API (with the sandbox's token), the
family's side through the core services their chat and the portal's pages call.

- Alex Jones (Sam, EHC-0001): invited, not linked yet; the invitation is in the mailbox.
- Priya Shah (Maya, EHC-0002): linked, mid-assessment: a message each way, a document to
  receive, the Parental Preference Form due in 5 days.
- Tom Brown (Leo, EHC-0003): linked, in the annual review cycle: the plan was issued 14 months
  ago and no review meeting is recorded, so the council missed its date; his Parental
  Preference Form is due in 2 days, so its reminder goes tomorrow morning.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp

from core.accounts.results import StartStatus
from core.clock import london_today
from core.services import Services
from sandbox.mailbox import Mail

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox

log = logging.getLogger("ehcp.sandbox")

PASSWORD = "Sandbox demo: not a real family 2026"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


class DemoFailed(RuntimeError):
    pass


async def api(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """The caseworker API, as the council's case system calls it."""
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    if method == "POST":
        headers["Idempotency-Key"] = f"sandbox-demo:{path}:{abs(hash(repr(body)))}"
    async with aiohttp.ClientSession() as http, http.request(
        method, sandbox.api_url + path, json=body, headers=headers
    ) as r:
        data = await r.json()
        if r.status >= 300:
            raise DemoFailed(f"{method} {path}: {r.status} {data}")
        return data


async def mail_to(sandbox: Sandbox, address: str, seen: int) -> Mail:
    """The first email to `address` after the first `seen` emails (the mailbox, as it fills)."""
    assert sandbox.mailbox is not None
    for _ in range(600):
        version = sandbox.changes.version
        found = [m for m in sandbox.mailbox.mails[seen:] if address in m.to]
        if found:
            return found[0]
        await sandbox.changes.after(version, 1.0)
    raise DemoFailed(f"no email reached {address}")


def _invitation(parent: str, surname: str, child: str, reference: str, email: str) -> dict[str, Any]:
    return {"parent_email": email, "parent_forename": parent, "parent_surname": surname,
            "child_forename": child, "child_surname": surname, "child_date_of_birth": "2015-03-12",
            "case_reference": reference}


async def linked_family(sandbox: Sandbox, services: Services, parent: str, surname: str, child: str,
                        reference: str) -> tuple[int, int, int]:
    """A family whose chat is linked, with active access: (chat id, account id, child id)."""
    email = f"{parent}.{surname}@example.org".lower()
    assert sandbox.mailbox is not None
    seen = len(sandbox.mailbox.mails)
    invitation = await api(sandbox, "POST", "/v1/invitations", _invitation(parent, surname, child, reference, email))
    mail = await mail_to(sandbox, email, seen)
    token = re.search(r"start=([A-Za-z0-9_-]+)", mail.text)
    code = re.search(r"verification code is: (\S+)", mail.text)
    if token is None or code is None:
        raise DemoFailed("the invitation email has no link or code")
    chat = sandbox.add_parent(parent)
    # What the chat does when the parent opens the link and types the code.
    await services.invitations.open_invitation_link(token.group(1), chat.id)
    await services.invitations.check_unique_code(invitation["id"], chat.id, code.group(1))
    # What the registration page does.
    seen = len(sandbox.mailbox.mails)
    started = await services.accounts.start_registration({
        "forename": parent, "surname": surname, "street": "1 Orchard Lane", "town": "Worcester",
        "postcode": "WR2 5AA", "email": email, "password": PASSWORD, "confirm_password": PASSWORD,
    }, chat_id=chat.id)
    if started.status is not StartStatus.CODE_SENT or started.request_id is None:
        raise DemoFailed(f"registration refused: {started}")
    emailed = re.search(r"\b(\d{6})\b", (await mail_to(sandbox, email, seen)).text)
    if emailed is None:
        raise DemoFailed("the registration email has no code")
    done = await services.accounts.confirm_registration(started.request_id, emailed.group(1), chat_id=chat.id)
    if not done.ok or done.account_id is None:
        raise DemoFailed("registration not confirmed")
    await services.chat_links.link_chat(done.account_id, chat.id)
    await services.invitations.respond(done.account_id, chat.id, {invitation["id"]: True})
    await api(sandbox, "POST", f"/v1/access/{invitation['grant_id']}/activate", {})
    return chat.id, done.account_id, invitation["child_id"]


async def seed(sandbox: Sandbox, services: Services) -> None:
    today = london_today(sandbox.clock.now())

    def day(d: date) -> str:
        return d.isoformat()

    assert sandbox.mailbox is not None
    # The staff group's two caseworkers, mapped to the names families see.
    for user in sandbox.caseworkers:
        await api(sandbox, "PUT", f"/v1/staff/{user.id}", {"caseworker_name": f"{user.first_name} {user.last_name}"})
    # Alex Jones: invited only. Alex is on the phone, ready to open the email's link.
    sandbox.add_parent("Alex")
    await api(sandbox, "POST", "/v1/invitations",
              _invitation("Alex", "Jones", "Sam", "EHC-0001", "alex.jones@example.org"))

    # Priya Shah: mid-assessment.
    chat, account, child = await linked_family(sandbox, services, "Priya", "Shah", "Maya", "EHC-0002")
    await api(sandbox, "PATCH", "/v1/cases/EHC-0002", {"request_date": day(today - timedelta(weeks=9)),
                                                       "requestor": "Parent"})
    await api(sandbox, "PUT", "/v1/cases/EHC-0002/caseworker",
              {"name": "Jo Smith", "email": "jo.smith@example.org", "phone": "01905 765432"})
    await api(sandbox, "POST", "/v1/cases/EHC-0002/events",
              {"kind": "decision_to_assess", "on": day(today - timedelta(weeks=4))})
    await services.messages.send_from_parent(
        chat, child, type="general", subject="Maya's speech and language report",
        body="Hello Jo, the speech and language therapist has finished her report. Shall I send it to you?",
    )
    await api(sandbox, "POST", "/v1/cases/EHC-0002/messages", {
        "sender_name": "Jo Smith", "account_id": account, "subject": "Maya's speech and language report",
        "text": "Thank you, Priya. Yes please: attach it to a reply here and I will add it to Maya's assessment.",
    })
    await api(sandbox, "POST", "/v1/cases/EHC-0002/documents", {
        "filename": "Decision to assess Maya.pdf", "mime": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(), "description": "Our decision to assess Maya's needs",
        "document_date": day(today - timedelta(weeks=4)),
    })
    await api(sandbox, "POST", "/v1/cases/EHC-0002/forms",
              {"form_id": "parental_preference", "due_date": day(today + timedelta(days=5))})

    # Tom Brown: annual review cycle, a review the council missed.
    await linked_family(sandbox, services, "Tom", "Brown", "Leo", "EHC-0003")
    await api(sandbox, "POST", "/v1/cases/EHC-0003/events",
              {"kind": "final_plan_issued", "on": day(today - timedelta(days=430))})
    # Leo moves to secondary school: his preference is due in 2 days, so its reminder goes
    # tomorrow morning (the day before).
    await api(sandbox, "POST", "/v1/cases/EHC-0003/forms",
              {"form_id": "parental_preference", "due_date": day(today + timedelta(days=2)),
               "note": "Leo moves to secondary school next September: please tell us which schools you prefer."})
    log.info("sandbox: demo families made (Alex Jones invited; Priya Shah and Tom Brown linked)")


async def seed_once(sandbox: Sandbox, services: Services) -> None:
    """The demo families, on the sandbox's first start only (a reset starts again)."""
    if sandbox.seeded:
        return
    try:
        await asyncio.wait_for(seed(sandbox, services), 120)
    except (DemoFailed, TimeoutError, aiohttp.ClientError) as exc:
        log.error("sandbox: the demo families could not all be made (%s); the sandbox runs without them", exc)
    sandbox.seeded = True
    sandbox.save_state()
