"""Pure: the date spellings seen in IMR/IRO letters -> ISO yyyy-mm-dd."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_NUMERIC = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})")
_MONTH_NAME_SLASH = re.compile(r"([A-Za-z]{3,9})[/ -](\d{1,2})[/ ,-]+(\d{4})")
_MONTH_NAME_LONG = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})")

DATE_PATTERN = r"(?:\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|[A-Za-z]{3,9}[/ -]\d{1,2}[/ ,-]+\d{4})"
"""A regex fragment matching any date spelling `to_iso` understands (for use in bigger patterns)."""


def to_iso(value: str) -> str | None:
    """'12/08/2016', '12-8-16', 'Dec/17/2013', 'December 17, 2013' -> ISO; None if not a date."""
    value = value.strip()
    if m := _NUMERIC.fullmatch(value):
        month, day, year = (int(g) for g in m.groups())
        year += 2000 if year < 50 else 1900 if year < 100 else 0
        return _safe(year, month, day)
    for pattern in (_MONTH_NAME_SLASH, _MONTH_NAME_LONG):
        if m := pattern.fullmatch(value):
            month = _MONTHS.get(m.group(1)[:3].lower())
            return _safe(int(m.group(3)), month, int(m.group(2))) if month else None
    return None


def _safe(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
