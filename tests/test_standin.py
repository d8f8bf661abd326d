"""The Bot API stand-in, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
    WebAppInfo,
)
from aiohttp import ClientSession, web

from standin import BotAPIStandIn

TOKEN = "123456:TEST-token"


def png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))


@pytest.fixture
async def stand():
    s = BotAPIStandIn(token=TOKEN, bot_username="ehcp_test_bot", bot_name="SEND Portal")
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def bot(stand: BotAPIStandIn):
    b = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url)))
    yield b
    await b.session.close()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def test_get_me_wrong_token_and_unknown_method(stand: BotAPIStandIn, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and (me.id, me.username, me.first_name) == (
        123456, "ehcp_test_bot", "SEND Portal")  # fmt: skip
    api = TelegramAPIServer.from_base(stand.base_url)
    wrong = Bot("123456:wrong", session=AiohttpSession(api=api))
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await wrong.get_me()
    await wrong.session.close()
    async with ClientSession() as http:
        async with http.post(f"{stand.base_url}/bot{TOKEN}/sendTelepathy") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_message_and_the_user_sees_it(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user(first_name="Alice", last_name="Smith")
    sent = await bot.send_message(
        alice.id,
        "  <b>Your plan</b> is &lt;ready&gt; ",
        parse_mode="HTML",
        reply_markup=keyboard(
            InlineKeyboardButton(text="Yes, please", callback_data="plan:yes"),
            InlineKeyboardButton(text="Open", url="https://example.org/plan"),
        ),
        disable_notification=True,
        protect_content=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert sent.text == "Your plan is <ready>" and sent.chat.id == alice.id
    assert sent.entities and sent.entities[0].type == "bold" and sent.entities[0].length == 9
    msg = await alice.next_message(timeout=5)
    assert msg.message_id == sent.message_id and msg.html.startswith("  <b>")
    assert msg.disable_notification and msg.protect_content and msg.link_preview_disabled
    assert [(b.text, b.callback_data, b.url) for b in msg.buttons] == [
        ("Yes, please", "plan:yes", None),
        ("Open", None, "https://example.org/plan"),
    ]
    reply = await bot.send_message(
        alice.id,
        "Choose",
        reply_parameters=ReplyParameters(message_id=sent.message_id),
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Help")]]),
    )
    assert reply.reply_to_message and reply.reply_to_message.message_id == sent.message_id
    assert alice.keyboard and alice.keyboard.find("Help") and alice.last.text == "Choose"
    with pytest.raises(AssertionError, match="Choose"):
        await alice.wait_for(lambda m: "nothing" in m.text, timeout=0.05, include_consumed=True)


async def test_long_polling_and_offsets(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user(first_name="Alice")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    assert await stand.world.changed.wait_for(lambda: stand.world.poll_generation == 1, 5)
    await alice.send("/start abcDEF_123")
    updates = await asyncio.wait_for(poll, 5)
    assert len(updates) == 1
    message = updates[0].message
    assert message.text == "/start abcDEF_123" and message.from_user.id == alice.id
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []
    dup = stand.inject_update(updates[0].model_dump(mode="json", by_alias=True, exclude_none=True))
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [dup]  # duplicate comes again
    await bot.get_updates(offset=dup + 1, timeout=0)
    await stand.drain(timeout=1)


async def test_dispatcher_start_payload_and_button(stand: BotAPIStandIn, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(
            f"Welcome, your code is {command.args}",
            reply_markup=keyboard(InlineKeyboardButton(text="Yes", callback_data="confirm")),
        )

    @router.callback_query(F.data == "confirm")
    async def confirm(query: CallbackQuery) -> None:
        await query.message.edit_text("Confirmed")
        await query.answer("Thanks!", show_alert=True)

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        alice = stand.user(first_name="Alice")
        await alice.send("/start abcDEF_123")
        msg = await alice.wait_for(lambda m: "Welcome" in m.text, timeout=5)
        assert msg.text == "Welcome, your code is abcDEF_123"
        answer = await alice.press(msg, "Ye", timeout=5)
        assert (answer.answered, answer.text, answer.show_alert) == (True, "Thanks!", True)
        assert msg.edited and msg.text == "Confirmed" and msg.reply_markup is None
        assert msg.versions == ["Welcome, your code is abcDEF_123"]
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(answer.id)
        with pytest.raises(AssertionError, match="no inline keyboard"):
            await alice.press(msg, "Yes")
        await stand.drain(timeout=5)
    finally:
        await dp.stop_polling()
        await polling


TEXT_EMPTY, TOO_LONG = "Bad Request: message text is empty", "Bad Request: message is too long"
PARSE = "Bad Request: can't parse entities: "
MDV2_DOT = "Character '.' is reserved and must be escaped with the preceding '\\'"
PLAIN_BUTTON = "Text buttons are unallowed in the inline keyboard"
CHECKS: list[tuple[str, str | None, dict[str, Any] | None, str]] = [
    ("", None, None, TEXT_EMPTY),
    ("<b> </b>", "HTML", None, TEXT_EMPTY),
    ("x" * 4097, None, None, TOO_LONG),
    ("<i>x</i>" * 512 + "y" * 3584, "HTML", None, ""),  # 4096 characters once parsed
    ("a < b", "HTML", None, PARSE + 'Unsupported start tag "" at byte offset 2'),
    ("<b>bold", "HTML", None, PARSE + 'Can\'t find end tag corresponding to start tag "b"'),
    ("Done.", "MarkdownV2", None, PARSE + MDV2_DOT),
    ("hi", None, {"text": "é", "callback_data": "é" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
    ("hi", None, {"text": "ok", "callback_data": "d" * 64}, ""),
    ("hi", None, {"text": "plain"}, "Bad Request: can't parse inline keyboard button: " + PLAIN_BUTTON),
    ("hi", None, {"text": "App", "web_app": {"url": "http://example.org/app"}},
     "Bad Request: inline keyboard button Web App URL 'http://example.org/app' is invalid: "
     "Only HTTPS links are allowed"),
]  # fmt: skip
BAD_URLS = """http://localhost:8080/x http://127.0.0.1/x https://10.1.2.3/ http://172.20.0.1/
    https://192.168.1.10/ http://[::1]/ http://0.0.0.0/ https://portal.local/ http://portal/
    ftp://example.org/file""".split()
