"""Pure scoring functions: gold records vs extracted records, ranked hits, cited answers.

Records are plain dicts (the gold JSON, or `Decision.model_dump(mode="json")`), hits and
citations anything with the schema's attribute names, so every function can be fed hand-made
cases. Nothing here reads files or calls the library.

Extraction is scored as slot filling. Gold items are paired one-to-one with extracted items by
service-name similarity (`imr_rag.extract.merge.match_items`); every field then counts
true positives (same value), false positives (a value that is wrong or has no gold item) and
false negatives (a gold value that is missing or wrong), micro-summed over letters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from imr_rag.extract.merge import DATE_FIELDS, MATCH_THRESHOLD, match_items

FIELDS = (
    "items", "determination", "category", "guidelines", "original_request", "authorized_portion",
    "dates", "case_number", "reviewer_specialty",
)
ITEM_SLOTS = ("determination", "category", "original_request", "authorized_portion")
EVIDENCE_KEYS = ("service", "determination", "rationale")
PASSAGE_KINDS = ("determination", "passage")  # questions whose expected_quote is the answer's passage
DOC_LEVEL_KINDS = ("count", "case")  # any passage of an expected letter supports these answers


# -- counting ----------------------------------------------------------------------------------
def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass
class Counts:
    """True positives, false positives and false negatives of one field."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def slot(self, gold: Any, predicted: Any) -> None:
        """Score one value: right (tp), wrong (fp and fn), spurious (fp) or missing (fn)."""
        has_gold, has_pred = _present(gold), _present(predicted)
        if has_gold and has_pred and same_value(gold, predicted):
            self.tp += 1
            return
        self.fp += has_pred
        self.fn += has_gold

    @property
    def perfect(self) -> bool:
        return self.fp == 0 and self.fn == 0

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def as_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def normalise_space(text: str) -> str:
    return " ".join(text.split())


_PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def same_value(a: Any, b: Any) -> bool:
    """Equal, ignoring case, runs of whitespace and typographic vs plain quotes for strings."""
    if isinstance(a, str) and isinstance(b, str):
        return (normalise_space(a).casefold().translate(_PLAIN_QUOTES)
                == normalise_space(b).casefold().translate(_PLAIN_QUOTES))
    return a == b


# -- extraction --------------------------------------------------------------------------------
def match_gold_items(gold_items: Sequence[dict], predicted_items: Sequence[dict],
                     threshold: float = MATCH_THRESHOLD) -> dict[int, int]:
    """One-to-one pairs gold index -> predicted index by service similarity, best pairs first."""
    return match_items(
        [normalise_space(i.get("service") or "") for i in gold_items],
        [normalise_space(i.get("service") or "") for i in predicted_items],
        threshold,
    )


def reviewer_guidelines(item: dict) -> set[str]:
    """Guideline families the reviewer relied on (the claims administrator's do not count)."""
    return {
        g["source"] for g in item.get("guidelines") or []
        if g.get("source") and (g.get("cited_by") or "reviewer") == "reviewer"
    }


@dataclass
class LetterScore:
    """Per-field counts for one letter, and the gold -> predicted item pairs."""

    fields: dict[str, Counts]
    pairs: dict[int, int] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return all(c.perfect for c in self.fields.values())


def score_letter(gold: dict, predicted: dict | None) -> LetterScore:
    """Compare one extracted record (None when extraction failed) with its gold record."""
    predicted = predicted or {}
    fields = {name: Counts() for name in FIELDS}
    gold_items, pred_items = gold.get("items") or [], predicted.get("items") or []
    pairs = match_gold_items(gold_items, pred_items)
    fields["items"] = Counts(tp=len(pairs), fp=len(pred_items) - len(pairs), fn=len(gold_items) - len(pairs))
    for i, item in enumerate(gold_items):
        _score_item(fields, item, pred_items[pairs[i]] if i in pairs else {})
    paired = set(pairs.values())
    for j, item in enumerate(pred_items):
        if j not in paired:
            _score_item(fields, {}, item)
    for name in DATE_FIELDS:
        fields["dates"].slot(gold.get(name), predicted.get(name))
    fields["case_number"].slot(gold.get("case_number"), predicted.get("case_number"))
    fields["reviewer_specialty"].slot(
        (gold.get("reviewer") or {}).get("specialty"), (predicted.get("reviewer") or {}).get("specialty")
    )
    return LetterScore(fields=fields, pairs=pairs)


