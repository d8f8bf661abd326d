"""The validation rules Telegram applies to bot requests, with Telegram's own error wording.

Every rule raises :class:`ApiError`, which the server turns into the Bot API's error body
(``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}``). Functions here are
pure: they look only at their arguments, so they can be tested and reused on their own.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from typing import Any
from urllib.parse import urlsplit

from .formatting import EntityParseError, parse_text
from .models import Button, Keyboard

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "ApiError",
    "bad_request",
    "check_caption",
    "check_chat_action",
    "check_commands",
    "check_message_text",
    "image_size",
    "is_local_host",
    "parse_reply_markup",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """``400 Bad Request: <reason>``."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """``403 Forbidden: <reason>``."""
    return ApiError(403, f"Forbidden: {reason}")


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _parse(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    try:
        return parse_text(text, parse_mode, entities)
    except EntityParseError as e:
        raise bad_request(f"can't parse entities: {e}") from None
    except ValueError:
        raise bad_request("unsupported parse_mode") from None


def check_message_text(
    text: str | None, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Parse a message text and enforce Telegram's emptiness and length rules.

    The length is counted on the text left after parsing the markup, as Telegram does.
    """
    plain, ents = _parse(text or "", parse_mode, entities)
    if not plain:
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return plain, ents


def check_caption(
    caption: str | None, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """Parse a media caption (may be empty) and enforce the 1024-character limit."""
    if not caption:
        return None, []
    plain, ents = _parse(caption, parse_mode, entities)
    if len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return plain or None, ents


# --------------------------------------------------------------------------------------------
# URLs and keyboards
# --------------------------------------------------------------------------------------------

_PRIVATE_NETS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "::/128",
        "fc00::/7",
        "fe80::/10",
    )
]


def is_local_host(host: str) -> bool:
    """Whether Telegram would treat ``host`` as a local address it refuses in buttons."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return any(ip in net for net in _PRIVATE_NETS if ip.version == net.version)
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    return "." not in host


def _url_host(url: str) -> tuple[str, str]:
    """``(scheme, host)``; a URL without a scheme is taken as ``http`` like Telegram does."""
    candidate = url if "://" in url else f"http://{url}"
    parts = urlsplit(candidate)
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    return parts.scheme.lower(), host


def check_button_url(url: str) -> None:
    """An inline ``url`` button: http(s) or tg:// links to a public host."""
    scheme, host = _url_host(url)
    if scheme == "tg":
        return
    if scheme not in ("http", "https") or is_local_host(host) or any(c.isspace() for c in url):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def check_web_app_url(url: str, *, inline: bool = True) -> None:
    """A ``web_app`` button: HTTPS only, and not a local host."""
    what = "inline keyboard button" if inline else "keyboard button"
    scheme, host = _url_host(url)
    if "://" not in url or scheme != "https":
        raise bad_request(f"{what} Web App URL '{url}' is invalid: Only HTTPS links are allowed")
    if is_local_host(host):
        raise bad_request(f"{what} Web App URL '{url}' is invalid: Wrong HTTP URL")


def _rows(markup: dict[str, Any], key: str) -> list[list[Any]]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(f'field "{key}" must be an Array of Arrays')
    return rows


def _inline_button(raw: Any, *, private: bool) -> Button:
    if not isinstance(raw, dict):
        raise bad_request("can't parse inline keyboard button: Object expected")
    if not isinstance(raw.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    data, url = raw.get("callback_data"), raw.get("url")
    web_app = raw.get("web_app")
    web_app_url = web_app.get("url") if isinstance(web_app, dict) else None
    if data is not None:
        data = str(data)
        if not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if url is not None:
        check_button_url(str(url))
    if web_app is not None:
        if not isinstance(web_app_url, str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "url" must be of type String'
            )
        check_web_app_url(web_app_url)
        if not private:
            raise bad_request("BUTTON_TYPE_INVALID")
    if len(raw) == 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    return Button(
        text=raw["text"], callback_data=data, url=url, web_app_url=web_app_url, raw=dict(raw)
    )


def _reply_button(raw: Any, *, private: bool) -> Button:
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    web_app = raw.get("web_app")
    web_app_url = web_app.get("url") if isinstance(web_app, dict) else None
    if web_app is not None:
        check_web_app_url(str(web_app_url), inline=False)
        if not private:
            raise bad_request("BUTTON_TYPE_INVALID")
    return Button(text=raw["text"], web_app_url=web_app_url, raw=dict(raw))


def parse_reply_markup(markup: Any, *, private: bool, inline_only: bool = False) -> Keyboard | None:
    """Validate a ``reply_markup`` object and parse it into a :class:`Keyboard`.

    ``private`` tells whether the target is a private chat (Web App buttons work only there);
    ``inline_only`` is for edits, which accept only inline keyboards.
    """
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = tuple(
            tuple(_inline_button(b, private=private) for b in row)
            for row in _rows(markup, "inline_keyboard")
        )
        return Keyboard("inline", rows, dict(markup))
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = tuple(
            tuple(_reply_button(b, private=private) for b in row)
            for row in _rows(markup, "keyboard")
        )
        return Keyboard("reply", rows, dict(markup))
    if markup.get("remove_keyboard"):
        return Keyboard("remove", (), dict(markup))
    if markup.get("force_reply"):
        return Keyboard("force_reply", (), dict(markup))
    raise bad_request("can't parse reply keyboard markup JSON object")


# --------------------------------------------------------------------------------------------
# Other methods
# --------------------------------------------------------------------------------------------

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def check_commands(commands: Any) -> list[tuple[str, str]]:
    """Validate ``setMyCommands``' list; return ``[(command, description), ...]``."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands")
    result: list[tuple[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not _COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append((command, description))
    return result


def check_chat_action(action: str | None) -> str:
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return action


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of a PNG, JPEG, GIF or WebP image; ``None`` if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return w, h
        if data[12:16] == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        return 1, 1
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            seg_len = int.from_bytes(data[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + seg_len
        return None
    return None
