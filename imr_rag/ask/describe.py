"""A plan in words: the reading line of an answer whose plan was not read from the question's own
words (the LLM planner's), and the check that a plan names only what the library holds."""

from __future__ import annotations

from imr_rag.ask.fields import FIELDS
from imr_rag.ask.plan import Condition, Plan

OPS = {"eq": "", "in": "any of ", "ge": "at least ", "gt": "over ", "le": "at most ", "lt": "under ",
       "matches": "≈ ", "known": "known"}


def describe_condition(c: Condition) -> str:
    label = FIELDS[c.field].label
    if c.op == "between":
        text = f"{label} {c.value} to {c.value2}"
    elif c.op == "known":
        text = f"{label} known"
    else:
        value = " or ".join(map(str, c.value)) if isinstance(c.value, list) else str(c.value)
        text = f"{label} {OPS[c.op]}{value.replace('_', ' ')}"
    return f"not {text}" if c.negate else text


def describe_plan(plan: Plan) -> str:
    """How the plan reads, e.g. "number of letters; outcome overturned; decision date 2017-01-01 to 2017-03-31"."""
    unit = "letters" if plan.unit == "letters" else "disputed items"
    m = plan.measure
    if plan.operation == "fact":
        head = f"the {FIELDS[plan.fact].label} of case {plan.case_number}"
    elif plan.operation in ("why", "passage"):
        head = ("why " if plan.operation == "why" else "passages about ") + (plan.search or "the question")
    else:
        measured = {"count": f"number of {unit}", "list": f"which {unit}", "share": f"share of {unit}",
                    "avg": "average", "median": "median", "min": "lowest", "max": "highest",
                    "earliest": "earliest", "latest": "latest"}[m.aggregate]
        if m.field:
            measured += f" {FIELDS[m.field].label}"
        if m.duration:
            measured += f" days from {FIELDS[m.duration[0]].label} to {FIELDS[m.duration[1]].label}"
        if m.part:
            measured += " with " + ", ".join(describe_condition(c) for c in m.part)
        head = measured
        if plan.operation == "rank" and plan.group_by:
            part = f"{plan.group_by.part} of " if plan.group_by.part else ""
            head += f" by {part}{FIELDS[plan.group_by.field].label}" + (f", top {plan.limit}" if plan.limit else "")
        if plan.operation == "compare":
            head += ", compared: " + " vs ".join(plan.segment_labels or [str(i + 1) for i in range(len(plan.segments))])
    parts = [head] + [describe_condition(c) for c in plan.where]
    if plan.quantifier:
        parts.append(f"{plan.quantifier.mode} of its items " + ", ".join(describe_condition(c) for c in plan.quantifier.where))
    if plan.threshold:
        t = plan.threshold
        parts.append(f"{OPS.get(t.op, '') or 'exactly '}{t.n} items" + (
            " " + ", ".join(describe_condition(c) for c in t.where) if t.where else ""))
    if plan.case_number and plan.operation not in ("fact",):
        parts.append(f"case {plan.case_number}")
    return "; ".join(parts)
