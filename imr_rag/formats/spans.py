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


# Outcome words as a span of a letter states them (for self-checks of records).
OUTCOME_WORD = re.compile(r"\b(partial(?:ly)?[\s-]+overturn(?:ed)?|overturned|upheld)\b", re.IGNORECASE)
# An outcome label in a box nobody marked ("[ ] Upheld", "☐ Overturned"): it states nothing.
UNMARKED_BOX = re.compile(
    r"(?:\[\s*\]|\(\s*\)|\u2610)\s*(?:partially[\s-]+overturned|overturned|upheld)(?:\s*\([^)\n]*\))?"
    r"|(?:partially[\s-]+overturned|overturned|upheld)(?:\s*\([^)\n]*\))?[ \t]*(?:\[\s*\]|\(\s*\)|\u2610)",
    re.IGNORECASE,
)
# Outcome in prose: "is not medically necessary" upholds a denial, "is medically necessary" overturns it.
NECESSITY = re.compile(
    r"\b(?:is|are)\s+(?P<neg>not\s+)?(?:recommended\s+as\s+|considered\s+|deemed\s+)?medically\s+necessary",
    re.IGNORECASE,
)


def outcome_words(span_text: str) -> set[Determination]:
    """The outcomes a span of the letter states (unmarked checkbox labels do not count)."""
    text = UNMARKED_BOX.sub(" ", span_text)
    found = {_outcome(m.group(1)) for m in OUTCOME_WORD.finditer(text)}
    if not found:
        necessity = {m.group("neg") is None for m in NECESSITY.finditer(text)}
        if necessity == {True}:
            found.add(Determination.overturned)
        elif necessity == {False}:
            found.add(Determination.upheld)
        elif necessity:
            found.add(Determination.partially_overturned)
    return found


def _outcome(words: str) -> Determination:
    """'Upheld', 'overturned', 'partially overturned', 'a partial overturn' -> Determination."""
    if words.lower().startswith("partial"):
        return Determination.partially_overturned
    return Determination(words.lower())
