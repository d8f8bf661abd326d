"""The lists a `list_choice` question chooses from (core/data/forms/lists/<name>.csv, such as
`schools`), loaded once, and the search that offers their entries after the parent types part of
a name."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from core.forms.questions import LIST_NAME, FormDefinitionError

if TYPE_CHECKING:
    from core.forms.questions import Question

LISTS_DIR = Path(__file__).resolve().parent.parent / "data" / "forms" / "lists"


@cache
def load_list(name: str) -> tuple[str, ...]:
    """The entries (the `name` column) of core/data/forms/lists/<name>.csv, loaded once."""
    if not LIST_NAME.match(name):
        raise FormDefinitionError(f"unknown list '{name}'")
    path = LISTS_DIR / f"{name}.csv"
    if not path.is_file():
        raise FormDefinitionError(f"unknown list '{name}' (no core/data/forms/lists/{name}.csv)")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "name" not in reader.fieldnames:
            raise FormDefinitionError(f"the list '{name}' ({path.name}) has no 'name' column")
        names = [(row.get("name") or "").strip() for row in reader]
    entries = tuple(dict.fromkeys(n for n in names if n))
    if not entries:
        raise FormDefinitionError(f"the list '{name}' ({path.name}) is empty")
    return entries


@cache
def load_list_rows(name: str) -> tuple[dict[str, str], ...]:
    """Every row of a list (all its columns: name, phase, town ...)."""
    load_list(name)
    with (LISTS_DIR / f"{name}.csv").open(newline="", encoding="utf-8-sig") as f:
        return tuple(dict(r) for r in csv.DictReader(f) if (r.get("name") or "").strip())


def fold(text: str) -> str:
    """Lower case, apostrophes and full stops dropped, other punctuation as spaces."""
    text = text.lower().replace("'", "").replace("\u2019", "").replace(".", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def search_list(question: Question, text: str, limit: int = 8) -> list[str]:
    """Entries of a list_choice question's list that match part of `text` (case-insensitive,
    every word), best first: for the buttons offered after the parent types part of a name."""
    if not question.list_name:
        return []
    words = fold(text).split()
    if not words:
        return []
    whole = " ".join(words)
    scored = []
    for entry in load_list(question.list_name):
        folded = fold(entry)
        if not all(w in folded for w in words):
            continue
        entry_words = folded.split()
        if folded == whole:
            rank = 0
        elif folded.startswith(whole):
            rank = 1
        elif all(any(ew.startswith(w) for ew in entry_words) for w in words):
            rank = 2
        else:
            rank = 3
        scored.append((rank, folded, entry))
    scored.sort()
    return [e for _, _, e in scored[: max(limit, 0)]]
