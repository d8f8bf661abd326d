"""Documents to View in the chat, end to end (issue 6; the guide's "Documents to View").

The real bot talks to the Bot API stand-in; the caseworker side is the HTTP API. A caseworker
publishes a letter: the parent is told with a Receive button, and the file reaches the chat
(protected when the council wants it), uploaded once and then sent again by Telegram's file id;
each delivery is in the API and the audit log, and the dashboard's count follows. The list is
newest first, a page at a time. A withdrawn document leaves the list, the parent is told, and old
buttons answer kindly. Another family's crafted buttons get nothing.
"""

from __future__ import annotations

import asyncio
import base64

from sqlalchemy import select

from core.models import AuditEntry
from tests.stack import active_parent, all_handled, seen_by, window

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOT_AVAILABLE = "That document is not available to you."
WITHDRAWN = "That document is no longer available. The SEND team withdrew it."


async def publish(stack, description: str, *, ref: str = "CASE-1", day: str = "2023-01-23",  # noqa: ANN001
                  filename: str = "letter.pdf", data: bytes = PDF) -> dict:
    status, doc = await stack.api("POST", f"/v1/cases/{ref}/documents", {
        "filename": filename, "mime": "application/pdf", "content_base64": base64.b64encode(data).decode(),
        "description": description, "document_date": day,
    })
    assert status == 201, doc
    return doc


async def deliveries(stack, doc_id: int, expect: int) -> list[dict]:  # noqa: ANN001
    """The document's deliveries, once `expect` are recorded (the bot records one just after
    Telegram took the file, so the chat can see it a moment before the API does)."""
    for _ in range(200):
        status, body = await stack.api("GET", f"/v1/documents/{doc_id}/deliveries")
        assert status == 200, body
        if len(body["items"]) >= expect:
            return body["items"]
        await asyncio.sleep(0.025)
    raise AssertionError(f"{expect} deliveries expected, got {body['items']}")


async def open_dashboard(user):  # noqa: ANN001, ANN201
    typed = await user.send("/dashboard")
    return await window(user, "SEND Dashboard: Sam Jones", after=typed.message_id)


async def open_documents(user):  # noqa: ANN001, ANN201
    dash = await open_dashboard(user)
    await user.press(dash, "Documents to View")
    return await window(user, "Documents to View", after=dash.message_id - 1)


def doc_buttons(msg) -> list[str]:  # noqa: ANN001
    return [b.text for b in msg.buttons if ". " in b.text and ("🆕" in b.text or "📄" in b.text)]


async def test_a_published_document_is_announced_received_protected_and_counted(stack, stand, portal, clock):
    portal.settings.product.protect_documents = True
    alex = await active_parent(stack, stand)
    dash = await open_dashboard(alex)
    assert dash.button("Documents to View (0)")

    doc = await publish(stack, "EHCP - AR1 Letter to Parent", filename="AR1 letter.pdf")
    notice = await alex.wait_for(lambda m: "New document for Sam" in m.text)
    assert "<b>New document for Sam</b>" in notice.html
    assert "EHCP - AR1 Letter to Parent" in notice.text and "Document date: 23 Jan 2023" in notice.text
    assert notice.button("Receive the document").callback_data == f"doc:{doc['id']}:get"
    assert (await open_dashboard(alex)).button("Documents to View (1)")

    # Receive: the file arrives, uploaded by the bot, protected, with what it is.
    uploads = len(stand.world.files)
    alex.mark_read()
    answer = await alex.press(notice, "Receive the document")
    assert answer.answered and not answer.show_alert
    first = await alex.wait_for(lambda m: m.document is not None)
    assert first.document.data == PDF and first.document.filename == "AR1 letter.pdf"
    assert first.protect_content
    assert "EHCP - AR1 Letter to Parent" in first.text
    assert "Published 24 Nov 2026 · Document date 23 Jan 2023" in first.text
    assert len(stand.world.files) == uploads + 1

    # Again (a new press, once the first is handled): Telegram's copy is reused, nothing is
    # uploaded a second time.
    await all_handled(portal)
    await alex.press(notice, "Receive the document")
    second = await alex.wait_for(lambda m: m.document is not None)
    assert second.document.file_id == first.document.file_id and second.document.data == PDF
    assert second.protect_content
    assert len(stand.world.files) == uploads + 1

    # Each delivery, for the SEND team and in the audit log.
    items = await deliveries(stack, doc["id"], 2)
    assert [(d["chat_id"], d["carer_name"]) for d in items] == [(alex.id, "Alex Jones")] * 2
    async with portal.db() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "document.deliver"))).all()
    assert [e.subject for e in entries] == [f"document:{doc['id']}"] * 2

    # Received: the dashboard no longer counts it.
    assert (await open_dashboard(alex)).button("Documents to View (0)")


