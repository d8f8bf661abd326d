"""The staff group (issue 5), end to end through the Bot API stand-in.

A supergroup with topics is the staff group (EHCP_STAFF_CHAT_ID). A parent's message reaches
the topic of their (case, carer) thread, with its type, subject, text and files; a mapped
caseworker's reply in the topic is stored as that caseworker's message and reaches the parent's
chat as a notice with Read and Reply; an unmapped member is asked to be mapped; replies
elsewhere are ignored; a notice that could not reach the parent is said in the topic, once.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from core.audit import Actor
from core.messages.models import Message, StaffPost, StaffTopic
from core.messages.service import MessageService, NewAttachment
from notifications.staff_relay import StaffRelay, topic_name
from tests.stack import (
    activate_invitation,
    active_parent,
    answer_invitations,
    count,
    create_account,
    login_through_chat,
    rows,
    start_stack,
    verified_user,
)
from tests.test_cli_and_settings import cli_env, run_cli

PDF = b"%PDF-1.4\n% a letter from the school\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
TOPIC = "Sam Jones · CASE-1 · Alex Jones"


@pytest.fixture
def staff_group(stand, monkeypatch):
    """The caseworkers' supergroup with topics; EHCP_STAFF_CHAT_ID names it (as in production)."""
    group = stand.group("SEND caseworkers", forum=True)
    monkeypatch.setenv("EHCP_STAFF_CHAT_ID", str(group.id))
    return group


@pytest.fixture
async def stack(portal, stand, staff_group):
    """The whole product (tests/stack.py) with the staff group configured before it starts."""
    portal.settings.delivery.delivery_rate_per_chat = 100  # no second's wait between posts here
    s, cleanups = await start_stack(portal, stand)
    assert portal.settings.telegram.staff_chat_id == staff_group.id
    yield s
    for c in cleanups:
        await c()


async def caseworker(stack, stand, group, name: str = "Jo Smith", *, mapped: bool = True):
    """A member of the staff group, mapped to a caseworker name by the API (or not)."""
    user = stand.user(first_name=name.split()[0])
    await group.add_member(user)
    if mapped:
        status, body = await stack.api("PUT", f"/v1/staff/{user.id}", {"caseworker_name": name})
        assert status == 200, body
    return user


async def child_id(stack, ref: str = "CASE-1") -> int:
    status, case = await stack.api("GET", f"/v1/cases/{ref}")
    assert status == 200, case
    return case["child_id"]


async def parent_writes(
    stack,
    user,
    subject: str,
    body: str,
    *,
    kind: str = "ehc_needs_assessment",
    files: tuple[NewAttachment, ...] = (),
    ref: str = "CASE-1",
):
    """What the parent's Messages dialogue does on Send: the core call behind it."""
    return await MessageService(stack.portal).send_from_parent(
        user.id,
        await child_id(stack, ref),
        type=kind,
        subject=subject,
        body=body,
        attachments=files,
    )


async def topics(portal) -> list[StaffTopic]:
    return await rows(portal, StaffTopic)


async def the_topic(group, portal, name: str = TOPIC) -> int:
    """The thread id of a family's topic, once the relay made it (and recorded it)."""
    await group.wait_until(lambda: name in group.topics, what=f"the topic {name!r}")
    thread = group.topics[name]
    await group.wait_until(
        lambda: any(m.thread_id == thread for m in group.messages), what="its first post"
    )
    rows = [t for t in await topics(portal) if t.thread_id == group.topics[name]]
    assert len(rows) == 1, rows
    return rows[0].thread_id


async def stored(portal, message_id: int) -> Message:
    async with portal.db() as s:
        return await s.get(Message, message_id)


async def team_messages(stack, direction: str = "to_parent") -> list[dict]:
    status, page = await stack.api("GET", "/v1/cases/CASE-1/messages")
    assert status == 200, page
    return [m for m in page["items"] if m["direction"] == direction]


def in_thread(group, thread: int, part: str) -> list:
    return [m for m in group.messages if m.thread_id == thread and part in m.text and not m.deleted]


async def second_carer(stack, stand, email: str = "pat.jones@example.org", forename: str = "Pat"):
    """Another carer of Sam (CASE-1), with a linked chat and active access."""
    await create_account(stack, email, forename=forename)
    invitation = await stack.invite(email, parent=forename)
    user = await verified_user(stack, stand, email, forename)
    await login_through_chat(stack, user, email)
    await answer_invitations(user, {"Sam Jones": True})
    await activate_invitation(stack, invitation["id"])
    await user.wait_for(lambda m: "activated your access for Sam" in m.text)
    return user


