"""The answer engine: a question in, an Answer out whose every sentence cites exact passages.

Offline (the default) it answers from the decisions catalog when the question names a case, a
service or drug, or asks to count, and otherwise quotes the most relevant sentence of the best
passages. With an LLM configured (see `imr_rag.chat_llm`) answers are generated, and every
citation is checked against the retrieved passages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imr_rag.catalog_query import (
    CatalogQuery,
    ItemRef,
    best_matches,
    group_in,
    is_count_question,
    passes,
    query_from_question,
    select,
)
from imr_rag.errors import LLMUnavailable
from imr_rag.library import Library
from imr_rag.schema import Answer, AnswerFilters, AnswerSentence, Citation, Hit, SearchFilters
from imr_rag.settings import Settings
from imr_rag.textutil import content_words, sentence_spans, words

MAX_LISTED = 10
MAX_CITED = 25
PASSAGE_MIN_SCORE = 0.34
"""Share of the question's content words a quoted sentence must contain."""
DENSE_MIN_SIMILARITY = 0.5
"""Cosine a passage needs to answer a question that shares no words with it (a paraphrase such
as "rides to doctor visits" for "transportation to medical appointments"). Measured on the dev
letters: paraphrases of a disputed service score 0.5-0.62, unrelated questions below 0.25."""
CONCLUSION = re.compile(r"medically\s+necessary|not\s+recommended|is\s+recommended|appropriate", re.I)
DECISION_QUESTION = re.compile(
    r"upheld|overturned|approved|denied|decided|decision|outcome|medically\s+necessary|happened|covered|"
    r"authori[sz]ed|allowed|granted", re.I
)
OUTCOME_WORDS = {"upheld": "upheld", "overturned": "overturned", "partially_overturned": "partially overturned"}


