"""Adding files through the app: what the ingest and extraction of uploaded letters and DMHC
tables did (`UploadSummary`, `TableTally`), and the two ways in (`add_letters`, `add_tables`).
`AppService.upload` copies what a browser sent into the data folder and calls these."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from imr_rag.errors import redact
from imr_rag.extract.service import ExtractionService, default_backend
from imr_rag.faces.markdown import escape_markdown
from imr_rag.ingest.pipeline import IngestReport
from imr_rag.ingest.tabular import failed_row_name
from imr_rag.library import Library

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total), as the library reports it."""


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# -- results ------------------------------------------------------------------------------
@dataclass
class TableTally:
    """What adding one DMHC IMR determinations CSV did, counted in rows."""

    name: str
    added: int = 0
    present: int = 0
    """Rows whose version was stored already (by an earlier export or upload)."""
    revised: int = 0
    """Rows that are the publisher's new version of a stored row (the old one is kept, superseded)."""
    failed: int = 0
    """Rows that could not be read (each one a line of the failures table: "FILE row N")."""
    refused: bool = False
    """The whole file was not read (another layout, unreadable): its reason is in the failures table."""

    def message(self) -> str:
        name = escape_markdown(self.name)
        if self.refused:
            return f"{name}: not read, see Failures"
        return (f"{name}: {self.added} rows added, {self.present} already present, {self.revised} revised,"
                f" {self.failed} failed")


def tally_table(report: IngestReport, table: str) -> TableTally:
    """The rows of `table` in an ingest report (rows are named "TABLE#ReferenceID", failed ones
    "TABLE row N", and a file refused as a whole by its own path)."""
    row, failed_row = f"{table}#", failed_row_name(table, 0)[:-1]
    of_table = lambda names: sum(1 for n in names if n.startswith(row))  # noqa: E731
    return TableTally(
        Path(table).name, added=of_table(report.ingested), present=of_table(report.unchanged),
        revised=of_table(report.replaced), failed=sum(1 for p, _ in report.failed if p.startswith(failed_row)),
        refused=any(p == table for p, _ in report.failed),
    )


@dataclass
class UploadSummary:
    """What adding files through the app did: ingest and extraction, with every failure's reason."""

    ingested: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    extracted: list[str] = field(default_factory=list)
    items: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    """(file name, stage 'ingest' or 'extract', reason); a table's row is named "FILE row N"
    (unreadable) or "FILE#ReferenceID" (not extractable)."""
    tables: list[TableTally] = field(default_factory=list)
    """One per DMHC CSV added; its rows are not in the letter lists above."""
    rows_extracted: int = 0
    row_failures: int = 0
    """Entries of `failures` that are about the tables (the file, a row, a row's extraction)."""

    def message(self) -> str:
        """One line for the letters (unless only tables were added), one per table, and the rows
        extracted; lines end with two spaces (a Markdown line break)."""
        lines = [t.message() for t in self.tables]
        if self.tables:
            lines.append(f"extracted {self.rows_extracted} rows")
        if not self.tables or self.ingested or self.replaced or self.unchanged or len(self.failures) > self.row_failures:
            lines.insert(0, ", ".join([
                f"ingested {len(self.ingested)}", f"replaced {len(self.replaced)}",
                f"unchanged {len(self.unchanged)}", f"extracted {len(self.extracted)} ({self.items} items)",
                f"failed {len(self.failures) - self.row_failures}",
            ]))
        return "  \n".join(lines)


def throttled(progress: Progress, seconds: float = 0.25) -> Progress:
    """`progress` called at most every `seconds` within a stage, plus each stage's first and last
    call: a 42,700-row table reports once per row, and a progress bar needs far fewer updates."""
    last: dict[str, object] = {"stage": None, "at": 0.0}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != last["stage"] or done >= total or now - last["at"] >= seconds:
            last["stage"], last["at"] = stage, now
            progress(stage, done, total)

    return report


def add_letters(
    library: Library, paths: list[Path], backend: str | None, summary: UploadSummary, progress: Progress
) -> None:
    """Ingest (with embedding) letters or folders, then extract those without a decision with
    `backend` (the configured one when None)."""
    report = library.ingest(list(paths), progress=progress)
    summary.ingested = [Path(p).name for p in report.ingested]
    summary.replaced = [Path(p).name for p in report.replaced]
    summary.unchanged = [Path(p).name for p in report.unchanged]
    secrets = library.settings.secrets()
    summary.failures += [(Path(p).name, "ingest", redact(reason, secrets)) for p, reason in report.failed]
    extractor = ExtractionService(library.settings, library.catalog, backend or default_backend(library.settings))
    catalog = library.catalog
    targets = [
        doc_id for name in (*report.ingested, *report.replaced, *report.unchanged)
        if (doc_id := catalog.doc_for_path(name)) and catalog.decision(doc_id) is None
    ]
    docs = (catalog.load_document(doc_id) for doc_id in targets)
    for result in extractor.run(docs, len(targets), progress=progress):
        name = Path(result.source).name
        if result.decision is not None:
            summary.extracted.append(name)
            summary.items += len(result.decision.items)
        else:
            summary.failures.append((name, "extract", redact(result.error or "unknown error", secrets)))


def add_tables(library: Library, tables: list[Path], summary: UploadSummary, progress: Progress) -> None:
    """DMHC IMR determinations CSVs: each row a document, read, stored and extracted (rules) in batches; then the rows of
    these tables still without a decision (not extractable, or stored earlier without
    extraction) are extracted one by one, so that each failure comes with its reason."""
    catalog = library.catalog
    report = library.ingest(list(tables), extract="rules", progress=progress)
    secrets = library.settings.secrets()
    summary.tables += [tally_table(report, str(t)) for t in tables]
    summary.failures += [(Path(p).name, "ingest", redact(reason, secrets)) for p, reason in report.failed]
    summary.row_failures += len(report.failed)
    summary.rows_extracted += report.extracted
    targets = [doc_id for t in tables for doc_id in catalog.unextracted_rows(str(t))]
    docs = (catalog.load_document(doc_id) for doc_id in targets)
    for result in ExtractionService(library.settings, catalog, "rules").run(docs, len(targets), progress=progress):
        if result.decision is not None:
            summary.rows_extracted += 1
        else:
            reason = redact(result.error or "unknown error", secrets)
            summary.failures.append((Path(result.source).name, "extract", reason))
            summary.row_failures += 1
