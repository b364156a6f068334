"""Readings a plan could be built from, but only by guessing: the reader asks back or refuses
(a state that may be the reviewer's licence or the letters', several quantifiers, a negated
number, a period that may belong to either of two dates)."""

from __future__ import annotations

import re

from imr_rag.ask.fields import FIELDS
from imr_rag.ask.reading import Parts, Reading, Word
from imr_rag.ask.slots import Slot


LICENCE = re.compile(r"\b(licen[cs]\w*|reviewers?|physicians?|doctors?|board|certified|md)\b")
"""Words that make a state the reviewer's licence; without them Texas and California are the
letters' own jurisdictions (formats), any other state is asked back."""


def doubtful(text: str, p: Parts) -> Reading | None:
    """Readings the plan could be built from but only by guessing a word's role: ask back or refuse."""
    unit = re.search(r"\bhow (?:many|much) (weeks|months|years|hours)\b", text)
    if unit:
        return Reading("refuse", None, f"a duration in {unit.group(1)}",
                       f"Durations are computed in days, not {unit.group(1)}: ask how many days.")
    if p.states and not LICENCE.search(text):
        states = ", ".join(dict.fromkeys(v for v, _ in p.states))
        return Reading("clarify", None, f"{states}: the reviewer's licence or the letter's state?",
                       f"Do you mean letters whose reviewer is licensed in {states}, or letters from {states}?",
                       choices=["reviewer licensed there", "letters from there"])
    quants = list(p.quants)
    if re.search(r"\bat all\b", text) and "every" in quants:
        quants.remove("every")  # 'at all': emphasis, not a quantifier
    if len(set(quants)) > 1:
        return Reading("refuse", None, "several quantifiers: " + ", ".join(p.quants),
                       "The question puts more than one condition on a letter's items (" + ", ".join(p.quants)
                       + "); the plan holds one, so I give no answer rather than one to a different question.")
    if p.numbers and re.search(r"\b(not|no|never)\s+(a\s+)?(single|one|1)\b", text):
        return Reading("refuse", None, "a negated number",
                       "'not a single' / 'not one' is not a count of items; ask e.g. "
                       "'letters where no treatment was overturned'.")
    return None


def period_owner(p: Parts, slots: list[Slot], words: list[Word]) -> Reading | None:
    """A date named with one date field other than the decision's ('injured workers in the 2017
    letters'): the period is that field's only when the field's word stands next to it (at most four
    words between) and no letter/decision word follows it; otherwise ask which date is meant."""
    named = [f for f in dict.fromkeys(p.fields) if FIELDS[f].kind == "date" and f != "decision_date"]
    if len(named) != 1 or not p.periods or "duration" in p.cues or "->" in " ".join(w.text for w in words):
        return None
    mine = [w for w in words if w.kind == "field" and w.value == named[0]]
    for s in (x for x in slots if x.kind == "date"):
        gap = min((sum(1 for w in words if min(f.end, s.end) <= w.start and w.end <= max(f.start, s.start))
                   for f in mine), default=99)
        after = next((w for w in words if w.start >= s.end), None)
        if gap > 4 or (after is not None and after.kind == "unit" and after.value in ("letters", "decisions")):
            return Reading("clarify", None, f"{s.text}: which date?",
                           f"Does {s.text} refer to the {FIELDS[named[0]].label} or to the decision date?",
                           choices=[FIELDS[named[0]].label, "decision date"], corrections=p.corrections)
    return None