# ------------------------------------------------------------------ parents' messages into topics


async def test_a_parents_messages_reach_their_topic_with_type_subject_text_and_files(
    stack, stand, staff_group, portal
):
    alex = await active_parent(stack, stand)
    first = await parent_writes(
        stack,
        alex,
        "Assessment <question>",
        "When will the school's advice be asked for?\nThanks & all",
        files=(NewAttachment(PDF, "school letter.pdf", "application/pdf"),),
    )

    thread = await the_topic(staff_group, portal)
    post = await staff_group.wait_for(lambda m: "From Alex Jones" in m.text, thread_id=thread)
    assert post.text == (
        "💬 From Alex Jones · EHC Needs Assessment (0-20 weeks)\n"
        "Subject: Assessment <question>\n\n"
        "When will the school's advice be asked for?\nThanks & all\n\n"
        "📎 1 attached file below."
    )
    doc = await staff_group.wait_for(lambda m: m.document is not None, thread_id=thread)
    assert doc.document.data == PDF and doc.document.filename == "school letter.pdf"

    # A second message goes to the same topic; a long one is split at Telegram's limit.
    words = ("All the reports are attached. " * 200).split()
    second = await parent_writes(stack, alex, "Reports", " ".join(words), kind="general")
    head = await staff_group.wait_for(lambda m: "Subject: Reports" in m.text, thread_id=thread)
    assert head.text.startswith("💬 From Alex Jones · General\n")
    rest = await staff_group.wait_for(
        lambda m: m.text.startswith(("All", "attached", "the", "reports", "are")), thread_id=thread
    )
    assert len(head.text) <= 4096 and len(rest.text) <= 4096
    assert (head.text.split("\n\n", 1)[1] + " " + rest.text).split() == words
    assert len(await topics(portal)) == 1 and list(staff_group.topics) == [TOPIC]

    # Oldest first, each one finished before the next: the first is marked as posted, and
    # Telegram's id for its file is kept (so it is not uploaded again).
    assert (await stored(portal, first.id)).staff_posted_at is not None
    view = await MessageService(portal).get_for_team(Actor.caseworker("test"), first.id)
    assert view.attachments[0].telegram_file_id == doc.document.file_id

    # A reply sent by the case system is shown in the topic too, so it holds the whole thread.
    status, sent = await stack.api(
        "POST",
        "/v1/cases/CASE-1/messages",
        {
            "sender_name": "Jo Smith",
            "subject": "Re: Reports",
            "text": "Thank you, we have them.",
            "reply_to": second.id,
            "attachments": [
                {
                    "filename": "receipt.pdf",
                    "mime": "application/pdf",
                    "content_base64": base64.b64encode(PDF).decode(),
                }
            ],
        },
    )
    assert status == 201, sent
    shown = await staff_group.wait_for(lambda m: "Jo Smith replied" in m.text, thread_id=thread)
    assert shown.text == (
        "↪️ Jo Smith replied (by the case system) · General\nSubject: Re: Reports\n\n"
        "Thank you, we have them.\n\n📎 1 attached file below."
    )
    receipt = await staff_group.wait_for(lambda m: m.document is not None, thread_id=thread)

    # Each posted part maps back to its message, so a caseworker can reply to any of them.
    async with portal.db() as s:
        posts = (
            await s.scalars(select(StaffPost).where(StaffPost.staff_chat_id == staff_group.id))
        ).all()
    assert {(p.staff_message_id, p.message_id) for p in posts} >= {
        (post.message_id, first.id),
        (doc.message_id, first.id),
        (head.message_id, second.id),
        (rest.message_id, second.id),
        (shown.message_id, sent["id"]),
    }
    assert receipt.document.filename == "receipt.pdf" and receipt.document.data == PDF
    await alex.wait_for(lambda m: "New message from Jo Smith" in m.text)
    staff_group.mark_read()
    await staff_group.ensure_no_message(0.3)


