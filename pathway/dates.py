"""Date arithmetic (spec §2.8 rule 8): calendar months and calendar days; ``today`` is always passed in."""
from __future__ import annotations

from datetime import date


def months_between(earlier: date, later: date) -> int:
    """12 x (year difference) + (month difference), minus 1 if the later day-of-month is smaller."""
    months = 12 * (later.year - earlier.year) + (later.month - earlier.month)
    if later.day < earlier.day:
        months -= 1
    return months


def days_between(earlier: date, later: date) -> int:
    return (later - earlier).days
