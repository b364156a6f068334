"""Decisions, disputed items, letter versions of one case and their conflicts, review flags."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass


from imr_rag.errors import redact
from imr_rag.schema import Decision, review_reasons
from imr_rag.textutil import normalize_case_number, service_tokens


# Decision fields of tabular sources (the California DMHC IMR determinations CSV), a column each in
# the decisions table, named exactly as the Decision fields; NULL for letters. Added by migration
# (`SchemaMigrations.ADDED_COLUMNS`), so old and new catalog files get them the same way.
DECISION_FIELD_COLUMNS = (
    ("report_year", "INTEGER"), ("review_type", "TEXT"), ("imr_type", "TEXT"),
    ("diagnosis_category", "TEXT"), ("diagnosis_subcategory", "TEXT"),
    ("treatment_category", "TEXT"), ("treatment_subcategory", "TEXT"), ("age_range", "TEXT"),
    ("days_to_review", "INTEGER"), ("days_to_adopt", "INTEGER"), ("reviewer_count", "INTEGER"),
    ("reviewers_for_outcome", "INTEGER"), ("published_determination", "TEXT"),
)
"""(column, SQL type) of the tabular Decision fields. `imr_type` is the Decision's `priority` (the
CSV's IMRType, 'Standard' or 'Expedited') of a row; the Decision has no field of its own for it."""
TABULAR_FORMATS = ("ca_dmhc_imr",)
"""Formats whose documents are rows of a published table (one row, one document)."""


def decision_field_values(decision: Decision) -> tuple:
    """The tabular columns' values of a decision, in DECISION_FIELD_COLUMNS order (all None for a
    letter: its priority stays in the record, not in `imr_type`)."""
    if decision.letter_format not in TABULAR_FORMATS:
        return (None,) * len(DECISION_FIELD_COLUMNS)
    return tuple(decision.priority if column == "imr_type" else getattr(decision, column)
                 for column, _ in DECISION_FIELD_COLUMNS)


_FIELD_NAMES = ", ".join(column for column, _ in DECISION_FIELD_COLUMNS)
_FIELD_MARKS = ",".join("?" * len(DECISION_FIELD_COLUMNS))


@dataclass
class CaseConflict:
    """Letters of one case that give different decisions: the one that counts, and the others
    as (doc id, path)."""

    case_number: str
    doc_id: str
    path: str
    others: list[tuple[str, str]]


@dataclass(frozen=True)
class RowRevision:
    """A version of a published table's row that a later version replaced (both kept)."""

    case_number: str
    doc_id: str
    path: str
    table: str
    current_doc_id: str
    current_path: str
    current_table: str


