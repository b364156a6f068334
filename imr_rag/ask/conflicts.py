"""What an answer must say about cases whose letters disagree (see `Catalog.case_conflicts`)."""

from __future__ import annotations

from pathlib import Path

from imr_rag.catalog import Catalog
from imr_rag.schema import Answer


def conflict_notes(catalog: Catalog, answer: Answer) -> list[str]:
    """A note for each case this answer counted or cited whose letters disagree: what counts is
    the letter stored first (or the one a person chose), never the later one by itself."""
    conflicts = {c.case_number: c for c in catalog.case_conflicts()}
    if not conflicts:
        return []
    involved = {c.case_number for c in answer.counted} | {c.case_number for c in answer.citations}
    if answer.counted_total > len(answer.counted):  # a shortened list: any case may be among them
        involved |= set(conflicts)
    shown = sorted(involved & set(conflicts))
    if not shown:
        return []
    which = ", ".join(f"{case} (counted as in {Path(conflicts[case].path).name})" for case in shown)
    return [f"{len(shown)} case{'s' if len(shown) > 1 else ''} with conflicting letters: {which}; "
            "see `imr-rag review --check case_conflict`"]
