"""Write a plan's result as an Answer: the reading line first, then the value in words, each
sentence citing the passages of the letters it rests on, and the typed value for machines.

Pure: takes the reading, the plan, the result and a way to read a letter's text; no catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from imr_rag.ask.citations import AnswerBuilder
from imr_rag.extract.checks import find_date
from imr_rag.ask.fields import FIELDS
from imr_rag.ask.lexicon import FORMAT_LABELS
from imr_rag.ask.plan import Plan
from imr_rag.ask.result import Result, Row
from imr_rag.schema import Answer, CountedItem

MAX_CITED = 25
"""Rows listed and cited one by one; the rest are summed up ("and N more") and all of them are
in `Answer.counted` (`imr-rag ask --json`, the app's table)."""


def unit_word(plan: Plan, n: int) -> str:
    word = "letter" if plan.unit == "letters" else "disputed item"
    return word if n == 1 else word + "s"


def reading_line(read_as: str) -> str:
    return f"Read as: {read_as}."


def asked_back(question: str, read_as: str, message: str, *, status: str, mode: str = "offline") -> Answer:
    """An answer that computes nothing: the question back (clarify) or why it was not answered
    (refused), after how the question was read."""
    b = AnswerBuilder(text_of=lambda _doc: "")
    if read_as:
        b.say(reading_line(read_as))
    b.say(message)
    answer = b.answer(question, "none", mode)
    answer.status = status
    answer.reading = read_as
    return answer


def write(question: str, read_as: str, plan: Plan, result: Result, text_of: Callable[[str], str],
          *, mode: str = "offline") -> Answer:
    """The answer to `plan`, whose execution gave `result`."""
    b = AnswerBuilder(text_of=text_of)
    b.say(reading_line(read_as))
    value = _say_value(b, plan, result)
    flagged = sum(r.needs_review for r in result.rows)
    if flagged:
        b.say(f"{flagged} of the counted {'items' if plan.unit == 'items' else 'letters'} "
              f"{'is' if flagged == 1 else 'are'} flagged for review (marked \u2691 below; the export's "
              "review_reasons say why).")
    listed = result.rows if plan.operation != "rank" else [r for g in result.groups for r in g.rows]
    _cite_rows(b, plan, listed, result.total)
    for note in result.notes:
        b.say(note)
    answer = b.answer(question, "decision" if plan.operation == "fact" else "count", mode)
    answer.reading = read_as
    answer.value = value
    answer.plan = plan.shown()
    answer.counted = [_counted(r) for r in result.rows if r.item_index is not None]
    answer.counted_total = result.total if answer.counted else 0
    return answer


def _say_value(b: AnswerBuilder, plan: Plan, result: Result):
    """Say the result's value in one or more sentences; return it typed for `Answer.value`."""
    m = plan.measure
    if plan.operation == "fact":
        label = FIELDS[plan.fact].label
        if FIELDS[plan.fact].level == "item":  # one value per item: what the case's items hold, once each
            values = [v for item in (result.value or []) for v in (item if isinstance(item, list) else [item])]
            result.value = list(dict.fromkeys(v for v in values if v not in (None, "")))
        if result.value in (None, "", []):
            b.say(f"The letter of case {plan.case_number} does not state the {label}.")
            return None
        cites = list(dict.fromkeys(n for r in result.rows for n in _cite_fact(b, r, plan.fact, result.value)))
        shown = FORMAT_LABELS.get(result.value, result.value) if plan.fact == "letter_format" else result.value
        b.say(f"The {label} of case {plan.case_number} is {_show(shown)}.", cites)
        return shown
    if plan.operation in ("rank", "compare"):
        return _say_groups(b, plan, result)
    if getattr(plan, "yes_no", False):
        found = bool(result.total)
        b.say(("Yes: " if found else "No: ") + f"{result.total} {unit_word(plan, result.total)} match{'es' if result.total == 1 else ''}.")
        return found
    if m.aggregate == "count":
        b.say(f"{result.total} {unit_word(plan, result.total)}.")
        return result.total
    if m.aggregate == "list":
        b.say(f"{result.total} {unit_word(plan, result.total)}" + (":" if result.total else "."))
        if plan.unit == "letters":
            return sorted({r.case_number for r in result.rows if r.case_number})
        return [r.service for r in result.rows]
    if m.aggregate == "share":
        n = result.denominator or 0
        if not n:
            b.say(f"No {unit_word(plan, 2)} match, so there is no share to give.")
            return None
        b.say(f"{result.total} of {n} {unit_word(plan, n)} ({100 * result.total / n:.1f}%).")
        return result.total / n
    if result.value is None:
        b.say("No letter states the values this needs, so there is nothing to compute.")
        return None
    what = {"avg": "The average", "median": "The median", "min": "The lowest", "max": "The highest",
            "earliest": "The earliest", "latest": "The latest"}[m.aggregate]
    of = FIELDS[m.field].label if m.field else (
        f"number of days from the {FIELDS[m.duration[0]].label} to the {FIELDS[m.duration[1]].label}")
    b.say(f"{what} {of} is {_show(result.value)} (over {result.total} {unit_word(plan, result.total)}).")
    if plan.which and m.aggregate in ("min", "max", "earliest", "latest"):
        cases = sorted({r.case_number for r in result.rows if r.case_number})
        b.say(("Cases holding it (tied): " if len(cases) > 1 else "Case: ") + ", ".join(cases) + ".")
        return cases
    return result.value


def _say_groups(b: AnswerBuilder, plan: Plan, result: Result) -> list[dict]:
    share = plan.measure.aggregate == "share"
    ranked = [{"label": g.label, "value": g.value} for g in result.groups]
    for g in result.groups:  # best first, numbered by place; groups with the same value share it
        rank = plan.operation == "rank"
        tied = rank and sum(1 for h in result.groups if h.value == g.value) > 1
        place = next(j for j, h in enumerate(result.groups) if h.value == g.value) + 1 if rank else None
        if g.value is None:
            shown = f"no matching {unit_word(plan, 2)}"
        elif share:
            part = round(g.value * g.n)
            shown = f"{100 * g.value:.1f}% of {g.n} ({part} {unit_word(plan, part)})"
        else:
            shown = _show(g.value)
        b.say((f"{place}. " if place else "- ") + f"{g.label}: {shown}" + (" (tied)" if tied else ""))
    if result.tied:
        b.say("Tied at the last place shown: " + ", ".join(result.tied) + ".")
    if not result.groups:
        b.say(f"No {unit_word(plan, 2)} match.")
    if plan.group_by is not None and plan.group_by.field == "case_number":
        return [g.label for g in result.groups]  # 'which case had the most ...': the cases are the answer
    return ranked


def _cite_rows(b: AnswerBuilder, plan: Plan, rows: list[Row], total: int) -> None:
    for r in rows[:MAX_CITED]:
        where = r.case_number or r.source.rsplit("/", 1)[-1]
        what = f"{r.service}: {r.determination.replace('_', ' ')}" if r.service and r.determination else None
        if r.value is not None and plan.operation != "fact":
            what = f"{what}; {_show(r.value)}" if what else _show(r.value)
        cites = [b.cite(r.doc_id, r.case_number, r.source, *r.span, "item" if r.item_index is not None else None)] \
            if r.span else []
        flag = " \u2691 flagged for review" if r.needs_review else ""
        b.say(f"- {where}" + (f" ({r.decision_date})" if r.decision_date else "") + (f": {what}" if what else "")
              + flag, cites)
    if len(rows) > MAX_CITED:
        b.say(f"... and {len(rows) - MAX_CITED} more (all of them in the counted table).")
    elif total > len(rows) and plan.operation not in ("rank", "compare") \
            and plan.measure.aggregate in ("count", "list", "share"):  # groups are counts, not rows; an extreme lists its holders
        b.say(f"... and {total - len(rows)} more not listed.")


def _cite_fact(b: AnswerBuilder, row: Row, field: str, value) -> list[int]:
    """Cite where the letter prints the fact, when it can be found: a date in any of the letter's
    date forms, a number, or the words of a text value."""
    text = b.text_of(row.doc_id)
    spans = []
    for one in (value if isinstance(value, list) else [value]):
        if one in (None, ""):
            continue
        if FIELDS[field].kind == "date":
            spans.append(find_date(text, str(one)))
        else:
            found = re.search(rf"(?<![\w]){re.escape(str(one))}(?![\w])", text, re.IGNORECASE)
            spans.append((found.start(), found.end()) if found else None)
    return [b.cite(row.doc_id, row.case_number, row.source, a, e, None) for a, e in filter(None, spans)]


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _counted(r: Row) -> CountedItem:
    return CountedItem(case_number=r.case_number, doc_id=r.doc_id, item_index=r.item_index or 0,
                       service=r.service or "", determination=r.determination or "",
                       decision_date=r.decision_date, source=r.source, needs_review=r.needs_review)
