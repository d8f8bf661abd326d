"""Commands, the fallback answers, chat membership and error handling. One router per module."""

from __future__ import annotations

from aiogram import Router


def command_routers() -> list[Router]:
    from bot.dashboard.handlers import dashboard_router
    from bot.documents.handlers import documents_router
    from bot.forms.handlers import forms_router
    from bot.handlers.commands import commands_router
    from bot.handlers.membership import membership_router
    from bot.messages.handlers import messages_router
    from bot.questions.handlers import questions_router
    from bot.staff.handlers import staff_router

    # The staff group's router comes first: nothing else may answer in the staff group.
    return [staff_router(), membership_router(), commands_router(), dashboard_router(), messages_router(),
            documents_router(), forms_router(), questions_router()]


def guard_routers() -> list[Router]:
    """Included after every feature router and before the dialogues."""
    from bot.handlers.fallback import foreign_button_router

    return [foreign_button_router()]


def last_routers() -> list[Router]:
    """Routers that catch what nothing else handled; included after every dialogue."""
    from bot.handlers.fallback import fallback_router

    return [fallback_router()]
