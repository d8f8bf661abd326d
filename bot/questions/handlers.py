"""Free text outside a prompt is a question (issue 17): answered from the family's own case, from
the knowledge base, or declined; and the buttons under an answer.

A message is a question when the chat is logged in, it is text with words in it, and no dialogue
waits for it: no dialogue is open, or the open one shows a window of buttons that is not a step
of a journey (OUTSIDE_A_PROMPT). Anywhere else (a journey's step, a code) the kind answer stays.
"""

from __future__ import annotations

import logging
import re

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.api.exceptions import NoContextError

from bot.callbacks import AskButton, DashboardButton, GoButton, usable_id
from bot.dialogs.states import (
    DashboardSG,
    DocumentsSG,
    FormsSG,
    HelpSG,
    MainMenuSG,
    MessagesSG,
    OnboardingSG,
    SettingsSG,
)
from bot.filters import inline
from bot.questions import texts
from core.clock import london_today
from core.questions import CaseReply, DeclinedReply, Intent, KnowledgeReply, NotLinked
from core.services import Services

log = logging.getLogger(__name__)

# Windows of buttons, waiting for nothing typed, where typed text is taken as a question: the
# menus, help, the dashboard, the lists, and the window that ends a journey.
OUTSIDE_A_PROMPT = {MainMenuSG.menu, HelpSG.main, HelpSG.privacy, HelpSG.contact, DashboardSG.main,
                    DashboardSG.extra, DashboardSG.rights, SettingsSG.main, MessagesSG.menu, MessagesSG.inbox,
                    MessagesSG.sent, DocumentsSG.list, FormsSG.actions, FormsSG.done, OnboardingSG.done}
_WORDS = re.compile(r"[^\W\d_]{2,}")
_PLACES = {"sent": MessagesSG.sent, "inbox": MessagesSG.inbox, "actions": FormsSG.actions,
           "documents": DocumentsSG.list}


def outside_a_prompt(manager: DialogManager) -> bool:
    try:
        context = manager.current_context()
    except NoContextError:
        return True
    return context is None or context.state in OUTSIDE_A_PROMPT


async def answer_question(message: Message, manager: DialogManager) -> bool:
    """Answer `message` as a question if it is one here (True); False: the caller answers as before."""
    text = message.text or ""
    if not _WORDS.search(text) or not outside_a_prompt(manager):
        return False
    services: Services = manager.middleware_data["services"]
    reply = await services.questions.ask(message.chat.id, text)
    if isinstance(reply, NotLinked):
        return False
    if isinstance(reply, CaseReply):
        for body, markup in await _case_answers(reply, message.chat.id, services):
            await message.answer(body, reply_markup=markup)
    elif isinstance(reply, KnowledgeReply):
        await message.reply(texts.knowledge_answer(reply.answer), reply_markup=_ask_buttons(reply.record_id, reply.key,
                                                                                            helpful=True))
    elif isinstance(reply, DeclinedReply):
        await message.reply(texts.declined(), reply_markup=_ask_buttons(reply.record_id, reply.key, helpful=False))
    return True


def _ask_buttons(record_id: int, key: str, *, helpful: bool) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=label, callback_data=AskButton(id=record_id, key=key, action=action).pack())

    rows = [[button(texts.YES, "yes"), button(texts.NO, "no")]] if helpful else []
    rows.append([button(texts.ASK_TEAM, "team")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _go(label: str, place: str, child_id: int, *more: tuple[str, str]) -> InlineKeyboardMarkup:
    """The button that goes there (and any more, each (label, place)), for that child."""
    def data(place: str) -> str:
        return (DashboardButton(child_id=child_id) if place == "dashboard"
                else GoButton(place=place, child_id=child_id)).pack()

    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data(where))]
                                                 for text, where in ((label, place), *more)])


async def _case_answers(reply: CaseReply, chat_id: int, services: Services) -> list[tuple[str, InlineKeyboardMarkup]]:
    """One answer per child, each with the button that goes there."""
    out = []
    for d in reply.dashboards:
        if reply.intent is Intent.DATES:
            out.append((texts.dates(d, london_today(services.portal.clock.now())),
                        _go(texts.DASHBOARD, "dashboard", d.child_id)))
        elif reply.intent is Intent.CASEWORKER:
            out.append((texts.caseworker(d), _go(texts.DASHBOARD, "dashboard", d.child_id)))
        elif reply.intent is Intent.MESSAGES:
            page = await services.messages.page(chat_id, d.child_id, "sent", 0, per_page=1)
            inbox = ((texts.INBOX, "inbox"),) if d.counts.messages else ()  # new ones to read there
            out.append((texts.messages(d, page.items[0] if page.items else None),
                        _go(texts.SENT_ITEMS, "sent", d.child_id, *inbox)))
        elif reply.intent is Intent.FORMS:
            out.append((texts.forms(d), _go(texts.ACTIONS, "actions", d.child_id)))
        else:
            out.append((texts.documents(d), _go(texts.DOCUMENTS, "documents", d.child_id)))
    return out


def questions_router() -> Router:
    router = Router(name="questions")

    @router.callback_query(AskButton.filter(F.action.in_({"yes", "no", "team"})), inline(F.message.chat.type == "private"))
    async def pressed(query: CallbackQuery, callback_data: AskButton, dialog_manager: DialogManager,
                      services: Services) -> None:
        from bot.handlers.fallback import stale  # the kind answer to a dead or forged button

        record_id = usable_id(callback_data.id)
        if record_id is None or not await services.questions.is_known(record_id, callback_data.key):
            log.info("refused a question button naming no record")
            await stale(query, dialog_manager)
            return
        if callback_data.action == "team":
            await query.answer()
            asked = query.message.reply_to_message if isinstance(query.message, Message) else None
            question = (asked.text or "") if asked is not None else ""  # the parent's own message, still in the chat
            await dialog_manager.start(MessagesSG.text, data={"question": question},
                                       mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
            return
        await services.questions.helpful(record_id, callback_data.key, callback_data.action == "yes")
        await query.answer("Thank you. Your answer helps the council improve these pages.")

    @router.callback_query(GoButton.filter(F.place.in_(set(_PLACES))), inline(F.message.chat.type == "private"))
    async def go(query: CallbackQuery, callback_data: GoButton, dialog_manager: DialogManager) -> None:
        await query.answer()
        child_id = usable_id(callback_data.child_id) or -1
        await dialog_manager.start(_PLACES[callback_data.place], data={"child_id": child_id},
                                   mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)

    return router
