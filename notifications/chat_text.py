"""Telegram's limit on one text message, and long texts cut to fit it: what a family's message
looks like in a chat (the bot's windows) and in the staff group (the relay) alike."""

from __future__ import annotations

import re
from html import escape, unescape

TELEGRAM_TEXT_LIMIT = 4096  # characters a message may show, counted after the markup is parsed


def visible_length(html: str) -> int:
    """How long Telegram counts an HTML text: tags parsed away, entities as one character, in
    UTF-16 code units (as Telegram counts)."""
    plain = unescape(re.sub(r"<[^>]+>", "", html))
    return len(plain.encode("utf-16-le")) // 2


def split_for_chat(
    text: str, first: int = TELEGRAM_TEXT_LIMIT, rest: int = TELEGRAM_TEXT_LIMIT
) -> list[str]:
    """A long text in pieces Telegram will show (the first up to `first` characters, the others
    up to `rest`), cut at a paragraph, a line, a sentence or a space where one is near. The pieces
    joined give the text back exactly."""
    parts: list[str] = []
    limit = max(1, first)
    while text:
        units = n = 0
        for ch in text:
            size = 2 if ord(ch) > 0xFFFF else 1
            if units + size > limit:
                break
            units += size
            n += 1
        if n == len(text):
            parts.append(text)
            break
        cut = n
        for sep in ("\n\n", "\n", ". ", " "):
            i = text.rfind(sep, 0, n)
            if i >= n // 2:
                cut = i + len(sep)
                break
        parts.append(text[:cut])
        text = text[cut:]
        limit = max(1, rest)
    return parts


def compose(header: str, body: str, footer: str = "") -> list[str]:
    """A header (HTML), a body (plain text, escaped here) and a footer as chat messages: one if
    they fit, else the header with the first part of the body, then the other parts (the footer
    is then left for the caller to show on its own)."""
    whole = f"{header}\n\n{escape(body)}" + (f"\n\n{footer}" if footer else "")
    if visible_length(whole) <= TELEGRAM_TEXT_LIMIT:
        return [whole]
    room = TELEGRAM_TEXT_LIMIT - visible_length(header) - 2
    parts = [p for p in split_for_chat(body, room) if p.strip()]
    return [f"{header}\n\n{escape(parts[0])}", *(escape(p) for p in parts[1:])]


__all__ = ["TELEGRAM_TEXT_LIMIT", "compose", "split_for_chat", "visible_length"]
