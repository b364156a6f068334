"""Decisions table out of the catalog: CSV, JSONL or Parquet, one row per decision or per item."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from imr_rag.catalog.decisions import DECISION_FIELD_COLUMNS, decision_field_values
from imr_rag.schema import Decision, review_reasons

FORMATS = ("csv", "jsonl", "parquet")
LEVELS = ("decision", "item")
TABULAR_COLUMNS = tuple(column for column, _ in DECISION_FIELD_COLUMNS)
"""The tabular Decision fields (DMHC rows), named as the catalog's columns; empty for letters."""


def decision_row(doc_id: str, backend: str, d: Decision) -> dict:
    counts = {det: sum(1 for i in d.items if i.determination.value == det) for det in ("upheld", "overturned", "partially_overturned")}
    return {
        "doc_id": doc_id,
        "source": d.source.path,
        "backend": backend,
        "case_number": d.case_number,
        "letter_format": d.letter_format,
        "decision_date": d.decision_date,
        "date_of_injury": d.date_of_injury,
        "date_assigned": d.date_assigned,
        "ur_denial_date": d.ur_denial_date,
        "application_received": d.application_received,
        "priority": d.priority,
        "reviewer_specialty": d.reviewer.specialty,
        "reviewer_licensure": "; ".join(d.reviewer.licensure),
        "patient_age": d.patient.age,
        "patient_sex": d.patient.sex,
        "diagnoses": "; ".join(d.diagnoses),
        "items": len(d.items),
        "upheld": counts["upheld"],
        "overturned": counts["overturned"],
        "partially_overturned": counts["partially_overturned"],
        "needs_review": d.needs_review,
        "review_reasons": review_reasons(d.review_flags),
        **dict(zip(TABULAR_COLUMNS, decision_field_values(d))),
    }


def item_rows(doc_id: str, backend: str, d: Decision) -> list[dict]:
    base = decision_row(doc_id, backend, d)
    rows = []
    for n, item in enumerate(d.items):
        ev = item.evidence.determination
        rows.append(
            {
                **base,
                "item_index": n,
                "service": item.service,
                "original_request": item.original_request,
                "authorized_portion": item.authorized_portion,
                "category": item.category.value,
                "determination": item.determination.value,
                "medically_necessary": item.medically_necessary,
                "guideline_sources": "; ".join(sorted({g.source for g in item.guidelines if g.cited_by == "reviewer"})),
                "guidelines": " | ".join(g.citation for g in item.guidelines if g.cited_by == "reviewer"),
                "rationale": item.rationale,
                "determination_start": ev.start if ev else None,
                "determination_end": ev.end if ev else None,
                **item_review(d, n),
            }
        )
    return rows


def item_review(d: Decision, n: int) -> dict:
    """An item needs review when a flag names it or concerns the whole letter."""
    flags = d.item_flags(n)
    return {"needs_review": bool(flags), "review_reasons": review_reasons(flags)}


def table(decisions: list[tuple[str, str, Decision]], level: str) -> list[dict]:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    if level == "decision":
        return [decision_row(*entry) for entry in decisions]
    return [row for entry in decisions for row in item_rows(*entry)]


def write_table(rows: list[dict], fmt: str, path: Path) -> None:
    """Write rows; an empty table still gets its header (CSV) or schema-less file."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["doc_id"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
