"""Pure: coarse service category and guideline family from the words the letters use."""

from __future__ import annotations

import re

from imr_rag.schema import Category

# Order matters: the first rule that matches wins ("MRI-guided injection" is an injection).
_CATEGORY_RULES: list[tuple[Category, re.Pattern[str]]] = [
    (Category.other, re.compile(
        r"evaluation|consultation|\bconsult\b|re-?exam|office visit|follow-?up visit|transportation|"
        r"home (?:health )?aide|\bFCE\b|drug screen|urine|laboratory|\blabs?\b", re.I)),
    (Category.injection, re.compile(
        r"injection|epidural|\besi\b|nerve block|\bblock\b|facet|radiofrequency|ablation|botox|"
        r"trigger point|viscosupplement|synvisc|prp\b|platelet", re.I)),
    (Category.surgery, re.compile(
        r"surgery|surgical(?! service)|arthroscop|arthroplasty|fusion|laminectomy|discectomy|"
        r"decompression|repair|replacement|neuroplasty|release|implant|placement of|pump placement|"
        r"excision|reconstruction|tenodesis|osteotomy|stimulator trial|carpal tunnel", re.I)),
    (Category.imaging, re.compile(
        r"\bmri\b|magnetic resonance|x-?rays?\b|radiograph|\bct\b|computed tomography|ultrasound of|"
        r"\bemg\b|\bncv\b|\bncs\b|nerve conduction|electromyograph|bone scan|imaging|scan\b", re.I)),
    (Category.dme, re.compile(
        r"\btens\b|\bunit\b|brace|sling|orthotic|orthosis|wheelchair|walker|cane\b|hospital bed|"
        r"\bbed\b|cold therapy|hot (?:and|&) cold|hot/cold|cryo|compression|pillow|mattress|durable medical|\bdme\b|"
        r"collar|splint|insoles|shoes|machine|rental|purchase", re.I)),
    (Category.therapy, re.compile(
        r"physical therapy|therapy|acupuncture|chiropract|manipulation|massage|rehabilitation|"
        r"work hardening|functional restoration|pulsed ultrasound|electrical muscle stimulation|"
        r"aquatic|exercise|sessions", re.I)),
    (Category.medication, re.compile(
        r"\d+\s*(?:mg|mcg|g|ml|%)\b|#\s*\d+|tablet|tabs?\b|capsule|cream|gel\b|ointment|patch|"
        r"compound|refill|prescription|medication|norco|tramadol|baclofen|lyrica|gabapentin|"
        r"cyclobenzaprine|opioid|oxycodone|ibuprofen|naproxen|omeprazole|prilosec|pantoprazole|"
        r"lidocaine|lidoderm|zofran|percocet|fentanyl|(?:unknown quantity)", re.I)),
]

_ODG = re.compile(r"official\s+disability\s+guidelines|\bODG\b", re.I)
_ACOEM = re.compile(r"\bACOEM\b|american\s+college\s+of\s+occupational", re.I)
_MTUS = re.compile(r"\bMTUS\b|medical\s+treatment\s+utilization\s+schedule", re.I)


def categorize(service: str) -> Category:
    for category, pattern in _CATEGORY_RULES:
        if pattern.search(service):
            return category
    return Category.other


def guideline_family(citation: str) -> str:
    """The family of one citation clause: 'Non-MTUS Citation ODG ...' is ODG, not MTUS."""
    if _MTUS.search(citation) and not re.search(r"non-?\s*MTUS", citation, re.I):
        return "MTUS"
    if _ODG.search(citation):
        return "ODG"
    if _ACOEM.search(citation):
        return "ACOEM"
    return "other"
