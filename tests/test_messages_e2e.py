"""Messages in the chat, end to end (issue 5; the guide's "Messages").

The real bot talks to the Bot API stand-in; the caseworker side is the HTTP API. A parent sends
each type of message and the API has it; a caseworker's reply reaches the chat with who wrote
about what and Read and Reply buttons (silently at night, never later); replies to replies keep
the thread; Inbox and Sent Items are paged, newest first. Crafted buttons open nothing of another
family's or another carer's; files are checked, stored and delivered both ways; long texts are
stored whole and shown in parts; a restart mid-journey loses nothing.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sqlalchemy import select

from core.messages.models import Attachment
from core.messages.service import MessageService
from tests.stack import active_parent, count, live_window, seen_by, window

RESPONSE_TIME = "within 5 working days"
TYPES = ("EHC Needs Assessment (0-20 weeks)", "Annual Review", "School Placement", "General")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


# ------------------------------------------------------------------ what the parent does and sees


async def open_messages(user, child: str = "Sam Jones"):  # noqa: ANN001, ANN201
    sent = await user.send("/messages")
    return await window(user, f"Messages: {child}", after=sent.message_id)


async def start_message(user, subject: str, type_name: str = "General") -> None:  # noqa: ANN001
    """/messages, New Message, type, subject: up to the question for the text."""
    menu = await open_messages(user)
    await user.press(menu, "New Message")
    await user.press(await window(user, "Message Type"), type_name)
    await window(user, "please type a short subject")
    await user.send(subject)
    await window(user, "please type your message")


async def write(user, subject: str, pieces: list[str], type_name: str = "General"):  # noqa: ANN001, ANN201
    """/messages, New Message, type, subject, the text in pieces, Done: the files window."""
    await start_message(user, subject, type_name)
    total = 0
    for piece in pieces:
        await user.send(piece)
        total += len(piece) + (1 if total else 0)
        await window(user, f"Added. Your message has {total:,} characters so far")
    w = await window(user, f"has {total:,} characters so far")
    await user.press(w, "Done")
    return await window(user, "Files")


async def preview_and_send(user, files_window):  # noqa: ANN001, ANN201
    """From the files window: preview, then Send. Returns (preview text, acknowledgement)."""
    await user.press(
        files_window, "No files" if "Attached so far" not in files_window.text else "Continue"
    )
    preview = await window(user, "Check your")
    text = preview.text
    user.mark_read()
    await user.press(preview, "Send")
    ack = await user.wait_for(lambda m: "has been sent to the SEND team" in m.text)
    return text, ack


async def send_message(user, subject: str, text: str, type_name: str = "General"):  # noqa: ANN001, ANN201
    files = await write(user, subject, [text], type_name)
    return await preview_and_send(user, files)


async def ids(stack, ref: str = "CASE-1") -> tuple[int, dict[str, int]]:  # noqa: ANN001
    """The case's child id, and its carers' account ids by forename."""
    _, case = await stack.api("GET", f"/v1/cases/{ref}")
    _, access = await stack.api("GET", f"/v1/children/{case['child_id']}/access")
    return case["child_id"], {g["carer_forename"]: g["account_id"] for g in access["grants"]}


async def case_messages(stack, ref: str = "CASE-1") -> list[dict]:  # noqa: ANN001
    status, body = await stack.api("GET", f"/v1/cases/{ref}/messages")
    assert status == 200, body
    return body["items"]


async def caseworker_sends(
    stack,
    account_id: int | None = None,
    *,
    subject: str = "Update",  # noqa: ANN001
    text: str = "Just want to give you an update regarding Sam.",
    ref: str = "CASE-1",
    reply_to: int | None = None,
    sender: str = "Jo Smith",
    type: str = "general",
    attachments: list[dict] | None = None,
) -> dict:
    body = {"sender_name": sender, "type": type, "subject": subject, "text": text}
    if account_id is not None:
        body["account_id"] = account_id
    if reply_to is not None:
        body["reply_to"] = reply_to
    if attachments:
        body["attachments"] = attachments
    status, msg = await stack.api("POST", f"/v1/cases/{ref}/messages", body)
    assert status == 201, msg
    return msg


# ------------------------------------------------------------------ sending each type


async def test_a_parent_sends_each_type_of_message_and_it_reaches_the_api(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    typed = await alex.send("/start")  # the main menu has Messages
    main = await window(alex, "Main menu", after=typed.message_id)
    await alex.press(main, "Messages")
    menu = await window(alex, "Messages: Sam Jones")
    assert "No New Messages" in menu.text
    assert [b.text for b in menu.buttons][:3] == ["✉️ New Message", "📥 Inbox", "📤 Sent Items"]

    for i, type_name in enumerate(TYPES):
        preview, ack = await send_message(
            alex, f"Question {i + 1}", f"Hello, this is about {type_name}.", type_name
        )
        assert f"Message Type: {type_name}" in preview and f"Subject: Question {i + 1}" in preview
        assert f"Hello, this is about {type_name}." in preview
        assert "You can find it in Sent Items" in ack.text
        assert f"The SEND team will reply {RESPONSE_TIME}" in ack.text

    items = await case_messages(stack)
    assert [
        (m["type_name"], m["subject"], m["text"], m["direction"], m["source"]) for m in items
    ] == [
        (t, f"Question {i + 1}", f"Hello, this is about {t}.", "to_team", "chat")
        for i, t in enumerate(TYPES)
    ]
    assert {m["sender_name"] for m in items} == {"Alex Jones"}


# ------------------------------------------------------------------ a reply, and replies to replies


async def test_a_caseworkers_reply_arrives_with_read_and_reply_and_the_thread_holds(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    await send_message(alex, "School transport", "The taxi did not come today.", "School Placement")
    first = (await case_messages(stack))[-1]

    # The caseworker answers by the API: the chat is told who wrote about what, with Read, Reply.
    reply = await caseworker_sends(
        stack,
        reply_to=first["id"],
        subject="Re: School transport",
        text="I have spoken to the transport team.\nIt will come tomorrow.",
        type="school_placement",
    )
    assert reply["account_id"] == first["account_id"] and reply["reply_to"] == first["id"]
    notice = await alex.wait_for(lambda m: "New message from Jo Smith" in m.text)
    assert "about Sam" in notice.text
    assert "Subject: Re: School transport" in notice.text
    assert "Type: School Placement" in notice.text
    assert not notice.disable_notification  # by day, with sound
    assert notice.button("Read").callback_data == f"msg:{reply['id']}:read"
    assert notice.button("Reply").callback_data == f"msg:{reply['id']}:reply"

    # The dashboard counts it as new, and its button opens the Inbox.
    typed = await alex.send("/dashboard")
    dash = await window(alex, "SEND Dashboard: Sam Jones", after=typed.message_id)
    await alex.press(dash, "New Messages (1)")
    inbox = await window(alex, "Sam Jones's Inbox")
    assert [b.text for b in inbox.buttons if " · " in b.text] == [
        "🔵 24 Nov 2026 14:00 · Jo Smith · Alex Jones · Re: School transport"
    ]

    # Read (on the notice) shows the whole message, and it is then read.
    await alex.press(notice, "Read")
    shown = await window(alex, "From: Jo Smith")
    assert "<b>Re: School transport</b>" in shown.html and "To: Alex Jones" in shown.text
    assert "Date: 24 Nov 2026 14:00" in shown.text
    assert "Message Type: School Placement" in shown.text
    assert "I have spoken to the transport team.\nIt will come tomorrow." in shown.text
    _, api_view = await stack.api("GET", f"/v1/messages/{reply['id']}")
    assert api_view["read_at"] is not None

    # Reply, from the message: type and "Re: subject" are filled in; the parent only writes.
    await alex.press(shown, "Reply")
    w = await window(alex, "please type your message")
    assert "Reply" in w.text and "Subject: Re: School transport" in w.text
    await alex.send("Thank you. What time will it come?")
    w = await window(alex, "Added.")
    await alex.press(w, "Done")
    _, ack = await preview_and_send(alex, await window(alex, "Files"))
    assert "in Sent Items" in ack.text
    answer = (await case_messages(stack))[-1]
    assert answer["reply_to"] == reply["id"] and answer["direction"] == "to_team"
    assert answer["subject"] == "Re: School transport" and answer["type"] == "school_placement"
    assert answer["text"] == "Thank you. What time will it come?"

    # The caseworker replies to the reply; the notice's Reply button answers it straight away.
    again = await caseworker_sends(
        stack, reply_to=answer["id"], subject="Re: School transport", text="At 8:15, as before."
    )
    notice2 = await alex.wait_for(lambda m: "New message from Jo Smith" in m.text)
    await alex.press(notice2, "Reply")
    w = await window(alex, "please type your message")
    assert "Subject: Re: School transport" in w.text  # never "Re: Re:"
    await alex.send("Thanks, that is fine.")
    await alex.press(await window(alex, "Added."), "Done")
    await preview_and_send(alex, await window(alex, "Files"))

    thread = await case_messages(stack)
    assert [(m["direction"], m["reply_to"]) for m in thread] == [
        ("to_team", None),
        ("to_parent", first["id"]),
        ("to_team", reply["id"]),
        ("to_parent", answer["id"]),
        ("to_team", again["id"]),
    ]
    assert thread[-1]["text"] == "Thanks, that is fine."


async def test_a_reply_at_night_arrives_at_once_and_silently(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    _, carers = await ids(stack)
    clock.set(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))  # 22:30 in London: quiet hours
    night = await caseworker_sends(stack, carers["Alex"], subject="Late news")
    notice = await alex.wait_for(lambda m: "Subject: Late news" in m.text)  # now, not at 8am
    assert notice.disable_notification
    assert notice.button("Read").callback_data == f"msg:{night['id']}:read"

    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # 08:00: the day has begun
    await caseworker_sends(stack, carers["Alex"], subject="Morning news")
    notice = await alex.wait_for(lambda m: "Subject: Morning news" in m.text)
    assert not notice.disable_notification


# ------------------------------------------------------------------ Inbox and Sent Items, paged


async def test_inbox_and_sent_items_list_the_right_messages_newest_first_a_page_at_a_time(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    child_id, carers = await ids(stack)
    service = MessageService(portal)
    # Seven from the caseworker, six from the parent, a minute apart (the clock moved; no sleep).
    for i in range(1, 8):
        clock.advance(minutes=1)
        await caseworker_sends(stack, carers["Alex"], subject=f"In {i}")
    for i in range(1, 7):
        clock.advance(minutes=1)
        await service.send_from_parent(
            alex.id, child_id, type="general", subject=f"Out {i}", body=f"Body {i}"
        )
    # (Their notices reach the chat at Telegram's pace, one a second, while the parent reads on.)

    menu = await open_messages(alex)
    assert "You have 7 new messages in your Inbox." in menu.text
    await alex.press(menu, "Inbox (7 new)")
    inbox = await window(alex, "Sam Jones's Inbox")
    assert "7 messages, page 1 of 2" in inbox.text
    lines = [b.text for b in inbox.buttons if " · " in b.text]
    assert lines == [
        f"🔵 24 Nov 2026 14:0{i} · Jo Smith · Alex Jones · In {i}" for i in (7, 6, 5, 4, 3)
    ]
    assert "Previous" not in str([b.text for b in inbox.buttons])
    await alex.press(inbox, "Next")
    await alex.wait_until(
        lambda: "page 2 of 2" in alex.message(inbox.message_id).text, what="page 2"
    )
    page2 = alex.message(inbox.message_id)
    assert [b.text.split(" · ")[-1] for b in page2.buttons if " · " in b.text] == ["In 2", "In 1"]
    assert "Next" not in str([b.text for b in page2.buttons])

    # Opening one marks it read; the list then shows it without the blue dot.
    await alex.press(page2, "In 1")
    shown = await window(alex, "From: Jo Smith")
    assert "<b>In 1</b>" in shown.html
    await alex.press(shown, "Back to Inbox")
    await alex.wait_until(
        lambda: "page 2 of 2" in alex.message(shown.message_id).text, what="the inbox again"
    )
    back = alex.message(shown.message_id)
    assert "24 Nov 2026 14:01 · Jo Smith · Alex Jones · In 1" in [b.text for b in back.buttons]
    await alex.press(back, "Previous")
    await alex.wait_until(
        lambda: "page 1 of 2" in alex.message(shown.message_id).text, what="page 1"
    )

    # Sent Items: the parent's own, newest first, paged the same way.
    menu = await open_messages(alex)
    assert "You have 6 new messages" in menu.text
    await alex.press(menu, "Sent Items")
    sent = await window(alex, "Sam Jones's Sent Items")
    assert "6 messages, page 1 of 2" in sent.text
    assert [b.text for b in sent.buttons if " · " in b.text] == [
        f"24 Nov 2026 14:{m:02d} · Alex Jones · SEND team · Out {i}"
        for m, i in ((13, 6), (12, 5), (11, 4), (10, 3), (9, 2))
    ]
    await alex.press(sent, "Next")
    await alex.wait_until(
        lambda: "page 2 of 2" in alex.message(sent.message_id).text, what="sent page 2"
    )
    assert [
        b.text.split(" · ")[-1] for b in alex.message(sent.message_id).buttons if " · " in b.text
    ] == ["Out 1"]
    await alex.press(alex.message(sent.message_id), "Out 1")
    mine = await window(alex, "From: Alex Jones")
    assert "Body 1" in mine.text and "To: SEND team" in mine.text
    assert not any("Reply" in b.text for b in mine.buttons)  # one's own message is not answered


# ------------------------------------------------------------------ nobody sees another's messages


async def account_of(portal, user) -> int:  # noqa: ANN001
    from core.onboarding.models import ChatLink

    async with portal.db() as s:
        return await s.scalar(select(ChatLink.account_id).where(ChatLink.active_chat_id == user.id))


def item_data(msg, label: str, item_id: int) -> str:  # noqa: ANN001
    """A list button's callback data with its item id replaced: a crafted button."""
    return msg.button(label).callback_data.rsplit(":", 1)[0] + f":{item_id}"