def _score_item(fields: dict[str, Counts], gold: dict, predicted: dict) -> None:
    for name in ITEM_SLOTS:
        fields[name].slot(gold.get(name), predicted.get(name))
    g, p = reviewer_guidelines(gold), reviewer_guidelines(predicted)
    fields["guidelines"].add(Counts(tp=len(g & p), fp=len(p - g), fn=len(g - p)))


def evidence_spans(predicted: dict | None) -> list[dict]:
    """Every evidence span (quote, start, end) of an extracted record."""
    spans = []
    for item in (predicted or {}).get("items") or []:
        evidence = item.get("evidence") or {}
        spans += [evidence[key] for key in EVIDENCE_KEYS if evidence.get(key)]
    return spans


def grounding(predicted: dict | None, text: str) -> tuple[int, int]:
    """(spans whose text[start:end] is exactly the quote, all spans)."""
    spans = evidence_spans(predicted)
    return sum(1 for s in spans if _slice_is_quote(text, s["start"], s["end"], s["quote"])), len(spans)


def _slice_is_quote(text: str, start: int, end: int, quote: str) -> bool:
    return 0 <= start < end <= len(text) and text[start:end] == quote


def summarize_letters(scores: Iterable[LetterScore], grounded: Iterable[tuple[int, int]] = ()) -> dict:
    """Micro-averaged per-field P/R/F1, exact-match rate and grounding rate over letters."""
    scores = list(scores)
    totals = {name: Counts() for name in FIELDS}
    for score in scores:
        for name, counts in score.fields.items():
            totals[name].add(counts)
    spans = list(grounded)
    return {
        "letters": len(scores),
        "fields": {name: c.as_dict() for name, c in totals.items()},
        "exact_match_rate": _ratio(sum(s.exact for s in scores), len(scores)),
        "grounding_rate": _ratio(sum(g for g, _ in spans), sum(t for _, t in spans)),
        "evidence_spans": sum(t for _, t in spans),
    }


# -- retrieval ---------------------------------------------------------------------------------
def hit_from_expected_letter(hit: Any, question: Any) -> bool:
    """The hit comes from an expected source file or an expected case number."""
    if PurePath(hit.source).name in question.expected_source_files:
        return True
    return hit.case_number is not None and hit.case_number in question.expected_case_numbers


def contains_quote(text: str, quote: str) -> bool:
    return normalise_space(quote) in normalise_space(text)


def is_passage_question(question: Any) -> bool:
    return question.kind in PASSAGE_KINDS and bool(question.expected_quote)


def hit_is_relevant(hit: Any, question: Any, passage: bool = False) -> bool:
    """Letter-level relevance; with passage=True the hit must also contain the expected quote."""
    if not hit_from_expected_letter(hit, question):
        return False
    return not passage or contains_quote(hit.text, question.expected_quote or "")


def first_relevant_rank(hits: Sequence[Any], question: Any, passage: bool = False) -> int | None:
    """1-based rank of the first relevant hit, or None."""
    return next((n for n, hit in enumerate(hits, 1) if hit_is_relevant(hit, question, passage)), None)


