"""What the bot says in the staff group (HTML), to caseworkers."""

from __future__ import annotations

from html import escape


def map_first(user_id: int) -> str:
    return (
        f"Please ask an administrator to map your Telegram account (id {user_id}) to your "
        f'caseworker name first: <code>ehcp-bot staff map {user_id} "Your Name"</code>.'
    )


def no_commands() -> str:
    return "Commands are not sent to the family. Nothing was sent."


def only_text_and_files() -> str:
    return "Only text, documents and photos can be sent to the family. Nothing was sent."


def refused(reason: str) -> str:
    return f"{escape(reason)} Nothing was sent."


def gone() -> str:
    return "This family's case or message is no longer there. Nothing was sent."


def sent_to(recipient: str) -> str:
    return f"✅ Sent to {escape(recipient)}."


def file_too_big() -> str:
    return "That file is too big. Files can be up to 20 MB."


def photo_too_big() -> str:
    return "That photo is too big. Files can be up to 20 MB."
