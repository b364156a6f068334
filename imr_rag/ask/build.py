"""Plan building: the parts of a read question (`Parts`) and the intent scores -> a `Reading`
with a `Plan`, or a question back / refusal when the parts do not make one plan."""

from __future__ import annotations

import re

from imr_rag.ask.conditions import cond_said, period_cond, service_cond
from imr_rag.ask.fields import DATE_FIELDS, FIELDS
from imr_rag.ask.lexicon import FORMAT_LABELS
from imr_rag.ask.plan import Condition, GroupBy, Measure, Plan, Quantifier, Threshold
from imr_rag.ask.reading import DATE_FIELD_CHOICES, Parts, Reading
from imr_rag.ask.vocab import TABLE_FIELDS, Vocabulary
from imr_rag.ask.phrasing import (
    BODY_WORDS,
    COUNTED_UNIT,
    COUNTS_LETTERS,
    FEWEST,
    FULL,
    ITEMS_PER_LETTER,
    LEAVING_OUT,
    LETTER_NOUN,
    LETTER_NOUN_PLURAL,
    LETTER_NOUNS,
    LIST_ITEMS,
    MORE,
    OF_OUTCOME_ITEMS,
    OF_THE_LETTERS,
    ONE_REQUEST,
    OUTCOME_MOST,
    PERSON,
    PERSON_BOUND,
    PLURAL_GROUP,
    PRONOUN,
    SPEED,
    WHAT_HAPPENED,
    WHEN_DECIDED,
    WHICH_CASE,
    compares,
    outcome_asked,
)


def _filters(p: Parts, date_field: str, vocab: Vocabulary,
             text: str = "") -> tuple[list[Condition], list[Condition], list[str]]:
    """(item conditions, letter conditions, words saying them)."""
    items, letters, said = [], [], []
    items += service_cond(p.services)
    for words, neg in p.services:
        said.append(("not " if neg else "") + "service ≈ " + " ".join(words))
    for values, fld in ((p.categories, "category"), (p.guidelines, "guideline")):
        for value, neg in values:
            items.append(Condition(field=fld, op="eq", value=value, negate=neg))
            said.append(f"{'not ' if neg else ''}{FIELDS[fld].label if fld == 'category' else 'cites'} {value}")
    for value, neg in p.specialties:
        letters.append(Condition(field="reviewer_specialty", op="in", value=vocab.specialty_strings_with(value) or [value], negate=neg))
        said.append(f"{'not ' if neg else ''}reviewer specialty {value}")
    for state, neg in p.states:
        letters.append(Condition(field="reviewer_licensure", op="eq", value=state, negate=neg))
        said.append(f"{'not ' if neg else ''}reviewer licensed in {state}")
    for fmt, neg in p.formats:
        letters.append(Condition(field="letter_format", op="eq", value=fmt, negate=neg))
        said.append(f"{'not ' if neg else ''}{FORMAT_LABELS.get(fmt, fmt)} letters"
                    + ("" if fmt in vocab.letter_formats else " (the library holds none)"))
    for (fld, value), neg in p.values:  # a published determination's field ('Mental Disorder')
        letters.append(Condition(field=fld, op="eq", value=value, negate=neg))
        said.append(f"{'not ' if neg else ''}{FIELDS[fld].label} {value}")
    bounded = {float(m.group(4)) for m in PERSON_BOUND.finditer(text)}
    for num in p.numbers:  # 'overturn rate for patients over 50': the age, whatever else the plan does
        if num.op and num.value in bounded:
            letters.append(Condition(field="patient_age", op=num.op, value=num.value))
            said.append(f"age {num.op} {num.value:g}")
    for sex in p.sexes:
        letters.append(Condition(field="patient_sex", op="eq", value=sex))
        said.append(f"patient {sex}")
    for pri, neg in dict.fromkeys(p.priorities):
        letters.append(Condition(field="priority", op="eq", value=pri, negate=neg))
        said.append(f"{'not ' if neg else ''}priority {pri}")
    for per in p.periods:
        letters.append(period_cond(per, date_field))
        said.append(f"{'not ' if per.negated else ''}{FIELDS[date_field].label} {per.label}")
    return items, letters, said


def _outcome_conds(p: Parts) -> tuple[list[Condition], list[str]]:
    vals = [(v, n) for v, n in p.outcomes]
    if not vals:
        return [], ["any outcome"]
    v, n = vals[0]
    return [Condition(field="determination", op="eq", value=v, negate=n)], [("not " if n else "") + v]


