"""Plan -> SQL: one compiler for every plan, built from a few general pieces.

- A condition compiles to a WHERE fragment by its field's level and kind and its op (negation
  wraps any fragment: rows where it is not known to hold, so an unknown value counts as "not").
- The counted rows are a `Selection`: one row per current item (alias `i`, `items` alone, joined
  to `decisions d` only when a letter field the items do not copy is used) or one row per current
  letter (alias `d`; item conditions become "the letter has an item meeting all of them").
- A quantifier is a per-letter IN / NOT IN over its items; a threshold a HAVING on per-letter
  item counts; a share is two counts (the rows with and without the part).
- `queries` puts a selection's FROM/WHERE under what is computed (counts, rows, values, groups).

Every value a question supplies is a parameter (`?`); SQL text comes only from `fields.FIELDS`
and this module. Only current decisions count (items.current = 1 / decisions.superseded_by IS NULL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from imr_rag.ask.fields import FIELDS, FieldDef, days_between
from imr_rag.ask.plan import Condition, Measure, Plan, Quantifier, Threshold
from imr_rag.schema import AnswerFilters, Category, Determination
from imr_rag.ask.service_vocab import service_match
from imr_rag.textutil import normalize_case_number

COPIES = frozenset({"decision_date", "case_number", "letter_format", "reviewer_specialty"})
"""Letter columns copied onto every item row: conditions on them need no join."""

COMPARE = {"eq": "=", "ge": ">=", "gt": ">", "le": "<=", "lt": "<"}

Frag = tuple[str, list]


class UnsupportedPlan(ValueError):
    """A plan (or a part of one) this compiler cannot express in SQL: say so, do not approximate."""


@dataclass(frozen=True)
class Query:
    sql: str
    params: tuple = ()


# -- fields and conditions ------------------------------------------------------------------------
def column(field: str, item: str | None) -> str:
    """SQL of `field` over the item row `item` (None: a letter row `d`). Letter fields the items
    copy are read from the item row; the others from `d` (the caller joins it)."""
    f = FIELDS[field]
    if f.level == "item":
        if item is None:
            raise UnsupportedPlan(f"item field {field!r} used on a letter row")
        return re.sub(r"\bi\.", f"{item}.", f.sql)
    if item is not None and field in COPIES:
        return f"{item}.{field}"
    return f.sql


def uses_letter_record(*sql: str) -> bool:
    """Whether SQL text reads the `d` (decisions) alias."""
    return any(re.search(r"\bd\.", s) for s in sql)


def specialty_key(text: str) -> str:
    """One listed specialty as compared: lower case, '&' read as 'and', spaces collapsed."""
    return " ".join(text.replace("&", " and ").lower().split())


def _specialty_text(col: str) -> str:
    """SQL: the specialties of `col` as ',a,b,' (each as `specialty_key` writes it)."""
    text = f"replace(replace(replace(lower({col}), '&', ' and '), '  ', ' '), '  ', ' ')"
    return f"(',' || replace(replace({text}, ', ', ','), ' ,', ',') || ',')"


def specialty_array(col: str) -> str:
    """SQL: a JSON array of the specialties listed in `col` (case kept, '&' read as 'and')."""
    text = f"replace(replace(replace(replace({col}, '\\', ''), '\"', ''), '&', ' and '), '  ', ' ')"
    return f"('[\"' || replace(replace({text}, '  ', ' '), ',', '\",\"') || '\"]')"


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _typed(f: FieldDef, value: object) -> object:
    value = _plain(value)
    if f.kind == "number" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise UnsupportedPlan(f"{value!r} is not a number ({f.label})") from None
    return value


def _canonical(f: FieldDef, value: object) -> object:
    """A value as the catalog stores it (category and outcome names, case numbers)."""
    value = _plain(value)
    if f.kind == "category":
        return next((c.value for c in Category if c.value.lower() == str(value).lower()), value)
    if f.kind == "outcome":
        return next((d.value for d in Determination if d.value == str(value).lower()), value)
    if f.key == "case_number":
        return normalize_case_number(str(value))
    return _typed(f, value)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _equals(f: FieldDef, col: str, values: list) -> Frag:
    if not values:
        return "0", []
    if f.kind == "list":  # a list field "is" a value when it lists it ("cites MTUS")
        return (f"EXISTS (SELECT 1 FROM json_each({col}) WHERE lower(json_each.value) IN ({_marks(len(values))}))",
                [str(v).lower() for v in values])
    if f.key == "reviewer_specialty":  # one of the listed specialties (every part of a listed value)
        tests, params = [], []
        for v in values:
            parts = [specialty_key(p) for p in str(v).split(",") if p.strip()]
            tests.append(" AND ".join(f"instr({_specialty_text(col)}, ?) > 0" for _ in parts) or "0")
            params += [f",{p}," for p in parts]
        return " OR ".join(f"({t})" for t in tests), params
    if f.key == "case_number":
        return " OR ".join(f"{col} = ? COLLATE NOCASE" for _ in values), [_canonical(f, v) for v in values]
    if f.kind == "text":
        return f"lower({col}) IN ({_marks(len(values))})", [str(_plain(v)).lower() for v in values]
    return f"{col} IN ({_marks(len(values))})", [_canonical(f, v) for v in values]


def _matches(f: FieldDef, col: str, item: str | None, values: list) -> Frag:
    if f.key == "service":  # vocabulary terms and their synonyms, through the FTS5 index
        expressions = [service_match(str(v))[1] for v in values]
        expressions = [e for e in expressions if e]
        if not expressions:
            return "0", []
        return (f"{item}.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)",
                [" OR ".join(f"({e})" for e in expressions)])
    words = [str(v).lower() for v in values if str(v).strip()]
    if not words:
        return "0", []
    if f.kind == "list":
        tests = " OR ".join("instr(lower(json_each.value), ?) > 0" for _ in words)
        return f"EXISTS (SELECT 1 FROM json_each({col}) WHERE {tests})", words
    return " OR ".join(f"instr(lower({col}), ?) > 0" for _ in words), words


def condition(c: Condition, item: str | None) -> Frag:
    """A WHERE fragment and its parameters for one condition over item row `item` (None: letter row)."""
    f = FIELDS[c.field]
    col = column(c.field, item)
    values = c.value if isinstance(c.value, list) else [c.value]
    if c.op == "known":
        sql, params = (f"IFNULL(json_array_length({col}), 0) > 0" if f.kind == "list"
                       else f"NULLIF({col}, '') IS NOT NULL"), []
    elif c.op == "matches":
        sql, params = _matches(f, col, item, values)
    elif c.op in ("eq", "in"):
        sql, params = _equals(f, col, values)
    elif f.kind not in ("date", "number"):
        raise UnsupportedPlan(f"{c.op!r} compares dates or numbers, not the {f.label}")
    elif c.op == "between":
        sql, params = f"{col} BETWEEN ? AND ?", [_typed(f, c.value), _typed(f, c.value2)]
    else:
        sql, params = f"{col} {COMPARE[c.op]} ?", [_typed(f, c.value)]
    years = _whole_years(c) if c.field == "decision_date" else None
    if years is not None:  # a published determination has a report year, no decision date: whole years hold it
        doc = f"{item}.doc_id" if item else "d.doc_id"
        sql = (f"({sql}) OR ({col} IS NULL AND {doc} IN "
               "(SELECT doc_id FROM decisions WHERE report_year BETWEEN ? AND ?))")
        params = [*params, *years]
    if c.negate:
        sql = f"IFNULL(({sql}), 0) = 0"
    return sql, params


def _whole_years(c: Condition) -> tuple[int, int] | None:
    """(first, last) year of a decision-date condition made of whole calendar years ('in 2020',
    'since 2020', '2019-2021'); None for any other period (a month, 'last 90 days'): rows that have
    only a report year are then not counted by it."""
    lo = str(c.value) if c.op in ("between", "ge") else None
    hi = str(c.value2 if c.op == "between" else c.value) if c.op in ("between", "le") else None
    if (lo is not None and not lo.endswith("-01-01")) or (hi is not None and not hi.endswith("-12-31")):
        return None
    if lo is None and hi is None:
        return None
    return int(lo[:4]) if lo else 0, int(hi[:4]) if hi else 9999


def all_of(frags: Sequence[Frag]) -> Frag:
    if not frags:
        return "1", []
    return " AND ".join(f"({s})" for s, _ in frags), [p for _, ps in frags for p in ps]


def current_items(alias: str, conditions: Sequence[Condition]) -> str:
    """SQL: item `alias` is current. The (current, decision_date) index serves a date range; for
    anything else a scan of the items is 3x faster than walking the index on `current`."""
    dated = any(c.field == "decision_date" and not c.negate and c.op != "known" for c in conditions)
    return f"{alias}.current = 1" if dated else f"+{alias}.current = 1"


def _item_letters(alias: str, body: str, conditions: Sequence[Condition] = ()) -> str:
    """SQL: doc ids of current items `alias` meeting `body` (never a correlated subquery: SQLite
    runs an uncorrelated IN once; a correlated EXISTS per letter took minutes at 20,000 letters)."""
    join = f" JOIN decisions d ON d.doc_id = {alias}.doc_id" if uses_letter_record(body) else ""
    return f"SELECT {alias}.doc_id FROM items {alias}{join} WHERE {current_items(alias, conditions)} AND {body}"


def letters_with(conditions: Sequence[Condition], alias: str) -> Frag:
    """SQL: doc ids of letters with a current item meeting every condition."""
    body, params = all_of([condition(c, alias) for c in conditions])
    return _item_letters(alias, body, conditions), params


def quantifier(q: Quantifier, doc: str) -> Frag:
    """Letters `doc` some / none / every one of whose items meet `q.where` (every: and it has items)."""
    if q.mode in ("some", "none"):
        sub, params = letters_with(q.where, "q")
        return f"{doc} {'IN' if q.mode == 'some' else 'NOT IN'} ({sub})", params
    body, params = all_of([condition(c, "q") for c in q.where])
    failing = f"{doc} NOT IN ({_item_letters('q', f'IFNULL(({body}), 0) = 0', q.where)})"
    if doc.startswith("i."):  # an item row's letter has an item
        return failing, params
    return f"{doc} IN ({_item_letters('q', '1')}) AND {failing}", params


def threshold(t: Threshold, doc: str) -> Frag:
    """Letters whose count of items meeting `t.where` compares to `t.n` (a HAVING on per-letter
    counts; when a count of 0 passes, the letters failing it are excluded instead)."""
    sub, params = letters_with(t.where, "t")
    having = f"COUNT(*) {COMPARE[t.op]} ?"
    zero_passes = {"eq": 0 == t.n, "ge": 0 >= t.n, "gt": 0 > t.n, "le": 0 <= t.n, "lt": 0 < t.n}[t.op]
    if zero_passes:
        return f"{doc} NOT IN ({sub} GROUP BY t.doc_id HAVING NOT ({having}))", [*params, t.n]
    return f"{doc} IN ({sub} GROUP BY t.doc_id HAVING {having})", [*params, t.n]


def filter_conditions(filters: AnswerFilters | None) -> list[Condition]:
    """The user's filters as conditions (ANDed with the plan's)."""
    f = filters or AnswerFilters()
    given = [("case_number", "eq", f.case_number), ("letter_format", "eq", f.letter_format),
             ("determination", "eq", Determination(f.determination).value if f.determination else None),
             ("decision_date", "ge", f.date_from), ("decision_date", "le", f.date_to)]
    return [Condition(field=field, op=op, value=value) for field, op, value in given if value]


# -- the counted rows -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """The rows a plan counts: current items (alias `i`) or current letters (alias `d`)."""

    per_item: bool
    where: str
    params: tuple

    @property
    def doc(self) -> str:
        return "i.doc_id" if self.per_item else "d.doc_id"

    @property
    def alias(self) -> str | None:
        return "i" if self.per_item else None

    def source(self, *sql: str) -> str:
        """FROM: the items alone unless `sql` or the WHERE reads a letter field they do not copy."""
        if not self.per_item:
            return "decisions d"
        if uses_letter_record(self.where, *sql):
            return "items i JOIN decisions d ON d.doc_id = i.doc_id"
        return "items i"


def _on_item_row(c: Condition) -> bool:
    return FIELDS[c.field].level == "item" or c.field in COPIES


def select(plan: Plan, filters: AnswerFilters | None = None, *, per_item: bool,
           extra: Sequence[Condition] = ()) -> Selection:
    """The plan's counted rows (its conditions, quantifier, threshold, case, the filters and
    `extra` conditions: a segment, a share's part), one per item or one per letter."""
    conds = [*plan.where, *extra, *filter_conditions(filters)]
    if plan.case_number:
        conds.append(Condition(field="case_number", op="eq", value=plan.case_number))
    if per_item:  # a letter field the items do not copy: the letters meeting it, found once
        base, frags = current_items("i", conds), [condition(c, "i") for c in conds if _on_item_row(c)]
        on_letters = all_of([condition(c, None) for c in conds if not _on_item_row(c)])
        if on_letters[0] != "1":
            sub = f"SELECT d.doc_id FROM decisions d WHERE d.superseded_by IS NULL AND {on_letters[0]}"
            frags.append((f"i.doc_id IN ({sub})", on_letters[1]))
    else:
        base = "d.superseded_by IS NULL"
        frags = [condition(c, None) for c in conds if FIELDS[c.field].level == "letter"]
        on_items = [c for c in conds if FIELDS[c.field].level == "item"]
        if on_items:
            sub, params = letters_with(on_items, "i")
            frags.append((f"d.doc_id IN ({sub})", params))
    doc = "i.doc_id" if per_item else "d.doc_id"
    if plan.quantifier:
        frags.append(quantifier(plan.quantifier, doc))
    if plan.threshold:
        frags.append(threshold(plan.threshold, doc))
    sql, params = all_of(frags)
    return Selection(per_item, f"{base} AND {sql}", tuple(params))


def measure_value(m: Measure, item: str | None) -> str:
    """SQL of the per-letter value a measure aggregates (a number, a date or a duration in days)."""
    if m.duration is not None:
        return days_between(*m.duration)
    if m.field is None:
        raise UnsupportedPlan(f"{m.aggregate} needs a field")
    return column(m.field, item)
