"""What the bot says. Plain English: short sentences, the next step obvious."""

from __future__ import annotations

from html import escape

from core.config import Settings


def privacy_notice(settings: Settings) -> str:
    council = escape(settings.product.council_name)
    return (
        "<b>Before you start: your privacy</b>\n\n"
        f"This chat is run by {council}'s SEND team. It is part of the EHCP Parent Portal.\n\n"
        "• <b>What we keep:</b> your chat number, your place in any form you are filling in, "
        "the messages and forms you send us, and a record of the notices we send you.\n"
        f"• <b>Who keeps it:</b> {council}. Your child's case records are kept as the law "
        "requires, as they are in the web portal.\n"
        "• <b>Telegram</b> also holds this chat on its servers, like any Telegram chat. "
        "Do not send passwords here. We will never ask for one in the chat.\n"
        "• <b>To stop:</b> send /logout to unlink this chat, or /deletemydata to also erase "
        "what we hold only because of this chat. You can also block the bot at any time."
    )


def welcome() -> str:
    return (
        "<b>Welcome to the EHCP Parent Portal</b>\n\n"
        "Here you can see your child's SEND Dashboard, send and read messages, "
        "get letters and plans, and fill in forms. We will remind you before each key date.\n\n"
        "If the SEND team sent you an invitation email, tap the link in that email. "
        "It brings you back here to set up your account.\n\n"
        "No invitation? You can register or log in from the menu below."
    )


def help_text(settings: Settings) -> str:
    contact = escape(settings.product.send_team_contact)
    reply = escape(settings.product.response_time)
    return (
        "<b>Help</b>\n\n"
        "<b>What this chat can do</b>\n"
        "• Show your child's SEND Dashboard: the stage, key dates and your caseworker.\n"
        "• Send messages to the SEND team and read their replies.\n"
        "• Send you the letters and plans the SEND team publishes (Documents to View).\n"
        "• Fill in the forms the SEND team asks for (Actions to Complete), one question at a "
        "time. Every answer is saved, so you can stop and carry on later. "
        "Create PDF gives you a copy of your answers at any time.\n"
        "• Send the council a request for an EHC needs assessment.\n"
        "• Remind you before each key date.\n\n"
        "<b>Talking to a person</b>\n"
        f"To write to the SEND team, send /messages. The SEND team reads every message and "
        f"replies {reply}. "
        f"If it is urgent, contact {contact}.\n\n"
        "<b>Commands</b>\n"
        "/start – the main menu\n"
        "/dashboard – your child's SEND Dashboard\n"
        "/messages – write to the SEND team, Inbox and Sent Items\n"
        "/settings – reminders, and which child to show\n"
        "/help – this help\n"
        "/privacy – what we keep and how to stop\n"
        "/cancel – stop what you are doing\n"
        "/logout – unlink this chat from your portal account\n"
        "/deletemydata – delete your data from this chat"
    )


def unexpected_text() -> str:
    return (
        "Sorry, I did not understand that. Nothing has been sent to the SEND team.\n\n"
        "To write to the SEND team, send /messages. For anything else, choose an option below "
        "or send /help."
    )


def stale_button() -> str:
    return (
        "That button is from an earlier conversation and no longer works. "
        "Nothing has been changed.\n\nPlease choose an option below."
    )


def cancelled() -> str:
    return "Stopped. Nothing more has been sent. Please choose an option below."


def main_menu_title() -> str:
    return "<b>Main menu</b>\nWhat would you like to do?"


def not_available() -> str:
    return "That is not available in this chat. Open the menu to choose again."


def something_went_wrong() -> str:
    return (
        "Sorry, something went wrong on our side, so that did not work. "
        "Please try again in a few minutes."
    )


def contact_text(settings: Settings) -> str:
    contact = escape(settings.product.send_team_contact)
    reply = escape(settings.product.response_time)
    return (
        "<b>Talking to a person</b>\n\n"
        "To write to the SEND team, send /messages and choose <b>New Message</b>. "
        f"The SEND team reads every message and replies {reply}.\n\n"
        f"If it is urgent, contact {contact} directly."
    )


# ---------------------------------------------------------------- the child a window is about (every room)


def choose_child() -> str:
    return "<b>SEND Dashboard</b>\n\nWhich child do you want to see?"


def child_not_available() -> str:
    return (
        "That child's information is not available in this chat. "
        "Open the SEND Dashboard from the menu to choose again."
    )


def dashboard_needs_login() -> str:
    return (
        "You need to log in to see the SEND Dashboard.\n\n"
        "Go to the main menu and log in or register. Then the SEND Dashboard shows your child's case."
    )


def dashboard_no_child() -> str:
    return (
        "<b>SEND Dashboard</b>\n\n"
        "The SEND team has not activated access to a child for you yet. "
        "We will tell you here as soon as they do."
    )


# ---------------------------------------------------------------- files sent in the chat (messages and forms)


def file_too_big() -> str:
    return (
        "That file is too big. Files can be up to 20 MB. Please send a smaller copy, "
        "or a photo of each page."
    )


def file_not_fetched() -> str:
    return "Sorry, we could not get that file from Telegram. Please send it again."
