"""The bot's frame end to end: the real bot over HTTP against the Bot API stand-in."""

from __future__ import annotations

from sqlalchemy import select

from core.chats import ChatService
from core.dialog_state import DialogStateStore
from core.inbox import UpdateInbox
from core.models import Chat, DialogState, InboundUpdate


def has_button(msg, text: str) -> bool:
    return msg.reply_markup is not None and msg.reply_markup.find(text) is not None


async def test_first_start_shows_the_privacy_notice_and_a_later_one_does_not(running_bot, stand, portal):
    alice = stand.user(first_name="Alice")
    await alice.send("/start")
    notice = await alice.next_message()
    assert "your privacy" in notice.text
    assert "Telegram also holds this chat" in notice.text
    assert "/logout" in notice.text and "/deletemydata" in notice.text
    welcome = await alice.next_message()
    assert "Welcome to the EHCP Parent Portal" in welcome.text
    menu = await alice.next_message()
    assert "Main menu" in menu.text and has_button(menu, "Help")

    await alice.send("/start")
    again = await alice.next_message()
    assert "Welcome" in again.text  # straight to the welcome: no second privacy notice
    assert not any("your privacy" in m.text for m in alice.messages[3:])

    # Another person gets their own first notice.
    bob = stand.user(first_name="Bob")
    await bob.send("/start")
    assert "your privacy" in (await bob.next_message()).text

    async with portal.db() as s:
        chat = await s.get(Chat, alice.id)
        assert chat is not None and chat.privacy_shown_at is not None


async def test_command_menu_is_set_on_start(running_bot, stand):
    alice = stand.user(first_name="Alice")
    await alice.send("/help")  # once the bot answers, its startup has run
    await alice.next_message()
    commands = [c for c, _ in stand.commands_for()]
    assert commands[:7] == ["start", "dashboard", "settings", "messages", "help", "privacy", "cancel"]


async def test_help_explains_the_bot_and_how_to_reach_a_person(running_bot, stand):
    alice = stand.user(first_name="Alice")
    await alice.send("/help")
    help_msg = await alice.next_message()
    assert "What this chat can do" in help_msg.text
    assert "SEND team reads every message and replies within 5 working days" in help_msg.text
    await alice.press(help_msg, "Talk to a person")
    contact = await alice.wait_for(lambda m: "Talking to a person" in m.text, include_consumed=True)
    assert contact.message_id == help_msg.message_id  # the same message, edited in place
    await alice.press(contact, "Main menu")
    await alice.wait_for(lambda m: "Main menu" in m.text, include_consumed=True)


async def test_unexpected_text_gets_a_kind_answer_and_the_menu(running_bot, stand):
    alice = stand.user(first_name="Alice")
    await alice.send("/start")
    for _ in range(3):
        await alice.next_message()
    await alice.send("what is happening with my son's plan??")
    answer = await alice.next_message()
    assert "Sorry, I did not understand that" in answer.text
    assert "Nothing has been sent" in answer.text
    menu = await alice.next_message()
    assert has_button(menu, "Help")

    # A photo where nothing expects one: the same kind answer, not silence.
    await alice.send_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    assert "did not understand" in (await alice.next_message()).text


async def all_handled(portal, stand) -> None:  # noqa: ANN001
    """Every update the stand-in gave the bot has been handled to its end (marked done)."""
    import asyncio

    from core.inbox import UpdateInbox

    await stand.drain()
    inbox = UpdateInbox(portal, stand.bot_id)
    for _ in range(200):
        if (await inbox.counts())["pending"] == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("updates still being handled")


async def test_stale_and_forged_buttons_get_a_clear_answer_and_the_menu(running_bot, stand, portal):
    alice = stand.user(first_name="Alice")
    await alice.send("/help")
    old_help = await alice.next_message()
    await all_handled(portal, stand)  # its dialogue's state is written when the update ends
    # The dialogue behind those buttons is gone (its state erased, as "delete my data" does).
    await DialogStateStore(portal).erase_chat(alice.id)

    answer = await alice.press(old_help, "Talk to a person")
    assert answer.text == "That button no longer works."
    explain = await alice.next_message()
    assert "no longer works" in explain.text and "Nothing has been changed" in explain.text
    menu = await alice.next_message()
    assert "Main menu" in menu.text and has_button(menu, "Help")
    assert old_help.reply_markup is None  # the dead buttons are taken away
    assert "If something is urgent" not in old_help.text  # and nothing was changed

    # Made-up callback data, as a forged client could send.
    forged = await alice.press_data(menu, "account:delete:42")
    assert forged.text == "That button no longer works."
    assert "no longer works" in (await alice.next_message()).text
    assert has_button(await alice.next_message(), "Help")


