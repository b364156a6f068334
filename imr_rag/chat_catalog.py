"""Answers computed from the decisions catalog: lists, counts, shares, group-bys, comparisons
and the facts of one case. The numbers come from SQL (`catalog_sql`); the first sentence answers
the question, the lines after it show what was counted, each item citing its outcome line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from imr_rag.catalog_query import CatalogQuery, ItemRef
from imr_rag.catalog_sql import Tally
from imr_rag.schema import Answer, AnswerFilters, CountedItem, Determination

if TYPE_CHECKING:
    from imr_rag.ask.citations import AnswerBuilder
    from imr_rag.chat import ChatEngine

MAX_CITED = 25
"""Counted items listed and cited one by one; the rest are summed up ("and N more") and all of
them are in `Answer.counted` (`imr-rag ask --json`, the app's table)."""
MAX_GROUPS = 12
OUTCOME = {"upheld": "upheld", "overturned": "overturned", "partially_overturned": "partially overturned"}
ORDERED_MAX = 5000
"""Above this many counted items, the listed ones are taken in the catalog's order, not sorted."""
COUNTED_LIMIT = 200
"""Counted items an answer carries by default (the app's table); `imr-rag ask --json` asks for all."""


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def percent(x: int, n: int) -> str:
    return f"{100 * x / n:.0f}%" if n else "n/a"


def counted(items: list[ItemRef]) -> list[CountedItem]:
    # model_construct: the values come straight from the catalog's typed columns (no re-validation
    # of thousands of rows)
    return [
        CountedItem.model_construct(case_number=i.case_number, doc_id=i.doc_id, item_index=i.item_index,
                                    service=i.service, determination=i.determination,
                                    decision_date=i.decision_date, source=i.source, needs_review=i.needs_review)
        for i in items
    ]


class CatalogAnswers:
    def __init__(self, engine: ChatEngine):
        self.engine = engine
        self.sql = engine.sql

    # -- list, count, share, group, compare ---------------------------------------------------
    def answer(self, question: str, plan: CatalogQuery, filters: AnswerFilters) -> Answer:
        service = " ".join(plan.service_terms)
        if plan.returns == "compare":
            return self.compare(question, plan, filters)
        if service and not self.sql.items(CatalogQuery(service_terms=[service]), limit=1, ordered=False):
            shown = self.engine.shown_service or service
            if self.engine.unmentioned(service):
                return self.engine.nothing(question, f"No letter in the library mentions {shown}.")
            return self.engine.nothing(
                question, f"No disputed item in the library is a request for {shown} (letters mention it only in passing)."
            )
        if plan.returns == "group":
            return self.group(question, plan, filters)
        return self.count(question, plan, filters)

    def described(self, plan: CatalogQuery, service: str | None = None, n: int = 2) -> str:
        """'requests for acupuncture', 'imaging requests', 'disputed items', with the filters."""
        service = " ".join(plan.service_terms) if service is None else service
        one = n == 1
        if service:
            what = f"request{'' if one else 's'} for {service}"
        elif plan.category:
            what = f"{plan.category.value} request{'' if one else 's'}"
        else:
            what = f"disputed item{'' if one else 's'}"
        bits = [what]
        if plan.case_number:
            bits.append(f"in case {plan.case_number}")
        if plan.partly_authorized:
            bits.append("already partly authorised by the claims administrator")
        if plan.reviewer_specialty:
            bits.append(f"reviewed by {plan.reviewer_specialty}")
        if plan.guideline_family:
            bits.append(f"where the reviewer cited {plan.guideline_family}")
        if plan.letter_format:
            bits.append({"tx_iro": "in Texas IRO letters", "ca_dwc_imr": "in California IMR letters"}.get(
                plan.letter_format, f"in {plan.letter_format} letters"))
        if plan.date_from or plan.date_to:
            bits.append(_decided(plan))
        return " ".join(bits)

    def rows(self, plan: CatalogQuery, filters: AnswerFilters, total: int, **where) -> list[ItemRef]:
        """The items to list and to return as counted: all, or the engine's `counted_limit` (by
        decision date unless there are more than ORDERED_MAX: then in the catalog's order)."""
        limit = self.engine.counted_limit
        return self.sql.items(plan, filters, limit=None if limit is None else max(limit, MAX_CITED + 1),
                              ordered=total <= ORDERED_MAX or limit is None, **where)

    def count(self, question: str, plan: CatalogQuery, filters: AnswerFilters) -> Answer:
        b = self.engine.builder()
        letters = plan.count_letters or (plan.determination is None and plan.returns == "count")
        (total,) = self.sql.tally(plan, filters, letters=letters) or [Tally(None, 0, 0, 0, 0)]
        outcome = OUTCOME[plan.determination.value] if plan.determination else None
        what = self.described(plan, n=total.items)
        if total.items == 0:
            b.say(f"None: no {what} were found in the library's current decisions.")
            return self._finish(b, question, [], 0)
        if plan.returns == "share":
            denominator = self.rows(plan.model_copy(update={"determination": None}), filters, total.items)
            if outcome is None:
                b.say(f"{plural(total.items, 'item')} match ({what}); name an outcome (upheld, overturned) for a share.")
            else:
                b.say(f"{total.hits} of {total.items} {what} {'was' if total.items == 1 else 'were'} {outcome} "
                      f"({percent(total.hits, total.items)}).")
            self._say_flagged(b, total.flagged)
            self._list(b, denominator, "Counted", total.items)
            return self._finish(b, question, denominator, total.items)
        hits = self.rows(plan, filters, total.hits)
        if plan.returns == "list":
            b.say(f"{plural(total.hits, 'item')} {'matches' if total.hits == 1 else 'match'}"
                  f"{' (' + outcome + ')' if outcome else ''}: {what}.")
            self._say_flagged(b, total.flagged_hits)
            self._list(b, hits, "Listed", total.hits)
            return self._finish(b, question, hits, total.hits)
        if plan.count_letters:
            b.say(f"{plural(total.hit_letters, 'letter')} had {outcome + ' ' if outcome else ''}{what} "
                  f"({plural(total.hits, 'disputed item')}).")
        elif outcome:
            if total.hits == 0:
                b.say(f"0 of the {total.items} {what} {'was' if total.items == 1 else 'were'} {outcome}.")
                others = self.sql.items(plan.model_copy(update={"determination": None}), filters, limit=MAX_CITED + 1)
                self._list(b, others, "Decided otherwise", total.items)
                return self._finish(b, question, [], 0)
            b.say(f"{total.hits} of the {total.items} {what} {'was' if total.items == 1 else 'were'} {outcome} "
                  f"({percent(total.hits, total.items)}).")
        else:
            outcomes = self.sql.tally(plan, filters, group_by="determination")
            parts = ", ".join(f"{t.items} {OUTCOME.get(t.key, t.key)}" for t in outcomes)
            b.say(f"{total.items} {what}, in {plural(total.letters, 'letter')}: {parts}.")
        self._say_flagged(b, total.flagged_hits)
        self._list(b, hits, "Counted", total.hits)
        return self._finish(b, question, hits, total.hits)

    def group(self, question: str, plan: CatalogQuery, filters: AnswerFilters) -> Answer:
        b = self.engine.builder()
        groups = self.sql.tally(plan, filters, group_by=plan.group_by)
        if not groups:
            b.say(f"None: no {self.described(plan)} were found in the library's current decisions.")
            return self._finish(b, question, [], 0)
        outcome = OUTCOME[plan.determination.value] if plan.determination else None
        label = {"guideline": "guideline family", "determination": "outcome"}.get(plan.group_by, plan.group_by)
        def name(key: str | None) -> str:
            if key is None:
                return "no named guideline" if plan.group_by == "guideline" else "unstated"
            return OUTCOME.get(key, key) if plan.group_by == "determination" else key

        (overall,) = self.sql.tally(plan, filters)  # an item citing two guideline families is in two groups
        total = overall.items
        chronological = plan.group_by in ("month", "quarter", "year")
        if outcome:
            ranked = sorted(groups, key=lambda g: (-g.hits / g.items, -g.items, str(g.key)))
            top = ranked[0]
            b.say(f"By {label}, the highest share {outcome} is {name(top.key)}: {top.hits} of {top.items} "
                  f"({percent(top.hits, top.items)}), of {total} {self.described(plan)} in all.")
        else:
            ranked = sorted(groups, key=lambda g: (-g.items, str(g.key)))
            top = ranked[0]
            b.say(f"By {label}, the most {self.described(plan)} are in {name(top.key)}: {top.items} of {total} "
                  f"({percent(top.items, total)}).")
        self._say_flagged(b, overall.flagged)
        shown = groups if chronological else ranked
        for g in shown[:MAX_GROUPS]:
            members = self.sql.items(plan, filters, limit=3, group=(plan.group_by, g.key), ordered=False)
            cites = [n for i in members for n in self.engine.cite_item(b, i)]
            if outcome:
                b.say(f"{name(g.key)}: {g.hits} of {g.items} {outcome} ({percent(g.hits, g.items)}).", cites)
            else:
                b.say(f"{name(g.key)}: {g.items} ({percent(g.items, total)}).", cites)
        if len(shown) > MAX_GROUPS:
            b.say(f"and {len(shown) - MAX_GROUPS} more groups (imr-rag ask --json lists every counted item).")
        everything = self.rows(plan.model_copy(update={"determination": None}), filters, total)
        return self._finish(b, question, everything, total)

    def compare(self, question: str, plan: CatalogQuery, filters: AnswerFilters) -> Answer:
        b = self.engine.builder()
        outcome = OUTCOME[plan.determination.value] if plan.determination else "overturned"
        focus = plan if plan.determination else plan.model_copy(update={"determination": Determination.overturned})
        rows = []
        for service in plan.compare:
            (t,) = self.sql.tally(focus, filters, service=service) or [Tally(service, 0, 0, 0, 0)]
            rows.append((service, t))
        sides = []
        for service, t in rows:
            if t.items:
                sides.append(f"{service} {t.hits} of {t.items} {outcome} ({percent(t.hits, t.items)})")
            elif self.engine.unmentioned(service):
                sides.append(f"no letter in the library mentions {service}")
            else:
                sides.append(f"no {self.described(plan, service)}")
        b.say("; ".join(sides).capitalize() + ".")
        everything: list[ItemRef] = []
        for service, t in rows:
            if t.items:
                items = self.rows(focus.model_copy(update={"determination": None}), filters, t.items, service=service)
                everything += items
                self._list(b, items, service.capitalize(), t.items)
        return self._finish(b, question, everything, sum(t.items for _, t in rows))

    def _say_flagged(self, b: AnswerBuilder, flagged: int) -> None:
        """Counted items whose extraction a check flagged for a person's review."""
        if flagged:
            b.say(f"{flagged} of the counted items {'is' if flagged == 1 else 'are'} flagged for review "
                  "(marked \u2691 below; the export's review_reasons say why).")

    def _list(self, b: AnswerBuilder, items: list[ItemRef], label: str, total: int) -> None:
        """One line per counted item (case, date, service, outcome), each citing its outcome line."""
        if not items:
            return
        b.say(f"{label}:")
        for item in items[:MAX_CITED]:
            where = item.case_number or item.doc_id[:12]
            date = f", {item.decision_date}" if item.decision_date else ""
            flag = " \u2691 flagged for review" if item.needs_review else ""
            b.say(f"- {where}{date}: {item.service}: {OUTCOME.get(item.determination, item.determination)}.{flag}",
                  self.engine.cite_item(b, item))
        if total > MAX_CITED:
            b.say(f"and {total - MAX_CITED} more (imr-rag ask --json lists them all).")

    def _finish(self, b: AnswerBuilder, question: str, items: list[ItemRef], total: int) -> Answer:
        answer = b.answer(question, "count")
        limit = self.engine.counted_limit
        answer.counted = counted(items if limit is None else items[:limit])
        answer.counted_total = total
        return answer

    # -- one fact of one case -------------------------------------------------------------------
    def field(self, question: str, plan: CatalogQuery, filters: AnswerFilters, service: str) -> Answer:
        case = plan.case_number or filters.case_number
        if plan.field == "rationale" or (plan.field == "guidelines" and service and self.engine.best_matches(
                service, plan.model_copy(update={"service_terms": [], "determination": None}), filters)):
            return self.rationale(question, plan, filters, service)
        if plan.field == "item_count":
            return self.count(question, plan.model_copy(update={"returns": "count", "field": None}), filters)
        if not case:
            return self.engine.nothing(question, f"Which case? Name a case number to get its {plan.field.replace('_', ' ')}.")
        found = self.engine.library.catalog.db.execute(
            "SELECT doc_id FROM decisions WHERE case_number = ? COLLATE NOCASE AND superseded_by IS NULL", (case,)
        ).fetchone()
        if found is None:
            return self.engine.nothing(question, f"No extracted letter in the library has case number {case}.")
        doc_id = found["doc_id"]
        decision = self.engine.library.catalog.decision(doc_id)
        text = self.engine.text_of(doc_id)
        b = self.engine.builder()
        cite = lambda span: [b.cite(doc_id, decision.case_number, decision.source.path, *span, "header")] if span else []  # noqa: E731
        name = f"case {decision.case_number}"
        f = plan.field
        if f in DATE_FIELDS:
            value = getattr(decision, f)
            label = DATE_FIELDS[f]
            if value is None:
                b.say(f"The letter of {name} does not state a {label}.")
            else:
                b.say(f"The {label} of {name} is {value}.", cite(locate_date(text, value, DATE_LABELS[f])))
        elif f == "reviewer_specialty":
            value = decision.reviewer.specialty
            if value:
                b.say(f"The reviewer in {name} is certified in {value}.", cite(locate_text(text, value)))
            else:
                b.say(f"The letter of {name} does not state the reviewer's specialty.")
        elif f == "reviewer_licensure":
            states = decision.reviewer.licensure
            if states:
                span = locate_label(text, r"State\(s\)\s+of\s+Licensure\s*:") or locate_text(text, states[0])
                b.say(f"The reviewer in {name} is licensed in {', '.join(states)}.", cite(span))
            else:
                b.say(f"The letter of {name} does not state where the reviewer is licensed.")
        elif f == "patient_age":
            age = decision.patient.age
            if age is None:
                b.say(f"The letter of {name} does not state the patient's age.")
            else:
                b.say(f"The patient in {name} is {age} years old.",
                      cite(locate_regex(text, rf"\b{age}[- ]year[- ]old\b")))
        elif f == "patient_sex":
            sex = decision.patient.sex
            if sex is None:
                b.say(f"The letter of {name} does not state the patient's sex.")
            else:
                b.say(f"The patient in {name} is {sex}.", cite(locate_regex(text, rf"\b{sex}\b")))
        elif f == "diagnoses":
            if decision.diagnoses:
                spans = [locate_text(text, d) for d in decision.diagnoses]
                b.say(f"The diagnoses in {name}: {'; '.join(decision.diagnoses)}.", [n for s in spans for n in cite(s)])
            else:
                b.say(f"The letter of {name} names no diagnoses that were extracted.")
        elif f == "guidelines":
            items = self.sql.items(CatalogQuery(case_number=decision.case_number), filters)
            families = sorted({g for i in items for g in i.guideline_sources})
            b.say(f"The reviewer in {name} cited {', '.join(families) or 'no named guideline family'}.")
            for item in items[:MAX_CITED]:
                self.engine.say_guideline(b, item)
        if not b.sentences[0].citations and f in DATE_FIELDS and getattr(decision, f):
            b.sentences[0].text += " (the date is not written in the letter in a form that could be located)"
        return b.answer(question, "field")

    def rationale(self, question: str, plan: CatalogQuery, filters: AnswerFilters, service: str) -> Answer:
        """Why an item was decided: the reviewer's rationale sentences and the guideline line, cited."""
        scope = plan.model_copy(update={"service_terms": [], "determination": None})
        matches = [i for i, _ in self.engine.best_matches(service, scope, filters)] if service else []
        if not matches and (plan.case_number or filters.case_number):
            matches = self.sql.items(scope, filters)
        if not matches:
            absent = self.engine.unmentioned(service) if service else None
            if absent:
                return self.engine.nothing(question, f"No letter in the library mentions {self.engine.shown_service or absent}.")
            return self.engine.passage_answer(question, filters)
        b = self.engine.builder()
        for item in matches[:3]:
            text = self.engine.text_of(item.doc_id)
            where = f"case {item.case_number}" if item.case_number else item.source.rsplit("/", 1)[-1]
            b.say(f"The request for {item.service} in {where} was {OUTCOME.get(item.determination, item.determination)} "
                  "because the reviewer found:", self.engine.cite_item(b, item))
            for a, e in self.engine.rationale_spans(item)[:6]:
                n = b.cite(item.doc_id, item.case_number, item.source, a, e, "item")
                b.say(f'"{" ".join(text[a:e].split())}"', [n])
            self.engine.say_guideline(b, item)
        if len(matches) > 3:
            b.say(f"{len(matches) - 3} more items match; name the case to narrow the question.")
        return b.answer(question, "decision")


DATE_FIELDS = {
    "decision_date": "decision date", "date_of_injury": "date of injury", "date_assigned": "date assigned",
    "ur_denial_date": "UR denial date", "application_received": "application received date",
}
DATE_LABELS = {
    "decision_date": r"Decision\s+Date|DATE\s+NOTICE\s+SENT\s+TO\s+ALL\s+PARTIES|Date\s+of\s+Notice",
    "date_of_injury": r"Date\s+of\s+Injury|DOI",
    "date_assigned": r"Date\s+Assigned",
    "ur_denial_date": r"UR\s+Denial\s+Date",
    "application_received": r"Application\s+Received",
}
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]


