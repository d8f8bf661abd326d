"""Reminders: rows planned from the key dates (and the forms' due dates), moved into the outbox
when due, never twice; each parent's choice of reminders. See service.py."""

from core.reminders.models import Reminder, ReminderPreference
from core.reminders.service import (
    FORM_KEY,
    KINDS,
    OFFSET_DAYS,
    Choices,
    OpenDate,
    Recipient,
    ReminderPreferences,
    applies,
    next_reminder_at,
    next_reminder_sent_at,
    plan_account,
    plan_all,
    plan_case,
    send_at,
    send_due,
    wanted,
)

__all__ = [
    "FORM_KEY", "KINDS", "OFFSET_DAYS", "Choices", "OpenDate", "Recipient", "Reminder", "ReminderPreference",
    "ReminderPreferences", "applies", "next_reminder_at", "next_reminder_sent_at", "plan_account", "plan_all", "plan_case", "send_at", "send_due", "wanted",
]
