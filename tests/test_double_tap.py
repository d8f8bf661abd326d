"""Double taps: two quick presses of one button leave one working window and do the work once.

Telegram delivers both presses of a double tap, and both are queued before the bot has handled
the first. The first opens the next window (editing the menu in place, or sending a new message
and taking the old buttons away); the second is a press on a button that is no longer there. It
is answered quietly: no "That button no longer works", nothing stripped, no second menu, nothing
done twice. A press on a button that is still on its message but whose dialogue is gone keeps
its kind answer (tests/test_bot_frame.py).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.models import InboundUpdate
from core.page_links import PageLink
from tests.stack import active_parent, count, window
from tests.test_documents_e2e import open_dashboard, open_documents, publish
from tests.test_messages_e2e import case_messages, write

LINKED_MENU = (
    "SEND Dashboard", "Messages", "Request an EHC needs assessment", "Settings and reminders",
    "Change my password", "Change my email address", "Help", "Privacy and your data",
    "Delete my data from this chat",
    "Log out of this chat",  # last: it unlinks the chat
)
NOT_LINKED_MENU = (
    "I already have an account", "Register for new account", "Help", "Privacy and your data",
    "Delete my data from this chat",
)
# The buttons that make a page link (and say so in the chat): one link for one double tap.
PAGE_BUTTONS = {"I already have an account", "Register for new account", "Change my password",
                "Change my email address"}
# A button to press on the window a double tap opened, to see that it works (one that undoes nothing).
SAFE = ("Main menu", "Back", "No, keep it")


# ------------------------------------------------------------------ what the chat shows


def callback_buttons(msg) -> list:  # noqa: ANN001
    if msg.deleted or msg.reply_markup is None or msg.reply_markup.kind != "inline":
        return []
    return [b for b in msg.reply_markup.buttons if b.callback_data is not None]


def windows(user, since: int = 0) -> list:  # noqa: ANN001
    """The bot's messages in the chat (from message `since` on) that show buttons to press."""
    return [m for m in user.messages if m.message_id >= since and callback_buttons(m)]


def said_after(user, message_id: int) -> str:  # noqa: ANN001
    return "\n".join(v for m in user.messages if m.message_id >= message_id for v in (*m.versions, m.text))


async def handled(portal, *answers, timeout: float = 10) -> None:  # noqa: ANN001, ASYNC109
    """Wait until the bot has finished handling the updates of these presses (not only answered
    them: a handler answers first and edits or sends after)."""
    ids = [a.update_id for a in answers]

    async def done() -> bool:
        async with portal.db() as s:
            rows = (await s.scalars(select(InboundUpdate).where(InboundUpdate.update_id.in_(ids)))).all()
        return len(rows) == len(ids) and all(r.processed_at is not None for r in rows)

    for _ in range(int(timeout / 0.05)):
        if await done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"updates {ids} not handled within {timeout}s")


async def double_tap(user, portal, msg, text: str):  # noqa: ANN001, ANN201
    """Two presses of one button, both queued before the bot handles the first."""
    first = await user.press(msg, text, wait=False)
    second = await user.press(msg, text, wait=False)
    await user.wait_until(lambda: first.answered and second.answered, what="both presses answered")
    await handled(portal, first, second)
    return first, second


async def main_menu(user):  # noqa: ANN001, ANN201
    sent = await user.send("/start")
    await user.wait_until(
        lambda: any(m.message_id > sent.message_id and "What would you like to do?" in m.text and callback_buttons(m)
                    for m in user.messages),
        what="the main menu",
    )
    return [m for m in user.messages if m.message_id > sent.message_id and callback_buttons(m)][-1]


async def one_working_window(user, portal, since: int, *, among: int = 0):  # noqa: ANN001, ANN201
    """Exactly one window with buttons in the chat (from message `among` on), nothing said about
    dead buttons since message `since`; a press on it works."""
    shown = windows(user, among)
    assert len(shown) == 1, f"{len(shown)} windows with buttons:\n{user.transcript()}"
    assert "no longer works" not in said_after(user, since), user.transcript()
    live = shown[0]
    before = (live.text, [b.text for b in callback_buttons(live)])
    labels = [b.text for b in callback_buttons(live)]
    label = next((t for want in SAFE for t in labels if want in t), labels[0])
    answer = await user.press(live, label)
    await handled(portal, answer)
    assert answer.text is None or "no longer works" not in answer.text
    assert "no longer works" not in said_after(user, since), user.transcript()
    after = windows(user, among)
    assert len(after) == 1, user.transcript()
    assert (after[0].text, [b.text for b in callback_buttons(after[0])]) != before, (
        f"pressing {label!r} changed nothing:\n{user.transcript()}"
    )
    return after[0]


# ------------------------------------------------------------------ the main menu


