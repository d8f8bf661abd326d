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
    rights = State()  # "What can I do?": a rights page for the child's stage, or a topic chosen


class SettingsSG(StatesGroup):
    main = State()


class MessagesSG(StatesGroup):
    menu = State()
    choose = State()  # which child (a parent with several)
    type = State()  # New Message: Message Type
    subject = State()  # Subject
    text = State()  # Message (several chat messages may make one)
    files = State()  # attachments, if the parent wants
    preview = State()  # check, then Send or Cancel
    inbox = State()
    sent = State()  # Sent Items
    read = State()  # one message, with its files and Reply


class DocumentsSG(StatesGroup):
    list = State()  # Documents to View, a page at a time


class FormsSG(StatesGroup):
    actions = State()  # Actions to Complete (the child's assigned forms)
    start = State()  # forms a parent may start (the request for an EHC needs assessment)
    item = State()  # one guidance page or one question
    search = State()  # a list question: the entries matching what was typed
    review = State()  # every answer, each with Change
    confirm = State()  # Submit? (nothing can be changed afterwards)
    done = State()  # submitted: the copy was sent


class OnboardingSG(StatesGroup):
    unique_code = State()
    account = State()
    page = State()
    invitations = State()
    confirm = State()
    done = State()