@dataclass
class AnswerBuilder:
    """Collects sentences and numbers citations in order of first use (one number per passage)."""

    text_of: Callable[[str], str]
    sentences: list[AnswerSentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    _numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def cite(self, doc_id: str, case_number: str | None, source: str, start: int, end: int, section: str | None = None) -> int:
        key = (doc_id, start, end)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            quote = self.text_of(doc_id)[start:end]
            self.citations.append(
                Citation(n=n, doc_id=doc_id, case_number=case_number, source=source, section=section,
                         start=start, end=end, quote=quote)
            )
        return self._numbers[key]

    def say(self, sentence: str, cites: list[int] | None = None) -> None:
        self.sentences.append(AnswerSentence(text=sentence, citations=cites or []))

    def answer(self, question: str, kind: str, mode: str = "offline") -> Answer:
        parts = [
            s.text + "".join(f" [{n}]" for n in s.citations) for s in self.sentences
        ]
        return Answer(question=question, text="\n".join(parts), sentences=self.sentences,
                      citations=self.citations, mode=mode, kind=kind)


class ChatEngine:
    """Answers questions about the ingested letters and their extracted decisions."""

    def __init__(self, library: Library, settings: Settings):
        self.library = library
        self.settings = settings
        self._texts: dict[str, str] = {}
        self._items: tuple[tuple, list[ItemRef]] | None = None
        self._llm = None
        if settings.llm_enabled:
            from imr_rag.chat_llm import LLMAnswerer

            self._llm = LLMAnswerer(settings, self)

    # -- shared helpers ------------------------------------------------------------------
    def text_of(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            doc = self.library.catalog.document(doc_id)
            self._texts[doc_id] = doc.text if doc else ""
        return self._texts[doc_id]

    def builder(self) -> AnswerBuilder:
        return AnswerBuilder(text_of=self.text_of)

    def items(self, filters: AnswerFilters) -> list[ItemRef]:
        """Every extracted item passing the filters; the rows are re-read only when decisions change."""
        version = self.library.catalog.decisions_version()
        if self._items is None or self._items[0] != version:
            self._items = (version, self._load_items())
        return [i for i in self._items[1] if passes(i, filters)]

    def _load_items(self) -> list[ItemRef]:
        return [
            ItemRef(
                doc_id=r["doc_id"], item_index=r["item_index"], service=r["service"],
                partly_authorized=r["authorized_portion"] is not None, category=r["category"],
                determination=r["determination"], guideline_sources=tuple(_json_list(r["guideline_sources"])),
                determination_start=r["determination_start"], determination_end=r["determination_end"],
                case_number=r["case_number"], letter_format=r["letter_format"], decision_date=r["decision_date"],
                reviewer_specialty=r["reviewer_specialty"], source=r["source"],
            )
            for r in self.library.catalog.item_rows()
        ]

    # -- entry point ---------------------------------------------------------------------
    def answer(
        self, question: str, history: list[tuple[str, str]] | None = None, filters: AnswerFilters | None = None
    ) -> Answer:
        question = question.strip()
        filters = filters or AnswerFilters()
        if filters.case_number:  # as the catalog spells it, whatever case the user typed
            known = self.library.known_case_number(filters.case_number)
            filters = filters.model_copy(update={"case_number": known or filters.case_number})
        if not question:
            return self.nothing(question, "Ask a question about the letters.")
        if self._llm is not None:
            try:
                return self._llm.answer(question, history or [], filters)
            except LLMUnavailable as exc:  # an answer from the catalog beats no answer; say why
                answer = self.offline_answer(question, filters)
                answer.notes.append(f"the LLM could not be reached ({exc}); answered offline")
                return answer
        return self.offline_answer(question, filters)

    def offline_answer(self, question: str, filters: AnswerFilters) -> Answer:
        case = self.library.known_case_number(question)
        if case and not filters.case_number:
            filters = filters.model_copy(update={"case_number": case})
        items = self.items(filters)
        if is_count_question(question) or group_in(question) != "none":
            return self.count_answer(question, query_from_question(question, case), items)
        matches = best_matches(items, question)
        if matches:
            return self._decision_answer(question, [m for m, _ in matches])
        if case and items:
            return self._decision_answer(question, items, whole_case=True)
        if DECISION_QUESTION.search(question):
            item = self._item_from_passages(question, filters, items)
            if item is not None:
                return self._decision_answer(question, [item])
        return self.passage_answer(question, filters)

    def _item_from_passages(self, question: str, filters: AnswerFilters, items: list[ItemRef]) -> ItemRef | None:
        """The disputed item whose block holds the best passage, when the question asks for an outcome
        in words the service name does not use."""
        q_words = set(content_words(question))
        by_key = {(i.doc_id, i.item_index): i for i in items}
        # Outcome words match every letter's outcome lines; search by the subject words only.
        subject = " ".join(content_words(question)) or question
        for hit in self.library.search(subject, k=5, filters=search_filters(filters)):
            best = _best_sentence(hit, q_words)
            if best is None or best[1] < PASSAGE_MIN_SCORE:
                continue
            if hit.item_index is not None and (hit.doc_id, hit.item_index) in by_key:
                return by_key[(hit.doc_id, hit.item_index)]
        for hit in self._paraphrase_hits(question, filters, k=3):
            if hit.item_index is not None and (hit.doc_id, hit.item_index) in by_key:
                return by_key[(hit.doc_id, hit.item_index)]
        return None

    def _paraphrase_hits(self, question: str, filters: AnswerFilters, k: int) -> list[Hit]:
        """Dense hits similar enough to stand for the question although no words are shared."""
        hits = self.library.search(question, k=k, filters=search_filters(filters), mode="dense")
        return [h for h in hits if h.score >= DENSE_MIN_SIMILARITY]

    # -- answers from the catalog --------------------------------------------------------
    def _decision_answer(self, question: str, items: list[ItemRef], whole_case: bool = False) -> Answer:
        b = self.builder()
        wants_guideline = bool(re.search(r"guideline|criteria|cite[sd]?\b|based on", question, re.I))
        if whole_case:
            first = items[0]
            b.say(f"Case {first.case_number or first.doc_id} (decided {first.decision_date or 'on an unstated date'}) "
                  f"had {len(items)} disputed item{'s' if len(items) != 1 else ''}:")
        for item in items[:MAX_LISTED]:
            cite = self._cite_item(b, item)
            where = f"case {item.case_number}" if item.case_number else _file_name(item.source)
            date = f", decided {item.decision_date}" if item.decision_date else ""
            b.say(f"In {where}{date}, the request for {item.service} was "
                  f"{OUTCOME_WORDS.get(item.determination, item.determination)}.", cite)
            if wants_guideline:
                self._say_guideline(b, item)
            else:
                self._say_conclusion(b, item)
        if len(items) > MAX_LISTED:
            b.say(f"{len(items) - MAX_LISTED} more matching items are not listed; narrow the question or use filters.")
        return b.answer(question, "decision")

    def _cite_item(self, b: AnswerBuilder, item: ItemRef) -> list[int]:
        if item.determination_start is None:
            return []
        return [b.cite(item.doc_id, item.case_number, item.source, item.determination_start,
                       item.determination_end, "item")]

    def _say_conclusion(self, b: AnswerBuilder, item: ItemRef) -> None:
        decision = self.library.catalog.decision(item.doc_id)
        rationale = decision.items[item.item_index].evidence.rationale if decision else None
        if rationale is None:
            return
        text = self.text_of(item.doc_id)
        spans = sentence_spans(text, rationale.start, rationale.end)
        concluding = [s for s in spans if CONCLUSION.search(text[s[0]:s[1]])] or spans
        a, e = concluding[-1]
        n = b.cite(item.doc_id, item.case_number, item.source, a, e, "item")
        b.say(f'The reviewer concluded: "{_squash(text[a:e])}"', [n])

    def _say_guideline(self, b: AnswerBuilder, item: ItemRef) -> None:
        text = self.text_of(item.doc_id)
        start = item.determination_end or 0
        label = re.compile(r"MAXIMUS\s+guideline\s*:|SCREENING\s+CRITERIA", re.I).search(text, start)
        if label is None:
            b.say(f"No guideline line was found for {item.service}.")
            return
        stop = re.compile(r"Decision\s+rationale\s*:|\n\s*\n", re.I).search(text, label.end())
        end = stop.start() if stop else min(len(text), label.end() + 400)
        while end > label.start() and text[end - 1].isspace():
            end -= 1
        n = b.cite(item.doc_id, item.case_number, item.source, label.start(), end, "item")
        families = ", ".join(item.guideline_sources) or "no named guideline"
        b.say(f"The reviewer relied on {families}: \"{_squash(text[label.end():end])}\"", [n])

    def count_answer(self, question: str, query: CatalogQuery, items: list[ItemRef]) -> Answer:
        b = self.builder()
        if query.group_by != "none":
            # Rates need every outcome in the denominator; the outcome asked about is the focus.
            return self._grouped_answer(question, query, select(items, query.model_copy(update={"determination": None})), b)
        chosen = select(items, query)
        described = " ".join(query.service_terms) or (query.category.value if query.category else "all services")
        if query.partly_authorized:
            described += " (part already authorised by the claims administrator)"
        outcome = OUTCOME_WORDS.get(query.determination.value) if query.determination else None
        letters = {i.doc_id for i in chosen}
        if not chosen:
            b.say(f"No {outcome + ' ' if outcome else ''}requests for {described} were found in the "
                  f"{len({i.doc_id for i in items})} extracted letters.")
            return b.answer(question, "none")
        cites = [n for item in chosen[:MAX_CITED] for n in self._cite_item(b, item)]
        if query.count_letters:
            b.say(f"{len(letters)} letter{'s' if len(letters) != 1 else ''} had {outcome + ' ' if outcome else ''}"
                  f"requests for {described} ({len(chosen)} disputed item{'s' if len(chosen) != 1 else ''}): "
                  + ", ".join(sorted({i.case_number or _file_name(i.source) for i in chosen})) + ".", cites)
        elif outcome:
            b.say(f"{len(chosen)} request{'s' if len(chosen) != 1 else ''} for {described} "
                  f"{'were' if len(chosen) != 1 else 'was'} {outcome}, in {len(letters)} letter"
                  f"{'s' if len(letters) != 1 else ''}.", cites)
        else:
            by = _tally(i.determination for i in chosen)
            parts = ", ".join(f"{n} {OUTCOME_WORDS.get(k, k)}" for k, n in sorted(by.items()))
            b.say(f"{len(chosen)} request{'s' if len(chosen) != 1 else ''} for {described} in "
                  f"{len(letters)} letter{'s' if len(letters) != 1 else ''}: {parts}.", cites)
        if len(chosen) > MAX_CITED:
            b.say(f"Citations are shown for the first {MAX_CITED}.")
        return b.answer(question, "count")

    def _grouped_answer(self, question: str, query: CatalogQuery, chosen: list[ItemRef], b: AnswerBuilder) -> Answer:
        key = {"specialty": lambda i: i.reviewer_specialty or "unstated",
               "category": lambda i: i.category,
               "determination": lambda i: i.determination}[query.group_by]
        groups: dict[str, list[ItemRef]] = {}
        for item in chosen:
            groups.setdefault(key(item), []).append(item)
        if not groups:
            b.say("No extracted decisions match the question.")
            return b.answer(question, "none")
        focus = query.determination.value if query.determination else "overturned"
        ranked = sorted(
            groups.items(),
            key=lambda kv: (-sum(i.determination == focus for i in kv[1]) / len(kv[1]), -len(kv[1]), kv[0]),
        )
        b.say(f"Share of items {OUTCOME_WORDS[focus]} by {query.group_by}, highest first:")
        for name, members in ranked[:MAX_LISTED]:
            hits = [i for i in members if i.determination == focus]
            cites = [n for item in hits[:3] for n in self._cite_item(b, item)]
            b.say(f"{name}: {len(hits)} of {len(members)} item{'s' if len(members) != 1 else ''} {OUTCOME_WORDS[focus]}.", cites)
        return b.answer(question, "count")

    # -- answers from passages -----------------------------------------------------------
    def passage_answer(self, question: str, filters: AnswerFilters, k: int = 5) -> Answer:
        b = self.builder()
        hits = self.library.search(question, k=k, filters=search_filters(filters))
        q_words = set(content_words(question))
        quoted = 0
        for hit in hits:
            best = _best_sentence(hit, q_words)
            if best is None:
                continue
            (a, e), score = best
            if score < PASSAGE_MIN_SCORE:
                continue
            self._quote(b, hit, a, e)
            quoted += 1
        if not quoted:
            for hit in self._paraphrase_hits(question, filters, k=2):
                self._quote(b, hit, *self._closest_sentence(hit, question))
                quoted += 1
        if not quoted:
            return self.nothing(question, "I found nothing in the ingested letters that answers this question.")
        return b.answer(question, "passages")

    def _quote(self, b: AnswerBuilder, hit: Hit, start: int, end: int) -> None:
        """Say where a sentence of a hit comes from, quote it, and cite it."""
        n = b.cite(hit.doc_id, hit.case_number, hit.source, start, end, hit.section)
        where = f"case {hit.case_number}" if hit.case_number else _file_name(hit.source)
        b.say(f'{where} ({hit.section.replace("_", " ")}): "{_squash(self.text_of(hit.doc_id)[start:end])}"', [n])

    def _closest_sentence(self, hit: Hit, question: str) -> tuple[int, int]:
        """The sentence of a passage nearest in meaning to the question (document offsets)."""
        spans = sentence_spans(hit.text)
        vectors = self.library.embedder.embed([question] + [hit.text[a:e] for a, e in spans])
        best = int(np.argmax(vectors[1:] @ vectors[0]))
        a, e = spans[best]
        return hit.start + a, hit.start + e

    def nothing(self, question: str, message: str) -> Answer:
        return Answer(question=question, text=message, sentences=[AnswerSentence(text=message)],
                      citations=[], mode="llm" if self._llm else "offline", kind="none")


def _best_sentence(hit: Hit, q_words: set[str]) -> tuple[tuple[int, int], float] | None:
    """The sentence of a passage that shares the most (weighted) words with the question."""
    best = None
    for a, e in sentence_spans(hit.text):
        s_words = set(words(hit.text[a:e]))
        score = len(q_words & s_words) / len(q_words) if q_words else 0.0
        if best is None or score > best[1]:
            best = ((hit.start + a, hit.start + e), score)
    return best


def search_filters(filters: AnswerFilters) -> SearchFilters:
    return SearchFilters(case_number=filters.case_number, letter_format=filters.letter_format)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _tally(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def _json_list(value: str | None) -> list[str]:
    return json.loads(value) if value else []


def _file_name(path: str) -> str:
    return Path(path).name
