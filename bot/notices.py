"""Every notice the core writes to a family, worded for Telegram: each feature registers the
renderers of its own notices (see core.notices). Called once, by the composition root."""

from __future__ import annotations

from core.notices import NoticeWriter


def register(writer: NoticeWriter) -> None:
    from bot.dashboard import notices as dashboard
    from bot.documents import notices as documents
    from bot.forms import notices as forms
    from bot.messages import notices as messages

    for feature in (dashboard, documents, forms, messages):
        feature.register(writer)
