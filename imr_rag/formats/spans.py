"""Pure helpers for rules parsers: evidence from known positions, label/value lookups."""

from __future__ import annotations

import re

from imr_rag.schema import Alignment, Determination, Evidence, Patient


def evidence_at(text: str, start: int, end: int) -> Evidence | None:
    """Evidence for text[start:end] trimmed of surrounding whitespace; None if empty."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    return Evidence(quote=text[start:end], start=start, end=end, alignment=Alignment.exact)


def one_line(value: str) -> str:
    """Collapse wrapped lines and runs of spaces into single spaces."""
    return re.sub(r"\s+", " ", value).strip()


def labelled_value(text: str, label: str, value: str, *, start: int = 0, end: int | None = None) -> str | None:
    """The value after 'Label:' (label words may wrap across lines), matching regex `value`."""
    words = r"\s+".join(re.escape(w) for w in label.split())
    match = re.compile(rf"{words}\s*:\s*({value})", re.IGNORECASE).search(text, start, len(text) if end is None else end)
    return match.group(1).strip() if match else None


def outcome_of(words: str) -> Determination:
    """'Upheld', 'Overturned', 'Partially  Overturned' (any case or spacing) -> Determination."""
    return Determination(one_line(words).lower().replace(" ", "_"))


def necessity_of(determination: Determination) -> bool | None:
    """Upheld denials mean not necessary; overturned mean necessary; partial is mixed."""
    return {Determination.upheld: False, Determination.overturned: True}.get(determination)


def patient_from(summary: str) -> Patient:
    """Age and sex as the clinical summary first states them ("a 58-year-old female")."""
    age = re.search(r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b", summary, re.I)
    sex = re.search(r"\b(male|female|man|woman|gentleman|lady)\b", summary, re.I)
    sex_value = None
    if sex:
        sex_value = "female" if sex.group(1).lower() in {"female", "woman", "lady"} else "male"
    return Patient(age=int(age.group(1)) if age else None, sex=sex_value)
