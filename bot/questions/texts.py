"""The words of "Ask anything": HTML, plain English, GOV.UK style."""

from __future__ import annotations

from datetime import date
from html import escape

from bot.dashboard.rights import to_html
from bot.dashboard.texts import STAGE_NAMES, key_date_line
from core.cases.dashboard import Dashboard
from core.clock import format_date
from core.knowledge import Answer
from core.messages.service import MessageView
from core.timescales import Status

HELPFUL = "Was this helpful?"
YES, NO = "👍 Yes", "👎 No"
ASK_TEAM = "✉️ Ask the SEND team"
DASHBOARD = "📊 SEND Dashboard"
SENT_ITEMS = "📤 Sent Items"
INBOX = "📥 Inbox"
ACTIONS = "📝 Actions to Complete"
DOCUMENTS = "📄 Documents to View"


def knowledge_answer(answer: Answer) -> str:
    """The passage's own sentences, quoted, then where they come from."""
    kind = "" if answer.passage.verbatim else " (a summary)"
    return (f"<b>{escape(answer.passage.heading)}</b>{kind}\n\n<blockquote>{to_html(answer.excerpt)}</blockquote>\n\n"
            f"<i>{escape(answer.citation)}</i>\n\n{HELPFUL}")


def declined() -> str:
    return ("I could not find an answer to that.\n\n"
            "You can ask the SEND team: they reply in this chat.")


def not_logged_in() -> str:
    return ("To ask about your child's case, log in first: choose <b>I already have an account</b> or "
            "<b>Register for new account</b> below.")


def _name(d: Dashboard) -> str:
    return f"<b>{escape(d.child_forename)} {escape(d.child_surname)}</b>"


def dates(d: Dashboard, today: date) -> str:
    lines = [_name(d), f"Stage: {escape(STAGE_NAMES.get(d.stage, str(d.stage)))}"]
    waiting = [kd for kd in d.key_dates if kd.due is not None and kd.status in (Status.DUE, Status.OVERDUE)]
    if d.request_date is None:
        lines.append("No dates yet: the SEND team has not recorded a request for an EHC needs assessment.")
    elif not waiting:
        lines.append("No dates are waiting now.")
    lines += [key_date_line(kd, today) for kd in waiting]
    return "\n".join(lines)


def caseworker(d: Dashboard) -> str:
    if d.caseworker_name:
        who = f"SEND caseworker: {escape(d.caseworker_name)}."
    else:
        who = "A SEND caseworker has not been allocated yet."
    return f"{_name(d)}\n{who}\nContact: {escape(d.contact)}"


def messages(d: Dashboard, latest: MessageView | None) -> str:
    lines = [_name(d)]
    if latest is None:
        lines.append("You have not sent a message to the SEND team.")
    else:
        sent = f"Your last message, “{escape(latest.subject)}”, sent {format_date(latest.created_at)}"
        if latest.read_at is not None:
            lines.append(f"{sent}, was read by the SEND team on {format_date(latest.read_at)}.")
        else:
            lines.append(f"{sent}, has not been read by the SEND team yet.")
    n = d.counts.messages
    lines.append("You have no new messages in your Inbox." if not n else
                 f"You have {n} new message{'s' if n > 1 else ''} in your Inbox.")
    return "\n".join(lines)


def forms(d: Dashboard) -> str:
    n = d.counts.actions
    return f"{_name(d)}\n" + ("No forms are waiting for you." if not n else
                              f"{n} form{'s are' if n > 1 else ' is'} waiting for you in Actions to Complete.")


def documents(d: Dashboard) -> str:
    n = d.counts.documents
    return f"{_name(d)}\n" + ("You have received every document the SEND team has published." if not n else
                              f"{n} document{'s have' if n > 1 else ' has'} not been received yet. "
                              "Open Documents to View to receive them.")