async def test_a_dialogue_in_progress_survives_a_restart_of_the_bot(running_bot, stand, portal):
    alice = stand.user(first_name="Alice")
    await alice.send("/help")
    help_msg = await alice.next_message()
    await alice.press(help_msg, "Talk to a person")
    await alice.wait_for(lambda m: "Talking to a person" in m.text, include_consumed=True)

    await running_bot.restart()  # new Bot, Dispatcher, storage object: only the database is kept
    async with portal.db() as s:
        assert (await s.scalars(select(DialogState).where(DialogState.chat_id == alice.id))).first()

    await alice.press(help_msg, "Back")  # the page before, in the same dialogue
    back = await alice.wait_for(lambda m: "What this chat can do" in m.text, include_consumed=True)
    assert back.message_id == help_msg.message_id
    assert has_button(back, "Privacy and your data")


async def test_blocking_the_bot_marks_the_chat_and_unblocking_clears_it(running_bot, stand, portal):
    alice = stand.user(first_name="Alice")
    await alice.send("/start")
    await alice.next_message()
    chats = ChatService(portal)
    await alice.block()
    await stand.drain()
    await alice.wait_until(lambda: True)
    await _until(lambda: chats.is_blocked(alice.id), True)
    await alice.unblock()
    await _until(lambda: chats.is_blocked(alice.id), False)


async def test_a_repeated_update_is_processed_once(running_bot, stand, portal):
    alice = stand.user(first_name="Alice")
    await alice.send("/help")
    await alice.next_message()
    await stand.drain()
    async with portal.db() as s:
        last = max((await s.scalars(select(InboundUpdate.update_id))).all())
    raw = {
        "update_id": last,
        "message": {
            "message_id": 999, "date": 0, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            "chat": {"id": alice.id, "type": "private", "first_name": "Alice"},
            "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
        },
    }
    stand.inject_update(raw)
    await stand.drain()
    await alice.ensure_no_message(0.5)


async def test_an_update_stored_before_a_crash_is_handled_on_the_next_start(portal, stand):
    """The process died after storing an update but before handling it: it is handled on start."""
    from tests.harness import RunningBot

    alice = stand.user(first_name="Alice")
    inbox = UpdateInbox(portal, bot_id=stand.bot_id)
    await inbox.store([(
        777,
        alice.id,
        {
            "update_id": 777,
            "message": {
                "message_id": 1, "date": 0, "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                "chat": {"id": alice.id, "type": "private", "first_name": "Alice"},
                "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
            },
        },
    )])
    rb = RunningBot(portal, stand)
    await rb.start()
    try:
        assert "What this chat can do" in (await alice.next_message()).text
        await _until(lambda: _pending(inbox), 0)
    finally:
        await rb.stop()


async def _pending(inbox: UpdateInbox) -> int:
    return len(await inbox.pending())


async def _until(probe, expected, attempts: int = 200) -> None:
    """Re-check an async probe until it gives `expected` (the bot works in another task)."""
    import asyncio

    value = None
    for _ in range(attempts):
        value = await probe()
        if value == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {expected!r}, last saw {value!r}")


async def test_a_core_refusal_no_room_caught_is_answered_in_its_own_words(portal, stand):
    """The bot maps the core's refusals once: a Refused says its message, a NotFound says only
    that it is not available; the update is done (not retried, not failed)."""
    from aiogram import Router
    from aiogram.filters import Command

    from core.errors import NotFound, Refused
    from core.inbox import UpdateInbox
    from tests.test_reliability import _Bot

    router = Router()

    @router.message(Command("refuse"))
    async def refuse(message) -> None:  # noqa: ANN001
        raise Refused("That date is in the future. Please check it.", "future")

    @router.message(Command("missing"))
    async def missing(message) -> None:  # noqa: ANN001
        raise NotFound("no such thing")

    alex = stand.user(first_name="Alex")
    async with _Bot(portal, stand, router):
        await alex.send("/refuse")
        await alex.wait_for(lambda m: m.text == "That date is in the future. Please check it.")
        await alex.send("/missing")
        await alex.wait_for(lambda m: m.text.startswith("That is not available in this chat."))
        await stand.drain()
    assert (await UpdateInbox(portal, stand.bot_id).counts())["failed"] == 0