CHECKS += [
    ("hi", None, {"text": "Go", "url": url},
     f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    for url in BAD_URLS
]  # fmt: skip


async def test_telegram_checks(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user()
    for text, mode, button, error in CHECKS:
        markup = (
            InlineKeyboardMarkup.model_validate({"inline_keyboard": [[button]]}) if button else None
        )
        send = bot.send_message(alice.id, text, parse_mode=mode, reply_markup=markup)
        if not error:
            assert len((await send).text) == (4096 if mode else len(text))
            continue
        with pytest.raises(TelegramBadRequest) as caught:
            await send
        assert caught.value.message == error, (text[:20], button)


async def test_more_bad_requests(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user()
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(alice.id, BufferedInputFile(b"x", "a.txt"), caption="c" * 1025)
    with pytest.raises(
        TelegramBadRequest, match="^Telegram server says - Bad Request: chat not found$"
    ):
        await bot.send_message(424242, "anyone?")
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(message_id=99))


async def test_edit_and_delete_rules() -> None:
    now = [1_800_000_000.0]
    async with BotAPIStandIn(token=TOKEN, clock=lambda: now[0]) as stand:
        bot = stand.make_bot()
        alice = stand.user()
        markup = keyboard(InlineKeyboardButton(text="A", callback_data="a"))
        sent = await bot.send_message(alice.id, "Hello", reply_markup=markup)
        with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
            await bot.edit_message_text(
                "Hello", chat_id=alice.id, message_id=sent.message_id, reply_markup=markup
            )
        await bot.edit_message_text("Hello", chat_id=alice.id, message_id=sent.message_id)
        assert alice.last.reply_markup is None  # an edit without markup drops the keyboard
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("x", chat_id=alice.id, message_id=999)
        with pytest.raises(TelegramBadRequest, match="message to delete not found"):
            await bot.delete_message(alice.id, 999)
        code = await alice.send("123456")
        assert await bot.delete_message(alice.id, code.message_id) and code.deleted
        now[0] += 48 * 3600 + 1
        with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
            await bot.delete_message(alice.id, sent.message_id)
        await bot.session.close()


async def test_blocking_and_forbidden(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user(first_name="Alice")
    await bot.send_message(alice.id, "hi")
    await alice.block()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice.id, "still there?")
    updates = await bot.get_updates(timeout=1)
    member = updates[-1].my_chat_member
    assert member.from_user.id == alice.id and member.chat.id == alice.id
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    await alice.unblock()
    await bot.send_message(alice.id, "welcome back")
    shy = stand.user(first_name="Shy", started=False)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(shy.id, "hello")


async def test_rate_limits(stand: BotAPIStandIn, bot: Bot) -> None:
    alice, bob = stand.user(first_name="Alice"), stand.user(first_name="Bob")
    stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=0.05)
    await bot.send_message(alice.id, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(alice.id, "two")
    assert (
        caught.value.retry_after >= 1 and "Too Many Requests: retry after" in caught.value.message
    )
    await bot.send_message(bob.id, "other chat is fine")
    stand.set_limits(global_per_second=2, per_chat_per_second=None)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(stand.user().id, "third in a second")
    assert stand.stats.rate_limited == 2
    assert [r.message.text for r in stand.sent_log] == ["one", "other chat is fine"]
    assert stand.stats.min_gap() is None  # no chat got two sends


async def test_documents_photos_and_downloads(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user()
    pdf = b"%PDF-1.4 letter"
    sent = await bot.send_document(
        alice.id,
        BufferedInputFile(pdf, "letter.pdf"),
        caption="<b>Your letter</b>",
        parse_mode="HTML",
        protect_content=True,
    )
    msg = await alice.next_message()
    doc = msg.document
    assert (doc.data, doc.filename, doc.mime_type) == (pdf, "letter.pdf", "application/pdf")
    assert msg.caption == "Your letter" and msg.protect_content
    again = await bot.send_document(alice.id, sent.document.file_id)
    assert again.document.file_unique_id == sent.document.file_unique_id
    assert (await bot.download(sent.document.file_id)).read() == pdf
    photo = await bot.send_photo(alice.id, BufferedInputFile(png(), "p.png"))
    assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(alice.id, BufferedInputFile(b"not an image", "p.png"))
    with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Document"):
        await bot.send_document(alice.id, photo.photo[-1].file_id)
    await alice.send_document(b"%PDF-1.7 form", filename="form.pdf", caption="signed")
    update = (await bot.get_updates(timeout=1))[-1]
    assert update.message.caption == "signed" and update.message.document.file_name == "form.pdf"
    assert (await bot.download(update.message.document)).read() == b"%PDF-1.7 form"


async def test_webhook_delivery(stand: BotAPIStandIn, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await bot.set_webhook(url, secret_token="s3cret-Token_1")
        assert stand.webhook and stand.webhook.secret_token == "s3cret-Token_1"
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        alice = stand.user()
        await alice.send("hello hook")
        await stand.drain(timeout=5)
        assert len(received) == 2 and received[0] == received[1]  # retried after the 500
        secret, update = received[1]
        assert secret == "s3cret-Token_1" and update["message"]["text"] == "hello hook"
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert "500" in (info.last_error_message or "")
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates(timeout=0) == [] and stand.webhook is None
    finally:
        await runner.cleanup()


async def test_forum_topics_and_members(stand: BotAPIStandIn, bot: Bot) -> None:
    staff = stand.group(title="SEND staff", forum=True)
    bob = stand.user(first_name="Bob")
    await staff.add_member(bob)
    topic = await bot.create_forum_topic(staff.id, "Case 42: Alice")
    assert staff.topics == {"Case 42: Alice": topic.message_thread_id}
    sent = await bot.send_message(
        staff.id, "New message from Alice", message_thread_id=topic.message_thread_id
    )
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    seen = await staff.wait_for(lambda m: "Alice" in m.text, thread_id=topic.message_thread_id)
    await bob.send_in(staff, "Reply for Alice", thread_id=topic.message_thread_id, reply_to=seen)
    message = (await bot.get_updates(timeout=1))[-1].message
    assert message.message_thread_id == topic.message_thread_id and message.is_topic_message
    assert message.reply_to_message.message_id == sent.message_id
    await bob.send_in(staff, "No explicit reply", thread_id=topic.message_thread_id)
    plain = (await bot.get_updates(timeout=1))[-1].message
    assert plain.reply_to_message.forum_topic_created.name == "Case 42: Alice"
    assert (await bot.get_chat_member(staff.id, bob.id)).status == "member"
    assert (await bot.get_chat_member(staff.id, stand.bot_id)).status == "administrator"
    assert (await bot.get_chat_member(staff.id, stand.user().id)).status == "left"
    chat = await bot.get_chat(staff.id)
    assert (chat.type, chat.title, chat.is_forum) == ("supergroup", "SEND staff", True)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(staff.id, "x", message_thread_id=9999)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(bob.id, "nope")
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.send_message(
            staff.id,
            "x",
            reply_markup=keyboard(
                InlineKeyboardButton(text="app", web_app=WebAppInfo(url="https://example.org"))
            ),
        )


async def test_commands_chat_actions_and_chat_info(stand: BotAPIStandIn, bot: Bot) -> None:
    alice = stand.user(first_name="Alice", username="alice_s")
    commands = [
        BotCommand(command="start", description="Begin"),
        BotCommand(command="help", description="Get help"),
    ]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeChat(chat_id=alice.id))
    assert stand.commands_for() == [("start", "Begin"), ("help", "Get help")]
    assert stand.commands_for("chat", chat_id=alice.id) == [("start", "Begin")]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])
    assert await bot.delete_my_commands() and await bot.get_my_commands() == []
    assert await bot.send_chat_action(alice.id, "typing")
    assert [a.action for a in alice.actions] == ["typing"]
    info = await bot.get_chat(alice.id)
    assert (info.type, info.first_name, info.username) == ("private", "Alice", "alice_s")
    assert (await bot.get_chat_member(alice.id, alice.id)).status == "member"
