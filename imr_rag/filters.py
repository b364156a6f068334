"""The filters a user puts on a question or a table (`ask` options, the app's filter widgets),
validated by one set of rules for both: a filter that cannot be applied as given is an error,
never silently dropped or changed, and the filters applied are said with the answer."""

from __future__ import annotations

import datetime as dt
import re

from imr_rag.errors import InvalidFilter
from imr_rag.formats import registered_formats
from imr_rag.schema import AnswerFilters, Determination, LetterFormat
from imr_rag.textutil import normalize_case_number

# ASCII digits only: `date.fromisoformat` also takes 2017-W01-1 and 20170102, which a user
# reading "2017-01-02" back would not recognise as what they typed.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def calendar_date(text: str, name: str = "date") -> str:
    """`text` as a YYYY-MM-DD date that exists (2017-02-30 and 2017-13-45 do not)."""
    value = text.strip()
    try:
        if _ISO_DATE.fullmatch(value):
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidFilter(name, f"must be an ISO date (yyyy-mm-dd) that exists on the calendar, not {text!r}")


def letter_formats() -> list[str]:
    """Every format a letter can be filed under: the installed plugins' and 'unknown'."""
    return sorted({*registered_formats(), LetterFormat.unknown.value})


def answer_filters(
    *, letter_format: str | None = None, determination: str | None = None, date_from: str | None = None,
    date_to: str | None = None, case_number: str | None = None,
) -> AnswerFilters:
    """Checked filters (None: no constraint); InvalidFilter names the first one that cannot apply."""
    start = calendar_date(date_from, "date from") if date_from is not None else None
    end = calendar_date(date_to, "date to") if date_to is not None else None
    if start and end and start > end:
        raise InvalidFilter("date from", f"({start}) is after date to ({end})")
    outcomes = [d.value for d in Determination]
    if determination is not None and determination not in outcomes:
        raise InvalidFilter("outcome", f"must be one of {', '.join(outcomes)}, not {determination!r}")
    if letter_format is not None and letter_format not in letter_formats():
        raise InvalidFilter("letter format", f"must be one of {', '.join(letter_formats())}, not {letter_format!r}")
    return AnswerFilters(
        letter_format=letter_format, determination=Determination(determination) if determination else None,
        date_from=start, date_to=end, case_number=normalize_case_number(case_number) if case_number and case_number.strip() else None,
    )


def describe_filters(filters: AnswerFilters) -> str:
    """The filters in words, e.g. 'decision date 2017-01-01 to 2017-03-31, outcome overturned';
    '' when there are none."""
    parts = []
    if filters.date_from or filters.date_to:
        parts.append("decision date " + (
            f"{filters.date_from} to {filters.date_to}" if filters.date_from and filters.date_to
            else f"on or after {filters.date_from}" if filters.date_from else f"on or before {filters.date_to}"))
    if filters.determination:
        parts.append(f"outcome {filters.determination.value.replace('_', ' ')}")
    if filters.letter_format:
        parts.append(f"letter format {filters.letter_format}")
    if filters.case_number:
        parts.append(f"case {filters.case_number}")
    return ", ".join(parts)
