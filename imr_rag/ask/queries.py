"""The queries run over a plan's counted rows (`compile.Selection`): counts, rows, values and
groups. Every value is a parameter; SQL text comes from `fields.FIELDS` and `compile`."""

from __future__ import annotations

from dataclasses import dataclass

from imr_rag.ask.compile import (
    Frag,
    Query,
    Selection,
    UnsupportedPlan,
    column,
    specialty_array,
)
from imr_rag.ask.fields import DATE_PARTS, FIELDS
from imr_rag.ask.plan import GroupBy


def count_query(sel: Selection, letters: bool) -> Query:
    counted = f"COUNT(DISTINCT {sel.doc})" if letters and sel.per_item else "COUNT(*)"
    return Query(f"SELECT {counted} FROM {sel.source()} WHERE {sel.where}", sel.params)


ITEM_ROW = ("i.doc_id AS doc_id, i.item_index AS item_index, i.case_number AS case_number,"
            " i.decision_date AS decision_date, i.service AS service, i.determination AS determination,"
            " i.determination_start AS span_start, i.determination_end AS span_end, i.needs_review AS needs_review")
LETTER_ROW = ("{r}.doc_id AS doc_id, NULL AS item_index, {r}.case_number AS case_number,"
              " {r}.decision_date AS decision_date, NULL AS service, NULL AS determination, NULL AS span_start,"
              " NULL AS span_end, {flag} AS needs_review")
ROW_ORDER = "decision_date, case_number, doc_id, item_index"
SOURCE = "SELECT r.*, s.path AS source FROM ({rows}) r JOIN documents s ON s.doc_id = r.doc_id ORDER BY {order}"
"""Each row's file, looked up for the rows kept only (a documents row per counted row cost 70 ms
per 10,000 letters)."""


def _row_columns(sel: Selection, letters: bool, columns: dict[str, str]) -> tuple[str, str]:
    """Row columns (plus `columns`, alias -> SQL) and the GROUP BY that makes letters of items."""
    if not sel.per_item:
        base, group = LETTER_ROW.format(r="d", flag="d.needs_review"), ""
    elif letters:
        base, group = LETTER_ROW.format(r="i", flag="MAX(i.needs_review)"), "i.doc_id"
    else:
        base, group = ITEM_ROW, ""
    return "".join(f"{sql} AS {alias}, " for alias, sql in columns.items()) + base, group


def rows_query(sel: Selection, letters: bool, limit: int | None, *, columns: dict[str, str] | None = None,
               where: Frag | None = None) -> Query:
    """The selected rows (letters or items) by decision date and case, with `columns`, meeting
    `where` too, at most `limit`."""
    cols, group = _row_columns(sel, letters, columns or {})
    more, params = where or ("1", [])
    sql = f"SELECT {cols} FROM {sel.source(cols, more)} WHERE {sel.where} AND ({more})"
    if group:
        sql += f" GROUP BY {group}"
    sql += f" ORDER BY {ROW_ORDER}"
    values = [*sel.params, *params]
    if limit is not None:
        sql += " LIMIT ?"
        values.append(limit)
    return Query(SOURCE.format(rows=sql, order=", ".join(f"r.{c}" for c in ROW_ORDER.split(", "))), tuple(values))


def value_query(sel: Selection, expr: str) -> Query:
    """(doc_id, value) of every selected letter that has the value."""
    distinct = "DISTINCT " if sel.per_item else ""
    return Query(f"SELECT {distinct}{sel.doc} AS doc, {expr} AS v FROM {sel.source(expr)}"
                 f" WHERE {sel.where} AND ({expr}) IS NOT NULL", sel.params)


@dataclass(frozen=True)
class GroupKey:
    """How rows are grouped: an extra FROM term (a json_each over the column `split`, the one
    value the rows' list or specialties are read from), the key and the label shown."""

    join: str
    key: str
    label: str
    split: str | None = None
    letter_value: bool = False
    """True when `split` is a letter's value (one per letter, copied to its items)."""