def recall_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions with a relevant hit in the top k."""
    return _ratio(sum(1 for r in ranks if r is not None and r <= k), len(ranks))


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    return _ratio(sum(1.0 / r for r in ranks if r), len(ranks))


# -- answers -----------------------------------------------------------------------------------
CITATION_MARK = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
OUTCOME_WORD = re.compile(
    r"\b(?P<neg>not\s+(?:been\s+)?)?(?P<word>partial(?:ly)?\s+overturn(?:ed)?|overturned\s+in\s+part"
    r"|upheld|uphold(?:s|ing)?|overturn(?:ed|s|ing)?)\b",
    re.IGNORECASE,
)
NUMBER_WORDS = {
    "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
IDENTIFIER = re.compile(  # case numbers (CM99-0000001, 2024-99011) and dates are not counts
    r"\b[A-Z]{2,3}\d{2}-\d{4,8}\b|\b\d{4}-\d{4,6}\b|\b\d{1,4}[/-]\d{1,2}[/-]\d{2,4}\b", re.IGNORECASE
)
STANDALONE_NUMBER = re.compile(
    r"(?<![\w#/.\-])(\d+)(?![\w/%\-]|\.\d)|\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE
)


READING = "Read as:"
"""How every answer of the engine starts: how the question was read, not the answer."""


def answer_body(text: str) -> str:
    """The answer without its reading line."""
    lines = text.splitlines()
    return "\n".join(lines[1:]) if lines and lines[0].startswith(READING) else text


def parse_determination(text: str) -> str | None:
    """The first outcome an answer states: upheld, overturned or partially_overturned."""
    for m in OUTCOME_WORD.finditer(CITATION_MARK.sub("", text)):
        word = m.group("word").lower()
        if word.startswith("partial") or "in part" in word:
            return "partially_overturned"
        outcome = "upheld" if word.startswith("uph") else "overturned"
        if m.group("neg"):
            outcome = "overturned" if outcome == "upheld" else "upheld"
        return outcome
    return None


def parse_count(text: str) -> int | None:
    """The first stand-alone number of an answer (citation marks, case numbers, dates, doses skipped)."""
    cleaned = IDENTIFIER.sub(" ", CITATION_MARK.sub(" ", text))
    for m in STANDALONE_NUMBER.finditer(cleaned):
        return int(m.group(1)) if m.group(1) else NUMBER_WORDS[m.group(2).lower()]
    return None


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where quote occurs in text, whitespace runs matching any whitespace."""
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return m.span() if m else None


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def citation_is_valid(citation: Any, doc_text: str | None) -> bool:
    """The cited document is known and its text[start:end] is exactly the quote."""
    return doc_text is not None and _slice_is_quote(doc_text, citation.start, citation.end, citation.quote)


@dataclass
class AnswerScore:
    """How one answer did; None where the measure does not apply to the question."""

    correct: bool | None
    citations: int
    valid_citations: int
    supporting_citations: int
    expected_cited: bool | None
    section_supporting_citations: int = 0
    faithfulness: float | None = None


def score_answer(
    answer_text: str,
    citations: Sequence[Any],
    question: Any,
    expected_spans: Sequence[tuple[str, int, int]],
    expected_doc_ids: set[str],
    doc_texts: dict[str, str],
    support_regions: Sequence[tuple[str, int, int]] | None = None,
) -> AnswerScore:
    """Score an answer against a question.

    expected_spans: (doc id, start, end) of the expected quote in the expected letters.
    A citation supports the answer when it is valid and overlaps an expected span; for count and
    case questions (answered from a whole letter) any valid citation of an expected letter does.
    support_regions (default: the expected spans) are wider regions, such as the letter section
    that holds the quote, for the looser section-level precision.
    """
    body = answer_body(answer_text)
    if question.expected_determination is not None:
        correct = parse_determination(body) == question.expected_determination
    elif question.expected_count is not None:
        correct = parse_count(body) == question.expected_count
    else:
        correct = None
    valid = [c for c in citations if citation_is_valid(c, doc_texts.get(c.doc_id))]

    regions = expected_spans if support_regions is None else support_regions

    def within(c: Any, spans: Sequence[tuple[str, int, int]]) -> bool:
        return any(doc == c.doc_id and overlaps((c.start, c.end), (s, e)) for doc, s, e in spans)

    def on_quote(c: Any) -> bool:
        return within(c, expected_spans)

    def supports(c: Any, spans: Sequence[tuple[str, int, int]]) -> bool:
        return within(c, spans) or (question.kind in DOC_LEVEL_KINDS and c.doc_id in expected_doc_ids)

    return AnswerScore(
        correct=correct,
        citations=len(citations),
        valid_citations=len(valid),
        supporting_citations=sum(1 for c in valid if supports(c, expected_spans)),
        section_supporting_citations=sum(1 for c in valid if supports(c, regions)),
        expected_cited=any(on_quote(c) for c in valid) if expected_spans else None,
    )


def _mean(values: Iterable[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return _ratio(sum(present), len(present))


def summarize_answers(scores: Sequence[AnswerScore]) -> dict:
    return {
        "questions": len(scores),
        "correctness": _mean(s.correct for s in scores),
        "graded": sum(1 for s in scores if s.correct is not None),
        "citation_precision": _ratio(sum(s.supporting_citations for s in scores), sum(s.citations for s in scores)),
        "citation_precision_section": _ratio(
            sum(s.section_supporting_citations for s in scores), sum(s.citations for s in scores)
        ),
        "citation_recall": _mean(s.expected_cited for s in scores),
        "no_valid_citation_rate": _ratio(sum(1 for s in scores if s.valid_citations == 0), len(scores)),
        "faithfulness": _mean(s.faithfulness for s in scores),
    }