def build_plan(p: Parts, scores, text: str, vocab: Vocabulary) -> Reading:
    """The reading of a question split into `p`, with intent `scores` (see reader.read_question)."""
    date_fields = [f for f in dict.fromkeys(p.fields) if f in DATE_FIELDS]
    other_fields = [f for f in dict.fromkeys(p.fields) if f not in DATE_FIELDS]
    intent = scores.best
    cues = p.cues
    either = len({v for v, n in p.outcomes if not n} & {"upheld", "overturned"}) == 2 and bool(re.search(r"\bor\b", text))
    outcome_of = bool(p.services) and not ({"why", "passage", "count", "share", "rank", "by", "compare"} & cues) \
        and not (p.guidelines or p.categories or p.periods or p.specialties) and (either or (bool(p.cases) or (
            sum(len(w) for w, _ in p.services) >= 2 and not p.outcomes and not p.units[1:] and "list" not in cues and not p.quants)) and (
            "outcome_q" in cues or "decisions" in p.units and not p.outcomes and "list" not in cues))
    if outcome_of:  # 'was X upheld or overturned', 'what was decided for X': the outcome of the named items
        p.outcomes = []
    yes_no = not outcome_of and bool(re.match(r"(was|were|did|does|do|is|are|has|have|had|any)\b", text)) or (outcome_asked(text) and "count" not in cues)
    if yes_no and re.search(r"\b((list|show|name|give)\s+(them|those|the\s+cases|cases)|which\s+ones|which\s+cases|"
                            r"casenumbers|how\s+many)\b", text):
        yes_no = False  # 'any case where ... - list them', 'were there any ...? how many': the cases, the count
    duration = len(date_fields) >= 2 or (("duration" in cues or SPEED.search(text)) and bool(date_fields))
    fixes = p.corrections
    read = [f"'{a}' -> {b}" for a, b in fixes]

    def unsure(name: str) -> Reading | None:
        """When the exemplar bank alone would choose `name` (no cue or slot says it) with a small
        margin: ask back with the two readings instead of guessing (intent.MIN_MARGIN)."""
        if intent != name or scores.confident():
            return None
        other = scores.ranked[1][0]
        a, b = _SAID.get(name, name), _SAID.get(other, other)
        return Reading("clarify", None, f"either {a} or {b} (intent margin {scores.margin:.3f})",
                       f"Did you mean {a} or {b}?", choices=[a, b], corrections=fixes)

    def done(plan: Plan, summary: str) -> Reading:
        line = summary + (" (" + "; ".join(read) + ")" if read else "")
        return Reading("plan", plan, line, corrections=fixes)

    if duration:
        pair = tuple(date_fields[:2]) if len(date_fields) >= 2 else (date_fields[0], "decision_date")
        if pair[0] == pair[1]:
            pair = (pair[0], "decision_date")
        pair = tuple(sorted(pair, key=lambda f: _ORDER.index(f)))
    case = p.cases[0] if p.cases else None
    left_out = None
    if case and re.search(rf"\b({LEAVING_OUT})\s*,?\s+(the\s+)?"
                          r"(case\s+)?(number\s+)?" + re.escape(case.lower()), text):
        left_out, case = case, None  # 'excluding CM16-0248698, how many ...': the library without that case
    # -- one case ---------------------------------------------------------------------------
    if outcome_of and not case:  # the engine answers each matching item with its outcome and rationale
        plan = Plan(unit="items", where=service_cond(p.services), yes_no=True)
        return done(plan, f"outcome of {' '.join(p.service_text)}")
    if case:
        svc = service_cond(p.services)
        if outcome_of:
            return done(Plan(operation="fact", case_number=case, fact="determination", where=svc),
                        f"outcome of {' '.join(p.service_text)} in case {case}")
        if "guideline" in other_fields and not p.guidelines and not p.outcomes and not {"why", "passage"} & cues:
            # 'which guideline for the X in CM...': the guidelines of the case's matching items
            return done(Plan(operation="fact", case_number=case, fact="guideline", where=svc),
                        f"guidelines cited for {' '.join(p.service_text) or 'every request'} in case {case}")
        # the bank's intent alone never outweighs what the words say: a yes/no on an outcome, a count
        by_intent_only = not (yes_no and p.outcomes) and "count" not in cues
        if "why" in cues or intent == "why" and by_intent_only:
            return done(Plan(operation="why", case_number=case, where=svc, search=" ".join(p.service_text) or None),
                        f"why, case {case}" + (f", service ≈ {' '.join(p.service_text)}" if svc else ""))
        if "passage" in cues or intent == "passage" and by_intent_only:
            return done(Plan(operation="passage", case_number=case, where=[Condition(field="case_number", op="eq", value=case)],
                             search=" ".join(p.service_text) or None), f"passage, case {case}, words: {' '.join(p.service_text)}")
        if duration:
            plan = Plan(unit="letters", where=[Condition(field="case_number", op="eq", value=case)],
                        measure=Measure(aggregate="avg", duration=pair))
            return done(plan, f"days from {FIELDS[pair[0]].label} to {FIELDS[pair[1]].label}, case {case}")
        in_case = [Condition(field="case_number", op="eq", value=case)]
        portion = "authorized_portion" in p.fields
        if portion and not yes_no and not ("count" in cues and p.units):  # 'how much acupuncture did UR authorize in CM…'
            plan = Plan(operation="fact", case_number=case, fact="authorized_portion", where=svc)
            return done(plan, f"portion already authorised of {' '.join(p.service_text) or 'every request'} in case {case}")
        if ("count" in cues or "item_count" in p.fields) and (p.outcomes or p.categories or p.guidelines or portion):
            # 'how many medication requests were upheld in CM...', '... had part already authorized'
            conds, _, said = _filters(p, "decision_date", vocab)
            known = [Condition(field="authorized_portion", op="known", value=None)] if portion else []
            said += ["part already authorised"] if portion else []
            plan = Plan(unit="items", where=in_case + conds + known + _outcome_conds(p)[0])
            return done(plan, f"number of items {_outcome_conds(p)[1][0]}{_s(said)} in case {case}")
        one_each = all(len(set(v)) <= 1 for v in (p.priorities, p.sexes, p.states, p.specialties))
        if yes_no and one_each and not date_fields and (p.priorities or p.sexes or p.states or p.specialties):
            _, letter_conds, said = _filters(p, "decision_date", vocab)
            plan = Plan(unit="letters", where=in_case + letter_conds, yes_no=True)
            return done(plan, f"whether case {case} is: " + ", ".join(said))
        if either and not svc and not date_fields:  # 'was case X upheld or overturned': each item's outcome
            return done(Plan(operation="fact", case_number=case, fact="determination"), f"outcome of every request in case {case}")
        if yes_no and p.guidelines and not p.outcomes and not date_fields:  # 'did the reviewer use ODG in CM...'
            conds, _, said = _filters(p, "decision_date", vocab)
            return done(Plan(unit="items", where=in_case + conds, yes_no=True),
                        f"whether any item of case {case} " + ", ".join(said))
        if yes_no and p.outcomes and not svc and not date_fields and not other_fields:
            if "every" not in p.quants:
                return Reading("clarify", None, f"case {case}, whether {p.outcomes[0][0]}",
                               f"Whether every request of case {case} was {p.outcomes[0][0]}, or at least one?",
                               choices=["every request", "at least one request"], corrections=fixes)
            plan = Plan(unit="letters", where=in_case, yes_no=True,
                        quantifier=Quantifier(mode="every", where=_outcome_conds(p)[0]))
            return done(plan, f"whether every item of case {case} was {p.outcomes[0][0]}")
        if date_fields:
            return done(Plan(operation="fact", case_number=case, fact=date_fields[0]),
                        f"{FIELDS[date_fields[0]].label} of case {case}")
        if svc or p.outcomes and not other_fields:
            plan = Plan(operation="fact", case_number=case, fact="determination", where=svc, yes_no=yes_no and bool(p.outcomes))
            cond = _outcome_conds(p)[0]
            if plan.yes_no:
                plan.where = svc + cond
            return done(plan, f"outcome of {' '.join(p.service_text) or 'every request'} in case {case}"
                        + (f", asked whether {p.outcomes[0][0]}" if plan.yes_no else ""))
        if (p.sexes or p.priorities) and (not yes_no or len(set(p.sexes)) > 1 or len(set(p.priorities)) > 1):
            # 'is the patient in CM… male or female': the field, whichever it is
            other_fields.insert(0, "patient_sex" if p.sexes else "priority")
        if other_fields:
            return done(Plan(operation="fact", case_number=case, fact=other_fields[0]),
                        f"{FIELDS[other_fields[0]].label} of case {case}")
        if "count" in cues and (p.units or "items" in p.units):
            return done(Plan(operation="fact", case_number=case, fact="item_count"),
                        f"number of disputed items in case {case}")
        if "date" in cues and WHEN_DECIDED.search(text):  # 'when was case X decided': its decision date
            return done(Plan(operation="fact", case_number=case, fact="decision_date"), f"decision date of case {case}")
        if "date" in cues:
            return Reading("clarify", None, f"a date of case {case}, field not named",
                           f"Which date of case {case}: decision, injury, UR denial, assigned or application received?",
                           choices=DATE_FIELD_CHOICES, corrections=fixes)
        if "outcome_q" in cues:
            return done(Plan(operation="fact", case_number=case, fact="determination"), f"outcome of every request in case {case}")
        return Reading("clarify", None, f"case {case}, nothing asked about it",
                       f"What would you like to know about case {case}?", corrections=fixes)
    # -- the library ------------------------------------------------------------------------
    if _needs_case(p, text):
        return Reading("clarify", None, "about one case, case not named", "Which case do you mean? "
                       "Name its case number (e.g. CM16-0247274).", corrections=fixes)
    if "date" in cues and not date_fields and not p.periods and intent == "fact":
        return Reading("clarify", None, "a date, field not named", "Which date: decision, injury, UR denial, "
                       "assigned or application received?", choices=DATE_FIELD_CHOICES, corrections=fixes)
    date_field = date_fields[0] if len(date_fields) == 1 and not duration else "decision_date"
    items, letters, said = _filters(p, date_field, vocab, text)
    if left_out:
        letters.append(Condition(field="case_number", op="eq", value=left_out, negate=True))
        said.append(f"not case {left_out}")
    oc, osaid = _outcome_conds(p)
    letter_word = "letters" in p.units or ("decisions" in p.units and not p.outcomes)
    item_word = "items" in p.units
    counted = COUNTED_UNIT.search(text)
    if OF_THE_LETTERS.search(text) and not item_word:
        letter_word = True  # 'of the decisions, how many had a medication overturned'
    if letter_word and item_word and counted and counted.group(2) not in LETTER_NOUNS:
        letter_word = False  # 'not counting the expedited case, how many items ... in 2022 letters'
    elif letter_word and item_word and p.units[0] == "items":
        letter_word = False  # 'how many items ... in letters decided ...': items counted, letters the scope
    unit = "letters" if letter_word and not item_word else "items"
    if "passage" in cues or (intent == "passage" and not p.outcomes and not p.units and "list" not in cues):
        if "passage" not in cues and unsure("passage"):
            return unsure("passage")
        if not p.service_text:
            raise ValueError("a passage question needs the words to look for")
        return done(Plan(operation="passage", search=" ".join(p.service_text), where=letters),
                    f"passages about {' '.join(p.service_text)}")
    if "authorized_portion" in p.fields:  # 'items with part of the request already authorised'
        items.append(Condition(field="authorized_portion", op="known", value=None))
        said.append("part already authorised")
    where = items + letters
    if "why" in cues and p.services and "count" not in cues:
        # 'why did the IRO find X not medically necessary': each matching item's outcome and rationale
        return done(Plan(operation="why", where=where, search=" ".join(p.service_text)),
                    f"why, service ≈ {' '.join(p.service_text)}" + _s(said[len(p.services):]))
    # share
    if oc and OUTCOME_MOST.search(text) and getattr(_group(p, cues, text), "field", None) in _AGENTS:  # 'which specialties overturn most (often)'
        cues = cues | {"share"}
    if "share" in cues:
        if unit == "letters" and not LETTER_NOUN.search(text):
            unit = "items"  # 'overturn rate for female patients': of their requests; letters only when named
        cited = [c for c in items if c.field == "guideline" and not c.negate]
        if not oc and cited:  # 'share of items citing the MTUS': the part is the guideline named
            oc, osaid = cited, ["citing " + ", ".join(str(c.value) for c in cited)]
            where = [c for c in where if c not in cited]
            said = [x for x in said if not x.startswith("cites ")]
        named_items = [c for c in items if not c.negate]
        if oc and named_items and OF_OUTCOME_ITEMS.search(text):
            # 'share of overturned items that cited ODG': of the overturned ones, those citing ODG
            where = [c for c in where if c not in named_items] + oc
            part_said = [cond_said(c) for c in named_items]
            said = [x for x in said if x not in part_said]
            oc, osaid = named_items, [", ".join(part_said) + f" (of the {osaid[0]} ones)"]
        if not oc:
            raise ValueError("a rate needs the outcome whose share is wanted (overturned or upheld)")
        group = _group(p, cues, text)
        plan = Plan(operation="rank" if group else "aggregate", unit=unit, where=where,
                    measure=Measure(aggregate="share", part=oc), group_by=group,
                    order="asc" if group and FEWEST.search(text) else "desc")
        if _segments(p, plan, cues, text):
            return done(plan, f"share {osaid[0]}, compared: " + " vs ".join(plan.segment_labels))
        return done(plan, f"share of {unit} {osaid[0]}" + (", by " + _glabel(group) if group else "") + _s(said))
    # compare
    if compares(cues, text) and not any(x.op for x in p.numbers):  # '3 or more issues': a threshold
        if yes_no:
            raise ValueError("a yes/no comparison ('were there more X than Y') is not supported; ask 'X vs Y'")
        if re.search(r"\b(often|likely|frequently)\b", text):
            return Reading("clarify", None, "a comparison: number or share?", "Compare the number of requests, "
                           "or the share of each that was decided so?", choices=["number", "share"], corrections=fixes)
        if not oc and len([w for w, n in p.services if not n]) >= 2 and "count" not in cues and \
                not re.search(r"\b(more|fewer|less|number|disput\w*|requested|volume)\b", text):  # 'compare X and Y requests': overturn shares
            part = [Condition(field="determination", op="eq", value="overturned")]
            plan = Plan(operation="aggregate", unit=unit, where=where, measure=Measure(aggregate="share", part=part))
            if _segments(p, plan, cues, text):
                return done(plan, "share overturned, compared: " + " vs ".join(plan.segment_labels))
        plan = Plan(operation="aggregate", unit=unit, where=where + oc)
        if _segments(p, plan, cues, text):
            if not (letter_word or item_word) and any(FIELDS[c.field].level == "letter" for c in plan.segments[0]):
                return Reading("clarify", None, "a comparison of letters' values, unit not named",
                               "Count letters or disputed items?", choices=["letters", "items"], corrections=fixes)
            return done(plan, f"number of {unit} {osaid[0]}, compared: " + " vs ".join(plan.segment_labels))
        raise ValueError("the plan can compare services, categories, periods, sexes, states, priorities or formats, "
                         "one kind at a time, and not what this question compares")
    # durations and averages
    if duration:
        agg = "median" if "median" in cues else "max" if "max" in cues else "min" if "min" in cues else "avg"
        if agg in ("max", "min") and WHICH_CASE.search(text):  # the case(s) holding the extreme
            plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, duration=pair), which=True)
            return done(plan, f"case with the {'longest' if agg == 'max' else 'shortest'} time from "
                        f"{FIELDS[pair[0]].label} to {FIELDS[pair[1]].label}" + _s(said))
        plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, duration=pair))
        return done(plan, f"{agg} days from {FIELDS[pair[0]].label} to {FIELDS[pair[1]].label}" + _s(said))
    if "patient_age" in other_fields and ({"avg", "median", "min", "max"} & cues
                                          or intent == "average" and not {"count", "list"} & cues):
        agg = next((a for a in ("median", "min", "max") if a in cues), "avg")
        plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, field="patient_age"))
        return done(plan, f"{agg} patient age" + _s(said))
    oldest = re.search(r"\b(oldest|youngest)\b", text)
    if oldest and not date_fields and ("patient_age" in other_fields or PERSON.search(text)):
        agg = "max" if oldest.group(1) == "oldest" else "min"  # 'oldest patient': the age, not a date
        plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, field="patient_age"),
                    which=bool(WHICH_CASE.search(text)) and not re.search(r"\b(age|how old)\b", text))
        return done(plan, f"{agg} patient age" + (", which cases" if plan.which else "") + _s(said))
    # earliest / latest
    if {"earliest", "latest"} & cues and (intent in ("extreme", "fact", "list") or WHICH_CASE.search(text)) \
            and not p.outcomes:
        agg = "earliest" if "earliest" in cues else "latest"
        fld = date_fields[0] if date_fields else "decision_date"
        plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, field=fld),
                    which=bool(WHICH_CASE.search(text)))  # 'which case was decided first': the case
        return done(plan, f"{agg} {FIELDS[fld].label}" + (", which cases" if plan.which else "") + _s(said))
    if WHAT_HAPPENED.search(text) and not oc and not yes_no and not date_fields \
            and not {"count", "share", "list", "rank", "by", "compare"} & cues:
        # 'what happened to the MRI requests': how they were decided, outcome by outcome
        plan = Plan(operation="rank", unit=unit, where=where, group_by=GroupBy(field="determination"))
        return done(plan, f"number of {unit} by outcome" + _s(said))
    per_letter = ITEMS_PER_LETTER.search(text)
    if per_letter and not oc and not items:  # 'highest number of items in a letter': the extreme item count
        agg = "max" if per_letter.group(1) in MORE else "min"
        plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, field="item_count"),
                    which=bool(WHICH_CASE.search(text)))
        return done(plan, f"{agg} number of disputed items of a letter" + (", which cases" if plan.which else "")
                    + _s(said))
    # ranking
    try:
        group = _group(p, cues, text)
    except _MostItems:  # 'which case had the most disputed items': the letters holding the extreme count
        if oc or items or p.services:  # 'which letter had the most overturned items': items counted per case
            plan = Plan(operation="rank", unit="items", where=where + oc, group_by=GroupBy(field="case_number"),
                        limit=1, order="asc" if FEWEST.search(text) else "desc")
            return done(plan, f"number of items {osaid[0]} by case, top 1" + _s(said))
        agg = "min" if "min" in cues or FEWEST.search(text) else "max"
        plan = Plan(unit="letters", where=where, measure=Measure(aggregate=agg, field="item_count"), which=True)
        return done(plan, f"case with the {'fewest' if agg == 'min' else 'most'} disputed items" + _s(said))
    if group and not ({"rank", "by"} & cues) and unsure("rank"):
        return unsure("rank")
    if group and ("rank" in cues or "by" in cues or intent == "rank"):
        g_unit = unit if (letter_word or item_word) else ("letters" if FIELDS[group.field].level == "letter"
                                                          and not p.outcomes and not items else "items")
        if COUNTS_LETTERS.search(text):  # 'services by number of cases they appear in', 'in the most letters'
            g_unit = "letters"
        elif letter_word and not COUNTS_LETTERS.search(text) and re.search(r"\b(in|of|from)\s+(\S+\s+)?(letters|decisions|cases)\b", text) \
                and FIELDS[group.field].level == "item":
            g_unit = "items"  # 'top categories in 2017 decisions': the letters are the scope
        n = next((int(x.value) for x in p.numbers if x.op is None), None)
        full = FULL.search(text) or PLURAL_GROUP.search(text)  # 'what services are disputed most': several
        plan = Plan(operation="rank", unit=g_unit, where=where + oc, group_by=group, limit=n or (None if full else 1),
                    order="asc" if "min" in cues or FEWEST.search(text) else "desc")
        return done(plan, f"number of {g_unit} {osaid[0]} by {_glabel(group)}" + (f", top {plan.limit}" if plan.limit else "") + _s(said))
    if "rank" in cues and not group:
        raise ValueError("a ranking needs what to rank by (service, category, specialty, month ...)")
    if yes_no and p.quants[:1] == ["every"] and oc and not letter_word and not p.numbers:
        plan = Plan(unit="items", where=where, measure=Measure(aggregate="share", part=oc), yes_no=True)
        return done(plan, f"whether every matching item was {osaid[0]}" + _s(said))  # 'were all PT requests upheld'
    # quantifiers and thresholds (letters)
    quant = None
    quant_said = None
    thr = None
    qmode = p.quants[0] if p.quants else None
    count_n = next((x for x in p.numbers if x.op), None)
    named = [c for c in items if not c.negate]
    if len(named) == 1 and named[0].field == "service" and len(named[0].value) == 2:
        # 'both an MRI and physical therapy': one condition per service, so a letter can hold each
        named = [named[0].model_copy(update={"value": [v]}) for v in named[0].value]
    both = qmode == "mix" and len({v for v, _ in p.outcomes}) < 2 and bool(re.search(r"\bboth\b", text)) \
        and not re.search(r"\b(mix|mixed|split)\b", text)
    if both:
        qmode = None  # 'both imaging and medication': two things named, not two outcomes
    each = both and letter_word and len(named) == 2 and not count_n
    if each:  # a letter with an item of each
        quant = Quantifier(mode="some", where=[named[0], *oc])
        thr = Threshold(op="ge", n=1, where=[named[1], *oc])
        quant_said = "an item of each"
        unit, where = "letters", letters + [c for c in items if c.negate]
    elif count_n and (item_word or items) and "patient_age" not in other_fields:
        both = qmode in ("every", "none") and bool(oc)  # 'all requests upheld and at least 3 items': two conditions
        thr = Threshold(op=count_n.op, n=int(count_n.value), where=items + ([] if both else oc))
        unit, where = "letters", letters
        if both:
            quant = Quantifier(mode=qmode, where=oc)
    elif qmode in ("every", "none", "mix") and (oc or items) and (letter_word or "list" == intent or qmode):
        cond = oc or items
        if qmode == "mix":
            quant = Quantifier(mode="some", where=[Condition(field="determination", op="eq", value="upheld")])
            thr = Threshold(op="ge", n=1, where=[Condition(field="determination", op="eq", value="overturned")])
            osaid = ["some upheld and some overturned"]
        elif qmode == "every" and oc and items:  # 'every medication denied': no medication item decided otherwise
            quant = Quantifier(mode="none", where=items + [c.model_copy(update={"negate": not c.negate}) for c in oc])
            quant_said = f"every one of its items that matches {osaid[0]}"
        else:
            quant = Quantifier(mode=qmode, where=cond)
        unit, where = "letters", letters if qmode != "every" or not oc else letters + items
    elif any(n for _, n in p.services) and letter_word and oc:  # 'cases with an overturn but not on an MRI'
        quant = Quantifier(mode="some", where=oc + service_cond([(w, True) for w, n in p.services if n]))
        quant_said = f"some item {osaid[0]} that is not " + ", ".join(" ".join(w) for w, n in p.services if n)
        where = letters + service_cond([(w, n) for w, n in p.services if not n])
        unit = "letters"
    elif any(n for _, n in p.services) and letter_word and named and not any(c.field == "service" for c in named) \
            and re.search(r"\b(other than|except|excluding|besides|apart from|aside from)\b", text):
        # 'cases with surgery requests other than arthroscopy': the surgery items but that one
        quant = Quantifier(mode="some", where=items)  # one item meeting them all
        quant_said = "some item meeting all of"
        where, unit = letters, "letters"
    elif any(n for _, n in p.services) and letter_word:
        quant = Quantifier(mode="none", where=service_cond([(w, False) for w, n in p.services if n]))
        where = letters + service_cond([(w, n) for w, n in p.services if not n])
        unit = "letters"
    else:
        where = where + oc
    for num in p.numbers:
        age = Condition(field="patient_age", op=num.op, value=num.value) if num.op else None
        if age in where:
            continue  # read with the person it bounds ('patients over 50')
        if num.op and "patient_age" in other_fields or (num.op and not thr and not items and not oc):
            where.append(age)
            said.append(f"age {num.op} {num.value:g}")
    for fld in other_fields:
        if fld in ("reviewer_licensure", "patient_sex", "priority", "reviewer_specialty", "patient_age"):
            continue
        if fld in ("guideline", "category", "authorized_portion") or fld in TABLE_FIELDS and any(
                f == fld for (f, _), _n in p.values):
            continue
        raise ValueError(f"'{FIELDS[fld].label}' cannot be used as a filter here")
    if letter_word or quant or thr or not (items or oc or p.services) and not item_word:
        unit = "letters"
    if unit == "letters" and not quant and any(c.negate and FIELDS[c.field].level == "item" for c in where):
        quant = Quantifier(mode="none", where=[c.model_copy(update={"negate": False}) for c in where
                                               if c.negate and FIELDS[c.field].level == "item"])
        where = [c for c in where if not (c.negate and FIELDS[c.field].level == "item")]  # 'cases without imaging'
    if not (letter_word or item_word) and not (items or oc) and any(FIELDS[f].level == "letter" for f in date_fields):
        unit = "letters"  # 'applications received in dec. 2016': a letter's date, so letters
    if not yes_no and not ({"count", "list"} & cues) and not letter_word and unsure("list"):
        return unsure("list")
    listing = not yes_no and "count" not in cues and ("list" in cues or intent == "list" or letter_word)
    if listing:  # the answer is the case numbers, or the items when items are what is listed
        unit = "items" if item_word and not letter_word and not (quant or thr) and LIST_ITEMS.match(text) else "letters"
    plan = Plan(unit=unit, where=where, quantifier=quant, threshold=thr,
                measure=Measure(aggregate="list" if listing else "count"), yes_no=yes_no and not listing)
    head = "which " + unit if listing else ("whether any " if plan.yes_no else "number of ") + unit
    extra = [osaid[0]] + ([quant_said or f"{quant.mode} of its items {osaid[0] if oc else 'match'}"] if quant else []) \
        + ([f"{thr.op} {thr.n} items"] if thr and not each else []) + said + ([] if p.periods else ["all dates"])
    return done(plan, head + ", " + ", ".join(extra))


