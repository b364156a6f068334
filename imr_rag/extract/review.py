"""The review queue: every flag of every current decision that needs a person's look, with the
passage of the letter to read, and every case whose letters disagree (`imr-rag review`); and the
person's answer to a disagreement (`imr-rag review --keep CASE FILE`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from imr_rag.catalog import Catalog
from imr_rag.schema import Decision, ReviewFlag
from imr_rag.textutil import normalize_case_number

EXCERPT_CHARS = 400


@dataclass(frozen=True)
class ReviewEntry:
    """One reason a record needs review, and where in the letter to look."""

    case_number: str | None
    doc_id: str
    source: str
    item_index: int | None
    service: str | None
    check: str
    reason: str
    start: int | None
    end: int | None
    excerpt: str | None

    def as_dict(self) -> dict:
        return asdict(self)


CASE_CONFLICT = "case_conflict"
REVISED = "revised"
"""A row of a published table that a later export changed: its old version is kept, superseded."""


def review_entries(catalog: Catalog, *, check: str | None = None) -> list[ReviewEntry]:
    """Flags of the current decisions that need review (optionally one check's only), by case:
    first the cases whose letters disagree, then the table rows revised in a later export, then
    each record's own flags."""
    entries = [] if check not in (None, CASE_CONFLICT) else conflict_entries(catalog)
    if check in (None, REVISED):
        entries += revision_entries(catalog)
    for doc_id, decision in catalog.flagged_decisions():
        stored = catalog.document(doc_id)
        text = stored.text if stored else ""
        for f in decision.review_flags:
            if check is None or f.check == check:
                entries.append(_entry(doc_id, decision, f, text))
    return entries


def conflict_entries(catalog: Catalog) -> list[ReviewEntry]:
    """One entry per letter that disagrees with the decision that counts for its case."""
    return [
        ReviewEntry(
            case_number=c.case_number, doc_id=c.doc_id, source=c.path, item_index=None, service=None,
            check=CASE_CONFLICT, start=None, end=None, excerpt=None,
            reason=f"{other_path} gives another decision for this case than {c.path}, which counts "
                   f"(the first stored); choose with `imr-rag review --keep {c.case_number} FILE`",
        )
        for c in catalog.case_conflicts()
        for _other, other_path in c.others
    ]


def revision_entries(catalog: Catalog) -> list[ReviewEntry]:
    """One entry per superseded version of a table row: the publisher revised it in a later
    export (not a conflict: the newer row counts without a person's choice)."""
    return [
        ReviewEntry(
            case_number=r.case_number, doc_id=r.doc_id, source=r.path, item_index=None, service=None,
            check=REVISED, start=None, end=None, excerpt=None,
            reason="revised in a later export: " + (
                f"the row read from {r.table} is superseded by the row read from {r.current_table}"
                if r.table != r.current_table else f"the row first read from {r.table} changed in a later read of it"
            ) + ", which counts (both versions are kept)",
        )
        for r in catalog.row_revisions()
    ]


def keep_version(catalog: Catalog, case_number: str, ref: str) -> str:
    """Make the letter `ref` (a path, file name or doc id) of `case_number` the one that counts;
    its path. ValueError when the case has no such letter."""
    case = normalize_case_number(case_number)
    versions = catalog.case_versions(case)
    if not versions:
        raise ValueError(f"no letter in the library has case number {case}")
    chosen = [v for v in versions if ref in (v["doc_id"], v["path"]) or Path(v["path"]).name == ref
              or v["path"].endswith("/" + ref)]
    if len(chosen) != 1:
        listed = ", ".join(v["path"] for v in versions)
        raise ValueError(f"{ref!r} names {'none' if not chosen else 'more than one'} of the letters of "
                         f"{case} ({listed})")
    catalog.choose_version(case, chosen[0]["doc_id"])
    return chosen[0]["path"]


def _entry(doc_id: str, decision: Decision, f: ReviewFlag, text: str) -> ReviewEntry:
    item = decision.items[f.item_index] if f.item_index is not None and f.item_index < len(decision.items) else None
    start, end = f.start, f.end
    if start is None and item is not None and item.evidence.determination is not None:
        start, end = item.evidence.determination.start, item.evidence.determination.end
    excerpt = None
    if start is not None and end is not None and 0 <= start < end <= len(text):
        excerpt = " ".join(text[start:end].split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 3] + "..."
    return ReviewEntry(
        case_number=decision.case_number, doc_id=doc_id, source=decision.source.path, item_index=f.item_index,
        service=item.service if item else None, check=f.check, reason=f.reason,
        start=start if excerpt is not None else None, end=end if excerpt is not None else None, excerpt=excerpt,
    )


def summary(entries: list[ReviewEntry]) -> dict:
    return {
        "flags": len(entries),
        "letters": len({e.doc_id for e in entries}),
        "items": len({(e.doc_id, e.item_index) for e in entries if e.item_index is not None}),
        "by_check": {c: sum(1 for e in entries if e.check == c) for c in sorted({e.check for e in entries})},
    }