def group_key(g: GroupBy, item: str | None) -> GroupKey:
    """The key of a group-by. A list field groups by each value it lists; reviewer_specialty by
    each specialty it lists (split on commas, '&' read as 'and', case-blind, so a letter whose
    reviewer is board certified in two specialties counts once for each; 'Orthopaedic' is
    'Orthopedic')."""
    f = FIELDS[g.field]
    col = column(g.field, item)
    if g.part is not None:
        if f.kind != "date":
            raise UnsupportedPlan(f"the {f.label} is not a date: no {g.part} to group by")
        key = DATE_PARTS[g.part].format(x=col)
        if g.field == "decision_date" and g.part == "year":  # a published determination's year is its report year
            doc = f"{item}.doc_id" if item else "d.doc_id"
            key = (f"COALESCE({key}, (SELECT CAST(r.report_year AS TEXT) FROM decisions r WHERE r.doc_id = {doc}"
                   " AND r.superseded_by IS NULL))")
        return GroupKey("", key, key)
    if g.field == "reviewer_specialty":
        # British and American spellings of one specialty are one group (Orthopaedic = Orthopedic)
        return GroupKey(f" JOIN json_each({specialty_array(col)}) g",
                        "replace(lower(trim(g.value)), 'orthopaedic', 'orthopedic')",
                        "replace(trim(g.value), 'Orthopaedic', 'Orthopedic')", col, True)
    if f.kind == "list":
        return GroupKey(f" JOIN json_each({col}) g", "g.value", "g.value", col, f.level == "letter")
    if g.field == "service_family":  # one group per family, case-blind (families.py)
        return GroupKey("", col.replace("service_family(", "service_family_key("), col)
    return GroupKey("", col, col)


def group_count_query(sel: Selection, key: GroupKey, letters: bool) -> Query:
    """(key, label, n) per group: items, or distinct letters, counted once per group.

    A split key (a list or the specialties of one column) counts the rows per distinct value of
    the column first, then splits those few values: splitting every row's value cost 0.9 s on
    42,700 rows. Exact when each counted row has one value of the column (an item; a letter's own
    value, which its items copy), and a value naming one group twice counts once (grouped by value
    and key before the sum). Letters counted through an item's list (a letter may hold several
    values) are split row by row."""
    if key.split is not None and (key.letter_value or not (letters and sel.per_item)):
        counted = f"COUNT(DISTINCT {sel.doc})" if letters and sel.per_item else "COUNT(*)"
        split = key.join.replace(key.split, "raw.v")
        per_value = (f"SELECT {key.split} AS v, {counted} AS n FROM {sel.source(key.split)} WHERE {sel.where}"
                     f" AND NULLIF({key.split}, '') IS NOT NULL GROUP BY v")
        per_key = (f"SELECT {key.key} AS k, MIN({key.label}) AS label, raw.n AS n FROM ({per_value}) raw{split}"
                   f" WHERE NULLIF({key.key}, '') IS NOT NULL GROUP BY raw.v, k")
        return Query(f"SELECT k, MIN(label) AS label, SUM(n) AS n FROM ({per_key}) GROUP BY k", sel.params)
    if letters:
        counted = f"COUNT(DISTINCT {sel.doc})" if sel.per_item or key.join else "COUNT(*)"
    else:
        counted = "COUNT(DISTINCT i.rowid)" if key.join else "COUNT(*)"
    return Query(f"SELECT {key.key} AS k, MIN({key.label}) AS label, {counted} AS n"
                 f" FROM {sel.source(key.key, key.join)}{key.join} WHERE {sel.where} AND NULLIF({key.key}, '') IS NOT NULL"
                 f" GROUP BY k", sel.params)


def group_value_query(sel: Selection, key: GroupKey, expr: str) -> Query:
    """(key, label, doc, value) per group and letter with the value."""
    return Query(f"SELECT DISTINCT {key.key} AS k, {key.label} AS label, {sel.doc} AS doc, {expr} AS v"
                 f" FROM {sel.source(key.key, key.join, expr)}{key.join} WHERE {sel.where}"
                 f" AND NULLIF({key.key}, '') IS NOT NULL AND ({expr}) IS NOT NULL", sel.params)


def group_rows_query(sel: Selection, key: GroupKey, letters: bool, value: str, per_group: int,
                     *, columns: dict[str, str] | None = None, where: Frag | None = None) -> Query:
    """The first `per_group` rows of one group in the catalog's order (a sample: no sort of every
    row of the group, so a big group costs no more than a small one)."""
    cols, group = _row_columns(sel, letters, columns or {})
    more, params = where or ("1", [])
    if letters and not sel.per_item and key.join:
        group = "d.doc_id"
    sql = (f"SELECT {cols} FROM {sel.source(cols, key.key, key.join, more)}{key.join} WHERE {sel.where} AND ({more})"
           f" AND {key.key} = ?{f' GROUP BY {group}' if group else ''} LIMIT ?")
    order = ", ".join(f"r.{c}" for c in ROW_ORDER.split(", "))
    return Query(SOURCE.format(rows=sql, order=order), (*sel.params, *params, value, per_group))