async def test_another_carer_of_the_same_child_has_a_topic_of_their_own(
    stack, stand, staff_group, portal
):
    alex = await active_parent(stack, stand)
    await parent_writes(stack, alex, "From Alex", "Hello")
    alex_topic = await the_topic(staff_group, portal)

    pat = await second_carer(stack, stand)
    await parent_writes(stack, pat, "From Pat", "Hello too", kind="annual_review")
    pat_topic = await the_topic(staff_group, portal, "Sam Jones · CASE-1 · Pat Jones")
    assert pat_topic != alex_topic
    post = await staff_group.wait_for(lambda m: "Subject: From Pat" in m.text, thread_id=pat_topic)
    assert post.text.startswith("💬 From Pat Jones · Annual Review\n")
    assert not in_thread(staff_group, alex_topic, "From Pat")
    rows = await topics(portal)
    assert (
        len(rows) == 2
        and rows[0].case_id == rows[1].case_id
        and rows[0].account_id != rows[1].account_id
    )

    # Jo's reply in Pat's topic goes to Pat only.
    jo = await caseworker(stack, stand, staff_group)
    await jo.send_in(staff_group, "Thanks Pat, noted.", thread_id=pat_topic)
    notice = await pat.wait_for(lambda m: "New message from Jo Smith" in m.text)
    assert "Subject: Re: From Pat" in notice.text and "Type: Annual Review" in notice.text
    alex.mark_read()
    await alex.ensure_no_message(0.3)


def test_topic_names_fit_telegrams_limit():
    assert topic_name("Sam Jones", "CASE-1", "Alex Jones") == TOPIC
    long = topic_name("S" * 100, "CASE-" + "9" * 40, "A" * 100)
    assert len(long) == 128 and long.endswith("…")


# ------------------------------------------------------------------ caseworkers' replies to parents


async def test_a_caseworkers_reply_in_the_topic_reaches_the_parent_as_that_caseworker(
    stack, stand, staff_group, portal
):
    alex = await active_parent(stack, stand)
    assessment = await parent_writes(stack, alex, "Assessment question", "When is the panel?")
    placement = await parent_writes(
        stack, alex, "School visit", "Can we visit?", kind="school_placement"
    )
    thread = await the_topic(staff_group, portal)
    first_post = await staff_group.wait_for(
        lambda m: "Subject: Assessment question" in m.text, thread_id=thread
    )
    await staff_group.wait_for(lambda m: "Subject: School visit" in m.text, thread_id=thread)
    jo = await caseworker(stack, stand, staff_group)

    # A plain message in the topic answers the parent's latest message.
    said = await jo.send_in(staff_group, "Yes, any weekday <morning> works.", thread_id=thread)
    confirm = await staff_group.wait_for(lambda m: "Sent to Alex Jones" in m.text, thread_id=thread)
    assert (
        confirm.text == "✅ Sent to Alex Jones." and confirm.reply_to_message_id == said.message_id
    )
    notice = await alex.wait_for(lambda m: "New message from Jo Smith" in m.text)
    assert "about Sam" in notice.text
    assert "Subject: Re: School visit" in notice.text and "Type: School Placement" in notice.text
    (reply,) = await team_messages(stack)
    assert notice.button("Read").callback_data == f"msg:{reply['id']}:read"
    assert notice.button("Reply").callback_data == f"msg:{reply['id']}:reply"
    assert reply["source"] == "staff_group" and reply["sender_name"] == "Jo Smith"
    assert (
        reply["recipient_name"] == "Alex Jones"
        and reply["text"] == "Yes, any weekday <morning> works."
    )
    assert reply["reply_to"] == placement.id and reply["type"] == "school_placement"

    # A reply to a posted message answers that one, with a document.
    await jo.send_document(
        PDF,
        filename="panel dates.pdf",
        caption="The panel dates.",
        chat=staff_group,
        thread_id=thread,
        reply_to=first_post,
    )
    await staff_group.wait_for(lambda m: "Sent to Alex Jones" in m.text, thread_id=thread)
    notice = await alex.wait_for(lambda m: "New message from Jo Smith" in m.text)
    assert (
        "Subject: Re: Assessment question" in notice.text and "With attached files" in notice.text
    )
    latest = (await team_messages(stack))[-1]
    assert latest["reply_to"] == assessment.id and latest["text"] == "The panel dates."
    assert latest["type"] == "ehc_needs_assessment"
    (attached,) = latest["attachments"]
    assert attached["filename"] == "panel dates.pdf" and attached["mime"] == "application/pdf"
    async with stack.http.get(
        f"{stack.api_url}/v1/messages/{latest['id']}/attachments/{attached['id']}",
        headers={"Authorization": f"Bearer {stack.token}"},
    ) as r:
        assert r.status == 200 and await r.read() == PDF
    view = await MessageService(portal).get_for_team(Actor.caseworker("test"), latest["id"])
    assert view.attachments[
        0
    ].telegram_file_id  # the parent's chat can send it on without uploading

    # A photo without a caption goes too.
    await jo.send_photo(PNG, chat=staff_group, thread_id=thread)
    await staff_group.wait_for(lambda m: "Sent to Alex Jones" in m.text, thread_id=thread)
    await alex.wait_for(
        lambda m: "New message from Jo Smith" in m.text and "With attached files" in m.text
    )
    photo = (await team_messages(stack))[-1]
    assert photo["text"] == "Please see the attached file."
    assert [(a["filename"], a["mime"]) for a in photo["attachments"]] == [
        ("photo.png", "image/png")
    ]

    # The caseworkers' own messages are not posted again by the relay.
    last = await parent_writes(stack, alex, "One more thing", "Thank you!")
    await staff_group.wait_for(lambda m: "Subject: One more thing" in m.text, thread_id=thread)
    assert not in_thread(staff_group, thread, "replied")
    assert {m["source"] for m in await team_messages(stack)} == {"staff_group"}
    async with portal.db() as s:
        unposted = set(
            (await s.scalars(select(Message.id).where(Message.staff_posted_at.is_(None)))).all()
        )
    assert unposted <= {last.id}  # (its mark follows its post)