async def test_crafted_buttons_open_reply_to_or_list_nothing_of_another_family_or_carer(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    jo = await active_parent(
        stack, stand, "jo.carer@example.net", first_name="Jo"
    )  # Sam's other carer
    pat = await active_parent(
        stack,
        stand,
        "pat@example.com",
        children=(("Zed", "CASE-9"), ("Yan", "CASE-10")),
        first_name="Pat",
    )
    alex_id, jo_id = await account_of(portal, alex), await account_of(portal, jo)
    assert alex_id != jo_id

    await send_message(alex, "Private from Alex", "Only for the SEND team.")
    alex_sent = (await case_messages(stack))[-1]
    pdf = {
        "filename": "alex-letter.pdf",
        "mime": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
    }
    for_alex = await caseworker_sends(
        stack, alex_id, subject="For Alex only", text="Alex's news.", attachments=[pdf]
    )
    for_jo = await caseworker_sends(
        stack,
        jo_id,
        subject="For Jo",
        text="Jo's news.",
        attachments=[{**pdf, "filename": "jo-letter.pdf"}],
    )
    alex_file = for_alex["attachments"][0]["id"]
    notice = await jo.wait_for(lambda m: "Subject: For Jo" in m.text)
    jo.mark_read()

    # Jo's Inbox and Sent Items hold only Jo's own thread.
    menu = await open_messages(jo)
    assert "You have 1 new message" in menu.text
    await jo.press(menu, "Inbox")
    inbox = await window(jo, "Sam Jones's Inbox")
    assert [b.text.split(" · ")[-1] for b in inbox.buttons if " · " in b.text] == ["For Jo"]

    # A crafted list button with Alex's message id: refused, nothing shown.
    answer = await jo.press_data(inbox, item_data(inbox, "For Jo", for_alex["id"]))
    assert answer.text == "That message is not available." and answer.show_alert
    answer = await jo.press_data(inbox, item_data(inbox, "For Jo", alex_sent["id"]))
    assert answer.text == "That message is not available."

    # Crafted Read and Reply buttons (Alex's reply, Alex's own message): the same plain answer.
    for data in (
        f"msg:{for_alex['id']}:read",
        f"msg:{for_alex['id']}:reply",
        f"msg:{alex_sent['id']}:read",
        f"msg:{alex_sent['id']}:reply",
        "msg:999999:read",
    ):
        jo.mark_read()
        await jo.press_data(notice, data)
        refused = await jo.wait_for(lambda m: "That message is not available" in m.text)
        assert refused.reply_markup is None
        await jo.ensure_no_message(within=0.3)

    # Jo's own message opens; a crafted file button with Alex's file sends nothing.
    await jo.press(live_window(jo, "Sam Jones's Inbox"), "For Jo")
    shown = await window(jo, "From: Jo Smith")
    assert "Jo's news." in shown.text and "jo-letter.pdf" in str([b.text for b in shown.buttons])
    jo.mark_read()
    answer = await jo.press_data(shown, item_data(shown, "jo-letter.pdf", alex_file))
    assert answer.text == "That message is not available."
    await jo.ensure_no_message(within=0.3)
    assert not any(m.document is not None for m in jo.messages)

    # Another family altogether (two children of their own): the same.
    child_id, _ = await ids(stack)
    await pat.send("/messages")
    picker = await window(pat, "Which child is this about?")
    assert [b.text for b in picker.buttons if "👤" in b.text] == ["👤 Yan Jones", "👤 Zed Jones"]
    # A crafted choice of Sam in the child picker: refused, and the picker stays.
    answer = await pat.press_data(picker, item_data(picker, "Zed Jones", child_id))
    assert (
        answer.text
        == "That child's information is not available in this chat. "
        "Open the SEND Dashboard from the menu to choose again."
        and answer.show_alert
    )
    assert "Which child is this about?" in pat.message(picker.message_id).text
    await pat.press(picker, "Zed Jones")
    pat_menu = await window(pat, "Messages: Zed Jones")
    for data in (f"msg:{for_alex['id']}:read", f"msg:{for_jo['id']}:reply"):
        pat.mark_read()
        await pat.press_data(pat_menu, data)
        await pat.wait_for(lambda m: "That message is not available" in m.text)
    await pat.press(live_window(pat, "Messages: Zed Jones"), "Inbox")
    pat_inbox = await window(pat, "Zed Jones's Inbox")
    assert "No New Messages" in pat_inbox.text and not [
        b for b in pat_inbox.buttons if " · " in b.text
    ]

    # Nothing of Alex's ever reached Jo's or Pat's chat; nothing was sent in anyone's name.
    for other in (jo, pat):
        saw = seen_by(other)
        for secret in (
            "Private from Alex",
            "Only for the SEND team",
            "For Alex only",
            "Alex's news",
            "alex-letter.pdf",
        ):
            assert secret not in saw, (other, secret)
    assert "For Jo" not in seen_by(pat) and "For Jo" not in seen_by(alex)
    thread = await case_messages(stack)
    assert [m["subject"] for m in thread] == ["Private from Alex", "For Alex only", "For Jo"]
    assert await count(portal, Attachment) == 2


# ------------------------------------------------------------------ files, both ways


async def test_files_are_checked_stored_and_delivered_both_ways(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    files = await write(alex, "Reports", ["Please see the two reports attached."])
    assert "No files" in [b.text for b in files.buttons][0]

    # Text where a file is expected: a kind answer, and the question again.
    alex.mark_read()
    await alex.send("here it is")
    kind = await alex.wait_for(lambda m: "This step is for files" in m.text)
    assert kind.reply_markup is None
    await window(alex, "To attach a file, send it here")

    # Too big (checked before downloading) and the wrong type: refused with the reason.
    await alex.send_document(b"%PDF" + b"0" * (20 * 1024 * 1024 + 1), filename="huge.pdf")
    w = await window(alex, "That file is too big")
    assert "up to 20 MB" in w.text
    await alex.send_document(
        b"PK\x03\x04zipzipzip", filename="stuff.zip", mime_type="application/zip"
    )
    w = await window(alex, "We cannot take that type of file")
    assert "Attached so far" not in w.text
    await alex.send_document(
        b"%PDF not really",
        filename="fake.docx",
        mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    await window(alex, "not what its name says")

    # A PDF and a photo: each stored at once, listed, then sent with the message.
    await alex.send_document(PDF, filename="school report.pdf", caption="From the school.")
    w = await window(alex, "Attached: school report.pdf")
    assert "📎 school report.pdf" in w.text
    await alex.send_photo(PNG)
    w = await window(alex, "Attached: photo-2.png")
    preview, ack = await preview_and_send(alex, w)
    assert "Files: school report.pdf, photo-2.png" in preview

    sent = (await case_messages(stack))[-1]
    # The caption joins the text.
    assert sent["text"] == "Please see the two reports attached.\nFrom the school."
    assert [(a["filename"], a["mime"], a["size"]) for a in sent["attachments"]] == [
        ("school report.pdf", "application/pdf", len(PDF)),
        ("photo-2.png", "image/png", len(PNG)),
    ]
    for a, data in zip(sent["attachments"], (PDF, PNG), strict=True):
        async with stack.http.get(
            f"{stack.api_url}/v1/messages/{sent['id']}/attachments/{a['id']}",
            headers={"Authorization": f"Bearer {stack.token}"},
        ) as r:
            assert r.status == 200 and await r.read() == data

    # The caseworker's file reaches the chat when the parent taps it; Telegram's copy is reused.
    _, carers = await ids(stack)
    plan = await caseworker_sends(
        stack,
        carers["Alex"],
        subject="Draft plan",
        text="Here is the draft plan.",
        attachments=[
            {
                "filename": "draft plan.pdf",
                "mime": "application/pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    )
    notice = await alex.wait_for(lambda m: "Subject: Draft plan" in m.text)
    assert "With attached files" in notice.text
    await alex.press(notice, "Read")
    shown = await window(alex, "From: Jo Smith")
    assert "Tap a file below to receive it here" in shown.text
    await alex.press(shown, "draft plan.pdf")
    first = await alex.wait_for(lambda m: m.document is not None)
    assert first.document.data == PDF and first.document.filename == "draft plan.pdf"
    again = await window(alex, "From: Jo Smith", after=first.message_id)  # the window, below it
    async with portal.db() as s:
        kept = await s.scalar(select(Attachment).where(Attachment.message_id == plan["id"]))
    assert kept.telegram_file_id == first.document.file_id
    await alex.press(again, "draft plan.pdf")
    second = await alex.wait_for(lambda m: m.document is not None)
    assert second.document.file_id == first.document.file_id and second.document.data == PDF

    # The parent's own files come back from Sent Items too.
    menu = await open_messages(alex)
    await alex.press(menu, "Sent Items")
    await alex.press(await window(alex, "Sent Items"), "Reports")
    mine = await window(alex, "From: Alex Jones")
    await alex.press(mine, "school report.pdf")
    back = await alex.wait_for(lambda m: m.document is not None)
    assert back.document.data == PDF
    mine = await window(alex, "From: Alex Jones", after=back.message_id)
    await alex.press(mine, "photo-2.png")
    back = await alex.wait_for(lambda m: m.document is not None or m.photo is not None)
    assert (back.document or back.photo).data == PNG


# ------------------------------------------------------------------ long texts


def words(n: int, seed: str) -> str:
    """About n characters of text with spaces and paragraphs, some needing escaping."""
    out, i = [], 0
    while sum(map(len, out)) + len(out) < n:
        i += 1
        out.append(
            f"{seed}{i}" + ("\n\n" if i % 40 == 0 else "") + ("<b>&</b>" if i % 97 == 0 else "")
        )
    return " ".join(out)[:n].strip()


def squash(text: str) -> str:
    return "".join(text.split())


async def test_long_texts_are_stored_whole_shown_in_parts_and_refused_past_the_limit(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    # A long paste arrives as several chat messages (Telegram splits it); each is added.
    pieces = [words(4096, "alpha"), words(4096, "beta"), words(3000, "gamma")]
    assert all(len(p) <= 4096 for p in pieces)
    files = await write(alex, "Everything that happened", pieces)
    alex.mark_read()
    await alex.press(files, "No files")
    w = await window(alex, "it is shown above, in")
    parts = [
        m
        for m in alex.messages
        if m.message_id not in (w.message_id, files.message_id) and m.message_id > files.message_id
    ]
    assert len(parts) >= 3 and all(len(m.text) <= 4096 for m in parts)
    assert (
        "Message Type: General" in parts[0].text
        and "Subject: Everything that happened" in parts[0].text
    )
    assert squash("\n".join(pieces)) in squash("".join(m.text for m in parts))
    assert f"in {len(parts)} parts" in w.text
    await alex.press(w, "Send")
    await alex.wait_for(lambda m: "has been sent to the SEND team" in m.text)
    stored = (await case_messages(stack))[-1]
    assert stored["text"] == "\n".join(pieces)  # whole, exactly as typed

    # Past 20,000 characters: a clear answer, and what was there is kept.
    big = [words(4096, f"p{i}x") for i in range(5)]
    await start_message(alex, "Very long")
    for piece in big[:4]:
        await alex.send(piece)
    kept = 4 * 4096 + 3
    await window(alex, f"Added. Your message has {kept:,} characters so far")
    alex.mark_read()
    await alex.send(big[4])
    refused = await alex.wait_for(lambda m: "That part was not added" in m.text)
    assert "up to 20,000 characters" in refused.text and f"({kept:,} characters)" in refused.text
    w = await window(alex, f"Your message has {kept:,} characters so far")
    await alex.press(w, "Done")
    await preview_and_send(alex, await window(alex, "Files"))
    assert (await case_messages(stack))[-1]["text"] == "\n".join(big[:4])

    # A caseworker's long message is shown in parts, each within Telegram's limit, escaped.
    _, carers = await ids(stack)
    long_text = words(20_000, "delta")
    sent = await caseworker_sends(stack, carers["Alex"], subject="Long letter", text=long_text)
    assert len(sent["text"]) == len(long_text)
    notice = await alex.wait_for(lambda m: "Subject: Long letter" in m.text)
    alex.mark_read()
    await alex.press(notice, "Read")
    w = await window(alex, "That is the whole message from Jo Smith")
    shown = [
        m for m in alex.messages if m.message_id > notice.message_id and m.message_id < w.message_id
    ]
    assert len(shown) >= 5 and all(len(m.text) <= 4096 for m in shown)
    assert "From: Jo Smith" in shown[0].text
    assert squash(long_text) in squash("".join(m.text for m in shown))
    assert "<b>&</b>" in "".join(m.text for m in shown)  # shown as typed, not as markup
    assert f"in {len(shown)} parts" in w.text and "Reply" in str([b.text for b in w.buttons])


# ------------------------------------------------------------------ a restart mid-journey


async def test_a_restart_mid_journey_loses_nothing(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    await start_message(alex, "Before the review meeting", "Annual Review")

    await stack.bot.restart()  # the bot process starts again: only the database is kept
    await alex.send("I would like the speech therapist to come.")
    w = await window(alex, "Added. Your message has 42 characters so far")
    assert "Subject: Before the review meeting" in w.text

    # The bot is down when the parent sends more: it waits, and is taken when the bot is back.
    await stack.bot.stop()
    await alex.send("And the school nurse.")
    await stack.bot.start()
    w = await window(alex, "Added. Your message has 64 characters so far")
    await alex.press(w, "Done")
    await window(alex, "Files")
    await alex.send_document(PDF, filename="report.pdf")
    await window(alex, "Attached: report.pdf")  # stored before the parent is told
    await stack.bot.restart()
    w = await window(alex, "Attached: report.pdf")
    await alex.press(w, "Continue")
    preview = await window(alex, "Check your message")
    assert "Message Type: Annual Review" in preview.text and "Files: report.pdf" in preview.text
    await stack.bot.restart()
    alex.mark_read()
    await alex.press(live_window(alex, "Check your message"), "Send")
    await alex.wait_for(lambda m: "has been sent to the SEND team" in m.text)

    stored = await case_messages(stack)
    assert len(stored) == 1
    assert (
        stored[0]["type"] == "annual_review" and stored[0]["subject"] == "Before the review meeting"
    )
    assert stored[0]["text"] == "I would like the speech therapist to come.\nAnd the school nurse."
    assert [a["filename"] for a in stored[0]["attachments"]] == ["report.pdf"]
