"""What the chat says while a parent proves who they are, links an account and answers invitations,
and when they log out or delete their data."""

from __future__ import annotations

from html import escape


def unique_code_prompt() -> str:
    return (
        "<b>Verify your identity</b>\n\n"
        "Type the <b>unique code</b> from your invitation email.\n\n"
        "Cannot find the email? Check your spam or junk folder. "
        "If it is not there, contact the SEND team."
    )


def unique_code_needed() -> str:
    return "Please type the unique code from your invitation email as a message."


def unique_code_answer(outcome, tries_left: int | None) -> str:  # noqa: ANN001
    from core.onboarding import CheckOutcome

    if outcome is CheckOutcome.WRONG:
        left = f" You have {tries_left} more {'try' if tries_left == 1 else 'tries'}." if tries_left else ""
        return "That code is not right. Please check the invitation email and type the code again." + left
    if outcome is CheckOutcome.MALFORMED:
        return "That does not look like the unique code. It is in your invitation email. Please type it again."
    if outcome is CheckOutcome.LOCKED:
        return (
            "This invitation is now locked, because a wrong code was typed too many times. "
            "Contact the SEND team: they can send you a new invitation."
        )
    if outcome is CheckOutcome.EXPIRED:
        return "This invitation has expired. Please contact the SEND team for a new one."
    if outcome is CheckOutcome.USED:
        return "This invitation has already been answered. Nothing more is needed."
    return "This invitation link does not work here. Please use the link from your own invitation email."


def identity_confirmed(child: str | None) -> str:
    who = f" for {escape(child)}" if child else ""
    return f"Thank you. Your identity is confirmed{who}."


def account_question() -> str:
    return (
        "<b>Your portal account</b>\n\n"
        "Do you already have an account for the EHCP Parent Portal?\n"
        "If you sent your request for assessment online, you already have one."
    )


def page_prompt(purpose, url: str, mini_app: bool) -> str:  # noqa: ANN001
    from core.page_links import Purpose

    what = {
        Purpose.REGISTER: "register your account",
        Purpose.LOGIN: "log in with your email address and password",
        Purpose.RESET: "choose a new password",
        Purpose.CHANGE_PASSWORD: "change your password",
        Purpose.CHANGE_EMAIL: "change your email address",
    }.get(purpose, "continue")
    if mini_app:
        where = f"Tap <b>Open the form</b> below to {what}."
    else:
        where = f"Please open this page to {what}:\n{escape(url)}"
    if purpose is Purpose.CHANGE_PASSWORD:
        then = "We will tell you here when your password has been changed."
    elif purpose is Purpose.CHANGE_EMAIL:
        then = "We will then email a <b>6-digit code</b> to your new address. Type the code here."
    else:
        then = "We will then email you a <b>6-digit code</b>. Type the code here."
    return (
        f"{where}\n\n"
        "For your safety, never type your password in this chat.\n\n"
        f"{then} The link works for 30 minutes."
    )


def fill_in_page_first() -> str:
    return "Please fill in the form on the page first. We will then email you a code to type here."


def page_link_expired() -> str:
    return 'The link to the page has expired. Please tap "Get a new link" and fill in the form again.'


def email_code_needed() -> str:
    return "Please type the 6-digit code from the email as a message."


def code_problem(message: str) -> str:
    return f"{escape(message)}\n\nYou can type the code again, or tap <b>Please send me a new code</b>."


def chat_linked(registered: bool) -> str:
    first = "Your account is registered" if registered else "You are logged in"
    return f"{first}, and this chat is now linked to it. We have emailed you to say so."


def no_invitations_waiting() -> str:
    return (
        "There are no invitations waiting for you at the moment. "
        "If you are expecting one, contact the SEND team."
    )


def invitations_intro() -> str:
    return (
        "<b>Invitations awaiting approval</b>\n\n"
        "Confirm that you want to see each child's information in this chat.\n\n"
        "<b>Do you wish to continue setting up your account?</b>\n"
        "Tick each child, tap <b>Yes</b> or <b>No</b> under their name, then tap <b>Confirm</b>."
    )


def tick_first() -> str:
    return "Please tick the child (or children) first, then tap Yes or No under their name."


def choose_yes_or_no(child: str) -> str:
    return f'Please tap "Yes" or "No" under {child} first.'


def confirm_summary(children: list[tuple[str, bool]]) -> str:
    lines = [
        f"{escape(name)}: " + ("Yes, continue setting up my account" if yes else "No, do not set up access")
        for name, yes in children
    ]
    return "<b>Confirm your answer</b>\n\n" + ("\n".join(lines) or "No child chosen.")


def submit_warning() -> str:
    return (
        "\nHave you entered all the information you need to? "
        "You will not be able to make any further changes once you press <b>Submit</b>."
    )


def stale_choice() -> str:
    return "That choice is no longer available. Nothing has been changed."


def response_done(accepted: list[str], declined: list[str]) -> str:
    parts = ["<b>Thank you. Your answer has been sent to the SEND team.</b>"]
    if accepted:
        parts.append(
            f"You accepted the invitation for {escape(', '.join(accepted))}. "
            "The SEND team will now activate your access. We will tell you here when they have."
        )
    if declined:
        parts.append(
            f"You declined the invitation for {escape(', '.join(declined))}. The SEND team will see this. "
            "If this was a mistake, contact the SEND team."
        )
    parts.append("We have emailed you a copy.")
    return "\n\n".join(parts)


def invitation_link_problem(outcome) -> str:  # noqa: ANN001
    from core.onboarding import CheckOutcome

    if outcome is CheckOutcome.EXPIRED:
        return "This invitation link has expired. Please contact the SEND team for a new invitation."
    if outcome is CheckOutcome.USED:
        return "This invitation has already been answered, so the link no longer works. Nothing more is needed."
    if outcome is CheckOutcome.LOCKED:
        return "This invitation is locked. Please contact the SEND team: they can send you a new one."
    return (
        "This invitation link does not work here. Please tap the link in your own invitation email, "
        "on the phone where you use this Telegram account."
    )


def logged_out(was_linked: bool) -> str:
    if not was_linked:
        return "This chat is not linked to a portal account, so there is nothing to log out of."
    return (
        "You have logged out. This chat is no longer linked to your portal account and shows no "
        "child's information. We have emailed you to say so.\n\nTo log in again, use the menu below."
    )


def delete_data_question() -> str:
    return (
        "<b>Delete my data from this chat</b>\n\n"
        "This will log this chat out of your portal account and erase what we keep only because "
        "of this chat: its number, your place in any form, and the record of notices sent here.\n\n"
        "Your child's records with the council (messages, letters, plans, forms) are kept, as the "
        "law requires. You can still see them by logging in again.\n\n"
        "Do you want to delete your data from this chat?"
    )


def data_deleted() -> str:
    return (
        "Done. This chat is no longer linked to your account and we have erased what we kept "
        "because of it.\n\n"
        "Your child's records with the council are kept, as the law requires.\n\n"
        "A bot cannot delete messages older than 48 hours from Telegram. To remove them, "
        "delete this chat in Telegram (press and hold the chat, then Delete)."
    )