async def test_an_unmapped_member_is_asked_to_be_mapped_and_nothing_is_sent(
    stack, stand, staff_group, portal
):
    alex = await active_parent(stack, stand)
    await parent_writes(stack, alex, "Question", "Hello?")
    thread = await the_topic(staff_group, portal)
    kim = await caseworker(stack, stand, staff_group, "Kim Lee", mapped=False)

    await kim.send_in(staff_group, "Hello Alex", thread_id=thread)
    ask = await staff_group.wait_for(
        lambda m: "map your Telegram account" in m.text, thread_id=thread
    )
    assert ask.text == (
        f"Please ask an administrator to map your Telegram account (id {kim.id}) to your "
        f'caseworker name first: ehcp-bot staff map {kim.id} "Your Name".'
    )
    assert await count(portal, Message, Message.direction == "to_parent") == 0
    alex.mark_read()
    await alex.ensure_no_message(0.3)

    # Mapped (by the API), the same member's next reply goes, under the mapped name.
    status, _ = await stack.api("PUT", f"/v1/staff/{kim.id}", {"caseworker_name": "Kim Lee"})
    assert status == 200
    await kim.send_in(staff_group, "Hello Alex, Kim here.", thread_id=thread)
    await staff_group.wait_for(lambda m: "Sent to Alex Jones" in m.text, thread_id=thread)
    await alex.wait_for(lambda m: "New message from Kim Lee" in m.text)

    # Unmapped again, their replies are refused again.
    async with stack.http.delete(
        f"{stack.api_url}/v1/staff/{kim.id}", headers={"Authorization": f"Bearer {stack.token}"}
    ) as r:
        assert r.status == 204
    await kim.send_in(staff_group, "And another thing", thread_id=thread)
    await staff_group.wait_for(lambda m: "map your Telegram account" in m.text, thread_id=thread)
    assert await count(portal, Message, Message.direction == "to_parent") == 1


async def test_replies_anywhere_but_a_familys_topic_are_ignored(stack, stand, staff_group, portal):
    alex = await active_parent(stack, stand)
    await parent_writes(stack, alex, "Question", "Hello?")
    thread = await the_topic(staff_group, portal)
    jo = await caseworker(stack, stand, staff_group)

    # Another group the bot is in (with a topic of the same name): ignored, silently.
    other = stand.group("Another group", forum=True)
    await other.add_member(jo)
    elsewhere = await other.create_topic(TOPIC, by=jo)
    await jo.send_in(other, "Hello Alex", thread_id=elsewhere)
    await jo.send_in(other, "/start")
    # The staff group's General topic, a topic the staff made, a command, a sticker-like
    # service message: nothing goes to the parent.
    await jo.send_in(staff_group, "Morning all")
    own = await staff_group.create_topic("Team rota", by=jo)
    await jo.send_in(staff_group, "Who is on duty?", thread_id=own)
    await jo.send_in(staff_group, "/dashboard", thread_id=thread)
    hint = await staff_group.wait_for(lambda m: "Commands are not sent" in m.text, thread_id=thread)
    assert hint.thread_id == thread

    # The next real reply is the first thing the parent gets (staff updates are handled in order).
    await jo.send_in(staff_group, "Hello Alex, this one is real.", thread_id=thread)
    await staff_group.wait_for(lambda m: "Sent to Alex Jones" in m.text, thread_id=thread)
    notice = await alex.wait_for(lambda m: "New message from Jo Smith" in m.text)
    assert notice is not None
    alex.mark_read()
    await alex.ensure_no_message(0.3)
    assert other.messages == []  # the bot said nothing there
    assert not [m for m in staff_group.messages if m.thread_id in (None, own)]
    (reply,) = await team_messages(stack)
    assert reply["text"] == "Hello Alex, this one is real."


