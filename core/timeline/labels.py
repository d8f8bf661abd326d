"""The key dates on the timeline picture: which are drawn and which noted under it, where each
label goes so that none hides another, and which scale labels fit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from core.fonts import load_font
from core.timescales import KeyDate, Status, format_date

from .model import Mark, Tick
from .style import (
    LABEL_GAP,
    LABEL_LINE,
    LABEL_PAD_X,
    LABEL_PAD_Y,
    LABEL_SIZE,
    ROW_TOP,
    SHARED_LEADER,
    SMALL_SIZE,
    STATUS_WORD,
    WIDTH,
    text_width,
)

# A key date at most this far past the process's end stretches the picture; later ones are noted.
STRETCH = timedelta(days=183)


def place_labels(items: list[tuple[KeyDate, str, int]]) -> tuple[Mark, ...]:
    """Put each key date's label in a row, alternating above and below the axis, so that labels
    never overlap each other or hide another label's leader line.

    A small depth-first search over rows and anchors (centred on the tick, or shifted to either
    side of it), trying the nicest choice first; if no clash-free placement exists, each label
    takes its least-clashing choice in turn.
    """
    label_font, status_font = load_font(LABEL_SIZE), load_font(LABEL_SIZE, bold=True)
    todo: list[tuple[KeyDate, str, int, str, int]] = []
    for kd, label, x in sorted(items, key=lambda item: (item[2], item[0].key)):
        assert kd.due is not None
        text = f"{format_date(kd.due)} · {STATUS_WORD[kd.status]}"
        w = max(text_width(label, label_font), text_width(text, status_font)) + 2 * LABEL_PAD_X
        todo.append((kd, label, x, text, w))

    def options(i: int, previous_above: bool | None) -> list[tuple[int, int]]:
        """(row, box left) choices for label ``i``, nicest first."""
        _kd, _label, x, _text, w = todo[i]
        first = (1, -1) if previous_above else (-1, 1)
        lefts: list[int] = []
        for left in (x - w // 2, x - 14, x + 14 - w):
            left = min(max(left, 6), WIDTH - 6 - w)
            if left + 6 <= x <= left + w - 6 and left not in lefts:
                lefts.append(left)
        out = []
        for distance in (1, 2):
            for shifted in (False, True):
                for side in first:
                    for left in lefts[1:] if shifted else lefts[:1]:
                        out.append((side * distance, left))
        return out

    def mark(i: int, row: int, left: int) -> Mark:
        kd, label, x, text, w = todo[i]
        top = ROW_TOP[row]
        box = (left, top, left + w, top + 2 * LABEL_LINE + 2 * LABEL_PAD_Y)
        return Mark(kd.key, label, kd.due, kd.status, x, text, row, box)  # type: ignore[arg-type]

    budget = [20_000]

    def search(placed: list[Mark]) -> list[Mark] | None:
        i = len(placed)
        if i == len(todo):
            return placed
        previous_above = placed[-1].above if placed else None
        for row, left in options(i, previous_above):
            budget[0] -= 1
            if budget[0] < 0:
                return None
            w = todo[i][4]
            if _clashes(placed, row, left, left + w, todo[i][2]) == 0:
                found = search([*placed, mark(i, row, left)])
                if found is not None:
                    return found
        return None

    found = search([])
    if found is None:  # too crowded for a clean placement: the least clashes, label by label
        found = []
        for i in range(len(todo)):
            previous_above = found[-1].above if found else None
            w, x = todo[i][4], todo[i][2]
            row, left = min(
                options(i, previous_above),
                key=lambda o: _clashes(found, o[0], o[1], o[1] + w, x),  # type: ignore[arg-type]
            )
            found.append(mark(i, row, left))
    return tuple(found)


def _clashes(placed: list[Mark], row: int, bx0: int, bx1: int, x: int) -> int:
    """How many placed labels a label in ``row`` over [bx0, bx1] (leader at ``x``) would hit."""
    n = 0
    for m in placed:
        mx0, mx1 = m.box[0], m.box[2]
        if m.row == row and bx0 < mx1 + LABEL_GAP and mx0 < bx1 + LABEL_GAP:
            n += 1
        same_side = (m.row < 0) == (row < 0)
        if abs(m.x - x) <= SHARED_LEADER:
            continue  # ticks this close share one visible leader line
        if same_side and abs(row) == 2 and abs(m.row) == 1 and mx0 - 4 <= x <= mx1 + 4:
            n += 1  # our leader line would run behind that nearer label
        if same_side and abs(row) == 1 and abs(m.row) == 2 and bx0 - 4 <= m.x <= bx1 + 4:
            n += 1  # our label would hide that farther label's leader line
    return n


def kept_ticks(candidates: Iterable[Tick]) -> tuple[Tick, ...]:
    """Scale labels in priority order, dropping any that would overlap one already kept."""
    font = load_font(SMALL_SIZE)
    kept: list[tuple[int, int, Tick]] = []
    for t in candidates:
        w = text_width(t.text, font)
        x0 = {"la": t.x, "ma": t.x - w // 2, "ra": t.x - w}[t.anchor]
        x0 = min(max(x0, 4), WIDTH - 4 - w)
        x1 = x0 + w
        if any(x0 < k1 + 12 and k0 < x1 + 12 for k0, k1, _ in kept):
            continue
        kept.append((x0, x1, Tick(x0, t.text, "la")))
    return tuple(t for _, _, t in sorted(kept, key=lambda k: k[0]))


def marks_and_notes(
    dates: list[KeyDate], keys: dict[str, str], start: date, end: date
) -> tuple[list[tuple[KeyDate, str]], list[str], date]:
    """The key dates on the picture, the ones noted under it instead, and the picture's end
    (stretched to take in a key date shortly after the process's end)."""
    shown: list[tuple[KeyDate, str]] = []
    notes: list[str] = []
    for kd in dates:
        if kd.key not in keys or kd.status is Status.NOT_APPLICABLE or kd.due is None:
            continue
        if start <= kd.due <= end + STRETCH:
            shown.append((kd, keys[kd.key]))
            end = max(end, kd.due)
        elif kd.status is not Status.MET:
            notes.append(f"{keys[kd.key]}: {format_date(kd.due)} ({STATUS_WORD[kd.status]})")
    return shown, [f"Also: {'; '.join(notes)}"] if notes else [], end


def exception_note(dates: list[KeyDate]) -> list[str]:
    for kd in dates:
        if kd.exception:
            return [kd.note.split("This window has closed.")[-1].strip()]
    return []
