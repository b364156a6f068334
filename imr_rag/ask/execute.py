"""Run a plan over the catalog: the compiled queries, then what SQL does not do (medians, ties,
the cut of a ranking) in Python. Returns a `Result`: the value and the rows it rests on.

Conventions (what the answer writer can rely on):
- aggregate count/list: value = total = how many (items or letters); rows = the counted rows.
- aggregate share: value = part / denominator (None when the denominator is 0), denominator = the
  rows without the part, total = the part's rows, rows = the denominator's rows (each carries its
  outcome: a reader checks the part against the whole).
- avg/median/min/max/earliest/latest: computed per letter (every number and date field is a
  letter's, and so is a duration), whatever the unit; letters lacking the value (for a duration,
  either date) are skipped and a note says how many. total = letters with a value; rows = for
  avg/median the letters with a value, for min/max/earliest/latest every letter holding the
  value (ties all, not cut by row_limit), each with Row.value.
- rank: groups = the kept groups, best first (value = the measure per group, n = rows counted in
  it, the denominator of a share), ties at the cut kept and their labels in `tied`; total = how
  many groups there were before the cut; each of the first GROUPS_WITH_ROWS groups has
  GROUP_ROWS of its rows (a sample in catalog order, sorted by date).
- compare: groups = one per segment, in the plan's order (label from segment_labels);
  total = the number of segments; rows = every segment's rows, in order.
- fact: letter field: value = the field of the case's current decision (a list field as a Python
  list), rows = that letter. Item field: value = a list with one value per matching item, rows =
  the items (Row.value the item's value, a list field joined with ', ').
- why: rows = the matching items, Row.value = the reviewer's rationale text and Row.span = its
  span in the letter when the record has it (else the outcome line's span); value = total = n.
- Item rows carry Row.span = the item's outcome line; letter rows carry no span.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import replace

from imr_rag.ask.compile import (
    Selection,
    UnsupportedPlan,
    column,
    measure_value,
    select,
)
from imr_rag.ask import families
from imr_rag.ask.fields import FIELDS
from imr_rag.ask.plan import Condition, Plan
from imr_rag.ask.queries import (
    GroupKey,
    Query,
    count_query,
    group_count_query,
    group_key,
    group_rows_query,
    group_value_query,
    rows_query,
    value_query,
)
from imr_rag.ask.result import Group, Result, Row
from imr_rag.schema import AnswerFilters

GROUP_ROWS = 5
"""Rows kept per group of a ranking (the evidence cited for it: a sample in catalog order, by date)."""
GROUPS_WITH_ROWS = 10
"""Groups of a ranking given rows (the first ones); a long tie list carries counts only."""

VALUE_AGGREGATES = ("avg", "median", "min", "max", "earliest", "latest")


def run_plan(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None = None, *,
             row_limit: int | None = 200) -> Result:
    """Execute `plan` (and the user's `filters`) over the catalog connection `db`; at most
    `row_limit` rows per result (None: all). Raises UnsupportedPlan for a passage question
    (answered by search) and for parts the compiler cannot express."""
    if plan.operation == "passage":
        raise UnsupportedPlan("a passage question is answered by searching the letters, not by SQL")
    families.register(db)  # the SQL function service families are grouped by (cheap, idempotent)
    run = {"fact": _fact, "why": _why, "rank": _rank, "compare": _compare}.get(plan.operation, _aggregate)
    return run(db, plan, filters, row_limit)


# -- running queries --------------------------------------------------------------------------------
def _fetch(db: sqlite3.Connection, query: Query) -> list[dict]:
    cursor = db.execute(query.sql, query.params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def _scalar(db: sqlite3.Connection, query: Query) -> int:
    return db.execute(query.sql, query.params).fetchone()[0] or 0


def _row(r: dict, value: object = None, span: tuple[int, int] | None = None) -> Row:
    if span is None and r.get("span_start") is not None and r.get("span_end") is not None:
        span = (r["span_start"], r["span_end"])
    return Row(doc_id=r["doc_id"], case_number=r["case_number"], source=r["source"],
               decision_date=r["decision_date"], item_index=r["item_index"], service=r["service"],
               determination=r["determination"], value=value if value is not None else r.get("value"),
               span=span, needs_review=bool(r["needs_review"]))


def _rows(db: sqlite3.Connection, sel: Selection, letters: bool, limit: int | None, **kw) -> list[Row]:
    return [_row(r) for r in _fetch(db, rows_query(sel, letters, limit, **kw))]


def _counted(db: sqlite3.Connection, sel: Selection, letters: bool, limit: int | None) -> tuple[int, list[Row]]:
    """How many rows the selection has, and the first `limit` of them (a count and a list: one
    query with COUNT(*) OVER () sorted every row, 4x slower on 46,000 items)."""
    n = _scalar(db, count_query(sel, letters))
    return n, (_rows(db, sel, letters, limit) if n and limit != 0 else [])


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


# -- aggregates -------------------------------------------------------------------------------------
def _aggregate(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None, row_limit: int | None,
               extra: Sequence[Condition] = ()) -> Result:
    letters, m = plan.unit == "letters", plan.measure
    if m.aggregate in VALUE_AGGREGATES:
        return _value_measure(db, plan, filters, row_limit, extra)
    sel = select(plan, filters, per_item=not letters, extra=extra)
    if m.aggregate in ("count", "list"):
        n, rows = _counted(db, sel, letters, row_limit)
        return Result(value=n, total=n, rows=rows)
    denominator, rows = _counted(db, sel, letters, row_limit)  # a share
    part = _scalar(db, count_query(select(plan, filters, per_item=not letters, extra=[*extra, *m.part]), letters))
    return Result(value=part / denominator if denominator else None, total=part, rows=rows, denominator=denominator)


def _value_measure(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None, row_limit: int | None,
                   extra: Sequence[Condition]) -> Result:
    m = plan.measure
    sel = select(plan, filters, per_item=False, extra=extra)  # every value is a letter's
    expr = measure_value(m, sel.alias)
    values = [r["v"] for r in _fetch(db, value_query(sel, expr))]
    counted = _scalar(db, count_query(sel, letters=True))
    notes = [f"{counted - len(values)} of {counted} letters have no {_value_label(plan)} and were not counted"] \
        if counted > len(values) else []
    value = _combine(m.aggregate, values)
    if value is None:
        return Result(value=None, total=0, notes=notes)
    columns = {"value": expr}
    if m.aggregate in ("avg", "median"):
        rows = _rows(db, sel, True, row_limit, columns=columns, where=(f"({expr}) IS NOT NULL", []))
    else:  # every letter holding the extreme value
        rows = _rows(db, sel, True, None, columns=columns, where=(f"({expr}) = ?", [value]))
    if m.duration is not None or FIELDS[m.field or ""].kind == "number":
        value = _number(value)
        rows = [_with_value(r, _number(r.value)) for r in rows]
    return Result(value=value, total=len(values), rows=rows, notes=notes)


def _with_value(row: Row, value: object) -> Row:
    return replace(row, value=value)


def _combine(aggregate: str, values: list) -> float | int | str | None:
    if not values:
        return None
    if aggregate == "avg":
        return statistics.fmean(values)
    if aggregate == "median":
        return statistics.median(values)
    return min(values) if aggregate in ("min", "earliest") else max(values)


def _value_label(plan: Plan) -> str:
    m = plan.measure
    if m.duration is not None:
        return f"{FIELDS[m.duration[0]].label} or {FIELDS[m.duration[1]].label}"
    return FIELDS[m.field or ""].label


# -- rank and compare -------------------------------------------------------------------------------
def _rank(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None, row_limit: int | None) -> Result:
    """Groups by the plan's key, the measure per group, ordered, cut at `limit` with ties kept."""
    assert plan.group_by is not None
    letters, m = plan.unit == "letters", plan.measure
    per_item = not letters or FIELDS[plan.group_by.field].level == "item"
    sel = select(plan, filters, per_item=per_item)
    key = group_key(plan.group_by, sel.alias)
    columns, where = None, None
    if m.aggregate in ("count", "list"):
        groups = {r["k"]: (r["label"], r["n"], r["n"]) for r in _fetch(db, group_count_query(sel, key, letters))}
    elif m.aggregate == "share":
        part_sel = select(plan, filters, per_item=per_item, extra=m.part)
        parts = {r["k"]: r["n"] for r in _fetch(db, group_count_query(part_sel, key, letters))}
        groups = {r["k"]: (r["label"], parts.get(r["k"], 0) / r["n"], r["n"])
                  for r in _fetch(db, group_count_query(sel, key, letters))}
    else:
        expr = measure_value(m, sel.alias)
        groups = _group_values(db, sel, key, expr, m.aggregate)
        columns, where = {"value": expr}, (f"({expr}) IS NOT NULL", [])
    ordered = sorted(groups.items(), key=lambda kv: kv[1][0])  # by label, then by value (stable)
    ordered.sort(key=lambda kv: kv[1][1], reverse=plan.order == "desc")
    kept, tied = _cut(ordered, plan.limit)
    per_group = min(GROUP_ROWS, row_limit) if row_limit is not None else GROUP_ROWS
    found: dict[str, list[Row]] = {}
    for k, _ in kept[:GROUPS_WITH_ROWS] if per_group > 0 else []:
        query = group_rows_query(sel, key, letters, k, per_group, columns=columns, where=where)
        found[k] = [_row(r) for r in _fetch(db, query)]
    out = [Group(label=str(label), value=_number(value) if isinstance(value, float) and m.aggregate != "share"
                 else value, n=n, rows=found.get(k, [])) for k, (label, value, n) in kept]
    notes = []
    if plan.group_by.field == "decision_date" and plan.group_by.part in ("month", "quarter"):
        undated = select(plan, filters, per_item=per_item, extra=[
            Condition(field="decision_date", op="known", negate=True), Condition(field="report_year", op="known")])
        n = _scalar(db, count_query(undated, letters))
        if n:
            notes.append(f"{n} {'letters' if letters else 'items'} of published determinations (DMHC rows) have a "
                         f"report year but no decision date: a {plan.group_by.part} does not apply to them and they "
                         "are not counted; group them by year.")
    return Result(value=None, total=len(ordered), groups=out, tied=tied, notes=notes)


def _group_values(db: sqlite3.Connection, sel: Selection, key: GroupKey, expr: str, aggregate: str) -> dict:
    values: dict[str, list] = {}
    labels: dict[str, str] = {}
    for r in _fetch(db, group_value_query(sel, key, expr)):
        values.setdefault(r["k"], []).append(r["v"])
        labels[r["k"]] = min(labels.get(r["k"], r["label"]), r["label"])
    return {k: (labels[k], _combine(aggregate, vs), len(vs)) for k, vs in values.items()}


def _cut(ordered: list, limit: int | None) -> tuple[list, list[str]]:
    """The first `limit` groups and any tied with the last of them; the labels tied at the cut."""
    if limit is None or len(ordered) <= limit or limit <= 0:
        return ordered, []
    last = ordered[limit - 1][1][1]
    kept = ordered[:limit] + [g for g in ordered[limit:] if g[1][1] == last]
    at_cut = [str(g[1][0]) for g in kept if g[1][1] == last]
    return kept, at_cut if len(kept) > limit else []


def _compare(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None, row_limit: int | None) -> Result:
    """The plan's measure once per segment (each segment's conditions added to the plan's)."""
    groups = []
    for k, segment in enumerate(plan.segments):
        r = _aggregate(db, plan, filters, row_limit, extra=segment)
        label = plan.segment_labels[k] if k < len(plan.segment_labels) else f"segment {k + 1}"
        n = r.denominator if plan.measure.aggregate == "share" else r.total
        groups.append(Group(label=label, value=r.value, n=n or 0, rows=r.rows))
    return Result(value=None, total=len(groups), groups=groups, rows=[r for g in groups for r in g.rows])


# -- one case ---------------------------------------------------------------------------------------
def _fact(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None, row_limit: int | None) -> Result:
    """The asked field of the case's current decision (for an item field: of each of its items
    meeting the plan's conditions)."""
    f = FIELDS[plan.fact or ""]
    per_item = f.level == "item"
    sel = select(plan, filters, per_item=per_item)
    rows = _fetch(db, rows_query(sel, not per_item, row_limit, columns={"value": column(f.key, sel.alias)}))
    values = [json.loads(r["value"]) if f.kind == "list" and r["value"] is not None else r["value"] for r in rows]
    out = [_row(r, ", ".join(v) if isinstance(v, list) else v) for r, v in zip(rows, values)]
    notes = [] if rows else [f"no current decision for case {plan.case_number} matches"]
    value = values if per_item else (values[0] if values else None)
    return Result(value=value, total=len(out), rows=out, notes=notes)  # type: ignore[arg-type]


def _why(db: sqlite3.Connection, plan: Plan, filters: AnswerFilters | None, row_limit: int | None) -> Result:
    """The items meeting the plan's conditions (usually of one case), each with the reviewer's
    rationale and its span when the record holds them."""
    sel = select(plan, filters, per_item=True)
    path = "'$.items[' || i.item_index || ']"
    columns = {"value": f"json_extract(d.record, {path}.rationale')",
               "r_start": f"json_extract(d.record, {path}.evidence.rationale.start')",
               "r_end": f"json_extract(d.record, {path}.evidence.rationale.end')"}
    rows = _fetch(db, rows_query(sel, False, row_limit, columns=columns))
    out = [_row(r, span=(r["r_start"], r["r_end"]) if r["r_start"] is not None and r["r_end"] is not None else None)
           for r in rows]
    missing = sum(1 for r in rows if r["r_start"] is None)
    notes = [f"{missing} of {len(rows)} items have no rationale span stored"] if missing else []
    return Result(value=len(out), total=len(out), rows=out, notes=notes)