_SAID = {"count": "how many", "list": "which cases", "share": "what share", "average": "an average",
         "extreme": "the earliest/latest or highest/lowest value", "rank": "a ranking", "compare": "a comparison",
         "fact": "a fact of one case", "outcome": "the outcome of a case's requests", "why": "why it was decided so",
         "passage": "what the letters say", "yesno": "whether any"}
"""How a clarifying question names each intent ("Did you mean a ranking or how many?")."""

_AGENTS = ("reviewer_specialty", "reviewer_licensure")


_ORDER = ["date_of_injury", "ur_denial_date", "application_received", "date_assigned", "decision_date"]


def _s(said: list[str]) -> str:
    return (", " + ", ".join(said)) if said else ""


class _MostItems(Exception):
    """The question ranks letters by their number of items."""


def _group(p: Parts, cues: set[str], text: str = "") -> GroupBy | None:
    if "by" in cues and any(k == "cue" and v == "outcome_q" or k == "unit" and v == "decisions"
                            for k, v in p.by_targets):
        return GroupBy(field="determination")  # 'by outcome'
    for part in ("month", "quarter", "year"):
        if part in cues:  # by the month of the date named ('month with the most UR denials'), else the decision's
            named = [f for f in dict.fromkeys(p.fields) if f in DATE_FIELDS]
            return GroupBy(field=named[0] if len(named) == 1 else "decision_date", part=part)
    if "reviewer_specialty" in p.fields and not p.specialties:
        return GroupBy(field="reviewer_specialty")
    if "reviewer_licensure" in p.fields and not p.states:
        return GroupBy(field="reviewer_licensure")
    for fld in TABLE_FIELDS:
        if fld in p.fields and not any(f == fld for (f, _), _n in p.values):
            return GroupBy(field=fld)
    if "diagnoses" in p.fields:
        return GroupBy(field="diagnoses")
    if any(w for w in ("category",) if w in p.fields) or "kind" in cues:
        return GroupBy(field="category")
    if "guideline" in p.fields and not p.guidelines and "by" in cues:
        return GroupBy(field="guideline")
    if not p.services and ("rank" in cues or "by" in cues):
        if re.search(r"\b(which|what|the)\s+(\d{4}\s+)?(letter|case|claim|file|decision)\b", text):
            raise _MostItems()  # 'which (2017) case had the most items
        if p.categories and "by" in cues:
            return GroupBy(field="category")
        return GroupBy(field="service_family")  # 'physical therapy' in all its wordings is one group
    return None


