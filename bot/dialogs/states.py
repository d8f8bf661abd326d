"""Dialogue states, kept apart so one dialogue can start another without import cycles."""

from aiogram.fsm.state import State, StatesGroup


class MainMenuSG(StatesGroup):
    menu = State()


class HelpSG(StatesGroup):
    main = State()
    privacy = State()
    contact = State()


class DeleteDataSG(StatesGroup):
    confirm = State()


class DashboardSG(StatesGroup):
    choose = State()
    main = State()
    extra = State()


class SettingsSG(StatesGroup):
    main = State()
