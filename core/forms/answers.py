"""A parent's answers: a typed answer (or a button's value) checked and turned into the value
kept, with plain words when it is wrong (AnswerRefused), and a kept answer written as the parent
and the caseworker read it (the review, the PDF, the message to the SEND team).

Everything here is pure: no database, no Telegram, no clock (today is passed in).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from core.errors import Refused
from core.forms.lists import fold, load_list
from core.forms.questions import (
    TEXT_TYPES,
    Question,
    QuestionType,
    plain_number,
    resolve_date_bound,
)
from core.timescales import format_date

MAX_FILE_BYTES = 20 * 1024 * 1024

# Typed answers longer than this are refused unless the question sets its own max_length.
DEFAULT_MAX_TEXT = 300
DEFAULT_MAX_LONG_TEXT = 5000


class AnswerRefused(Refused):
    """A wrong answer: `message` is what the parent is told (plain English, kind, saying what
    is wanted), before the question is asked again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid_answer")



# ---------------------------------------------------------------------------- dates


_MONTHS = {
    name.lower(): n
    for n in range(1, 13)
    for name in (calendar.month_name[n], calendar.month_abbr[n])
}
_MONTHS["sept"] = 9
_DATE_HELP = "That is not a date I can read. Please write it like 3/2/2027 or 3 Feb 2027."


def _year(y: str, today: date) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000
        if n > today.year + 10:
            n -= 100
    return n


def parse_date(raw: str, today: date) -> date:
    """A typed date in UK order (AnswerRefused if it cannot be read or does not exist)."""
    s = raw.strip().lower().replace(",", " ")
    parts: tuple[int, int, int] | None = None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})", s)
        if m:
            parts = (_year(m.group(3), today), int(m.group(2)), int(m.group(1)))
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s*([a-z]+)\.?\s+(\d{4}|\d{2})", s)
        if m and m.group(2) in _MONTHS:
            parts = (_year(m.group(3), today), _MONTHS[m.group(2)], int(m.group(1)))
    if parts is None:
        m = re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})", s)
        if m and m.group(1) in _MONTHS:
            parts = (int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)))
    if parts is None:
        raise AnswerRefused(_DATE_HELP)
    y, mo, d = parts
    try:
        return date(y, mo, d)
    except ValueError:
        if 1 <= mo <= 12 and 1900 <= y <= 2200:
            days = calendar.monthrange(y, mo)[1]
            raise AnswerRefused(
                f"There is no {d} {calendar.month_abbr[mo]} {y}: {calendar.month_name[mo]} "
                f"{y} has {days} days. Please check the date and send it again."
            ) from None
        raise AnswerRefused(_DATE_HELP) from None


# ---------------------------------------------------------------------------- answers

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}
_NUMBER_WORDS["none"] = 0
_YES = {"yes", "y", "yeah", "yep", "true"}
_NO = {"no", "n", "nope", "false"}


def _number_help(q: Question) -> str:
    whole = "whole number" if q.integer else "number"
    lo, hi = q.minimum, q.maximum
    if lo is not None and hi is not None:
        return f"Please give a {whole} between {plain_number(lo)} and {plain_number(hi)}."
    if lo is not None:
        return f"Please give a {whole} of {plain_number(lo)} or more."
    if hi is not None:
        return f"Please give a {whole} of {plain_number(hi)} or less."
    return f"Please give a {whole}, like 3."


def _phone(raw: str) -> str:
    help_ = "Please send a UK phone number, like 07700 900123 or 01632 960123."
    s = re.sub(r"[\s\-().]", "", raw)
    if s.startswith("+44"):
        s = "0" + s[3:].removeprefix("0")
    elif s.startswith("0044"):
        s = "0" + s[4:].removeprefix("0")
    elif s.startswith("44") and len(s) == 12:
        s = "0" + s[2:]
    if not s.isdigit() or not s.startswith("0"):
        raise AnswerRefused(help_)
    ok = (
        (s[:2] in ("02", "03", "07") and len(s) == 11)
        or (s[:2] == "01" and len(s) in (10, 11))
        or (s[:2] == "08" and len(s) in (10, 11))
    )
    if not ok:
        raise AnswerRefused(help_)
    return s


def format_phone(number: str) -> str:
    """A stored UK number grouped as it is usually written: 07700 900123, 020 7946 0018."""
    s = str(number)
    if not s.isdigit() or len(s) not in (10, 11):
        return s
    if s.startswith("02") and len(s) == 11:
        return f"{s[:3]} {s[3:7]} {s[7:]}"
    if (s.startswith("03") or s.startswith("08")) and len(s) == 11:
        return f"{s[:4]} {s[4:7]} {s[7:]}"
    return f"{s[:5]} {s[5:]}"


