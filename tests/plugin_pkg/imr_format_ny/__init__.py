"""A minimal third letter format, installed by the plugin test like any third-party package."""

import re

from imr_rag.formats.spans import evidence_at
from imr_rag.schema import Decision, Determination, DisputedItem, ItemEvidence, Section, SourceRef

name = "ny_external_appeal"

TITLE = re.compile(r"NEW YORK STATE EXTERNAL APPEAL DETERMINATION")
ITEM = re.compile(r"^Service: (?P<service>.+)\nDetermination: (?P<outcome>Upheld|Overturned)$", re.M)
CASE = re.compile(r"Appeal Number: (\S+)")


def detect(text):
    return 0.9 if TITLE.search(text) else 0.0


def sections(text):
    first = ITEM.search(text)
    cut = first.start() if first else len(text)
    parts = [Section(name="header", start=0, end=cut)]
    if first:
        parts.append(Section(name="item", start=cut, end=len(text), item_index=0))
    return parts


def case_number(text):
    match = CASE.search(text)
    return match.group(1) if match else None


def parse(document):
    text = document.text
    items = []
    for match in ITEM.finditer(text):
        items.append(
            DisputedItem(
                service=match.group("service"),
                determination=Determination(match.group("outcome").lower()),
                evidence=ItemEvidence(
                    service=evidence_at(text, *match.span("service")),
                    determination=evidence_at(text, *match.span()),
                ),
            )
        )
    return Decision(
        case_number=case_number(text), letter_format=name, items=items,
        source=SourceRef(path=document.path, doc_id=document.doc_id),
    )