def date_forms(iso: str) -> list[str]:
    """Ways a letter may write an ISO date: 04/18/2022, 4/18/2022, April 18, 2022, 2022-04-18."""
    y, m, d = iso.split("-")
    month = MONTH_NAMES[int(m) - 1]
    return [f"{m}/{d}/{y}", f"{int(m)}/{int(d)}/{y}", f"{month} {int(d)}, {y}", f"{month} {d}, {y}", iso]


def locate_date(text: str, iso: str, label: str) -> tuple[int, int] | None:
    """The label and its date ('Decision Date: 04/18/2022'), or the first place the date is written."""
    forms = "|".join(re.escape(f) for f in date_forms(iso))
    m = re.search(rf"(?:{label})\s*:?\s*(?:{forms})", text, re.I)
    if m is None:
        m = re.search(rf"(?:{label})[^\n]{{0,80}}\s+(?:[^\n]*\n){{0,2}}?\s*(?:{forms})", text, re.I)
    if m is None:
        m = re.search(forms, text)
    return (m.start(), m.end()) if m else None


def locate_text(text: str, value: str) -> tuple[int, int] | None:
    pattern = r"\s+".join(re.escape(w) for w in value.split())
    m = re.search(pattern, text, re.I)
    return (m.start(), m.end()) if m else None


def locate_label(text: str, label: str) -> tuple[int, int] | None:
    m = re.search(rf"{label}[^\n]*", text, re.I)
    return (m.start(), m.end()) if m else None


def locate_regex(text: str, pattern: str) -> tuple[int, int] | None:
    m = re.search(pattern, text, re.I)
    return (m.start(), m.end()) if m else None


def _decided(plan: CatalogQuery) -> str:
    a, b = plan.date_from, plan.date_to
    if a and b:
        return f"decided on {a.isoformat()}" if a == b else f"decided {a.isoformat()} to {b.isoformat()}"
    return f"decided on or after {a.isoformat()}" if a else f"decided on or before {b.isoformat()}"


