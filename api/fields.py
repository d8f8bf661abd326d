"""Bounded field types for the caseworker API's request and query models.

Every integer, string and list a client sends has limits, and the OpenAPI document states
exactly what the server accepts (Schemathesis checks both ways):

    class ThingIn(Body):
        name: VisibleText[100]               # 1 to 100 characters, something to read, trimmed
        owner_id: Id                         # 1 to 2**63 - 1 (SQLite's largest integer)
        note: VisibleText[500] | None = None
        tags: list[VisibleText[30]] = Field(default_factory=list, max_length=10)

    class ThingQuery(Query):
        cursor: QueryId | None = None        # "12" -> 12; "+12", " 12", "1.0" refused
        verbose: QueryBool = False           # true/false/1/0 only

`Body` is strict (a string is never taken for a number or a date, nor a number for a date)
and forbids unknown fields; `Query` forbids unknown parameters. Patterns are anchored with
`^...$` and read as ECMA-262 does (pydantic's regex engine): no newline is allowed before `$`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler
from pydantic import GetJsonSchemaHandler as JsonHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from core.files import MAX_UPLOAD_BYTES
from core.text import has_visible_text, is_visible, trim

ID_MAX = 2**63 - 1  # SQLite's INTEGER (and PostgreSQL's BIGINT) holds no more
CASE_REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$"
SHA256 = r"^[0-9a-f]{64}$"
FORM_ID = r"^[a-z][a-z0-9_]{0,59}$"  # as core.forms.definition
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"  # padded, no spaces
BASE64_MAX = 4 * -(-MAX_UPLOAD_BYTES // 3)  # a file of 20 MB, base64-encoded


class Body(BaseModel):
    """A JSON request body: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """A query string: every value arrives as text; no unknown parameters."""

    model_config = ConfigDict(extra="forbid")


class ViewOut(BaseModel):
    """An answer made from a core view: `Model.of(view)` takes each field from the view's
    attribute of the same name; `Model.of(view, name=value)` gives the fields named otherwise."""

    @classmethod
    def of(cls, view: Any, **given: Any) -> Self:
        return cls(**{name: getattr(view, name) for name in cls.model_fields if name not in given}, **given)


def _integral(value: Any) -> Any:
    """JSON Schema's integer is a number with no fraction: 12.0 is 12 (but "12" and true are not)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral)]
Id = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_integral)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(description: str | None = None) -> Any:
    """A field that may be left out but, when given, is never null: `name: VisibleText[100] =
    omittable()`. (The model sees None; `model_dump(exclude_unset=True)` leaves it out.)"""
    return Field(None, description=description, json_schema_extra=_no_default)


# --- text with something to read ---------------------------------------------------------------


def _class(ranges: list[tuple[int, int]]) -> str:
    def one(cp: int) -> str:
        ch = chr(cp)
        return "\\" + ch if ch in "\\]^-[" else ch

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in ranges)


@cache
def visible_class(exclude: str = "") -> str:
    """A regex character class of every visible character (core.text.is_visible), as literal
    characters, so that Python's `re` and ECMA-262 regexes read it alike. Lone surrogates are
    never in it (they cannot travel in UTF-8 JSON)."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for cp in range(0x110000 + 1):
        ok = cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF and is_visible(chr(cp)) and chr(cp) not in exclude
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "[" + _class(ranges) + "]"


def visible_pattern() -> str:
    """Matches text with at least one visible character (JSON Schema patterns search)."""
    return visible_class()


class _Checked:
    """A string checked (and normalised) by `check` after pydantic's own checks; the document
    states the same rule with the pattern `pattern()` gives."""

    def __init__(self, check: Callable[[str], str], pattern: Callable[[], str]) -> None:
        self.check = check
        self.pattern = pattern

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: JsonHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["pattern"] = self.pattern()
        return out


def _check_visible(value: str) -> str:
    """Refuses text with nothing visible in it (only spaces or zero-width characters) and trims
    spaces and invisible characters from both ends."""
    if not has_visible_text(value):
        raise PydanticCustomError("no_visible_text", "Text is needed: this has only spaces or invisible characters.")
    return trim(value)


class _VisibleText:
    """`VisibleText[n]`: 1 to n characters (counted as sent), at least one of them visible."""

    def __class_getitem__(cls, max_length: int) -> Any:
        return Annotated[str, Field(min_length=1, max_length=max_length), _Checked(_check_visible, visible_pattern)]


VisibleText = _VisibleText


@cache
def email_pattern() -> str:
    part = visible_class("@") + "+"
    return f"^{part}@{part}\\.{part}$"


@cache
def _email_re() -> re.Pattern[str]:
    return re.compile(email_pattern()[1:-1])  # fullmatch: `$` as ECMA-262 reads it


def _check_email(value: str) -> str:
    if not _email_re().fullmatch(value):
        raise PydanticCustomError("email", "This is not an email address.")
    return value.lower()


Email = Annotated[str, Field(max_length=254), _Checked(_check_email, email_pattern)]
"""An email address: something@somewhere.tld, visible characters only, kept in lower case."""


StrictDate = Annotated[date, Field(strict=True)]


# --- query parameters ----------------------------------------------------------------------------

_WHOLE = re.compile(r"(-?[0-9]{1,20})(?:\.0*)?")  # 12, and 12.0 as JSON Schema counts it
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _whole_number(value: Any) -> Any:
    if isinstance(value, str):
        found = _WHOLE.fullmatch(value)
        if found is None:
            raise PydanticCustomError("int_parsing", "This must be a whole number, written in digits.")
        return int(found.group(1))
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        found = _BOOLS.get(value.lower())
        if found is None:
            raise PydanticCustomError("bool_parsing", "This must be true or false.")
        return found
    return value


QueryInt = Annotated[int, BeforeValidator(_whole_number)]
QueryId = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_whole_number)]
QueryBool = Annotated[bool, BeforeValidator(_boolean)]


__all__ = [
    "BASE64",
    "BASE64_MAX",
    "CASE_REFERENCE",
    "FORM_ID",
    "ID_MAX",
    "SHA256",
    "Body",
    "Email",
    "Id",
    "Int",
    "Query",
    "QueryBool",
    "QueryId",
    "QueryInt",
    "StrictDate",
    "ViewOut",
    "VisibleText",
    "omittable",
    "visible_class",
    "visible_pattern",
]
