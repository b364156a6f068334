"""Answers from the letters' own sentences: the best sentences of the best passages for a passage
question, an item's rationale for a "why" question, and whether any letter mentions a phrase
at all (before an answer may claim that none does).

Functions take what they read (a search function, a letter's text, its decision) as arguments,
so no module here holds the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from imr_rag.ask.citations import AnswerBuilder
from imr_rag.schema import Decision, Hit
from imr_rag.ask.service_vocab import service_match
from imr_rag.textutil import sentence_spans, service_tokens, words

PASSAGE_MIN_SCORE = 0.34
"""Share of the question's content words a quoted sentence must contain."""
CONCLUSION = re.compile(r"medically\s+necessary|not\s+recommended|is\s+recommended|appropriate", re.I)
OUTCOME_LINE = re.compile(r"^[^\n:]{1,200}:[ \t]*(?:partially\s+)?(?:upheld|overturned)\b", re.I | re.M)
"""A line stating a service's outcome ("Acupuncture 12 sessions: Overturned"): inside an item's
rationale it is about another service (or planted there), never the reviewer's reasoning."""
# "not medically necessary", "is not considered medically necessary", "would not be supported":
# the wording of an upheld item's conclusion.
NEGATED = re.compile(r"\bnot\s+(?:\w+\s+){0,3}?(?:medically\s+necessary|necessary|recommended|appropriate|indicated|"
                     r"supported|warranted)", re.I)
NEAR_EDITS = 1
"""Edits a letter's word may differ by and still count as a near form of a phrase's word when
deciding whether any letter mentions the phrase (plural, one typo)."""


def best_sentence(hit: Hit, q_words: set[str]) -> tuple[tuple[int, int], float] | None:
    """The sentence of a passage that shares the most words with the question (document offsets)."""
    best = None
    for a, e in sentence_spans(hit.text):
        s_words = set(words(hit.text[a:e]))
        score = len(q_words & s_words) / len(q_words) if q_words else 0.0
        if best is None or score > best[1]:
            best = ((hit.start + a, hit.start + e), score)
    return best


def quote_hits(b: AnswerBuilder, hits: list[Hit], q_words: set[str], text_of: Callable[[str], str]) -> int:
    """Quote and cite the best sentence of each hit that shares enough of the question's words."""
    quoted = 0
    for hit in hits:
        best = best_sentence(hit, q_words)
        if best is None or best[1] < PASSAGE_MIN_SCORE:
            continue
        (a, e), _score = best
        quote(b, hit, a, e, text_of)
        quoted += 1
    return quoted


def quote(b: AnswerBuilder, hit: Hit, start: int, end: int, text_of: Callable[[str], str]) -> None:
    """Say where a sentence of a hit comes from, quote it, and cite it."""
    n = b.cite(hit.doc_id, hit.case_number, hit.source, start, end, hit.section)
    where = f"case {hit.case_number}" if hit.case_number else hit.source.rsplit("/", 1)[-1]
    b.say(f'{where} ({hit.section.replace("_", " ")}): "{squash(text_of(hit.doc_id)[start:end])}"', [n])


def rationale_spans(decision: Decision | None, item_index: int, text: str) -> list[tuple[int, int]]:
    """The sentences of an item's own rationale span, without any that hold an outcome line."""
    rationale = decision.items[item_index].evidence.rationale if decision and item_index < len(decision.items) else None
    if rationale is None:
        return []
    return [(a, e) for a, e in sentence_spans(text, rationale.start, rationale.end)
            if not OUTCOME_LINE.search(text, a, e)]


GUIDELINE_REACH = 3000
"""Characters before an item's rationale searched for the line citing its guidelines."""


def guideline_spans(decision: Decision | None, item_index: int, text: str) -> list[tuple[int, int]]:
    """The lines of the letter that cite the item's reviewer guidelines ("MAXIMUS guideline:
    Decision based on ODG ..."): each citation the record holds, found verbatim between the
    item's outcome line (or a reach before its rationale) and the end of its rationale."""
    if not decision or item_index >= len(decision.items):
        return []
    item = decision.items[item_index]
    ev = item.evidence
    anchor = ev.rationale or ev.determination
    if anchor is None:
        return []
    lo = ev.determination.start if ev.determination else max(0, anchor.start - GUIDELINE_REACH)
    hi = anchor.end
    spans = []
    for g in item.guidelines:
        if g.cited_by != "reviewer" or not g.citation.strip():
            continue
        at = text.find(g.citation.strip(), lo, hi)
        if at < 0:
            continue
        start = text.rfind("\n", lo, at) + 1 or lo
        end = text.find("\n", at)
        span = (max(start, lo), end if 0 <= end <= hi else at + len(g.citation.strip()))
        if span not in spans:
            spans.append(span)
    return spans


def conclusion_span(spans: list[tuple[int, int]], text: str, determination: str, service: str) -> tuple[int, int] | None:
    """The rationale's conclusion for the item: the last sentence that states necessity the way the
    outcome does, preferably one about the request; None when no sentence does (the last sentence
    of a rationale may be anything the letter holds, such as a planted instruction)."""
    concluding = [s for s in spans if concludes(text[s[0]:s[1]], determination)]
    if not concluding:
        return None
    about = [s for s in concluding if re.search(r"\brequest", text[s[0]:s[1]], re.I) or names_part(text[s[0]:s[1]], service)]
    return (about or concluding)[-1]


def concludes(sentence: str, determination: str) -> bool:
    """Whether a sentence states a conclusion that agrees with the item's outcome."""
    negated = bool(NEGATED.search(sentence))
    if not (negated or CONCLUSION.search(sentence)):
        return False
    return {"upheld": negated, "overturned": not negated}.get(determination, True)


def names_part(text: str, service: str) -> bool:
    """Whether `text` names a word (or a synonym) of the service phrase, numbers aside."""
    have = set(service_tokens(text))
    terms, _ = service_match(service)
    return any(set(alt) <= have for term in terms if not term.text.isdigit() for alt in term.alternatives)


def mentioning_hits(phrase: str, search: Callable[[str], list[Hit]], near: Callable[[str, int], set[str]]) -> list[Hit]:
    """Passages that use every word of `phrase` or a near form of it (a plural, one typo): a claim
    that no letter mentions the phrase is made only when this is empty."""
    tokens = [t for t in service_tokens(phrase) if not t.isdigit()]
    if not tokens:
        return []
    forms = {t: {t, t + "s"} | near(t, NEAR_EDITS if len(t) >= 4 else 0) for t in tokens}
    query = " ".join(sorted(set().union(*forms.values())))
    found = []
    for hit in search(query):
        have = set(service_tokens(hit.text)) | set(words(hit.text))
        if all(forms[t] & have for t in tokens):
            found.append(hit)
    return found


def mention_sentences(hit: Hit, phrase: str, rationales: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentences of a passage that name every word of `phrase` (numbers aside; document
    offsets), leaving out an outcome line inside an item's rationale (`rationales`: document
    spans), which is about another service or planted there."""
    tokens = {t for t in service_tokens(phrase) if not t.isdigit()}
    found = []
    for a, e in sentence_spans(hit.text):
        start, end = hit.start + a, hit.start + e
        inside = any(r0 <= start and end <= r1 for r0, r1 in rationales)
        if tokens <= set(service_tokens(hit.text[a:e])) and not (inside and OUTCOME_LINE.search(hit.text[a:e])):
            found.append((start, end))
    return found


def squash(text: str) -> str:
    return " ".join(text.split())
