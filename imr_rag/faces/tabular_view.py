"""The Decisions tab's view of DMHC table rows: their own columns, and their outcomes counted by
diagnosis category and by report year for the tab's two charts.

Pure: item rows (`catalog.export.table`, level 'item', as `AppService.item_rows` gives them) in,
plain lists out; no gradio. Letters have none of these columns, so the tab shows them (and the
charts) only when the filtered items hold DMHC rows.
"""

from __future__ import annotations

from collections import Counter

ROW_COLUMNS = ("report_year", "review_type", "diagnosis_category", "treatment_subcategory", "published_determination")
"""The DMHC columns the table adds after its own (the exports carry every one of them)."""
ROW_HEADERS = {
    "report_year": "Year", "review_type": "Review type", "diagnosis_category": "Diagnosis category",
    "treatment_subcategory": "Treatment", "published_determination": "Published outcome",
}
ROW_WIDTHS = {
    "report_year": "70px", "review_type": "150px", "diagnosis_category": "170px", "treatment_subcategory": "170px",
    "published_determination": "110px",
}
REVIEW_TYPES = {"medical_necessity": "medical necessity", "experimental_investigational": "experimental/investigational",
                "urgent_care": "urgent care"}
OUTCOME_ORDER = ("upheld", "overturned", "partially_overturned")
NOT_STATED = "not stated"


def has_table_rows(rows: list[dict]) -> bool:
    """Whether any of the item rows comes from a DMHC table row (it has a report year or a review type)."""
    return any(r.get("report_year") is not None or r.get("review_type") for r in rows)


def row_values(row: dict) -> list:
    """The ROW_COLUMNS of one item row as the table shows them (blank for a letter)."""
    shown = {**row, "review_type": REVIEW_TYPES.get(row.get("review_type") or "", row.get("review_type"))}
    return ["" if shown.get(c) is None else shown[c] for c in ROW_COLUMNS]


def outcomes_by(rows: list[dict], column: str) -> list[dict]:
    """[{column: label, "outcome": ..., "items": n}] over the DMHC rows among `rows`: one entry per
    label and outcome, labels ordered for the chart (years ascending; categories most items first)."""
    counts: Counter = Counter()
    for r in rows:
        if r.get("report_year") is None and not r.get("review_type"):
            continue  # a letter: no DMHC columns
        value = r.get(column)
        counts[(NOT_STATED if value in (None, "") else str(value), r["determination"])] += 1
    totals: Counter = Counter()
    for (label, _), n in counts.items():
        totals[label] += n
    order = sorted(totals, key=(lambda x: (x == NOT_STATED, x)) if column == "report_year"
                   else (lambda x: (x == NOT_STATED, -totals[x], x)))
    return [{column: label, "outcome": outcome.replace("_", " "), "items": counts[(label, outcome)]}
            for label in order for outcome in OUTCOME_ORDER if counts[(label, outcome)]]


def label_order(entries: list[dict], column: str) -> list[str]:
    """The labels of `outcomes_by` in their order (the chart's x axis sorts by this list)."""
    return list(dict.fromkeys(e[column] for e in entries))
