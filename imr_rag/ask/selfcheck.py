"""The reading checks itself: every value the question names must be used by the plan built from
it, or the answer would be to a different question (the reader then refuses, naming them)."""

from __future__ import annotations

from imr_rag.ask.fields import FIELDS
from imr_rag.ask.plan import Plan
from imr_rag.ask.reading import Parts


def _conditions(plan: Plan) -> list:
    out = list(plan.where) + list(plan.measure.part)
    out += plan.quantifier.where if plan.quantifier else []
    out += plan.threshold.where if plan.threshold else []
    for seg in plan.segments:
        out += seg
    return out


_CONDITION_FIELDS = frozenset({"authorized_portion", "diagnoses", "item_count", "patient_age", "patient_sex",
                               "reviewer_licensure"})
"""Fields that, when named, change which rows count or what is computed: a plan that does not use
one answers another question."""


def unused_slots(p: Parts, plan: Plan) -> list[str]:
    """What the question names that the plan does not use: numbers, periods, date fields and
    other condition fields, and every value read (an outcome, a service, a category, a
    specialty ...) whose field no condition, grouping or segment of the plan holds ('for cases
    where everything was upheld, average days ...' answered over every letter is an answer to
    another question). Quantifier words are not checked: 'each', 'all', 'both' are as often
    emphasis ('how many of each')."""
    conds = _conditions(plan)
    if plan.case_number or any(c.field == "case_number" for c in conds):
        return []  # one case: numbers belong to its items' wording ('six sessions')
    values = {c.value for c in conds if not isinstance(c.value, list)} | {c.value2 for c in conds}
    numbers = values | {plan.limit, plan.threshold.n if plan.threshold else None}
    # 'letters with at least one approval': a letter having one (unless other numbers bound other things)
    existence = plan.unit == "letters" and bool(conds) and len(p.numbers) == 1
    out = [f"the number {n.value:g}" for n in p.numbers if n.value not in numbers
           and not (existence and n.value == 1 and n.op == "ge")
           and float(n.value) not in {float(v) for v in numbers if isinstance(v, (int, float))}]
    out += [f"the date {x.label}" for x in p.periods if x.start not in values and x.end not in values]
    used = {c.field for c in conds} | {plan.measure.field, plan.fact, plan.group_by and plan.group_by.field}
    used |= set(plan.measure.duration or ())
    if plan.operation in ("fact", "why", "passage"):
        return out
    given = {"guideline": p.guidelines, "category": p.categories}
    out += [f"the field '{FIELDS[f].label}'" for f in dict.fromkeys(p.fields)
            if (FIELDS[f].kind == "date" or f in given and not given[f] or f in _CONDITION_FIELDS) and f not in used]
    named = {"determination": [v for v, _ in p.outcomes], "service": [" ".join(w) for w, _ in p.services],
             "category": [v for v, _ in p.categories], "guideline": [v for v, _ in p.guidelines],
             "reviewer_specialty": [v for v, _ in p.specialties], "reviewer_licensure": [v for v, _ in p.states],
             "letter_format": [v for v, _ in p.formats], "patient_sex": p.sexes,
             "priority": [v for v, _ in p.priorities]}
    out += [f"the {FIELDS[f].label} '{v}'" for f, vs in named.items() if f not in used for v in dict.fromkeys(vs)]
    out += [f"the {f.replace('_', ' ')} '{v}'" for (f, v), _ in p.values if f not in used]
    return out
