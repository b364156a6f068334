"""Executes a `CatalogQuery` in SQL over the catalog: filters on indexed columns, service terms
through the FTS5 index of item services (`items_fts`), counts and group-bys by SQL aggregates.
Only current decisions count: a decision with `superseded_by` set is an old version of its case
(its items have `current` = 0). Items carry their decision's columns, so no query joins per item; a
count or group-by with no condition but its outcome reads the `item_groups` counts instead.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass

from imr_rag.catalog import ITEM_GROUP_KINDS
from imr_rag.catalog_query import CatalogQuery, ItemRef
from imr_rag.schema import AnswerFilters, Determination
from imr_rag.service_vocab import service_match

FROM = " FROM items i JOIN documents s ON s.doc_id = i.doc_id"
COUNT_FROM = " FROM items i"
ITEM_COLUMNS = (
    "SELECT i.doc_id, i.item_index, i.service, i.authorized_portion, i.category, i.determination,"
    " i.guideline_sources, i.determination_start, i.determination_end, i.case_number, i.letter_format,"
    " i.decision_date, i.reviewer_specialty, s.path AS source, i.needs_review"
)
CURRENT = "i.current = 1"
NAMED_FAMILIES = ("MTUS", "ODG", "ACOEM")
GROUP_KEYS = {key: sql.format(r="i") for key, sql in ITEM_GROUP_KINDS.items()} | {"guideline": "g.value"}
DATE_GROUPS = ("month", "quarter", "year")


def date_range(key: str, value: str) -> tuple[str, str]:
    """The ISO dates (as text bounds) of one month ('2017-05'), quarter ('2017-Q2') or year."""
    if key == "month":
        return f"{value}-00", f"{value}-99"
    if key == "quarter":
        year, quarter = value.split("-Q")
        return f"{year}-{3 * int(quarter) - 2:02d}-00", f"{year}-{3 * int(quarter):02d}-99"
    return f"{value}-00-00", f"{value}-99-99"


@dataclass(frozen=True)
class Tally:
    """Counts for one group: items, items with the focus outcome, letters, letters with it."""

    key: str | None
    items: int
    hits: int
    letters: int
    hit_letters: int
    flagged: int = 0  # items flagged for review
    flagged_hits: int = 0  # of those, items with the focus outcome


def item_ref(r: sqlite3.Row) -> ItemRef:
    return ItemRef(
        doc_id=r["doc_id"], item_index=r["item_index"], service=r["service"],
        partly_authorized=r["authorized_portion"] is not None, category=r["category"],
        determination=r["determination"], guideline_sources=tuple(json.loads(r["guideline_sources"] or "[]")),
        determination_start=r["determination_start"], determination_end=r["determination_end"],
        case_number=r["case_number"], letter_format=r["letter_format"], decision_date=r["decision_date"],
        reviewer_specialty=r["reviewer_specialty"], source=r["source"], needs_review=bool(r["needs_review"]),
    )


class CatalogSQL:
    """Plan execution over one catalog connection."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self._specialties: tuple[tuple, list[str]] | None = None

    # -- the WHERE clause of a plan ---------------------------------------------------------
    def where(
        self, plan: CatalogQuery, filters: AnswerFilters | None = None, *, outcome: bool = True,
        service: str | None = None, group: tuple[str, str | None] | None = None,
    ) -> tuple[str, list]:
        """Conditions for the plan (and the user's filters). `outcome=False` leaves the plan's
        determination out (the denominator of a share); `service` replaces the plan's terms;
        `group` (group-by key, value) keeps one group of a group-by."""
        clauses, params = [CURRENT], []

        def add(clause: str, *values: object) -> None:
            clauses.append(clause)
            params.extend(values)

        if group is not None:
            key, value = group
            if key == "guideline":
                if value is None:
                    add("json_array_length(i.guideline_sources) = 0")
                else:
                    add("EXISTS (SELECT 1 FROM json_each(i.guideline_sources) gg WHERE gg.value = ?)", value)
            elif value is None:
                add(f"{GROUP_KEYS[key]} IS NULL")
            elif key in DATE_GROUPS:  # a range of the indexed date, not a function of every row's date
                add("i.decision_date BETWEEN ? AND ?", *date_range(key, value))
            else:
                add(f"{GROUP_KEYS[key]} = ?", value)

        phrase = service if service is not None else " ".join(plan.service_terms)
        if phrase.strip():
            terms, expression = service_match(phrase)
            if terms:
                add("i.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", expression)
        if plan.case_number:
            add("i.case_number = ? COLLATE NOCASE", plan.case_number)
        if plan.category:
            add("i.category = ?", plan.category.value)
        if outcome and plan.determination:
            add("i.determination = ?", plan.determination.value)
        if plan.date_from:
            add("i.decision_date >= ?", plan.date_from.isoformat())
        if plan.date_to:
            add("i.decision_date <= ?", plan.date_to.isoformat())
        if plan.reviewer_specialty:
            add("i.reviewer_specialty LIKE ?", f"%{plan.reviewer_specialty}%")
        if plan.guideline_family in NAMED_FAMILIES:
            add("EXISTS (SELECT 1 FROM json_each(i.guideline_sources) gf WHERE gf.value = ?)", plan.guideline_family)
        elif plan.guideline_family == "other":
            add("EXISTS (SELECT 1 FROM json_each(i.guideline_sources) gf WHERE gf.value NOT IN (?, ?, ?))",
                *NAMED_FAMILIES)
        if plan.letter_format:
            add("i.letter_format = ?", plan.letter_format)
        if plan.partly_authorized:
            add("i.authorized_portion IS NOT NULL")
        if filters is not None:
            if filters.case_number:
                add("i.case_number = ? COLLATE NOCASE", filters.case_number)
            if filters.letter_format:
                add("i.letter_format = ?", filters.letter_format)
            if filters.determination:
                add("i.determination = ?", Determination(filters.determination).value)
            if filters.date_from:
                add("i.decision_date >= ?", filters.date_from)
            if filters.date_to:
                add("i.decision_date <= ?", filters.date_to)
        return " WHERE " + " AND ".join(clauses), params

    # -- rows and counts --------------------------------------------------------------------
    def items(
        self, plan: CatalogQuery, filters: AnswerFilters | None = None, *, limit: int | None = None,
        service: str | None = None, group: tuple[str, str | None] | None = None, ordered: bool = True,
    ) -> list[ItemRef]:
        """The items the plan selects (at most `limit`): by decision date and case, or with
        `ordered=False` in the catalog's own order (no sort of every match, for a sample)."""
        where, params = self.where(plan, filters, service=service, group=group)
        sql = ITEM_COLUMNS + FROM + where
        if ordered:
            sql += " ORDER BY i.decision_date, i.case_number, i.doc_id, i.item_index"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [item_ref(r) for r in self.db.execute(sql, params)]

    def tally(
        self, plan: CatalogQuery, filters: AnswerFilters | None = None, *, group_by: str = "none",
        service: str | None = None, letters: bool = False,
    ) -> list[Tally]:
        """Items the plan selects without its outcome, and how many of them have the plan's
        outcome (`hits`), overall or per group; with `letters`, the letters too (a distinct
        count, so only when the answer says it)."""
        where, params = self.where(plan, filters, outcome=False, service=service)
        focus = plan.determination.value if plan.determination else None
        if where == " WHERE " + CURRENT and not letters and group_by in GROUP_KEYS.keys() | {"none"}:
            return self._kept_tally(group_by, focus)
        hit = "i.determination = ?" if focus else "1"
        key = GROUP_KEYS.get(group_by, "NULL")
        join = " LEFT JOIN json_each(i.guideline_sources) g" if group_by == "guideline" else ""
        counted_letters = (
            f", COUNT(DISTINCT i.doc_id) AS letters, COUNT(DISTINCT CASE WHEN {hit} THEN i.doc_id END) AS x_letters"
            if letters else ", 0 AS letters, 0 AS x_letters"
        )
        sql = (f"SELECT {key} AS k, COUNT(*) AS n, COALESCE(SUM({hit}), 0) AS x{counted_letters},"
               f" COALESCE(SUM(i.needs_review), 0) AS f, COALESCE(SUM(CASE WHEN {hit} THEN i.needs_review END), 0) AS fx"
               f"{COUNT_FROM}{join}{where} GROUP BY k ORDER BY k")
        values = ([focus] * (3 if letters else 2) if focus else []) + params
        return [Tally(r["k"], r["n"], r["x"], r["letters"], r["x_letters"], r["f"], r["fx"])
                for r in self.db.execute(sql, values)]

    def _kept_tally(self, group_by: str, focus: str | None) -> list[Tally]:
        """`tally` of every current item from the counts the catalog keeps (`item_groups`)."""
        kind = "determination" if group_by == "none" else group_by
        groups: dict[str | None, list[int]] = {}
        for key, determination, flagged, n in self.db.execute(
            "SELECT key, determination, flagged, n FROM item_groups WHERE kind = ? AND n > 0", (kind,)
        ):
            g = groups.setdefault(None if group_by == "none" or key == "" else key, [0, 0, 0, 0])
            hit = focus is None or determination == focus
            g[0] += n
            g[1] += n if hit else 0
            g[2] += n if flagged else 0
            g[3] += n if flagged and hit else 0
        ordered = sorted(groups.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))
        return [Tally(key, items, hits, 0, 0, flagged, flagged_hits) for key, (items, hits, flagged, flagged_hits) in ordered]

    # -- what the library holds -------------------------------------------------------------
    def newest_decision_date(self) -> str | None:
        return self.db.execute(
            "SELECT MAX(decision_date) FROM items WHERE current = 1"
        ).fetchone()[0]

    def specialties(self) -> list[str]:
        """Every reviewer specialty named in a current decision (a letter may list several);
        read again only when the decisions change."""
        version = self.db.execute("SELECT COUNT(*), MAX(extracted_at) FROM decisions").fetchone()
        if self._specialties is None or self._specialties[0] != tuple(version):
            self._specialties = (tuple(version), self._read_specialties())
        return self._specialties[1]

    def _read_specialties(self) -> list[str]:
        names: set[str] = set()
        for (value,) in self.db.execute(
            "SELECT DISTINCT reviewer_specialty FROM decisions WHERE superseded_by IS NULL AND reviewer_specialty IS NOT NULL"
        ):
            names.update(part.strip() for part in value.split(",") if part.strip())
        return sorted(names)

    def service_candidates(
        self, tokens: list[str], plan: CatalogQuery, filters: AnswerFilters | None = None, limit: int = 400
    ) -> list[tuple[ItemRef, list[str]]]:
        """Items naming any of `tokens` (best BM25 first, at most `limit`), with their service words."""
        if not tokens:
            return []
        expression = " OR ".join(f'"{t}"' for t in dict.fromkeys(tokens))
        where, params = self.where(plan, filters, service="")
        sql = (
            ITEM_COLUMNS + ", i.service_words" + FROM
            + " JOIN (SELECT rowid AS hit, rank FROM items_fts WHERE items_fts MATCH ? ORDER BY rank LIMIT ?) f"
            + " ON f.hit = i.rowid" + where + " ORDER BY f.rank"
        )
        rows = self.db.execute(sql, [expression, limit, *params]).fetchall()
        return [(item_ref(r), (r["service_words"] or "").split()) for r in rows]

    def service_idf(self, tokens: list[str]) -> tuple[dict[str, float], float]:
        """IDF of each token over all item services, and the IDF a word no service has."""
        total = self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        unique = sorted(set(tokens))
        found = dict(self.db.execute(
            f"SELECT term, doc FROM items_fts_vocab WHERE term IN ({','.join('?' * len(unique))})", unique
        )) if unique else {}
        idf = {t: math.log(1 + total / found[t]) for t in found}
        return idf, math.log(1 + max(total, 1) / 0.5)
