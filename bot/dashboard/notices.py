"""The notices about a child's case and the reminders of its dates, worded for the chat (core.notices
renders them through these). Each has the SEND Dashboard's button."""

from __future__ import annotations

from bot.callbacks import DashboardButton, RightsButton
from bot.dashboard import texts
from core.cases.events import EventKind
from core.cases.notices import (
    CaseEventRecorded,
    CaseEventWithdrawn,
    CaseNotice,
    CaseworkerChanged,
    RequestDateRecorded,
)
from core.notices import Button, NoticeWriter, Rendered
from core.reminders.notices import DateReminder


def _to_dashboard(child_id: int | None) -> tuple[tuple[Button, ...], ...]:
    assert child_id is not None
    return ((Button("📊 SEND Dashboard", DashboardButton(child_id=child_id).pack()),),)


def _with_rights(child_id: int | None, topic: str = "") -> tuple[tuple[Button, ...], ...]:
    """ "What can I do?" (a rights page: `topic`, or the child's stage's), then the dashboard."""
    assert child_id is not None
    return ((Button("⚖️ What can I do?", RightsButton(child_id=child_id, topic=topic).pack()),),
            *_to_dashboard(child_id))


def _case(n: CaseNotice, text: str, *, rights: bool = False) -> Rendered:
    buttons = _with_rights(n.child_id) if rights else _to_dashboard(n.child_id)
    return Rendered(text=text, email_subject=texts.case_notice_subject(n.child_forename),
                    buttons=buttons, markup="HTML")


def event_recorded(n: CaseEventRecorded) -> Rendered:
    rights = texts.rights_sentence(n.key_dates, n.event, n.details)
    return _case(n, texts.event_notice(
        texts.event_headline(n.event, n.child_forename, n.on, n.details),
        rights,
        texts.next_date_sentence(n.next_date),
        texts.exception_note() if n.event is EventKind.EXCEPTION else "",
    ), rights=bool(rights) or n.event in texts.APPEAL_OPENS)


def event_withdrawn(n: CaseEventWithdrawn) -> Rendered:
    return _case(n, texts.withdrawn_notice(n.child_forename, n.event_name, n.on, texts.next_date_sentence(n.next_date)))


def request_date(n: RequestDateRecorded) -> Rendered:
    return _case(n, texts.request_date_notice(n.child_forename, n.request_date, texts.next_date_sentence(n.next_date)))


def caseworker(n: CaseworkerChanged) -> Rendered:
    word = texts.caseworker_notice if n.new else texts.caseworker_contact_notice
    return _case(n, word(n.child_forename, n.name, n.contact))


# The rights page a reminder's "What can I do?" opens (a missed council date: what to do then).
_REMINDER_TOPICS = {"tribunal_appeal": "appeal", "mediation_contact": "mediation"}


def date_reminder(n: DateReminder) -> Rendered:
    topic = "missed_date" if n.reminder == "missed" else _REMINDER_TOPICS.get(n.date_key)
    return Rendered(
        text=texts.reminder_text(n.reminder, n.date_key, n.child_forename, n.due, n.party, n.contact,
                                 n.caseworker_name, n.today),
        email_subject=texts.reminder_subject(n.child_forename),
        buttons=_with_rights(n.child_id, topic) if topic else _to_dashboard(n.child_id),
        markup="HTML",
    )


def register(writer: NoticeWriter) -> None:
    writer.renders(CaseEventRecorded, event_recorded)
    writer.renders(CaseEventWithdrawn, event_withdrawn)
    writer.renders(RequestDateRecorded, request_date)
    writer.renders(CaseworkerChanged, caseworker)
    writer.renders(DateReminder, date_reminder)
