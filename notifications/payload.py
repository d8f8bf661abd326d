"""A notice's stored payload as it goes out: its buttons for Telegram, its text for an email."""

from __future__ import annotations

import html
import re
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo


def reply_markup(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """Inline buttons from the payload: rows of {"text", "data" | "url" | "web_app"} (rows written
    before "data" was the name say "callback_data")."""
    rows = []
    for raw_row in payload.get("buttons") or []:
        row = []
        for b in raw_row:
            if b.get("url"):
                row.append(InlineKeyboardButton(text=b["text"], url=b["url"]))
            elif b.get("web_app"):
                row.append(InlineKeyboardButton(text=b["text"], web_app=WebAppInfo(url=b["web_app"])))
            elif (data := b.get("data", b.get("callback_data"))) is not None:
                row.append(InlineKeyboardButton(text=b["text"], callback_data=data))
            else:
                raise ValueError("a button needs data, url or web_app")
        if row:
            rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


_TAG = re.compile(r"<[^>]+>")
_MD_ESCAPE = re.compile(r"\\([_*\[\]()~`>#+\-=|{}.!\\])")


def email_body(text: str, payload: dict[str, Any]) -> str:
    """A notice as plain text for email: markup removed, link buttons written out."""
    mode = (markup_of(payload) or "").lower()
    if mode == "html":
        text = html.unescape(_TAG.sub("", text.replace("<br>", "\n")))
    elif mode in ("markdownv2", "markdown"):
        text = _MD_ESCAPE.sub(r"\1", text)
    links = [
        f"{b['text']}: {b.get('url') or b.get('web_app')}"
        for row in payload.get("buttons") or []
        for b in row
        if b.get("url") or b.get("web_app")
    ]
    parts = [text.strip()]
    if links:
        parts.append("\n".join(links))
    parts.append(
        "You are receiving this by email because we could not reach you in Telegram. "
        "If you unblocked the bot by mistake, send it /start to hear from us there again."
    )
    return "\n\n".join(parts) + "\n"


def markup_of(payload: dict[str, Any]) -> str | None:
    """The text's format for Telegram ("HTML"...), None for plain (older rows say "parse_mode")."""
    return payload.get("markup") or payload.get("parse_mode")


__all__ = ["email_body", "markup_of", "reply_markup"]
