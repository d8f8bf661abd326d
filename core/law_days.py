"""Counting days as the law counts them: the helpers the statutory rules (core/timescales.py) use,
the tribunal's working days and last days, and phase transfer's last days. Pure: dates in, dates
out. Bank holidays of England and Wales come from the maintained `holidays` package.

See core/timescales.py for which reading each rule uses.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import holidays

# --------------------------------------------------------------------------- counting helpers


def within_weeks(start: date, n: int) -> date:
    """Last day of a period of ``n`` weeks that counts ``start`` as day 1."""
    return start + timedelta(weeks=n) - timedelta(days=1)


def days_from_service(start: date, n: int) -> date:
    """Last day of ``n`` days from service, the day of service counting as day 1."""
    return start + timedelta(days=n - 1)


def months_after(start: date, n: int) -> date:
    """The same day ``n`` months on, or the last day of that month where it has no such day."""
    month_index = start.month - 1 + n
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def within_months(start: date, n: int) -> date:
    """Last day of a period of ``n`` months that counts ``start`` as day 1."""
    return months_after(start, n) - timedelta(days=1)


# --------------------------------------------------------------------------- tribunal appeal


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    """England and Wales's bank holidays (and Christmas Day and Good Friday, which are common-law
    holidays there) in `year`, from the `holidays` package (the published list, substitute days
    and one-off days such as 19 Sep 2022 included)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(d: date) -> bool:
    """A working day as the tribunal's rules define it (HESC Rules 2008, rule 1(3)): any day
    except a Saturday or Sunday, Christmas Day, Good Friday or a bank holiday in England and
    Wales."""
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def _first_working_day_from(d: date) -> date:
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def adjust_tribunal_deadline(d: date) -> date:
    """The last day to start an appeal, as the tribunal's rules move it.

    Rule 12(3)(a) (special educational needs cases): a period ending on a day from 25 Dec to
    1 Jan inclusive ends on the first working day after 1 Jan; one ending on a day in August, on
    the first working day after 31 Aug. Rule 12(2): one ending on a day that is not a working day
    ends on the next working day. (Rule 12(1): the tribunal must have it by 5pm on that day.)
    """
    if d.month == 12 and d.day >= 25:
        return _first_working_day_from(date(d.year + 1, 1, 2))
    if d.month == 1 and d.day == 1:
        return _first_working_day_from(date(d.year, 1, 2))
    if d.month == 8:
        return _first_working_day_from(date(d.year, 9, 1))
    return _first_working_day_from(d)


def appeal_deadline(decision_letter: date, mediation_certificate: date | None = None) -> date:
    """Last day to appeal to the tribunal (by 5pm).

    2 months after the decision letter, or 1 month after the mediation certificate, whichever is
    later (HESC Rules 2008, rule 20(1)); then moved as ``adjust_tribunal_deadline`` says.
    """
    due = months_after(decision_letter, 2)
    if mediation_certificate is not None:
        due = max(due, months_after(mediation_certificate, 1))
    return adjust_tribunal_deadline(due)


# --------------------------------------------------------------------------- phase transfer


class TransferKind(StrEnum):
    SCHOOL = "school"  # e.g. early years to school, primary to secondary
    POST_16 = "secondary_to_post16"
    BETWEEN_POST_16 = "post16_to_post16"  # reg 18(2): at any time of year, its date given


def phase_transfer_deadline(year: int, kind: TransferKind | str = TransferKind.SCHOOL) -> date:
    """The last day by which the plan must be reviewed and amended to name the next setting
    (reg 18(1): "before 31 March" for secondary school to post-16, "before 15 February" in any
    other case, in the calendar year of the transfer)."""
    if TransferKind(kind) is TransferKind.POST_16:
        return date(year, 3, 30)
    return date(year, 2, 14)


def post16_transfer_deadline(transfer: date) -> date:
    """Reg 18(2): a move from one post-16 institution to another at any other time: the plan
    amended to name it at least 5 months before the move (so by this day)."""
    return months_after(transfer, -5)
