"""The Bot API session (notifications/session.py): a request with no file is urlencoded without
aiogram's multipart writer; what arrives is the same as before, and a file still goes as a
multipart upload."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from notifications.session import TelegramSession, telegram_session

HTML = "Sam's plan: <b>draft</b> &amp; final + 100% done?\nLine two = é 🙂 #1 ;x=y&amp;z"
PLAIN = "Sam's plan: draft & final + 100% done?\nLine two = é 🙂 #1 ;x=y&z"


async def test_text_and_buttons_arrive_exactly_and_files_still_upload(stand):
    # As the product makes it: HTML by default (an enum, which must go as its value, "HTML").
    bot = Bot(stand.token, session=telegram_session(stand.base_url), default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    assert isinstance(bot.session, TelegramSession)
    try:
        alice = stand.user()
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Inbox & more", callback_data="a:b=c&d")]])
        sent = await bot.send_message(alice.id, HTML, reply_markup=markup)
        msg = await alice.next_message()
        assert msg.html == HTML and sent.text == msg.text == PLAIN
        assert [b.callback_data for b in msg.reply_markup.buttons] == ["a:b=c&d"]
        doc = await bot.send_document(alice.id, BufferedInputFile(b"%PDF-1.4 x", "plan & notes.pdf"), caption="Plan")
        got = await alice.next_message()
        assert (got.document.data, got.document.filename, got.caption) == (b"%PDF-1.4 x", "plan & notes.pdf", "Plan")
        assert doc.document.file_name == "plan & notes.pdf"
    finally:
        await bot.session.close()
