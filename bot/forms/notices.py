"""The notices about forms, and a form's reminder, worded for the chat (core.notices renders them
through these)."""

from __future__ import annotations

from html import escape

from bot.callbacks import FormButton
from bot.dashboard import texts as dates
from core.forms.notices import FormAssigned, FormWithdrawn
from core.notices import Button, NoticeWriter, Rendered
from core.reminders.notices import FormReminder
from core.timescales import format_date


def _open(assignment_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button("✍️ Open the form", FormButton(id=assignment_id).pack()),),)


def assigned(n: FormAssigned) -> Rendered:
    return Rendered(
        text=(
            f"✍️ <b>A form to complete for {escape(n.child_forename)}</b>\n"
            f"The SEND team asks you to fill in the {escape(n.form_title)}."
            + (f"\nPlease complete it by {format_date(n.due_date)}." if n.due_date else "")
            + (f"\n{escape(n.note)}" if n.note else "")
            + "\n\nYour answers are saved as you go, so you can stop and carry on later."
        ),
        email_subject=f"A form to complete for {n.child_forename}: {n.form_title}",
        buttons=_open(n.assignment_id),
        markup="HTML",
    )


def withdrawn(n: FormWithdrawn) -> Rendered:
    return Rendered(
        text=(
            f"✍️ <b>A form is no longer needed for {escape(n.child_forename)}</b>\n"
            f"The SEND team no longer needs the {escape(n.form_title)}. "
            "You do not need to do anything, and it has gone from Actions to Complete."
        ),
        email_subject=f"A form is no longer needed for {n.child_forename}",
        markup="HTML",
    )


def reminder(n: FormReminder) -> Rendered:
    """A reminder of a form the SEND team asked for, not yet submitted."""
    when = format_date(n.due)
    return Rendered(
        text=(
            f"⏰ <b>Reminder for {escape(n.child_forename)}: {dates.from_now(n.due, n.today)}, {when}.</b>\n\n"
            f"The SEND team asked you to fill in the {escape(n.form_title)} by {when}. "
            "Your answers so far are saved: tap Open the form to carry on where you left off."
        ),
        email_subject=f"Reminder: the {n.form_title} for {n.child_forename}",
        buttons=_open(n.assignment_id),
        markup="HTML",
    )


def register(writer: NoticeWriter) -> None:
    writer.renders(FormAssigned, assigned)
    writer.renders(FormWithdrawn, withdrawn)
    writer.renders(FormReminder, reminder)
