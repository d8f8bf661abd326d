"""Files in the caseworker API: what comes in as base64 in JSON, and what goes out as bytes."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from aiohttp import web

from api.routes import ApiError


def decode_base64(text: str, filename: str) -> bytes:
    """A file's `content_base64`, padded as the document's pattern says (422 bad_base64 if not)."""
    try:
        if len(text) % 4:  # with its padding, as the document's pattern says
            raise ValueError("not padded")
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "bad_base64", f"{filename}: content_base64 is not base64.") from None


def content_disposition(filename: str) -> str:
    """`attachment` with the name: ASCII for old clients, and UTF-8 in `filename*` (RFC 6266)."""
    plain = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


def file_response(data: bytes, mime: str, filename: str) -> web.Response:
    """A file's bytes, with its type and its name (never sniffed as another type)."""
    return web.Response(
        body=data, content_type=mime,
        headers={"Content-Disposition": content_disposition(filename), "X-Content-Type-Options": "nosniff"},
    )