def _choose(q: Question, text: str) -> str | None:
    """The option value meant by a button's value or a typed label."""
    low = text.strip().lower()
    for o in q.options or []:
        if text == o.value:
            return o.value
    for o in q.options or []:
        if low in (o.value.lower(), o.label.lower()):
            return o.value
    return None


def parse_answer(question: Question, raw: str, today: date) -> Any:
    """The value to store for a typed answer, or AnswerRefused with what to say. Text is
    stripped; a date accepts "3/2/2027", "03/02/2027", "3 Feb 2027", "2027-02-03" (UK order) and is
    stored as ISO text; a number is stored as int or float; yes/no accepts yes/no/y/n (buttons
    send "yes"/"no") and is stored as a bool; one_choice takes an option value (or its label,
    typed); several_choices takes a list of option values (the bot sends them as a list through
    `parse_choices`); list_choice takes an entry of the list (exact, case-insensitive) or, if
    `allow_other`, any text; email and phone are checked and normalised; file answers are not
    parsed here (see `file_answer`). An optional question's empty answer ("skip") is None."""
    q = question
    t = q.type
    if isinstance(raw, list):
        if t is QuestionType.SEVERAL_CHOICES:
            return parse_choices(q, [str(v) for v in raw]) or (None if not q.required else [])
        raise AnswerRefused("Please send one answer.")
    text = "" if raw is None else str(raw).strip()
    if not text:
        if not q.required:
            return None
        raise AnswerRefused(_needs_answer(q))
    if t is QuestionType.FILE:
        raise AnswerRefused(
            "This question needs a file. Please send it as a document or a photo "
            "(PDF, Word or a picture, up to 20 MB)."
        )
    if t in TEXT_TYPES:
        if t is QuestionType.TEXT:
            text = " ".join(text.split())
        limit = q.max_length or (DEFAULT_MAX_TEXT if t is QuestionType.TEXT else DEFAULT_MAX_LONG_TEXT)
        if len(text) > limit:
            raise AnswerRefused(
                f"That is too long: please keep it to {limit} characters or fewer "
                f"(yours has {len(text)})."
            )
        if q.min_length and len(text) < q.min_length:
            raise AnswerRefused(
                f"Please write a little more: at least {q.min_length} characters."
            )
        return text
    if t is QuestionType.YES_NO:
        low = text.lower().rstrip(".!")
        if low in _YES:
            value: Any = True
        elif low in _NO:
            value = False
        else:
            raise AnswerRefused("Please choose one of the buttons: Yes or No.")
        _check_must_be(q, value)
        return value
    if t is QuestionType.ONE_CHOICE:
        choice = _choose(q, text)
        if choice is None:
            raise AnswerRefused("Please choose one of the buttons.")
        _check_must_be(q, choice)
        return choice
    if t is QuestionType.SEVERAL_CHOICES:
        values = [v for v in re.split(r"[,\n;]", text) if v.strip()]
        return parse_choices(q, values)
    if t is QuestionType.DATE:
        d = parse_date(text, today)
        _check_date(q, d, today)
        return d.isoformat()
    if t is QuestionType.NUMBER:
        return _parse_number(q, text)
    if t is QuestionType.EMAIL:
        s = text.removeprefix("mailto:").strip()
        if len(s) > 254 or not _EMAIL.match(s):
            raise AnswerRefused(
                "That email address does not look right. Please check it and send it again."
            )
        local, domain = s.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    if t is QuestionType.PHONE:
        return _phone(text)
    if t is QuestionType.LIST_CHOICE:
        low = fold(text)
        for entry in load_list(str(q.list_name)):
            if entry.lower() == text.lower() or fold(entry) == low:
                return entry
        if q.allow_other:
            if len(text) > 200:
                raise AnswerRefused("That is too long: please keep the name to 200 characters.")
            return " ".join(text.split())
        raise AnswerRefused(
            "That is not on the list. Please type part of the name and choose from the buttons."
        )
    raise AnswerRefused("Please answer the question.")  # pragma: no cover


def _needs_answer(q: Question) -> str:
    t = q.type
    if t in (QuestionType.ONE_CHOICE, QuestionType.YES_NO):
        return "This question needs an answer. Please choose one of the buttons."
    if t is QuestionType.SEVERAL_CHOICES:
        return "Please choose at least one, then press Done."
    if t is QuestionType.FILE:
        return "This question needs a file. Please send it as a document or a photo."
    if t is QuestionType.LIST_CHOICE:
        return "This question needs an answer. Please type part of the name."
    return "This question needs an answer. Please type it and send it."


