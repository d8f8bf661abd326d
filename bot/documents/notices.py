"""The notices about documents, worded for the chat (core.notices renders them through these)."""

from __future__ import annotations

from html import escape

from bot.callbacks import DocumentButton
from core.clock import format_date as format_day
from core.documents.notices import DocumentPublished, DocumentWithdrawn
from core.notices import Button, NoticeWriter, Rendered
from core.timescales import format_date


def published(n: DocumentPublished) -> Rendered:
    return Rendered(
        text=(
            f"📄 <b>New document for {escape(n.child_forename)}</b>\n"
            f"{escape(n.description)}\n"
            f"Document date: {format_date(n.document_date)}\n\n"
            "Tap Receive to get it here."
        ),
        email_subject=f"A new document for {n.child_forename}",
        buttons=((Button("📥 Receive the document", DocumentButton(id=n.document_id).pack()),),),
        markup="HTML",
    )


def withdrawn(n: DocumentWithdrawn) -> Rendered:
    text = (
        f"🗑 <b>A document for {escape(n.child_forename)} was withdrawn</b>\n"
        f"The SEND team has withdrawn a document: {escape(n.description)} "
        f"(published {format_day(n.published_at)}). This happens when a document was sent by "
        "mistake or has been replaced. It is no longer in Documents to View."
    )
    if n.received:
        text += "\n\nYou received a copy of it. Please delete any copy you saved. You do not need to do anything else."
    else:
        text += "\n\nYou do not need to do anything."
    text += " If you have a question about it, send the SEND team a message."
    return Rendered(text=text, email_subject=f"A document for {n.child_forename} was withdrawn", markup="HTML")


def register(writer: NoticeWriter) -> None:
    writer.renders(DocumentPublished, published)
    writer.renders(DocumentWithdrawn, withdrawn)