class DecisionRecords:
    """Decisions and items (a mixin of Catalog: needs its connection)."""

    def save_decision(self, doc_id: str, backend: str, decision: Decision) -> None:
        """Replace the document's decision and items (re-extraction never duplicates rows)."""
        if decision.case_number:  # an LLM may copy a look-alike as printed: one case, one key
            decision = decision.model_copy(update={"case_number": normalize_case_number(decision.case_number)})
        with self.transaction() as db:
            db.execute("DELETE FROM decisions WHERE doc_id = ?", (doc_id,))
            db.execute(
                "INSERT INTO decisions (doc_id, backend, case_number, letter_format, decision_date,"
                " reviewer_specialty, record, flags, extracted_at, needs_review, review_reasons, substance, "
                + _FIELD_NAMES + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?," + _FIELD_MARKS + ")",
                (
                    doc_id, backend, decision.case_number, decision.letter_format, decision.decision_date,
                    decision.reviewer.specialty, decision.model_dump_json(), len(decision.review_flags), time.time(),
                    int(decision.needs_review), review_reasons(decision.review_flags), substance_of(decision),
                    *decision_field_values(decision),
                ),
            )
            db.executemany(
                "INSERT INTO items (doc_id, item_index, service, category, determination, medically_necessary,"
                " guideline_sources, determination_start, determination_end, authorized_portion, service_words,"
                " needs_review, review_reasons, current, case_number, letter_format, decision_date, reviewer_specialty)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?)",
                [
                    (
                        doc_id, n, item.service, item.category.value, item.determination.value,
                        None if item.medically_necessary is None else int(item.medically_necessary),
                        dumps(sorted({g.source for g in item.guidelines if g.cited_by == "reviewer"})),
                        item.evidence.determination.start if item.evidence.determination else None,
                        item.evidence.determination.end if item.evidence.determination else None,
                        item.authorized_portion, " ".join(service_tokens(item.service)),
                        int(bool(decision.item_flags(n))), review_reasons(decision.item_flags(n)),
                        decision.case_number, decision.letter_format, decision.decision_date, decision.reviewer.specialty,
                    )
                    for n, item in enumerate(decision.items)
                ],
            )
            db.execute("DELETE FROM extraction_failures WHERE doc_id = ?", (doc_id,))
            _answered_by_llm(db, doc_id, backend)
            _settle_versions(db, decision.case_number)

    def choose_version(self, case_number: str, doc_id: str) -> None:
        """A person's choice: `doc_id`'s decision is the one that counts for its case."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO case_choices VALUES (?, ?, ?)", (case_number, doc_id, time.time()))
            _settle_versions(db, case_number)

    def case_conflicts(self) -> list[CaseConflict]:
        """Cases whose letters give different decisions, each with the letter that counts and
        the letters that disagree with it, unless a person chose after the last of them came."""
        rows = self.db.execute(
            "SELECT c.case_number, c.doc_id, cd.path, o.doc_id AS other, od.path AS other_path"
            " FROM decisions c JOIN documents cd ON cd.doc_id = c.doc_id"
            " JOIN decisions o ON o.superseded_by = c.doc_id AND o.substance IS NOT c.substance"
            " JOIN documents od ON od.doc_id = o.doc_id AND (od.row_of IS NULL OR cd.row_of IS NULL)"
            " LEFT JOIN case_choices ch ON ch.case_number = c.case_number AND ch.doc_id = c.doc_id"
            " WHERE c.superseded_by IS NULL AND (ch.chosen_at IS NULL OR od.ingested_at > ch.chosen_at)"
            " ORDER BY c.case_number, od.ingested_at"
        ).fetchall()
        conflicts: dict[str, CaseConflict] = {}
        for r in rows:
            conflict = conflicts.setdefault(r["case_number"], CaseConflict(r["case_number"], r["doc_id"], r["path"], []))
            conflict.others.append((r["other"], r["other_path"]))
        return list(conflicts.values())

    def row_revisions(self) -> list[RowRevision]:
        """Every superseded version of a published table's row, with the version that counts
        (the publisher's revision in a later export): never a conflict, listed by `review`."""
        cases = [r[0] for r in self.db.execute(
            "SELECT case_number FROM documents WHERE row_of IS NOT NULL AND case_number IS NOT NULL"
            " GROUP BY case_number HAVING COUNT(*) > 1 ORDER BY case_number"
        )]
        revisions = []
        for case in cases:
            current = _current_row(self.db, case)
            if current is None:
                continue
            rows = self.db.execute(
                "SELECT doc_id, path, row_of FROM documents WHERE case_number = ? ORDER BY ingested_at, doc_id", (case,)
            ).fetchall()
            counts = next(r for r in rows if r["doc_id"] == current)
            revisions += [RowRevision(case, r["doc_id"], r["path"], r["row_of"], current, counts["path"], counts["row_of"])
                          for r in rows if r["doc_id"] != current]
        return revisions

    def superseded_rows(self) -> frozenset[str]:
        """Doc ids of the table rows that a later version of their row replaced (the old versions
        `row_revisions` lists, extracted or not): the publisher's corrected-away text, which
        search leaves out unless asked. Candidates are the case numbers held by more than one
        document, read from the case-number index alone (a scan of documents.row_of would read
        past every letter's text)."""
        cases = [r[0] for r in self.db.execute(
            "SELECT case_number FROM documents WHERE case_number IS NOT NULL GROUP BY case_number HAVING COUNT(*) > 1"
        )]
        hidden: set[str] = set()
        for case in cases:
            current = _current_row(self.db, case)
            if current is not None:
                hidden.update(r[0] for r in self.db.execute(
                    "SELECT doc_id FROM documents WHERE case_number = ? AND doc_id != ?", (case, current)))
        return frozenset(hidden)

    def versions_key(self) -> tuple:
        """Changes whenever the documents change or a person chooses which version of a case
        counts: what `superseded_rows` depends on (for a cache of it)."""
        return (self.generation(), self.db.execute("SELECT MAX(chosen_at) FROM case_choices").fetchone()[0])

    def case_versions(self, case_number: str) -> list[sqlite3.Row]:
        """Every stored decision of a case: doc id, path, whether it counts, by ingestion."""
        return self.db.execute(
            "SELECT d.doc_id, doc.path, d.superseded_by IS NULL AS counts, d.decision_date FROM decisions d"
            " JOIN documents doc ON doc.doc_id = d.doc_id WHERE d.case_number = ? ORDER BY doc.ingested_at, d.doc_id",
            (case_number,),
        ).fetchall()

    def item_rows(self) -> list[sqlite3.Row]:
        """Items joined with their decision's metadata, for catalog questions."""
        return self.db.execute(
            "SELECT i.doc_id, i.item_index, i.service, i.authorized_portion, i.category, i.determination, i.guideline_sources,"
            " i.determination_start, i.determination_end, i.needs_review, i.review_reasons,"
            " d.case_number, d.letter_format, d.decision_date,"
            " d.reviewer_specialty, s.path AS source FROM items i JOIN decisions d ON d.doc_id = i.doc_id"
            " JOIN documents s ON s.doc_id = i.doc_id WHERE d.superseded_by IS NULL"
            " ORDER BY d.case_number, i.doc_id, i.item_index"
        ).fetchall()

    def flagged_decisions(self) -> list[tuple[str, Decision]]:
        """(doc id, decision) of every current decision that needs review, by case number."""
        rows = self.db.execute(
            "SELECT doc_id, record FROM decisions WHERE needs_review = 1 AND superseded_by IS NULL"
            " ORDER BY case_number, doc_id"
        )
        return [(r["doc_id"], Decision.model_validate_json(r["record"])) for r in rows]

    def _question_indexes(self) -> str:
        """The indexes of the question tables, as recorded when ANALYZE ran: an index added by a
        newer version has no statistics, and the planner prefers the indexes it knows."""
        return ",".join(r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('items', 'decisions') ORDER BY name"
        ))

    def refresh_query_stats(self, growth: float = 1.25) -> bool:
        """ANALYZE (the query planner's statistics) when there are none or the items table grew by
        more than `growth` since; never waits for another writer (a locked catalog skips it).
        Without statistics SQLite scans every item for a date range instead of using the date
        index: 150 ms instead of 34 ms at 20,000 letters."""
        items = self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        last = self.get_meta("analyzed_items")
        indexes = self._question_indexes()
        if last is not None and items <= int(last) * growth and self.get_meta("analyzed_indexes") == indexes:
            return False
        try:
            self.db.execute("PRAGMA busy_timeout = 0")
            with self.db:
                self.db.execute("ANALYZE")
                self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                    [("analyzed_items", str(items)), ("analyzed_indexes", indexes)])
            return True
        except sqlite3.OperationalError:  # another process is writing: next time
            return False
        finally:
            self.db.execute("PRAGMA busy_timeout = 30000")

    def decisions_version(self) -> tuple:
        """Changes whenever a decision is saved or removed, or a person chooses which letter of a
        case counts (for caches of the items table)."""
        return tuple(self.db.execute(
            "SELECT COUNT(*), MAX(extracted_at), (SELECT MAX(chosen_at) FROM case_choices) FROM decisions").fetchone())

    def record_extraction_failure(self, doc_id: str, backend: str, reason: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO extraction_failures VALUES (?,?,?,?)",
                (doc_id, backend, redact(reason), time.time()),
            )
            _answered_by_llm(db, doc_id, backend)

    def decision(self, doc_id: str) -> Decision | None:
        row = self.db.execute("SELECT record FROM decisions WHERE doc_id = ?", (doc_id,)).fetchone()
        return Decision.model_validate_json(row["record"]) if row else None

    def decisions(self, *, versions: bool = False) -> list[tuple[str, str, Decision]]:
        """(doc id, backend, decision) for every extracted document, by case number: the current
        version of each case (the newest letter), or with `versions` the superseded ones too."""
        where = "" if versions else " WHERE superseded_by IS NULL"
        rows = self.db.execute(f"SELECT doc_id, backend, record FROM decisions{where} ORDER BY case_number, doc_id")
        return [(r["doc_id"], r["backend"], Decision.model_validate_json(r["record"])) for r in rows]