def _glabel(g: GroupBy | None) -> str:
    if g is None:
        return ""
    if g.part:
        return g.part if g.field == "decision_date" else f"{g.part} of the {FIELDS[g.field].label}"
    return FIELDS[g.field].label


def _segments(p: Parts, plan: Plan, cues: set[str], text: str = "") -> bool:
    """Make `plan` a comparison when the question compares (vs, compare, 'X or Y, which'), one
    segment per named service, category, period, sex, state, priority or letter format (never a
    negated one)."""
    if not compares(cues, text):
        return False
    kinds = []
    services = [(w, said) for (w, n), said in zip(p.services, p.service_said) if not n]
    if len(services) >= 2 and all(len(w) == 1 and w[0] in BODY_WORDS for w, _ in services[:-1]) \
            and len(services[-1][0]) > 1 and services[-1][0][0] in BODY_WORDS:
        head = services[-1][0][1:]  # 'lumbar vs cervical MRI': the lumbar MRI and the cervical MRI
        services = [([*w, *head], f"{label} {' '.join(head)}") for w, label in services[:-1]] + [services[-1]]
    if len(services) >= 2:
        kinds.append(([service_cond([(w, False)]) for w, _ in services], [label for _, label in services],
                      ("service",)))
    cats = [v for v, n in p.categories if not n]
    if len(cats) >= 2:
        kinds.append(([[Condition(field="category", op="eq", value=v)] for v in cats], cats, ("category",)))
    periods = [x for x in p.periods if not x.negated]
    scope = [x for x in periods if len(periods) > 2 and x.start and x.end and all(
        y is x or (y.start and y.end and x.start <= y.start and y.end <= x.end) for y in periods)]
    periods = [x for x in periods if x not in scope]  # 'in 2017, jan or feb': 2017 holds both, no third segment
    if len(periods) >= 2:
        kinds.append(([[period_cond(x, "decision_date"), *(period_cond(y, "decision_date") for y in scope)]
                       for x in periods], [x.label for x in periods], ("decision_date",)))
    for values, fld in ((p.sexes, "patient_sex"), ([v for v, n in p.states if not n], "reviewer_licensure"),
                        ([v for v, n in p.priorities if not n], "priority"),
                        ([v for v, n in p.formats if not n], "letter_format")):
        values = list(dict.fromkeys(values))
        if len(values) >= 2:
            labels = [FORMAT_LABELS.get(v, v) for v in values] if fld == "letter_format" else values
            kinds.append(([[Condition(field=fld, op="eq", value=v)] for v in values], labels, (fld,)))
    if len(kinds) != 1:
        return False  # nothing or several things compared at once: not one comparison
    segs, labels, fields = kinds[0]
    plan.operation = "compare"
    plan.group_by = None
    plan.segments, plan.segment_labels = segs, labels
    plan.where = [c for c in plan.where if c.field not in fields]
    return True


_AGGREGATING = {"count", "list", "share", "avg", "median", "min", "max", "rank", "by", "earliest", "latest",
                "compare", "duration", "month", "quarter", "year"}


def _needs_case(p: Parts, text: str) -> bool:
    """A question about one case that names none ('how old was the patient', 'was it overturned'):
    no unit, no aggregating word, and it points at a case or asks a case's fact."""
    if p.cues & _AGGREGATING or p.quants or p.periods or LETTER_NOUN_PLURAL.search(text):
        return False  # 'cases where the reviewer was ...': several cases
    if PRONOUN.search(text):
        return True
    if "outcome_q" in p.cues and ONE_REQUEST.search(text):
        return True  # 'what happened to the medication request': one request, of a case not named
    if p.numbers:
        return False
    if p.units:
        return False
    case_fact = bool(set(p.fields) & {"patient_age", "patient_sex", "reviewer_specialty", "diagnoses"}) \
        or "outcome_q" in p.cues
    return case_fact or not (p.services or p.categories or p.outcomes or p.specialties or p.guidelines)