def _check_must_be(q: Question, value: Any) -> None:
    if q.must_be is not None and value != q.must_be:
        if q.must_be_message:
            raise AnswerRefused(q.must_be_message)
        if q.type is QuestionType.YES_NO:
            want = "Yes" if q.must_be else "No"
            raise AnswerRefused(f"You need to answer {want} to go on.")
        label = next((o.label for o in q.options or [] if o.value == q.must_be), q.must_be)
        raise AnswerRefused(f"You need to choose {label} to go on.")


def _check_date(q: Question, d: date, today: date) -> None:
    name = q.answer_name or "date"
    if q.earliest is not None:
        lo = resolve_date_bound(q.earliest, today)
        if d < lo:
            if q.earliest.strip().lower() == "today":
                raise AnswerRefused(f"The {name} cannot be in the past.")
            raise AnswerRefused(f"The {name} must be {format_date(lo)} or later.")
    if q.latest is not None:
        hi = resolve_date_bound(q.latest, today)
        if d > hi:
            if q.latest.strip().lower() == "today":
                raise AnswerRefused(f"The {name} cannot be in the future.")
            raise AnswerRefused(f"The {name} must be {format_date(hi)} or earlier.")


def _parse_number(q: Question, text: str) -> int | float:
    s = text.lower().replace(",", "").replace(" ", "")
    value: float
    if s in _NUMBER_WORDS:
        value = _NUMBER_WORDS[s]
    else:
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", s):
            raise AnswerRefused(_number_help(q))
        value = float(s)
    if q.integer and not float(value).is_integer():
        raise AnswerRefused(_number_help(q))
    if (q.minimum is not None and value < q.minimum) or (
        q.maximum is not None and value > q.maximum
    ):
        raise AnswerRefused(_number_help(q))
    if float(value).is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def parse_choices(question: Question, values: list[str]) -> list[str]:
    """A several_choices answer: option values, each offered, within min/max."""
    q = question
    chosen: set[str] = set()
    for v in values:
        c = _choose(q, str(v))
        if c is None:
            raise AnswerRefused("Please choose from the buttons, then press Done.")
        chosen.add(c)
    ordered = [o.value for o in q.options or [] if o.value in chosen]
    if not ordered:
        if q.required or q.min_choices:
            raise AnswerRefused(_needs_answer(q))
        return []
    if q.min_choices and len(ordered) < q.min_choices:
        raise AnswerRefused(f"Please choose at least {q.min_choices}.")
    if q.max_choices and len(ordered) > q.max_choices:
        raise AnswerRefused(f"Please choose no more than {q.max_choices}.")
    return ordered


def file_answer(question: Question, current: list[dict[str, Any]] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """A file question's answer with one more file (`new`: {sha256, filename, mime, size, ...},
    already checked by core.files), or AnswerRefused when there would be too many or it is too
    big. The same file sent twice is kept once."""
    files = list(current or [])
    if int(new.get("size") or 0) > MAX_FILE_BYTES:
        raise AnswerRefused("That file is too big. Please send a file of up to 20 MB.")
    if any(f.get("sha256") == new.get("sha256") for f in files):
        return files
    if len(files) >= question.max_files:
        n = question.max_files
        raise AnswerRefused(
            f"You can send up to {n} file{'s' if n != 1 else ''} here. "
            "Press Next to go on, or remove the files and send them again."
        )
    return [*files, new]


def format_answer(question: Question, value: Any) -> str:
    """An answer as the parent and the caseworker read it (review, PDF): dates as 3 Feb 2027,
    yes/no as Yes/No, choices by label, files by name; "Not answered" for None."""
    q = question
    t = q.type
    if value is None or value == "":
        return "Not answered"
    if t is QuestionType.YES_NO:
        return "Yes" if value else "No"
    if t is QuestionType.DATE:
        try:
            return format_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if t is QuestionType.NUMBER:
        return plain_number(value) if isinstance(value, int | float) else str(value)
    if t is QuestionType.ONE_CHOICE:
        return next((o.label for o in q.options or [] if o.value == value), str(value))
    if t is QuestionType.SEVERAL_CHOICES:
        values = value if isinstance(value, list) else [value]
        if not values:
            return "None chosen"
        labels = {o.value: o.label for o in q.options or []}
        return ", ".join(labels.get(v, str(v)) for v in values)
    if t is QuestionType.PHONE:
        return format_phone(str(value))
    if t is QuestionType.FILE:
        files = value if isinstance(value, list) else [value]
        if not files:
            return "Not answered"
        names = [
            str(f.get("filename") or "a file") if isinstance(f, dict) else str(f) for f in files
        ]
        return ", ".join(names)
    return str(value)
