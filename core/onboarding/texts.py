"""Emails and notices of onboarding, in plain English. A code or link only in the invitation email."""

from __future__ import annotations

from datetime import datetime

from core.clock import format_date, format_datetime

PORTAL = "EHCP Parent Portal"
INVITATION_SUBJECT = "Accept Portal Invitation"


def _sign(team: str, council: str) -> str:
    return f"\n\n{team[:1].upper()}{team[1:]}, {council}\n{PORTAL}"


def invitation_email(
    *,
    parent_forename: str,
    child_forename: str,
    child_surname: str,
    code: str,
    link: str,
    expires_at: datetime,
    team: str,
    council: str,
    again: bool = False,
) -> tuple[str, str]:
    """(subject, body) of the invitation: the unique code and the deep link into the bot."""
    opening = (
        "Here is a new invitation. The code and link we sent before no longer work.\n\n" if again else ""
    )
    body = (
        f"Dear {parent_forename},\n\n"
        + opening
        + f"{team[:1].upper()}{team[1:]} invites you to the {PORTAL} for {child_forename} {child_surname}. "
        "In the portal you can see where the EHC needs assessment is and what happens next, "
        "send and read messages, get letters and plans, and fill in forms. It works in Telegram, "
        "on your phone.\n\n"
        f"Your unique verification code is: {code}\n\n"
        "1. Open this link on a phone or computer that has Telegram:\n"
        f"   {link}\n"
        "2. Press Start in the chat that opens.\n"
        "3. Type your unique code when the chat asks for it.\n"
        "4. Register for a new account, or log in if you already have one, and accept the invitation.\n\n"
        f"The code and the link work until {format_date(expires_at)}. Keep them to yourself: "
        "anyone with them could ask for access. You can also quote the code to "
        f"{team} by phone, and they can verify you.\n\n"
        "If you were not expecting this email, you can ignore it." + _sign(team, council)
    )
    return INVITATION_SUBJECT, body


def response_email(
    *, accepted: list[str], declined: list[str], team: str, council: str
) -> tuple[str, str]:
    """(subject, body) confirming the parent's answer to their invitations (children's forenames)."""
    parts = ["Hello,\n\nThank you. We have your answer to the portal invitation."]
    if accepted:
        parts.append(
            f"You accepted access for {_names(accepted)}. {team[:1].upper()}{team[1:]} will now "
            "activate your access. We will tell you in the chat, and by email if we cannot reach "
            "you there, when they have."
        )
    if declined:
        parts.append(
            f"You said no to access for {_names(declined)}. {team[:1].upper()}{team[1:]} can see "
            "your answer. If this was a mistake, please contact them."
        )
    return f"{PORTAL}: your invitation response", "\n\n".join(parts) + _sign(team, council)


def access_activated_notice(child_forename: str, team: str) -> str:
    return (
        f"Good news: {team} has activated your access for {child_forename}. You can now: "
        "see the SEND Dashboard, send and read messages, get letters and plans, and fill in forms.\n\n"
        "To start, send /dashboard in the chat."
    )


def access_activated_subject(child_forename: str) -> str:
    return f"{PORTAL}: access activated for {child_forename}"


def chat_linked_email(*, at: datetime, team: str, council: str) -> tuple[str, str]:
    body = (
        "Hello,\n\n"
        f"Your {PORTAL} account was linked to a Telegram chat on {format_datetime(at)}. "
        "That chat can now see the information of the children you have access to.\n\n"
        "If this was you, you do not need to do anything. If it was not you, please change your "
        f"password and tell {team} straight away, so they can unlink the chat." + _sign(team, council)
    )
    return f"{PORTAL}: a Telegram chat was linked to your account", body


_UNLINK_WHY = {
    "logout": "because you logged out in the chat",
    "revoked": "by {team}",
    "deleted": "because you asked to delete your data from the chat",
    "replaced": "because the chat was linked to another account",
}


def chat_unlinked_email(*, reason: str, at: datetime, team: str, council: str) -> tuple[str, str]:
    why = _UNLINK_WHY.get(reason, "").format(team=team)
    body = (
        "Hello,\n\n"
        f"A Telegram chat was unlinked from your {PORTAL} account on {format_datetime(at)}"
        + (f", {why}" if why else "")
        + ". That chat can no longer see any child's information. Important notices will come "
        "by email until you link a chat again.\n\n"
        f"If you did not expect this, please tell {team}." + _sign(team, council)
    )
    return f"{PORTAL}: a Telegram chat was unlinked from your account", body


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