async def test_a_notice_that_could_not_reach_the_parent_is_said_in_the_topic_once(
    stack, stand, staff_group, portal
):
    alex = await active_parent(stack, stand)
    await parent_writes(stack, alex, "Question", "Hello?")
    thread = await the_topic(staff_group, portal)
    jo = await caseworker(stack, stand, staff_group)
    await alex.block()

    await jo.send_in(staff_group, "Here is the answer.", thread_id=thread)
    confirm = await staff_group.wait_for(lambda m: "Sent to Alex Jones" in m.text, thread_id=thread)
    warning = await staff_group.wait_for(
        lambda m: "could not be delivered" in m.text, thread_id=thread
    )
    assert warning.text == (
        "⚠️ This reply could not be delivered to the parent in Telegram "
        "(the parent has blocked the bot); it was sent by email."
    )
    assert confirm.reply_to_message_id is not None
    await stack.mail.wait_for(
        "alex.jones@example.org", "A new message about Sam", containing="Jo Smith"
    )
    # Said once: the relay keeps running, and says nothing more.
    await parent_writes(stack, alex, "Another question", "Still there?")
    await staff_group.wait_for(lambda m: "Subject: Another question" in m.text, thread_id=thread)
    staff_group.mark_read()
    await staff_group.ensure_no_message(0.3)
    assert len(in_thread(staff_group, thread, "could not be delivered")) == 1


async def test_a_relay_that_stops_after_posting_does_not_post_again(
    stack, stand, staff_group, portal, monkeypatch
):
    """A crash between the posts and the "posted" mark: the next tick finds every part recorded
    and only sets the mark; nothing appears twice in the topic."""
    finish = StaffRelay._finish
    crashes: list[int] = []

    async def crash_once(self, chat_id, m):
        if not crashes:
            crashes.append(m.id)
            raise RuntimeError("the process stopped here")
        return await finish(self, chat_id, m)

    monkeypatch.setattr(StaffRelay, "_finish", crash_once)
    alex = await active_parent(stack, stand)
    first = await parent_writes(
        stack, alex, "First", "One", files=(NewAttachment(PDF, "letter.pdf", "application/pdf"),)
    )
    thread = await the_topic(staff_group, portal)
    await staff_group.wait_for(lambda m: m.document is not None, thread_id=thread)
    await parent_writes(stack, alex, "Second", "Two")
    await staff_group.wait_for(lambda m: "Subject: Second" in m.text, thread_id=thread)
    assert crashes == [first.id]
    assert (await stored(portal, first.id)).staff_posted_at is not None
    assert len(in_thread(staff_group, thread, "Subject: First")) == 1
    assert len([m for m in staff_group.messages if m.document is not None]) == 1


# ------------------------------------------------------------------ the command line


def test_staff_accounts_are_mapped_listed_and_unmapped_on_the_command_line(tmp_path):
    env = cli_env(tmp_path / "var")
    mapped = run_cli("staff", "map", "700000123", "Jo  Smith", env=env)
    assert mapped.returncode == 0, mapped.stderr
    assert "700000123 now replies as Jo Smith" in mapped.stdout
    assert run_cli("staff", "map", "700000456", "Kim Lee", env=env).returncode == 0
    assert run_cli("staff", "unmap", "700000456", env=env).returncode == 0
    again = run_cli("staff", "unmap", "700000456", env=env)
    assert again.returncode == 1 and "not mapped" in again.stderr
    blank = run_cli("staff", "map", "700000789", "   ", env=env)
    assert blank.returncode == 1 and "name" in blank.stderr

    listed = run_cli("staff", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.split("\t")[:2] == ["700000123", "Jo Smith"] and line.endswith("by cli")


async def test_the_bots_membership_of_a_group_is_logged_with_the_groups_id(
    stack, stand, staff_group, caplog
):
    """How an administrator finds EHCP_STAFF_CHAT_ID; and a bot removed from the staff group is
    an error in the log. Nothing is said in any chat."""
    caplog.set_level("INFO", logger="bot.staff.handlers")
    other = stand.group("SEND team (new)", forum=True)
    await other.kick_bot()
    await staff_group.kick_bot()
    await stand.drain()
    await staff_group.wait_until(
        lambda: any("(the staff group)" in r.getMessage() for r in caplog.records),
        what="the log line",
    )
    lines = [r.getMessage() for r in caplog.records]
    assert f"the bot is now kicked in the group 'SEND team (new)' (id {other.id})" in lines
    assert any(
        r.levelname == "ERROR" and "not an administrator in the staff group" in r.getMessage()
        for r in caplog.records
    )
    assert other.messages == [] and staff_group.messages == []
