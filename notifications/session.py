"""The HTTP session for the Bot API: aiogram's, with a lighter body for requests with no file.

aiogram builds every request as an aiohttp `FormData`, whose constructor makes a multipart
writer (a random boundary from `uuid4`, an `os.urandom` call) even when the body goes out as
`application/x-www-form-urlencoded` because nothing is uploaded. Here a request with no file is
urlencoded directly: the same fields, the same encoding, the same content type on the wire, for
a share of the CPU (issue 13: two or three Bot API calls per update). A request with a file is
aiogram's own multipart form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from aiohttp import FormData
from aiohttp.payload import BytesPayload

URLENCODED = "application/x-www-form-urlencoded"


class TelegramSession(AiohttpSession):
    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:  # type: ignore[override]
        files: dict[str, Any] = {}
        fields: list[tuple[str, str]] = []
        for key, value in method.model_dump(warnings=False).items():
            value = self.prepare_value(value, bot=bot, files=files)
            if value:
                fields.append((key, value))
        if files:
            return super().build_form_data(bot, method)
        return BytesPayload(urlencode(fields, doseq=True).encode(), content_type=URLENCODED)  # as aiohttp's FormData  # type: ignore[return-value]


def telegram_session(api_base: str) -> TelegramSession:
    return TelegramSession(api=TelegramAPIServer.from_base(api_base))
