"""/settings: which reminders to get, and which child this chat shows (PRODUCT.md journey 9)."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Start
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dashboard import texts as dashboard_texts
from bot.dashboard.dialog import child_chosen
from bot.dashboard.texts import REMINDER_KINDS
from bot.dialogs.common import chat_id_of, choices, services_of, unexpected_input
from bot.dialogs.states import DashboardSG, MainMenuSG, SettingsSG
from bot.onboarding import texts as onboarding_texts

KIND_ORDER = ("before_7", "before_1", "on_day", "missed")


async def settings_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = services_of(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    ov = await svc.dashboard.overview(chat_id)
    if ov.account_id is None:
        return {"linked": False, "text": texts.dashboard_needs_login(), "kinds": [], "children": []}
    choices = (await svc.reminders.get(ov.account_id)).as_set()
    current = ov.dashboard.child_id if ov.dashboard is not None else None
    kinds = [(("✅ " if k in choices else "⬜️ ") + REMINDER_KINDS[k], k) for k in KIND_ORDER]
    children = [
        (("👉 " if c.child_id == current else "👤 ") + f"{c.forename} {c.surname}", str(c.child_id))
        for c in ov.children
    ]
    return {
        "linked": True,
        "text": dashboard_texts.settings_text(current_name=ov.dashboard.child_forename if ov.dashboard else None,
                                    several=len(ov.children) > 1),
        "kinds": kinds,
        "children": children if len(children) > 1 else [],
    }


async def _toggle(callback: CallbackQuery, _w: Any, manager: DialogManager, kind: str) -> None:
    svc = services_of(manager)
    account_id = await svc.chat_links.account_for_chat(chat_id_of(manager))
    if account_id is None or kind not in KIND_ORDER:
        await callback.answer(onboarding_texts.stale_choice(), show_alert=True)
        return
    now_on = kind in (await svc.reminders.get(account_id)).as_set()
    await svc.reminders.set(account_id, kind, not now_on)
    await callback.answer(dashboard_texts.reminder_switched(REMINDER_KINDS[kind], not now_on))


async def _switch_child(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    if await child_chosen(callback, manager, item_id) is not None:
        await callback.answer(dashboard_texts.child_switched())


async def _open_dashboard(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(DashboardSG.main, mode=StartMode.RESET_STACK)


def settings_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{text}"),
            choices("kind", "kinds", _toggle),
            choices("child", "children", _switch_child),
            Button(Const("📊 SEND Dashboard"), id="dash", on_click=_open_dashboard, when="linked"),
            Start(Const("⬅️ Main menu"), id="menu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK),
            unexpected_input(),
            state=SettingsSG.main,
            getter=settings_getter,
        ),
    )