async def check_menu_button(user, portal, label: str) -> None:  # noqa: ANN001
    links_before = await count(portal, PageLink, PageLink.chat_id == user.id)
    shown = windows(user)
    if len(shown) == 1 and "What would you like to do?" in shown[0].text:
        menu = shown[0]  # the last check's press went back to the main menu
    else:
        menu = await main_menu(user)
    first, second = await double_tap(user, portal, menu, label)
    for answer in (first, second):
        assert not answer.show_alert, (label, answer)
        assert answer.text is None or answer.text == "Already open", (label, answer)
    if label in PAGE_BUTTONS:  # one page link made, one link shown
        assert await count(portal, PageLink, PageLink.chat_id == user.id) == links_before + 1, label
        shown = [m for m in user.messages if m.message_id >= menu.message_id and "http://127.0.0.1" in m.text]
        assert len(shown) == 1, user.transcript()
    await one_working_window(user, portal, menu.message_id)


async def test_a_double_tap_on_each_button_of_a_linked_parents_menu_opens_one_working_window(
    stack, stand, portal
) -> None:
    user = await active_parent(stack, stand)
    for label in LINKED_MENU:
        mails = len(stack.mail.to("alex.jones@example.org"))
        await check_menu_button(user, portal, label)
        if label == "Log out of this chat":  # logged out once: one message, one email
            out = [m for m in user.messages if "You have logged out" in m.text]
            assert len(out) == 1, user.transcript()
            assert "nothing to log out of" not in said_after(user, out[0].message_id)
            await stack.mail.wait_for("alex.jones@example.org", "unlinked", after=mails)
            await asyncio.sleep(0.3)
            assert len([m for m in stack.mail.to("alex.jones@example.org")[mails:]
                        if "unlinked" in str(m["Subject"]).lower()]) == 1


async def test_a_double_tap_on_each_button_of_a_not_linked_chats_menu_opens_one_working_window(
    stack, stand, portal
) -> None:
    user = stand.user(first_name="Robin")
    for label in NOT_LINKED_MENU:
        await check_menu_button(user, portal, label)


async def test_a_truly_dead_button_still_gets_the_kind_answer(stack, stand, portal) -> None:
    """The quiet answer is only for a button already gone from its message: a button still on
    its message whose dialogue is gone (erased) is answered and taken away, as before."""
    from core.dialog_state import DialogStateStore
    from tests.test_bot_frame import all_handled

    user = stand.user(first_name="Robin")
    menu = await main_menu(user)
    await all_handled(portal, stand)  # the menu's dialogue state is written when its update ends
    await DialogStateStore(portal).erase_chat(user.id)
    answer = await user.press(menu, "Help")
    assert answer.text == "That button no longer works."
    await user.wait_for(lambda m: "no longer works" in m.text)
    await user.wait_until(lambda: user.message(menu.message_id).reply_markup is None, what="dead buttons gone")


# ------------------------------------------------------------------ elsewhere: Send, Documents


async def test_a_double_tap_on_send_sends_the_message_once(stack, stand, portal) -> None:
    user = await active_parent(stack, stand)
    files = await write(user, "School transport", ["Sam needs a taxi from September."])
    await user.press(files, "No files")
    preview = await window(user, "Check your")
    first, second = await double_tap(user, portal, preview, "Send")
    assert second.text is None and not second.show_alert, second
    acks = [m for m in user.messages if "Your message has been sent to the SEND team" in m.text]
    assert len(acks) == 1, user.transcript()
    sent = [m for m in await case_messages(stack) if m["subject"] == "School transport"]
    assert len(sent) == 1, sent
    await one_working_window(user, portal, preview.message_id)


async def test_a_double_tap_on_the_timeline_picture_or_a_document_sends_it_once(stack, stand, portal) -> None:
    user = await active_parent(stack, stand)
    dash = await open_dashboard(user)
    await double_tap(user, portal, dash, "Timeline picture")
    pictures = [m for m in user.messages if m.photo is not None]
    assert len(pictures) == 1, user.transcript()
    assert len(windows(user, dash.message_id)) == 1, user.transcript()

    await publish(stack, "Decision letter")
    await user.wait_for(lambda m: "Decision letter" in m.text)
    listing = await open_documents(user)
    await double_tap(user, portal, listing, "Decision letter")
    files = [m for m in user.messages if m.document is not None]
    assert len(files) == 1, user.transcript()
    await one_working_window(user, portal, listing.message_id, among=listing.message_id)


async def test_a_double_tap_on_a_notices_receive_button_sends_the_file_once_and_a_later_press_again(
    stack, stand, portal
) -> None:
    user = await active_parent(stack, stand)
    await publish(stack, "Draft plan")
    notice = await user.wait_for(lambda m: "Draft plan" in m.text and m.reply_markup is not None)
    await double_tap(user, portal, notice, "Receive")
    files = [m for m in user.messages if m.document is not None]
    assert len(files) == 1, user.transcript()
    # Pressed again once the file has come (a parent who lost it): a new press, sent again.
    answer = await user.press(notice, "Receive")
    await handled(portal, answer)
    assert len([m for m in user.messages if m.document is not None]) == 2, user.transcript()
