"""Telegram's text formatting: parse modes into plain text plus ``MessageEntity`` dicts.

Telegram parses ``parse_mode`` markup on its side and measures limits on the *result*: a
4096-character message may carry far more than 4096 characters of HTML. These parsers follow
TDLib's rules closely enough to reject what Telegram rejects (unsupported or unbalanced tags,
unescaped MarkdownV2 characters) with Telegram's error wording, and to produce entity offsets
in UTF-16 code units, as the Bot API does.

Every error is raised as :class:`EntityParseError`; the server turns it into
``400 Bad Request: can't parse entities: <message>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "detect_entities",
    "parse_text",
    "strip_formatted",
    "utf16_len",
]


class EntityParseError(ValueError):
    """Markup that Telegram would refuse; ``str(error)`` is Telegram's wording."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_HTML_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,4});")


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output
    attrs: dict[str, str]
    language: str | None = None
    children: list[dict[str, Any]] = field(default_factory=list)


def _decode_html_entity(src: str, i: int) -> tuple[str, int] | None:
    m = _HTML_ENTITY_RE.match(src, i)
    if not m:
        return None
    name = m.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), m.end() - i
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name], m.end() - i
    return None


def _unescape_attr(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&" and (decoded := _decode_html_entity(value, i)):
            out.append(decoded[0])
            i += decoded[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into ``(plain_text, entities)``; raise :class:`EntityParseError`."""
    out: list[str] = []
    pos = 0  # UTF-16 length of the output so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    n = len(src)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal pos
        out.append(chunk)
        pos += utf16_len(chunk)

    while i < n:
        c = src[i]
        if c == "&":
            decoded = _decode_html_entity(src, i)
            if decoded:
                emit(decoded[0])
                i += decoded[1]
            else:
                emit("&")
                i += 1
            continue
        if c != "<":
            j = i
            while j < n and src[j] not in "<&":
                j += 1
            emit(src[i:j])
            i = j
            continue

        begin = i
        i += 1
        if i < n and src[i] != "/":
            # ---- start tag
            j = i
            while j < n and not src[j].isspace() and src[j] != ">":
                j += 1
            if j >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                )
            tag = src[i:j].lower()
            if tag not in _HTML_TAG_ENTITY:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(src, begin)}'
                )
            attrs: dict[str, str] = {}
            i = j
            while True:
                while i < n and src[i].isspace():
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                    )
                if src[i] == ">":
                    i += 1
                    break
                k = i
                while k < n and (src[k].isalnum() or src[k] in "-_"):
                    k += 1
                if k == i:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(src, i)}"
                    )
                attr = src[i:k].lower()
                i = k
                while i < n and src[i].isspace():
                    i += 1
                if i < n and src[i] != "=":
                    if tag == "blockquote" and attr == "expandable":
                        attrs[attr] = ""
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(src, begin)}'
                    )
                i += 1
                while i < n and src[i].isspace():
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                    )
                if src[i] in "\"'":
                    end = src.find(src[i], i + 1)
                    if end < 0:
                        raise EntityParseError(
                            f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                        )
                    raw = src[i + 1 : end]
                    i = end + 1
                else:
                    k = i
                    while k < n and not src[k].isspace() and src[k] != ">":
                        k += 1
                    raw = src[i:k]
                    i = k
                attrs[attr] = _unescape_attr(raw)
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(src, begin)}"
                )
            if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
                raise EntityParseError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                    f"{_byte_offset(src, begin)}"
                )
            stack.append(_Open(tag=tag, start=pos, attrs=attrs))
            continue

        # ---- end tag
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
        i += 1  # skip '/'
        k = i
        while k < n and not src[k].isspace() and src[k] != ">":
            k += 1
        name = src[i:k].lower()
        while k < n and src[k].isspace():
            k += 1
        if k >= n or src[k] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
        opened = stack.pop()
        if name != opened.tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                f'expected "</{opened.tag}>", found "</{name}>"'
            )
        i = k + 1
        entity = _html_entity(opened, pos)
        if entity is None:
            continue
        if (
            entity["type"] == "code"
            and opened.attrs.get("class", "").startswith("language-")
            and stack
            and stack[-1].tag == "pre"
        ):
            stack[-1].language = opened.attrs["class"][len("language-") :]
            continue
        entities.append(entity)

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(opened: _Open, end: int) -> dict[str, Any] | None:
    length = end - opened.start
    if length <= 0:
        return None
    kind = _HTML_TAG_ENTITY[opened.tag]
    entity: dict[str, Any] = {"type": kind, "offset": opened.start, "length": length}
    if opened.tag == "a":
        href = opened.attrs.get("href", "")
        if not href:
            return None
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            entity.update(
                type="text_mention", user={"id": int(m.group(1)), "is_bot": False, "first_name": ""}
            )
        else:
            entity["url"] = href
    elif opened.tag == "pre" and opened.language:
        entity["language"] = opened.language
    elif opened.tag == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    elif opened.tag == "tg-emoji":
        entity["custom_emoji_id"] = opened.attrs["emoji-id"]
    return entity


# --------------------------------------------------------------------------------------------
# MarkdownV2 and legacy Markdown
# --------------------------------------------------------------------------------------------

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "italic": "Italic",
    "underline": "Underline",
    "bold": "Bold",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


@dataclass
class _MdOpen:
    kind: str
    start: int
    begin_byte: int
    language: str | None = None


def parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2 into ``(plain_text, entities)``; raise :class:`EntityParseError`."""
    out: list[str] = []
    pos = 0
    stack: list[_MdOpen] = []
    entities: list[dict[str, Any]] = []
    n = len(src)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal pos
        out.append(chunk)
        pos += utf16_len(chunk)

    def close(opened: _MdOpen, **extra: Any) -> None:
        if pos > opened.start:
            entity = {"type": opened.kind, "offset": opened.start, "length": pos - opened.start}
            entity.update(extra)
            if opened.language:
                entity["language"] = opened.language
            entities.append(entity)

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        if stack and stack[-1].kind == kind:
            close(stack.pop())
        else:
            stack.append(_MdOpen(kind, pos, _byte_offset(src, i)))
        i += width

    while i < n:
        c = src[i]
        top = stack[-1].kind if stack else None
        if c == "\\" and i + 1 < n and 0 < ord(src[i + 1]) <= 126:
            emit(src[i + 1])
            i += 2
            continue
        if top == "code":
            if c == "`":
                close(stack.pop())
            else:
                emit(c)
            i += 1
            continue
        if top == "pre":
            if src.startswith("```", i):
                close(stack.pop())
                i += 3
            else:
                emit(c)
                i += 1
            continue
        if c not in _MDV2_RESERVED:
            emit(c)
            i += 1
            continue
        if c == "_":
            if src.startswith("__", i) and top != "italic":
                toggle("underline", 2)
            else:
                toggle("italic", 1)
        elif c == "*":
            toggle("bold", 1)
        elif c == "~":
            toggle("strikethrough", 1)
        elif c == "|" and src.startswith("||", i):
            toggle("spoiler", 2)
        elif c == "`":
            if src.startswith("```", i):
                j = i + 3
                k = src.find("\n", j)
                language = None
                if k >= 0 and re.fullmatch(r"[A-Za-z0-9_+#.-]*", src[j:k]):
                    language = src[j:k] or None
                    j = k + 1
                stack.append(_MdOpen("pre", pos, _byte_offset(src, i), language))
                i = j
            else:
                stack.append(_MdOpen("code", pos, _byte_offset(src, i)))
                i += 1
        elif c == "[":
            stack.append(_MdOpen("text_link", pos, _byte_offset(src, i)))
            i += 1
        elif c == "]" and top == "text_link":
            opened = stack.pop()
            if not src.startswith("(", i + 1):
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {opened.begin_byte}"
                )
            j = i + 2
            url: list[str] = []
            while j < n and src[j] != ")":
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                url.append(src[j])
                j += 1
            if j >= n:
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {opened.begin_byte}"
                )
            close(opened, url="".join(url))
            i = j + 1
        else:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )

    if stack:
        opened = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[opened.kind]} entity at byte offset "
            f"{opened.begin_byte}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_LEGACY_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def parse_markdown_legacy(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy ``Markdown`` (bold, italic, code, pre, links; no nesting)."""
    out: list[str] = []
    pos = 0
    entities: list[dict[str, Any]] = []
    n = len(src)
    i = 0
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "*_`[":
            out.append(src[i + 1])
            pos += 1
            i += 2
            continue
        if c in kinds or c == "[":
            begin = _byte_offset(src, i)
            if c == "`" and src.startswith("```", i):
                end = src.find("```", i + 3)
                if end < 0:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {begin}"
                    )
                body = src[i + 3 : end]
                kind, i = "pre", end + 3
                extra: dict[str, Any] = {}
            elif c == "[":
                m = _LEGACY_LINK.match(src, i)
                if not m:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {begin}"
                    )
                body, kind, extra, i = m.group(1), "text_link", {"url": m.group(2)}, m.end()
            else:
                end = src.find(c, i + 1)
                if end < 0:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {begin}"
                    )
                body, kind, extra, i = src[i + 1 : end], kinds[c], {}, end + 1
            length = utf16_len(body)
            if length:
                entities.append({"type": kind, "offset": pos, "length": length, **extra})
            out.append(body)
            pos += length
            continue
        out.append(c)
        pos += utf16_len(c)
        i += 1
    return "".join(out), entities


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    fixed: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


def parse_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Turn what the bot sent into ``(plain_text, entities)`` as Telegram stores them.

    ``parse_mode`` is ``"HTML"``, ``"MarkdownV2"``, ``"Markdown"`` (any case) or ``None``;
    explicit ``entities`` are used as given when there is no parse mode. Raises
    :class:`EntityParseError` for bad markup and :class:`ValueError` for an unknown mode.
    """
    mode = (parse_mode or "").lower()
    if not mode:
        plain, ents = text, [dict(e) for e in (entities or [])]
    elif mode == "html":
        plain, ents = parse_html(text)
    elif mode == "markdownv2":
        plain, ents = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, ents = parse_markdown_legacy(text)
    else:
        raise ValueError(parse_mode)
    return strip_formatted(plain, ents)


_DETECTORS = [
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+")),
    ("email", re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")),
    ("mention", re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{4,31}\b")),
]


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's clients/servers attach to a user's plain text message."""
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for kind, regex in _DETECTORS:
        for m in regex.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group(0)),
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found
