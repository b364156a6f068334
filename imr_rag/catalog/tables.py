"""The catalog's tables, indexes and triggers, and the migrations that bring an older catalog file up to them."""

from __future__ import annotations

from imr_rag.catalog.decisions import (
    DECISION_FIELD_COLUMNS,
    TABULAR_FORMATS,
    _settle_versions,
    _write_review,
    substance_of,
)
from imr_rag.schema import Decision
from imr_rag.textutil import service_tokens


SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    file_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    letter_format TEXT NOT NULL,
    case_number TEXT,
    pages INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    text TEXT NOT NULL,
    source_text BLOB NOT NULL,
    offsets BLOB NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_case ON documents(case_number);
-- `known_case_number` matches case numbers case-blind: without this index every question that
-- contains a case-number-like word scanned every document.
CREATE INDEX IF NOT EXISTS documents_case_nocase ON documents(case_number COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    section TEXT NOT NULL,
    item_index INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
DROP INDEX IF EXISTS chunks_pending;
-- The embed stage reads pending chunks in this order, a batch at a time: a range of this index
-- (on embedded alone, each batch sorted every pending chunk: quadratic over a year of letters).
CREATE INDEX IF NOT EXISTS chunks_pending_order ON chunks(embedded, doc_id, ordinal);
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Documents removed from the catalog whose vectors may still be in the dense store: written in the
-- transaction that removes the document, cleared once the store has deleted them (a crash in
-- between leaves the row, and the next run finishes the job).
CREATE TABLE IF NOT EXISTS dense_deletes (doc_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    backend TEXT NOT NULL,
    case_number TEXT,
    letter_format TEXT NOT NULL,
    decision_date TEXT,
    reviewer_specialty TEXT,
    record TEXT NOT NULL,
    flags INTEGER NOT NULL,
    extracted_at REAL NOT NULL
);
-- Columns added by migration (SchemaMigrations.ADDED_COLUMNS): superseded_by, needs_review,
-- review_reasons, substance, and the tabular Decision fields of DMHC rows (NULL for letters; see
-- catalog/decisions.py DECISION_FIELD_COLUMNS): report_year INTEGER, review_type TEXT, imr_type TEXT,
-- diagnosis_category TEXT, diagnosis_subcategory TEXT, treatment_category TEXT, treatment_subcategory
-- TEXT, age_range TEXT, days_to_review INTEGER, days_to_adopt INTEGER, reviewer_count INTEGER,
-- reviewers_for_outcome INTEGER, published_determination TEXT (indexed: DECISION_FIELD_INDEXES).
CREATE INDEX IF NOT EXISTS decisions_case ON decisions(case_number);
-- A person's choice of the letter that counts for a case whose letters disagree (`review --keep`).
CREATE TABLE IF NOT EXISTS case_choices (
    case_number TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    chosen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    doc_id TEXT NOT NULL REFERENCES decisions(doc_id) ON DELETE CASCADE,
    item_index INTEGER NOT NULL,
    service TEXT NOT NULL,
    category TEXT NOT NULL,
    determination TEXT NOT NULL,
    medically_necessary INTEGER,
    guideline_sources TEXT NOT NULL,
    determination_start INTEGER,
    determination_end INTEGER,
    authorized_portion TEXT,
    PRIMARY KEY (doc_id, item_index)
);
CREATE INDEX IF NOT EXISTS items_determination ON items(determination);
CREATE INDEX IF NOT EXISTS items_category ON items(category);
CREATE INDEX IF NOT EXISTS decisions_date ON decisions(decision_date);
CREATE INDEX IF NOT EXISTS decisions_specialty ON decisions(reviewer_specialty);
CREATE INDEX IF NOT EXISTS decisions_format ON decisions(letter_format);
CREATE INDEX IF NOT EXISTS decisions_extracted ON decisions(extracted_at);
CREATE TABLE IF NOT EXISTS extraction_failures (
    doc_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (doc_id, backend)
);
-- Letters written to a Batch API request file and not yet answered by a results file applied
-- since: a request the batch never answered (expired or cancelled without a line) stays listed.
CREATE TABLE IF NOT EXISTS batch_requests (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
"""


# Service words (lower-case, plural-blind: `textutil.service_tokens`) of every item, searchable
# with FTS5. External content: the words live in items.service_words; triggers keep the index in
# step with every insert and delete of an item (cascaded deletes included).
SERVICE_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(
    service_words, content='items', content_rowid='rowid', tokenize='unicode61'
);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts_vocab USING fts5vocab(items_fts, 'row');
-- Every column a question filters or groups on, so joining an item to its decision never reads the
-- decision's record (a few KB of JSON stored before superseded_by: reading past it walks overflow
-- pages, 50 ms per 20,000 decisions).
CREATE INDEX IF NOT EXISTS decisions_questions ON decisions(
    doc_id, superseded_by, decision_date, case_number, reviewer_specialty, letter_format
);
-- The few superseded versions, found from the decision that counts (`case_conflicts`).
CREATE INDEX IF NOT EXISTS decisions_superseded ON decisions(superseded_by) WHERE superseded_by IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, service_words) VALUES (new.rowid, new.service_words);
END;
CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, service_words) VALUES ('delete', old.rowid, old.service_words);
END;
"""

# The decision columns a question filters or groups on, copied onto each item when its decision is
# saved (they never change for a stored decision), and `current` (its decision is not superseded),
# kept in step with decisions.superseded_by by a trigger: counting questions read items alone, with
# no join per item (at a year of letters the join was 0.5 us per item of every tally).
ITEM_GROUP_KINDS = {
    "month": "substr({r}.decision_date, 1, 7)",
    "quarter": "substr({r}.decision_date, 1, 4) || '-Q' || ((CAST(substr({r}.decision_date, 6, 2) AS INTEGER) + 2) / 3)",
    "year": "substr({r}.decision_date, 1, 4)",
    "category": "{r}.category",
    "specialty": "{r}.reviewer_specialty",
    "determination": "{r}.determination",
    "format": "{r}.letter_format",
}
"""Group-by keys of current items, as SQL over an item row `{r}` (plus "guideline": each named
guideline family of the item, from its JSON list)."""


def _item_keys(r: str) -> str:
    """(kind, key) rows of item `r` for item_groups; a NULL key is stored as ''."""
    plain = " UNION ALL ".join(f"SELECT '{kind}' AS kind, COALESCE({sql.format(r=r)}, '') AS key"
                               for kind, sql in ITEM_GROUP_KINDS.items())
    return (f"{plain} UNION ALL SELECT 'guideline', COALESCE(g.value, '') FROM (SELECT 1) "
            f"LEFT JOIN json_each({r}.guideline_sources) g")


def _item_groups_change(r: str, delta: int) -> str:
    return (f"INSERT INTO item_groups (kind, key, determination, flagged, n) SELECT k.kind, k.key, "
            f"{r}.determination, COALESCE({r}.needs_review, 0), {delta} FROM ({_item_keys(r)}) AS k "
            f"WHERE {r}.current = 1 ON CONFLICT DO UPDATE SET n = n + excluded.n;")


ITEM_SUMMARY = f"""
CREATE INDEX IF NOT EXISTS items_current_date ON items(current, decision_date);
CREATE INDEX IF NOT EXISTS items_case ON items(case_number COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS items_current_specialty ON items(current, reviewer_specialty);
CREATE TRIGGER IF NOT EXISTS items_follow_decision AFTER UPDATE OF superseded_by ON decisions BEGIN
    UPDATE items SET current = (new.superseded_by IS NULL)
    WHERE doc_id = new.doc_id AND current IS NOT (new.superseded_by IS NULL);
END;
-- How many current items each group-by key holds, by outcome and review flag: a group-by or count
-- question with no other condition reads these few rows instead of every item. Kept by triggers
-- on every insert, delete (cascades included) and change of an item, in the item's transaction.
CREATE TABLE IF NOT EXISTS item_groups (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    determination TEXT NOT NULL,
    flagged INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, key, determination, flagged)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS item_groups_insert AFTER INSERT ON items BEGIN
    {_item_groups_change("new", 1)}
END;
CREATE TRIGGER IF NOT EXISTS item_groups_delete AFTER DELETE ON items BEGIN
    {_item_groups_change("old", -1)}
END;
CREATE TRIGGER IF NOT EXISTS item_groups_update AFTER UPDATE OF current, needs_review, determination, category,
    guideline_sources, decision_date, reviewer_specialty, letter_format ON items BEGIN
    {_item_groups_change("old", -1)}
    {_item_groups_change("new", 1)}
END;
"""

# The filters questions put on tabular rows ("since 2020", "by diagnosis category", "experimental /
# investigational reviews"), each over the decisions that count.
DECISION_FIELD_INDEXES = """
CREATE INDEX IF NOT EXISTS decisions_report_year ON decisions(report_year);
CREATE INDEX IF NOT EXISTS decisions_diagnosis_category ON decisions(diagnosis_category, report_year);
CREATE INDEX IF NOT EXISTS decisions_review_type ON decisions(review_type, report_year);
"""

BUMP_META = (
    "INSERT INTO meta VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)


def decision_field_sql(column: str) -> str:
    """SQL reading one tabular column's value out of a decision's stored JSON record."""
    return f"json_extract(record, '$.{'priority' if column == 'imr_type' else column}')"


class SchemaMigrations:
    """Run once when a catalog is opened: columns, indexes and summaries added since a file was created."""

    ADDED_COLUMNS = [
        ("decisions", "reviewer_specialty", "TEXT"), ("items", "authorized_portion", "TEXT"),
        ("decisions", "superseded_by", "TEXT"), ("items", "service_words", "TEXT"),
        ("decisions", "needs_review", "INTEGER"), ("decisions", "review_reasons", "TEXT"),
        ("items", "needs_review", "INTEGER"), ("items", "review_reasons", "TEXT"),
        ("items", "current", "INTEGER"), ("items", "case_number", "TEXT"), ("items", "letter_format", "TEXT"),
        ("items", "decision_date", "TEXT"), ("items", "reviewer_specialty", "TEXT"),
        ("decisions", "substance", "TEXT"), ("documents", "row_of", "TEXT"),
        *(("decisions", column, declaration) for column, declaration in DECISION_FIELD_COLUMNS),
    ]

    def _add_missing_columns(self) -> None:
        added: set[str] = set()
        for table, column, declaration in self.ADDED_COLUMNS:
            existing = {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in existing:
                with self.db:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                added.add(f"{table}.{column}")
        with self.db:
            self.db.executescript(DECISION_FIELD_INDEXES)
        if any(f"decisions.{column}" in added for column, _ in DECISION_FIELD_COLUMNS):
            self._fill_decision_fields()

    def _fill_decision_fields(self) -> None:
        """A catalog written before the tabular columns existed gets them from each stored record
        of a tabular format (letters hold none of them: their columns stay NULL)."""
        names = [column for column, _ in DECISION_FIELD_COLUMNS]
        marks = ",".join("?" * len(TABULAR_FORMATS))
        with self.db:
            self.db.execute(
                f"UPDATE decisions SET ({', '.join(names)}) = (SELECT "
                + ", ".join(decision_field_sql(c) for c in names) + f") WHERE letter_format IN ({marks})",
                TABULAR_FORMATS,
            )

    def _fill_review_columns(self) -> None:
        """A catalog written before the review columns existed gets them from each stored record
        (its flags as they were stored; re-run `extract` to put old records through the checks)."""
        rows = self.db.execute("SELECT doc_id, record FROM decisions WHERE needs_review IS NULL").fetchall()
        if rows:
            with self.db:
                for row in rows:
                    _write_review(self.db, row["doc_id"], Decision.model_validate_json(row["record"]))

    def _fill_substance(self) -> None:
        """A catalog written before conflicts were told apart gets each decision's substance, and
        its cases with several letters are settled again under the rule of `_settle_versions`."""
        rows = self.db.execute("SELECT doc_id, case_number, record FROM decisions WHERE substance IS NULL").fetchall()
        if rows:
            with self.db:
                for row in rows:
                    self.db.execute("UPDATE decisions SET substance = ? WHERE doc_id = ?",
                                    (substance_of(Decision.model_validate_json(row["record"])), row["doc_id"]))
                for case in {row["case_number"] for row in rows}:
                    _settle_versions(self.db, case)

    def _ensure_item_summary(self) -> None:
        """The items' copy of their decision's columns and the `item_groups` counts. Items of a
        catalog written before them get the columns from their decision (the triggers count them)."""
        with self.db:
            self.db.executescript(ITEM_SUMMARY)
            self.db.execute(
                "UPDATE items SET (current, case_number, letter_format, decision_date, reviewer_specialty) ="
                " (SELECT d.superseded_by IS NULL, d.case_number, d.letter_format, d.decision_date, d.reviewer_specialty"
                " FROM decisions d WHERE d.doc_id = items.doc_id) WHERE current IS NULL"
            )
            if self.db.execute("SELECT 1 FROM item_groups LIMIT 1").fetchone() is None:
                self._recount_item_groups()

    def _recount_item_groups(self) -> None:
        """item_groups counted afresh from the items (what the triggers keep it equal to)."""
        self.db.execute("DELETE FROM item_groups")
        keys = [(kind, f"COALESCE({sql.format(r='i')}, '')", "") for kind, sql in ITEM_GROUP_KINDS.items()]
        keys.append(("guideline", "COALESCE(g.value, '')", " LEFT JOIN json_each(i.guideline_sources) g"))
        for kind, key, join in keys:
            self.db.execute(
                f"INSERT INTO item_groups (kind, key, determination, flagged, n) SELECT '{kind}', {key},"
                f" i.determination, COALESCE(i.needs_review, 0), COUNT(*) FROM items i{join} WHERE i.current = 1"
                " GROUP BY 2, 3, 4"
            )

    def item_group_drift(self) -> list[tuple]:
        """(kind, key, determination, flagged, kept, counted) where the kept counts differ from a
        recount of the items; empty when the triggers kept them exactly."""
        kept = {tuple(r[:4]): r[4] for r in self.db.execute("SELECT * FROM item_groups WHERE n != 0")}
        self.db.execute("SAVEPOINT recount")
        try:
            self._recount_item_groups()
            counted = {tuple(r[:4]): r[4] for r in self.db.execute("SELECT * FROM item_groups")}
        finally:
            self.db.execute("ROLLBACK TO recount")
            self.db.execute("RELEASE recount")
        return sorted(k + (kept.get(k, 0), counted.get(k, 0)) for k in kept.keys() | counted.keys()
                      if kept.get(k, 0) != counted.get(k, 0))

    def _ensure_service_index(self) -> None:
        """The full-text index of item services (`items_fts`, kept in step by triggers). A catalog
        written before it existed gets its service words computed and the index built once."""
        with self.db:
            self.db.executescript(SERVICE_INDEX)
            missing = self.db.execute("SELECT rowid, service FROM items WHERE service_words IS NULL").fetchall()
            if missing:
                self.db.executemany(
                    "UPDATE items SET service_words = ? WHERE rowid = ?",
                    [(" ".join(service_tokens(r["service"])), r["rowid"]) for r in missing],
                )
                self.db.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
