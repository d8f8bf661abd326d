"""Files the portal keeps (attachments now; letters and plans later), content-addressed.

A file is stored once under its SHA-256 (`<root>/ab/cdef...`), whoever uploads it and however
often; the database rows that use it say who may see it. `FileStore` is the small interface a
council can back with object storage instead of a folder. Nothing here checks access: callers
serve a file only after the core has checked the reader may see the row that names it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.errors import Refused

# What parents may upload (PRODUCT.md: at most 20 MB, Telegram's download limit) and in which
# formats: documents and pictures a caseworker can open.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/rtf": ".rtf",
    "text/plain": ".txt",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/heic": ".heic",
    "image/webp": ".webp",
}
_MAGIC: list[tuple[bytes, set[str]]] = [
    (b"%PDF", {"application/pdf"}),
    (b"\x89PNG", {"image/png"}),
    (b"\xff\xd8\xff", {"image/jpeg"}),
    (b"PK\x03\x04", {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "application/vnd.oasis.opendocument.text"}),
    (b"\xd0\xcf\x11\xe0", {"application/msword"}),
    (b"{\\rtf", {"application/rtf"}),
]
_SAFE_NAME = re.compile(r"[^\w.\- ()]+", re.UNICODE)
# Types with no fixed first bytes in _MAGIC: what their content must still look like (an .exe,
# full of zero bytes, is not a text file or a picture whatever type it claims).
_SHAPES = {
    "text/plain": lambda d: b"\x00" not in d[:8192],
    "image/webp": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    "image/heic": lambda d: d[4:8] == b"ftyp",
}
# Other usual extensions of a type, kept as they are (not "photo.jpeg.jpg").
_ALSO_EXT = {"image/jpeg": (".jpeg", ".jpe"), "text/plain": (".text",)}


class FileRefused(Refused):
    """A file the portal will not take; `message` is what to tell the person who sent it."""

    @property
    def api_code(self) -> str:
        return f"file_{self.code}"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int
    mime: str
    filename: str


def safe_filename(name: str | None, mime: str) -> str:
    base = _SAFE_NAME.sub("_", (name or "").strip())[:120].strip("._ ") or "file"
    ext = ALLOWED_TYPES.get(mime, "")
    return base if not ext or base.lower().endswith((ext, *_ALSO_EXT.get(mime, ()))) else base + ext


def check_upload(data: bytes, mime: str | None, filename: str | None) -> str:
    """The file's type, if the portal takes it: not empty, at most 20 MB, an allowed type whose
    first bytes agree with it. Raises FileRefused with a plain answer otherwise."""
    if not data:
        raise FileRefused("That file is empty. Please send the file again.", "empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(
            "That file is too big. Files can be up to 20 MB. Please send a smaller copy, "
            "or a photo of each page.",
            "too_big",
        )
    kind = (mime or "").split(";")[0].strip().lower()
    if kind not in ALLOWED_TYPES:
        raise FileRefused(
            "We cannot take that type of file. Please send a PDF, a Word document, a text file "
            "or a photo (JPEG or PNG).",
            "type",
        )
    for magic, kinds in _MAGIC:
        if data.startswith(magic):
            if kind not in kinds:
                raise FileRefused("That file is not what its name says. Please send it again.", "mismatch")
            return kind
    if kind in {k for _m, ks in _MAGIC for k in ks} or not _SHAPES.get(kind, bool)(data):
        raise FileRefused("That file is not what its name says. Please send it again.", "mismatch")
    return kind


class FileStore(Protocol):
    async def put(self, data: bytes) -> str: ...  # returns the SHA-256 hex digest
    async def get(self, sha256: str) -> bytes: ...
    async def exists(self, sha256: str) -> bool: ...


class FolderStore:
    """Files in a folder, by content hash; written atomically (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / sha256[2:]

    async def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        await asyncio.to_thread(self._write, path, data)
        return digest

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._path(sha256).read_bytes)

    async def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


def folder_store(data_dir: Path) -> FolderStore:
    return FolderStore(data_dir / "files")
