"""Quiet hours in Europe/London, across midnight and across both clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.clock import LONDON
from core.quiet import is_quiet, quiet_ends_at

START, END = time(21, 0), time(8, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.mark.parametrize(
    ("when", "quiet"),
    [
        (london(2026, 11, 24, 14, 0), False),
        (london(2026, 11, 24, 20, 59), False),
        (london(2026, 11, 24, 21, 0), True),
        (london(2026, 11, 24, 23, 59), True),
        (london(2026, 11, 25, 0, 0), True),
        (london(2026, 11, 25, 7, 59), True),
        (london(2026, 11, 25, 8, 0), False),
        # Summer: 20:30 UTC is 21:30 BST (quiet); 07:30 UTC is 08:30 BST (not quiet).
        (utc(2026, 7, 1, 20, 30), True),
        (utc(2026, 7, 1, 7, 30), False),
        (utc(2026, 7, 1, 6, 59), True),
    ],
)
def test_is_quiet(when: datetime, quiet: bool) -> None:
    assert is_quiet(when, START, END) is quiet


def test_not_quiet_ends_now() -> None:
    now = london(2026, 11, 24, 14, 0)
    assert quiet_ends_at(now, START, END) == now


def test_evening_ends_next_morning() -> None:
    assert quiet_ends_at(london(2026, 11, 24, 22, 30), START, END) == london(2026, 11, 25, 8, 0)
    assert quiet_ends_at(london(2026, 11, 24, 21, 0), START, END) == utc(2026, 11, 25, 8, 0)


def test_after_midnight_ends_same_morning() -> None:
    assert quiet_ends_at(london(2026, 11, 25, 3, 0), START, END) == utc(2026, 11, 25, 8, 0)


def test_spring_forward_2026_03_29() -> None:
    # Saturday 28 March 22:00 GMT: the night the clocks go forward at 01:00 GMT.
    evening = utc(2026, 3, 28, 22, 0)
    assert is_quiet(evening, START, END)
    # 08:00 BST on Sunday is 07:00 UTC: the night is an hour shorter.
    assert quiet_ends_at(evening, START, END) == utc(2026, 3, 29, 7, 0)
    # Just before and after the change itself.
    assert quiet_ends_at(utc(2026, 3, 29, 0, 30), START, END) == utc(2026, 3, 29, 7, 0)
    assert quiet_ends_at(utc(2026, 3, 29, 1, 30), START, END) == utc(2026, 3, 29, 7, 0)
    # 07:30 UTC that morning is 08:30 BST: not quiet; 06:59 UTC is 07:59 BST: quiet.
    assert not is_quiet(utc(2026, 3, 29, 7, 30), START, END)
    assert is_quiet(utc(2026, 3, 29, 6, 59), START, END)
    # Sunday evening (BST): quiet from 20:00 UTC.
    assert not is_quiet(utc(2026, 3, 29, 19, 59), START, END)
    assert is_quiet(utc(2026, 3, 29, 20, 0), START, END)
    assert quiet_ends_at(utc(2026, 3, 29, 20, 0), START, END) == utc(2026, 3, 30, 7, 0)


def test_fall_back_2026_10_25() -> None:
    # Saturday 24 October 21:30 BST (20:30 UTC): the night the clocks go back at 01:00 UTC.
    evening = utc(2026, 10, 24, 20, 30)
    assert is_quiet(evening, START, END)
    # 08:00 GMT on Sunday is 08:00 UTC: the night is an hour longer.
    assert quiet_ends_at(evening, START, END) == utc(2026, 10, 25, 8, 0)
    # Both passes through 01:30 local time (00:30 UTC in BST, 01:30 UTC in GMT).
    assert quiet_ends_at(utc(2026, 10, 25, 0, 30), START, END) == utc(2026, 10, 25, 8, 0)
    assert quiet_ends_at(utc(2026, 10, 25, 1, 30), START, END) == utc(2026, 10, 25, 8, 0)
    assert is_quiet(utc(2026, 10, 25, 7, 30), START, END)  # 07:30 GMT
    assert not is_quiet(utc(2026, 10, 25, 8, 0), START, END)
    # Sunday evening (GMT): quiet from 21:00 UTC.
    assert not is_quiet(utc(2026, 10, 25, 20, 59), START, END)
    assert is_quiet(utc(2026, 10, 25, 21, 0), START, END)


def test_window_within_one_day() -> None:
    start, end = time(12, 0), time(14, 0)
    assert is_quiet(london(2026, 11, 24, 13, 0), start, end)
    assert not is_quiet(london(2026, 11, 24, 14, 0), start, end)
    assert not is_quiet(london(2026, 11, 24, 11, 59), start, end)
    assert quiet_ends_at(london(2026, 11, 24, 12, 0), start, end) == london(2026, 11, 24, 14, 0)


def test_end_inside_the_spring_gap() -> None:
    # A window ending at 01:30, which does not exist on 29 March 2026: it ends when 02:00 BST begins.
    start, end = time(23, 0), time(1, 30)
    ends = quiet_ends_at(utc(2026, 3, 28, 23, 30), start, end)
    assert ends == utc(2026, 3, 29, 1, 0)
    assert not is_quiet(ends, start, end)
    assert is_quiet(ends - timedelta(seconds=1), start, end)


def test_equal_bounds_mean_no_quiet_hours() -> None:
    assert not is_quiet(london(2026, 11, 24, 23, 0), time(0, 0), time(0, 0))


def test_naive_refused() -> None:
    with pytest.raises(ValueError):
        is_quiet(datetime(2026, 11, 24, 23, 0), START, END)
