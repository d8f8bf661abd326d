"""The notice of a message from the SEND team, worded for the chat, with Read and Reply."""

from __future__ import annotations

from html import escape

from bot.callbacks import MessageButton
from core.messages.notices import MessageToCarer
from core.notices import Button, NoticeWriter, Rendered


def to_carer(n: MessageToCarer) -> Rendered:
    return Rendered(
        text=(
            f"💬 <b>New message from {escape(n.sender_name)}</b> about {escape(n.child_forename)}\n"
            f"Subject: {escape(n.subject)}\n"
            f"Type: {n.type_name}"
            + ("\n📎 With attached files." if n.with_files else "")
            + "\n\nTap Read to see it, or Reply to answer."
        ),
        email_subject=f"A new message about {n.child_forename}",
        buttons=((
            Button("📖 Read", MessageButton(id=n.message_id, action="read").pack()),
            Button("↩️ Reply", MessageButton(id=n.message_id, action="reply").pack()),
        ),),
        markup="HTML",
    )


def register(writer: NoticeWriter) -> None:
    writer.renders(MessageToCarer, to_carer)
