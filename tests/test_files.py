"""Files the portal keeps (core.files): what an upload may be (size, type, first bytes), the
content-addressed folder store, and safe file names."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from core.files import (
    MAX_UPLOAD_BYTES,
    FileRefused,
    FolderStore,
    check_upload,
    folder_store,
    safe_filename,
)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- minimal valid files --------------------------------------------------------------------------


def pdf_bytes(text: str = "Hello") -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_bytes(rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    """A small real JPEG (Pillow is in the environment; the header is checked either way)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (2, 2), (0, 128, 255)).save(buf, format="JPEG")
    return buf.getvalue()


def docx_bytes() -> bytes:
    """The smallest Word document: a zip with the content types, the relationship and a body."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>",
        )
    return buf.getvalue()


# An .exe's first bytes: "MZ", the DOS stub's header (full of zero bytes), then "PE\0\0".
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(44) + b"\x80\x00\x00\x00"
)
EXE += b"This program cannot be run in DOS mode.\r\r\n$" + bytes(16) + b"PE\x00\x00" + bytes(64)


def refused(data: bytes | bytearray, mime: str | None, name: str | None = "file") -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        check_upload(data, mime, name)
    exc = caught.value
    assert exc.message and exc.message.endswith("."), "a plain sentence for the sender"
    return exc


# --- check_upload ---------------------------------------------------------------------------------


def test_real_small_files_are_accepted():
    assert pdf_bytes().startswith(b"%PDF") and zipfile.is_zipfile(io.BytesIO(docx_bytes()))
    assert check_upload(pdf_bytes(), "application/pdf", "letter.pdf") == "application/pdf"
    assert check_upload(png_bytes(), "image/png", "photo.png") == "image/png"
    assert check_upload(jpeg_bytes(), "image/jpeg", "photo.jpg") == "image/jpeg"
    assert check_upload(docx_bytes(), DOCX_MIME, "report.docx") == DOCX_MIME
    assert check_upload(b"Sam's school report.\n", "text/plain", "notes.txt") == "text/plain"
    # The type as a browser or Telegram may give it: upper case, with parameters.
    assert check_upload(pdf_bytes(), "Application/PDF; charset=binary", None) == "application/pdf"
    assert check_upload(png_bytes(), " IMAGE/PNG ", "x") == "image/png"


def test_empty_is_refused():
    assert refused(b"", "application/pdf").code == "empty"
    assert refused(b"", None).code == "empty"


def test_over_20_mb_is_refused_and_20_mb_exactly_is_taken():
    # One buffer of 20 MB + 1 byte with a PDF's first bytes, shortened by a byte in place.
    data = bytearray(MAX_UPLOAD_BYTES + 1)
    data[:8] = b"%PDF-1.4"
    exc = refused(data, "application/pdf", "big.pdf")
    assert exc.code == "too_big" and "20 MB" in exc.message
    del data[-1]
    assert len(data) == MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    assert check_upload(data, "application/pdf", "big.pdf") == "application/pdf"
    del data


@pytest.mark.parametrize(
    "mime",
    [
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/octet-stream",
        "text/html",
        "image/svg+xml",
        "application/zip",
        "",
        None,
    ],
)
def test_unknown_types_are_refused(mime):
    exc = refused(EXE, mime, "setup.exe")
    assert exc.code == "type"
    assert "PDF" in exc.message and "photo" in exc.message, "says what can be sent"


@pytest.mark.parametrize("mime", ["text/plain", "image/webp", "image/heic"])
def test_a_program_is_refused_whatever_type_it_claims(mime):
    """Types with no fixed first bytes in the table still have to look like themselves: an .exe
    sent as text or as a picture is not taken."""
    assert refused(EXE, mime, "setup.exe").code == "mismatch"


def test_other_formats_that_look_like_themselves_are_taken():
    webp = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + bytes(22)
    assert check_upload(webp, "image/webp", "p.webp") == "image/webp"
    heic = struct.pack(">I", 24) + b"ftypheic" + bytes(12)
    assert check_upload(heic, "image/heic", "p.heic") == "image/heic"
    assert check_upload(b"{\\rtf1\\ansi Hello}", "application/rtf", "a.rtf") == "application/rtf"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert check_upload(ole, "application/msword", "a.doc") == "application/msword"
    # A text file in any script, with a byte order mark.
    text = "\ufeffОтчёт для школы\n".encode()
    assert check_upload(text, "text/plain", "notes.txt") == "text/plain"


def test_a_file_that_is_not_what_it_claims_is_refused():
    exc = refused(png_bytes(), "application/pdf", "letter.pdf")
    assert exc.code == "mismatch" and "not what its name says" in exc.message
    assert refused(pdf_bytes(), "image/png").code == "mismatch"
    assert refused(jpeg_bytes(), "image/png").code == "mismatch"
    assert refused(docx_bytes(), "application/pdf").code == "mismatch"
    assert refused(pdf_bytes(), "text/plain").code == "mismatch"
    # Claimed as a type with known first bytes, but has none of them.
    assert refused(b"just some text", "application/pdf").code == "mismatch"
    assert refused(b"just some text", "image/jpeg").code == "mismatch"


# --- FolderStore ----------------------------------------------------------------------------------


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_a_file_is_stored_once_per_content(tmp_path):
    store = FolderStore(tmp_path / "files")
    pdf = pdf_bytes()
    first = await store.put(pdf)
    again = await store.put(bytes(pdf))
    assert first == again == hashlib.sha256(pdf).hexdigest()
    files = stored_files(tmp_path / "files")
    assert files == [tmp_path / "files" / first[:2] / first[2:]], "one file, no temp files left"
    assert await store.get(first) == pdf and await store.exists(first)

    other = await store.put(png_bytes())
    assert other != first and len(stored_files(tmp_path / "files")) == 2
    assert await store.get(other) == png_bytes()
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not await store.exists(missing)
    with pytest.raises(FileNotFoundError):
        await store.get(missing)


async def test_folder_store_lives_in_the_data_folder(tmp_path):
    store = folder_store(tmp_path)
    digest = await store.put(b"%PDF-1.4 x")
    assert (tmp_path / "files" / digest[:2] / digest[2:]).read_bytes() == b"%PDF-1.4 x"


@pytest.mark.parametrize(
    "digest",
    [
        "../../../../etc/passwd",
        "../" + "a" * 61,
        "ab/../../" + "0" * 55,
        "/etc/passwd",
        "A" * 64,  # upper case: not how digests are written
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "",
    ],
)
async def test_a_digest_that_is_not_one_is_refused(tmp_path, digest):
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    store = FolderStore(tmp_path / "files")
    for call in (store.get, store.exists):
        with pytest.raises(ValueError, match="SHA-256"):
            await call(digest)


# --- safe_filename --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("letter.pdf", "application/pdf", "letter.pdf"),
        ("Scan.PDF", "application/pdf", "Scan.PDF"),
        ("My report (final).docx", DOCX_MIME, "My report (final).docx"),
        ("../../etc/passwd", "application/pdf", "etc_passwd.pdf"),
        ("..\\..\\Windows\\win.ini", "text/plain", "Windows_win.ini.txt"),
        ("/abs/path/photo.png", "image/png", "abs_path_photo.png"),
        ('re"port<1>|?*:.pdf', "application/pdf", "re_port_1_.pdf"),
        ("a\x00b\r\nc.pdf", "application/pdf", "a_b_c.pdf"),
        ("evil\u202egpj.exe", "image/jpeg", "evil_gpj.exe.jpg"),
        ("Отчёт школы.pdf", "application/pdf", "Отчёт школы.pdf"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("noext", "image/png", "noext.png"),
        ("", "application/pdf", "file.pdf"),
        (None, "image/jpeg", "file.jpg"),
        ("...", "application/pdf", "file.pdf"),
        ("../", "application/pdf", "file.pdf"),
    ],
)
def test_safe_filename(name, mime, expected):
    assert safe_filename(name, mime) == expected


def test_a_long_name_is_cut_and_keeps_its_extension():
    name = safe_filename("x" * 300 + ".pdf", "application/pdf")
    assert name.endswith(".pdf") and len(name) <= 124 and "/" not in name