def _answered_by_llm(db: sqlite3.Connection, doc_id: str, backend: str) -> None:
    """An LLM outcome for a letter (from a batch results file or a live call) answers its Batch API
    request, in the same transaction; a rules record does not."""
    if backend != "rules":
        db.execute("DELETE FROM batch_requests WHERE doc_id = ?", (doc_id,))


def _write_review(db: sqlite3.Connection, doc_id: str, decision: Decision) -> None:
    """Fill the review columns of a stored decision and its items from its record."""
    db.execute(
        "UPDATE decisions SET needs_review = ?, review_reasons = ? WHERE doc_id = ?",
        (int(decision.needs_review), review_reasons(decision.review_flags), doc_id),
    )
    db.executemany(
        "UPDATE items SET needs_review = ?, review_reasons = ? WHERE doc_id = ? AND item_index = ?",
        [
            (int(bool(decision.item_flags(n))), review_reasons(decision.item_flags(n)), doc_id, n)
            for n in range(len(decision.items))
        ],
    )


def like_literal(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\': its % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def substance_of(decision: Decision) -> str:
    """What a letter decided, apart from how it was written down: its dates and each item's
    service and outcome. Two letters of one case with the same substance are one decision read
    from two files (a re-save, a .txt copy of the PDF); with different substance, a conflict."""
    items = sorted((" ".join(i.service.lower().split()), i.determination.value) for i in decision.items)
    dates = [decision.decision_date, decision.date_of_injury, decision.ur_denial_date, decision.date_assigned,
             decision.application_received]
    return hashlib.sha256(dumps([dates, items]).encode()).hexdigest()[:16]


def _settle_versions(db: sqlite3.Connection, case_number: str | None) -> None:
    """One case number, one current decision; the other letters of the case are kept as versions
    superseded by it. A later letter never changes what counts by itself: the decision that
    counts is the one a person chose (`review --keep`), else the first stored. Among letters with
    the same substance as that one (the same decision read from other files) the newest ingested
    is current, as for any re-saved file. Letters with another substance are conflicts
    (`case_conflicts`). The rows of a published table are versions of another kind: see
    `_current_row`."""
    if not case_number:
        return
    rows = db.execute(
        "SELECT d.doc_id, d.substance FROM decisions d JOIN documents doc ON doc.doc_id = d.doc_id"
        " WHERE d.case_number = ? ORDER BY doc.ingested_at, d.doc_id",
        (case_number,),
    ).fetchall()
    if not rows:
        return
    current = _current_row(db, case_number)
    if current is None:
        chosen = db.execute(
            "SELECT c.doc_id FROM case_choices c JOIN decisions d ON d.doc_id = c.doc_id AND d.case_number = c.case_number"
            " WHERE c.case_number = ?", (case_number,)
        ).fetchone()
        base = next((r for r in rows if chosen and r["doc_id"] == chosen["doc_id"]), rows[0])
        current = [r for r in rows if r["substance"] == base["substance"]][-1]["doc_id"]
    db.execute(
        "UPDATE decisions SET superseded_by = CASE WHEN doc_id = ? THEN NULL ELSE ? END WHERE case_number = ?",
        (current, current, case_number),
    )


def _current_row(db: sqlite3.Connection, case_number: str) -> str | None:
    """When every document of the case is a row of a published table (DMHC ReferenceIDs): the row
    that counts, which is the newest ingested version (a changed row in a later export is the
    publisher's revision, not a conflict), unless a person chose another after it came. It
    counts even before it is extracted: the decisions of the rows it revised stop counting.
    None for a case with a letter among its documents (the rule for letters applies)."""
    versions = db.execute(
        "SELECT doc_id, ingested_at, row_of IS NOT NULL AS is_row FROM documents WHERE case_number = ?"
        " ORDER BY ingested_at DESC, doc_id DESC", (case_number,)
    ).fetchall()
    if not versions or not all(v["is_row"] for v in versions):
        return None
    chosen = db.execute("SELECT doc_id, chosen_at FROM case_choices WHERE case_number = ?", (case_number,)).fetchone()
    if chosen and chosen["chosen_at"] >= versions[0]["ingested_at"] and any(v["doc_id"] == chosen["doc_id"] for v in versions):
        return chosen["doc_id"]
    return versions[0]["doc_id"]


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
