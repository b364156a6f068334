"""Conditions of a plan built from what a question names, and how the reading line says them."""

from __future__ import annotations

from imr_rag.ask.fields import FIELDS
from imr_rag.ask.plan import Condition


def service_cond(phrases: list[tuple[list[str], bool]]) -> list[Condition]:
    """The service phrases (linked words, negated) as at most two conditions: any of the named
    phrases, and none of the negated ones."""
    out = []
    for neg in (False, True):
        terms = [" ".join(words) for words, n in phrases if n == neg and words]
        if terms:
            out.append(Condition(field="service", op="matches", value=terms, negate=neg))
    return out


def cond_said(c: Condition) -> str:
    """How the reading line says an item condition (as build._filters says it)."""
    value = " ".join(c.value) if isinstance(c.value, list) else str(c.value)
    if c.field == "service":
        return "service ≈ " + value
    return ("cites " if c.field == "guideline" else FIELDS[c.field].label + " ") + value


def period_cond(per, date_field: str) -> Condition:
    """A period of the question (slots.Period) as a condition on `date_field`."""
    if per.start and per.end:
        return Condition(field=date_field, op="between", value=per.start, value2=per.end, negate=per.negated)
    if per.start:
        return Condition(field=date_field, op="ge", value=per.start, negate=per.negated)
    return Condition(field=date_field, op="le", value=per.end, negate=per.negated)
