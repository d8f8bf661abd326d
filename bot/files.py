"""Files parents send into the chat, as the bot receives them."""

from __future__ import annotations


def sniff_image(data: bytes) -> str:
    """The type of a photo Telegram sent (it gives none): PNG or WebP by their first bytes, else
    JPEG (Telegram sends photos as JPEG)."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"
