"""The SEND Dashboard in chat: pick a child (when there are several), the dashboard itself,
"Extra information" and the timeline picture. Every window asks the core again, and the core
checks access each time: a child id from a button is never trusted."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Start, SwitchTo
from aiogram_dialog.widgets.link_preview import LinkPreview
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dashboard.rights import chosen_topic, other_topics, page_html
from bot.dashboard.texts import dashboard_text, extra_information, timeline_caption
from bot.dialogs.common import as_id, chat_id_of, choices, services_of, unexpected_input
from bot.dialogs.states import DashboardSG, DocumentsSG, FormsSG, MainMenuSG, MessagesSG
from core.cases.dashboard import Overview

log = logging.getLogger(__name__)


def _child_id(manager: DialogManager) -> int | None:
    if "child_id" in manager.dialog_data:
        return manager.dialog_data["child_id"]
    data = manager.start_data if isinstance(manager.start_data, dict) else {}
    return data.get("child_id")


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    """Straight to the dashboard with one child (or the chat's chosen one); else pick first. From
    a notice's "What can I do?", straight to that rights page."""
    ov = await _overview(manager)
    data = start_data if isinstance(start_data, dict) else {}
    if ov.dashboard is not None:
        manager.dialog_data["child_id"] = ov.dashboard.child_id
        if "topic" in data:
            manager.dialog_data["topic"] = str(data["topic"])[:40]
            await manager.switch_to(DashboardSG.rights)
            return
        await manager.switch_to(DashboardSG.main)
    elif ov.account_id is not None and len(ov.children) > 1 and _child_id(manager) is None:
        await manager.switch_to(DashboardSG.choose)
    else:
        await manager.switch_to(DashboardSG.main)


async def _overview(manager: DialogManager) -> Overview:
    """The chat's overview, asked of the core once per update (the dialogue's start and its
    window's getter both need it: one read and one audit entry, not two)."""
    asked = _child_id(manager)
    seen: dict[int | None, Overview] = manager.middleware_data.setdefault("ehcp_overviews", {})
    if asked not in seen:
        ov = await services_of(manager).dashboard.overview(chat_id_of(manager), asked)
        seen[asked] = ov
        if ov.dashboard is not None:
            seen.setdefault(ov.dashboard.child_id, ov)
    return seen[asked]


async def choose_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    ov = await _overview(dialog_manager)
    return {
        "children": [(f"{c.forename} {c.surname}", str(c.child_id)) for c in ov.children],
        "prompt": texts.choose_child(),
    }


async def child_chosen(callback: CallbackQuery, manager: DialogManager, item_id: str) -> int | None:
    """The child whose button was pressed, now the chat's chosen child; None (said in an alert)
    when the child is not this parent's to see (any more)."""
    child_id = as_id(item_id)
    if not await services_of(manager).dashboard.choose_child(chat_id_of(manager), child_id):
        await callback.answer(texts.child_not_available(), show_alert=True)
        return None
    return child_id


async def _chosen(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    child_id = await child_chosen(callback, manager, item_id)
    if child_id is None:
        return
    manager.dialog_data["child_id"] = child_id
    await manager.switch_to(DashboardSG.main)


async def main_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    ov = await _overview(dialog_manager)
    d = ov.dashboard
    base = {"several": len(ov.children) > 1, "has": d is not None, "actions": 0, "messages": 0, "documents": 0}
    if ov.account_id is None:
        return {**base, "text": texts.dashboard_needs_login()}
    if d is None:
        if not ov.children:
            return {**base, "text": texts.dashboard_no_child()}
        return {**base, "text": texts.child_not_available()}
    return {
        **base,
        "text": dashboard_text(d),
        "actions": d.counts.actions,
        "messages": d.counts.messages,
        "documents": d.counts.documents,
    }


async def extra_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    child_id = _child_id(dialog_manager)
    d = None
    if child_id is not None:
        d = (await services_of(dialog_manager).dashboard.overview(chat_id_of(dialog_manager), child_id)).dashboard
    if d is None:
        return {"text": texts.child_not_available()}
    return {"text": extra_information(d.stage, d.child_forename, {k.key: k for k in d.key_dates}, d.exceptions)}


async def rights_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    """ "What can I do?": the page for the child's stage (or the topic chosen), with the case's
    own dates and the council's contacts, and the other topics as buttons."""
    services = services_of(dialog_manager)
    ov = await _overview(dialog_manager)
    d = ov.dashboard
    if d is None:
        return {"text": texts.child_not_available(), "topics": []}
    topic = chosen_topic(services.rights, d, dialog_manager.dialog_data.get("topic"))
    return {"text": page_html(topic, d, services.portal.settings),
            "topics": other_topics(services.rights, d, topic)}


async def _topic_chosen(_c: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    manager.dialog_data["topic"] = item_id[:40]  # checked against the topics by the getter


async def _what_can_i_do(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop("topic", None)  # the page for the child's stage
    await manager.switch_to(DashboardSG.rights)


async def _timeline(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    child_id = _child_id(manager)
    found = None
    if child_id is not None:
        found = await services_of(manager).dashboard.timeline(chat_id_of(manager), child_id)
    if found is None:
        await callback.answer(texts.child_not_available(), show_alert=True)
        return
    png, d = found
    await callback.answer()
    await callback.message.answer_photo(
        BufferedInputFile(png, filename="timeline.png"), caption=timeline_caption(d.child_forename, d.stage)
    )
    # The dashboard again, below the picture (so a quick second tap on the old one sends nothing).
    manager.show_mode = ShowMode.SEND


async def _open_actions(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    """The child's Actions to Complete (the forms dialogue checks access again)."""
    await manager.start(FormsSG.actions, data={"child_id": _child_id(manager)})


async def _open_documents(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    """The child's Documents to View (the documents dialogue checks access again)."""
    await manager.start(DocumentsSG.list, data={"child_id": _child_id(manager)})


async def _open_messages(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    """The child's Inbox (the messages dialogue checks access again)."""
    await manager.start(MessagesSG.inbox, data={"child_id": _child_id(manager)})


def _menu() -> Start:
    return Start(Const("⬅️ Main menu"), id="menu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK)


def dashboard_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{prompt}"),
            choices("child", "children", _chosen, "👤 {item[0]}"),
            _menu(),
            unexpected_input(),
            state=DashboardSG.choose,
            getter=choose_getter,
        ),
        Window(
            Format("{text}"),
            SwitchTo(Const("ℹ️ Extra information"), id="extra", state=DashboardSG.extra, when="has"),
            Button(Const("⚖️ What can I do?"), id="rights", on_click=_what_can_i_do, when="has"),
            Button(Const("🖼 Timeline picture"), id="timeline", on_click=_timeline, when="has"),
            Button(Format("✍️ Actions to Complete ({actions})"), id="actions", on_click=_open_actions, when="has"),
            Button(Format("💬 New Messages ({messages})"), id="messages", on_click=_open_messages, when="has"),
            Button(Format("📄 Documents to View ({documents})"), id="documents", on_click=_open_documents, when="has"),
            SwitchTo(Const("🔁 Switch child"), id="switch", state=DashboardSG.choose, when=F["several"]),
            _menu(),
            unexpected_input(),
            state=DashboardSG.main,
            getter=main_getter,
        ),
        Window(
            Format("{text}"),
            Button(Const("⚖️ What can I do?"), id="rights", on_click=_what_can_i_do),
            SwitchTo(Const("⬅️ Back to the SEND Dashboard"), id="back", state=DashboardSG.main),
            _menu(),
            unexpected_input(),
            state=DashboardSG.extra,
            getter=extra_getter,
        ),
        Window(
            Format("{text}"),
            choices("topic", "topics", _topic_chosen, "📖 {item[0]}"),
            SwitchTo(Const("⬅️ Back to the SEND Dashboard"), id="back", state=DashboardSG.main),
            _menu(),
            unexpected_input(),
            LinkPreview(is_disabled=True),  # links to GOV.UK and charities: no big preview
            state=DashboardSG.rights,
            getter=rights_getter,
        ),
        on_start=_on_start,
    )


__all__ = ["dashboard_dialog"]