async def test_documents_to_view_lists_newest_first_a_page_at_a_time_and_sends_a_tapped_one(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    lst = await open_documents(alex)
    assert "No items to view." in lst.text and doc_buttons(lst) == []

    docs = []
    for i in range(1, 8):
        clock.advance(days=1)  # published 25 Nov ... 1 Dec
        docs.append(await publish(stack, f"Letter {i}", day=f"2023-01-{i + 10:02d}", filename=f"letter-{i}.pdf",
                                  data=PDF + str(i).encode()))
    dash = await open_dashboard(alex)
    await alex.press(dash, "Documents to View (7)")
    lst = await window(alex, "Documents to View", after=dash.message_id - 1)
    assert "<b>Documents to View</b> for Sam" in lst.html
    assert "1. Letter 7\n   Published 1 Dec 2026 · Document date 17 Jan 2023 · 🆕 not yet received" in lst.text
    assert "5. Letter 3\n   Published 27 Nov 2026 · Document date 13 Jan 2023" in lst.text
    assert "Letter 2" not in lst.text and "Page 1 of 2 (7 documents)" in lst.text
    assert doc_buttons(lst) == [f"🆕 {n}. Letter {i}" for n, i in zip(range(1, 6), (7, 6, 5, 4, 3), strict=True)]
    assert "Previous" not in str([b.text for b in lst.buttons])

    await alex.press(lst, "Next")
    await alex.wait_until(lambda: "Page 2 of 2" in alex.message(lst.message_id).text, what="page 2")
    page2 = alex.message(lst.message_id)
    assert doc_buttons(page2) == ["🆕 6. Letter 2", "🆕 7. Letter 1"]
    assert "Next" not in str([b.text for b in page2.buttons])

    # Tapping one sends its file; the list comes again below it, the document no longer new.
    alex.mark_read()
    await alex.press(page2, "Letter 1")
    got = await alex.wait_for(lambda m: m.document is not None)
    assert got.document.data == PDF + b"1" and got.document.filename == "letter-1.pdf"
    assert not got.protect_content  # the default: the parent can save it, as the guide's download
    again = await window(alex, "Documents to View", after=got.message_id)
    assert "Page 2 of 2" in again.text and doc_buttons(again) == ["🆕 6. Letter 2", "📄 7. Letter 1"]
    assert "7. Letter 1\n   Published 25 Nov 2026 · Document date 11 Jan 2023\n" in again.text

    await alex.press(again, "Previous")
    await alex.wait_until(lambda: "Page 1 of 2" in alex.message(again.message_id).text, what="page 1")
    await alex.press(alex.message(again.message_id), "Back to the SEND Dashboard")
    back = await window(alex, "SEND Dashboard: Sam Jones", after=again.message_id - 1)
    assert back.button("Documents to View (6)")


async def test_a_withdrawn_document_leaves_the_list_the_parent_is_told_and_old_buttons_answer_kindly(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    keep = await publish(stack, "Letter that stays")
    clock.advance(minutes=1)
    wrong = await publish(stack, "Letter for someone else")
    notice = await alex.wait_for(lambda m: "Letter for someone else" in m.text)
    await alex.press(notice, "Receive the document")
    await alex.wait_for(lambda m: m.document is not None)
    await deliveries(stack, wrong["id"], 1)
    lst = await open_documents(alex)
    assert doc_buttons(lst) == ["📄 1. Letter for someone else", "🆕 2. Letter that stays"]

    status, out = await stack.api("POST", f"/v1/documents/{wrong['id']}/withdraw", {"reason": "Wrong family"})
    assert status == 200 and out["withdrawn_at"]
    told = await alex.wait_for(lambda m: "was withdrawn" in m.text)
    assert "The SEND team has withdrawn a document: Letter for someone else (published 24 Nov 2026)" in told.text
    assert "This happens when a document was sent by mistake or has been replaced." in told.text
    assert "It is no longer in Documents to View." in told.text
    assert "Please delete any copy you saved." in told.text  # Alex had received it
    assert "Wrong family" not in told.text

    # The list opened before: its button now answers kindly, and the list shows what is left.
    alex.mark_read()
    answer = await alex.press(lst, "Letter for someone else")
    assert answer.text == WITHDRAWN and answer.show_alert
    await alex.wait_until(lambda: "Letter for someone else" not in alex.message(lst.message_id).text,
                          what="the list again")
    assert doc_buttons(alex.message(lst.message_id)) == ["🆕 1. Letter that stays"]

    # The notice's Receive button: the same kind answer, and Documents to View as it is now.
    answer = await alex.press(notice, "Receive the document")
    assert answer.text == WITHDRAWN and answer.show_alert
    shown = await window(alex, "Documents to View", after=told.message_id)
    assert "Letter for someone else" not in shown.text and "Letter that stays" in shown.text
    assert not any(m.document is not None for m in alex.messages if m.message_id > lst.message_id)
    assert (await open_dashboard(alex)).button("Documents to View (1)")

    # Withdrawing again tells nobody again.
    status, _ = await stack.api("POST", f"/v1/documents/{wrong['id']}/withdraw", {})
    assert status == 200
    alex.mark_read()
    await alex.ensure_no_message(within=0.5)
    _, listed = await stack.api("GET", "/v1/cases/CASE-1/documents?include_withdrawn=false")
    assert [d["id"] for d in listed["items"]] == [keep["id"]]


async def test_another_familys_crafted_buttons_get_nothing(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    pat = await active_parent(stack, stand, "pat@example.com", children=(("Zed", "CASE-9"), ("Yan", "CASE-10")),
                              first_name="Pat")
    kim = await active_parent(stack, stand, "kim@example.net", children=(("Lee", "CASE-20"),), first_name="Kim")
    secret = await publish(stack, "Sam's private plan", filename="sam-plan.pdf")
    gone = await publish(stack, "Sam's withdrawn letter", filename="sam-old.pdf")
    await stack.api("POST", f"/v1/documents/{gone['id']}/withdraw", {})
    await alex.wait_for(lambda m: "Sam's private plan" in m.text)
    await alex.wait_for(lambda m: "was withdrawn" in m.text)
    zed = await publish(stack, "Zed's letter", ref="CASE-9")
    await pat.wait_for(lambda m: "Zed's letter" in m.text)

    for user in (pat, kim):
        anchor = user.messages[-1]
        for data in (f"doc:{secret['id']}:get", f"doc:{gone['id']}:get", "doc:abc:get", "doc:999999:get",
                     f"doc:{secret['id']}", "doc:-1:get", "doc:" + "9" * 30 + ":get"):
            user.mark_read()
            answer = await user.press_data(anchor, data)
            assert answer.text == NOT_AVAILABLE and answer.show_alert, (user, data, answer.text)
            await user.ensure_no_message(within=0.3)
    # Kim's own child has nothing; Zed's letter is Pat's to receive, not Kim's.
    kim.mark_read()
    answer = await kim.press_data(kim.messages[-1], f"doc:{zed['id']}:get")
    assert answer.text == NOT_AVAILABLE
    await kim.ensure_no_message(within=0.3)

    for user in (pat, kim):
        assert not any(m.document is not None for m in user.messages)
        saw = seen_by(user)
        for text in ("Sam's private plan", "Sam's withdrawn letter", "sam-plan.pdf"):
            assert text not in saw, (user, text)
    status, body = await stack.api("GET", f"/v1/documents/{secret['id']}/deliveries")
    assert status == 200 and body["items"] == []

    # Pat's own document still comes to Pat.
    pat.mark_read()
    answer = await pat.press_data(pat.messages[-1], f"doc:{zed['id']}:get")
    assert answer.text is None
    got = await pat.wait_for(lambda m: m.document is not None)
    assert got.document.data == PDF and "Zed's letter" in got.text
