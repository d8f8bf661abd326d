"""The emails about accounts, in plain English. Never a password; a code only in its own email."""

from __future__ import annotations

from datetime import datetime

from core.clock import format_datetime

PORTAL = "EHCP Parent Portal"


def _sign(council: str) -> str:
    return f"\n\nThe SEND team, {council}\n{PORTAL}"


def code_email(purpose: str, code: str, minutes: int, council: str) -> tuple[str, str]:
    """(subject, body) of the email carrying a one-time code."""
    what = {
        "register": (
            "Confirm your email address",
            "to confirm your email address and finish registering",
        ),
        "login": ("Your code to log in", "to finish logging in"),
        "reset": ("Your code to reset your password", "to choose a new password"),
        "change_email": ("Confirm your new email address", "to confirm your new email address"),
    }
    subject, why = what.get(purpose, ("Your code", "to carry on"))
    body = (
        "Hello,\n\n"
        f"Your code is {code}.\n\n"
        f"Type it in the chat (or on the page that asked for it) {why} on the {PORTAL}. "
        f"It works for {minutes} minutes.\n\n"
        "Do not share this code with anyone. The SEND team will never ask you for it.\n\n"
        "If you did not ask for a code, you can ignore this email."
        + _sign(council)
    )
    return f"{PORTAL}: {subject}", body


def someone_tried_to_register(council: str) -> tuple[str, str]:
    body = (
        "Hello,\n\n"
        f"Someone tried to register a new {PORTAL} account with your email address. "
        "You already have an account, so no new account was made and nothing has changed.\n\n"
        "If this was you, you do not need a new account: log in with your email address and "
        'password, or choose "Forgotten password" if you cannot remember it.\n\n'
        "If it was not you, you can ignore this email." + _sign(council)
    )
    return f"{PORTAL}: someone tried to register with your email address", body


def address_already_used(council: str) -> tuple[str, str]:
    body = (
        "Hello,\n\n"
        f"Someone asked to move their {PORTAL} account to this email address. This address "
        "already has an account, so nothing was changed.\n\n"
        "If this was you, log in with this email address instead. If it was not you, you can "
        "ignore this email." + _sign(council)
    )
    return f"{PORTAL}: this email address already has an account", body


def password_changed(at: datetime, contact: str, council: str) -> tuple[str, str]:
    body = (
        "Hello,\n\n"
        f"The password of your {PORTAL} account was changed on {format_datetime(at)}.\n\n"
        "If you did not change it, set a new password straight away: on the log in page, "
        f'choose "Forgotten password". Then tell {contact}.' + _sign(council)
    )
    return f"{PORTAL}: your password was changed", body


def email_changed(new_email: str, at: datetime, contact: str, council: str) -> tuple[str, str]:
    body = (
        "Hello,\n\n"
        f"The email address of your {PORTAL} account was changed to {new_email} on "
        f"{format_datetime(at)}. Emails from the portal now go there, and you log in with it.\n\n"
        f"If you did not do this, please tell {contact} straight away." + _sign(council)
    )
    return f"{PORTAL}: your email address was changed", body
