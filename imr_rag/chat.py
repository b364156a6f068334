"""The answer engine: a question in, an Answer out whose every sentence cites exact passages.

Offline (the default) it answers from the decisions catalog when the question names a case, a
service or drug, or asks to count, and otherwise quotes the most relevant sentence of the best
passages. With an LLM configured (see `imr_rag.chat_llm`) answers are generated, and every
citation is checked against the retrieved passages.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np

from imr_rag.ask.citations import AnswerBuilder
from imr_rag.ask.conflicts import conflict_notes
from imr_rag.ask.passages import (
    PASSAGE_MIN_SCORE, best_sentence, conclusion_span, names_part, quote, rationale_spans, squash,
)
from imr_rag.catalog_query import CatalogQuery, ItemRef
from imr_rag.catalog_sql import FROM, ITEM_COLUMNS, CatalogSQL, item_ref
from imr_rag.chat_catalog import COUNTED_LIMIT, CatalogAnswers
from imr_rag.errors import LLMUnavailable
from imr_rag.library import Library
from imr_rag.question_parser import ParsedQuestion, QuestionContext, parse_question
from imr_rag.schema import Answer, AnswerFilters, AnswerSentence, Hit
from imr_rag.service_vocab import JOINING_WORDS, service_match
from imr_rag.settings import Settings
from imr_rag.textutil import content_words, sentence_spans, service_tokens

MAX_LISTED = 10
MATCH_THRESHOLD = 0.45
"""Score (0..1: half the IDF-weighted share of the question's service words the item names, half
the share of the item's words the question names) an item needs to be the item a question asks
about. Measured by evals/calibrate_match.py on the 25 dev + 13 synthetic letters: the right item
of 98 of the 99 "was the request for <service> ..." questions scores 0.611-1.0 (the 99th, 0.378,
describes the patient rather than the service and is found through the passages); of 30 services
no fixture letter mentions, the best item scores at most 0.423."""
UNMENTIONED_SHARE = 0.3
"""Share of a service phrase's IDF weight that no single letter names (in its items or passages)
above which the answer is "no letter in the library mentions ...", never a near item. Measured
(evals/calibrate_match.py): item questions 0.0-0.259; the 30 absent services 0.348-1.0; the 12
plain-words dev questions 0.0-0.5 (8 of them at or below 0.3 go on to the passage search)."""
DENSE_MIN_SIMILARITY = 0.5
"""Cosine a passage needs to answer a question that shares no words with it (a paraphrase such
as "rides to doctor visits" for "transportation to medical appointments"). Measured on the dev
letters: paraphrases of a disputed service score 0.5-0.62, unrelated questions below 0.25."""
PARAPHRASE_SIMILARITY = 0.7
"""Cosine above which a passage still stands for a phrase most of whose words no letter uses.
Measured: the 30 absent services reach 0.409-0.663 against the nearest dev passage, so only a
closer passage may overrule "no letter mentions"."""
DECISION_QUESTION = re.compile(
    r"upheld|overturned|approved|denied|decided|decision|outcome|medically\s+necessary|happened|covered|"
    r"authori[sz]ed|allowed|granted", re.I
)
OUTCOME_WORDS = {"upheld": "upheld", "overturned": "overturned", "partially_overturned": "partially overturned"}
NEAR_MATCH = 0.2
"""Score (see MATCH_THRESHOLD) from which an item is offered as "did you mean" when none matches."""


class ChatEngine:
    """Answers questions about the ingested letters and their extracted decisions."""

    def __init__(self, library: Library, settings: Settings, *, counted_limit: int | None = COUNTED_LIMIT):
        self.library = library
        self.settings = settings
        self.counted_limit = counted_limit  # counted items an answer carries (None: all)
        self.sql = CatalogSQL(library.catalog.db)
        self.catalog_answers = CatalogAnswers(self)
        self._texts: dict[str, str] = {}
        self.shown_service = ""
        self._llm = None
        if settings.llm_enabled:
            from imr_rag.chat_llm import LLMAnswerer

            self._llm = LLMAnswerer(settings, self)

    # -- shared helpers ------------------------------------------------------------------
    def text_of(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            if len(self._texts) > 512:
                self._texts.clear()
            doc = self.library.catalog.document(doc_id)
            self._texts[doc_id] = doc.text if doc else ""
        return self._texts[doc_id]

    def builder(self) -> AnswerBuilder:
        return AnswerBuilder(text_of=self.text_of)

    def context(self, case_number: str | None) -> QuestionContext:
        """What the offline parser needs to know about the library."""
        self.library.catalog.refresh_query_stats()
        newest = self.sql.newest_decision_date()
        try:
            newest_date = dt.date.fromisoformat(newest) if newest else None
        except ValueError:
            newest_date = None
        return QuestionContext(newest=newest_date, specialties=self.sql.specialties(), case_number=case_number,
                               mentions=self.mentioned)

    def mentioned(self, words: str) -> bool:
        """Whether any item's service or any passage uses these words."""
        tokens = service_tokens(words)
        idf, _ = self.sql.service_idf(tokens)
        return all(t in idf for t in tokens) or self._in_passages(tuple(tokens))

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
                answer = self._llm.answer(question, history or [], filters)
            except LLMUnavailable as exc:  # an answer from the catalog beats no answer; say why
                answer = self.offline_answer(question, filters)
                answer.notes.append(f"the LLM could not be reached ({exc}); answered offline")
        else:
            answer = self.offline_answer(question, filters)
        answer.notes += conflict_notes(self.library.catalog, answer)
        return answer

    def offline_answer(self, question: str, filters: AnswerFilters) -> Answer:
        case = self.library.known_case_number(question)
        parsed = parse_question(question, self.context(case or filters.case_number))
        if parsed.not_understood:
            return self.not_understood(question, parsed)
        return self.execute(question, parsed.plan, filters, service=parsed.service, shown=parsed.service_as_asked)

    def execute(
        self, question: str, plan: CatalogQuery, filters: AnswerFilters, service: str | None = None,
        shown: str | None = None,
    ) -> Answer:
        """Answer a plan, whoever filled it (the offline parser or the LLM). `shown` is the service
        as the question wrote it (for "no letter mentions ...")."""
        if service is None:
            service = " ".join(plan.service_terms)
        self.shown_service = shown or service
        if plan.returns == "decision" or (plan.returns == "field" and plan.field == "determination"):
            answer = self.decision_answer(question, plan, filters, service)
        elif plan.returns == "field":
            answer = self.catalog_answers.field(question, plan, filters, service)
        else:
            answer = self.catalog_answers.answer(question, plan, filters)
        answer.plan = plan.model_dump(mode="json", exclude_defaults=True) | {"returns": plan.returns}
        return answer

    def not_understood(self, question: str, parsed: ParsedQuestion) -> Answer:
        """Say what was not understood and how the rest was read, instead of answering another question."""
        parts = "; ".join(f'"{p}"' for p in parsed.not_understood)
        message = (f"I could not answer this: I did not understand {parts}. "
                   f"I read the rest of the question as: {parsed.plan.describe()}.")
        answer = self.nothing(question, message)
        answer.plan = parsed.plan.model_dump(mode="json", exclude_defaults=True)
        return answer

    # -- the outcome of a named item ----------------------------------------------------------
    def decision_answer(self, question: str, plan: CatalogQuery, filters: AnswerFilters, service: str) -> Answer:
        """'Was the request for X upheld or overturned?': the items whose service the question names."""
        unfiltered = plan.model_copy(update={"service_terms": [], "determination": None})
        unlisted = self.names_unlisted_service(service)
        matches = [] if unlisted else self.best_matches(service, unfiltered, filters, question)
        if matches:
            return self._decision_answer(question, [m for m, _ in matches])
        case = plan.case_number or filters.case_number
        if case:
            items = self.sql.items(unfiltered, filters)
            if items and service.strip():
                # The question names an item the case does not have: listing the whole case would be
                # a cited answer to another question; say what was not found, cite nothing.
                names = "; ".join(dict.fromkeys(i.service for i in items[:MAX_LISTED]))
                return self.nothing(question, (
                    f'I could not find "{self.shown_service}" among the disputed items of case {case}, so I cannot '
                    f"say its outcome. The case's disputed items are: {names}."))
            if items:
                return self._decision_answer(question, items, whole_case=True)
        absent = self.unmentioned(service, question)
        if absent:
            return self.nothing(question, f"No letter in the library mentions {self.shown_service}.")
        if DECISION_QUESTION.search(question):
            item = None if unlisted else self._item_from_passages(question, filters, unfiltered)
            # A passage links a question to the item whose block holds it; unless the item's own
            # name shares a word with the asked service, the passage is about something else the
            # letter mentions (a planted "Acupuncture 12 sessions: Overturned" line).
            if item is not None and (not service.strip() or names_part(item.service, service)):
                return self._decision_answer(question, [item])
            if service.strip():
                return self.no_item(question, service, unfiltered, filters)
        return self.passage_answer(question, filters)

    def names_unlisted_service(self, service: str) -> bool:
        """Whether the phrase names a known service (a vocabulary group: acupuncture, MRI, TENS) that
        no disputed item names: then a passage that mentions it is about something else the letter
        lists in passing, and the item whose block holds that passage is not what was asked."""
        terms, _ = service_match(service)
        named = [term for term in terms if term.group is not None]
        idf, _ = self.sql.service_idf([t for term in named for alt in term.alternatives for t in alt])
        return any(not any(all(t in idf for t in alt) for alt in term.alternatives) for term in named)

    def no_item(self, question: str, service: str, plan: CatalogQuery, filters: AnswerFilters) -> Answer:
        """No disputed item is the asked service: say so, offer items that name part of it, cite nothing."""
        near = [i for i, _ in self.best_matches(service, plan, filters, question, threshold=NEAR_MATCH)]
        message = (f'No disputed item in the library is a request for {self.shown_service} (letters mention it '
                   "only in passing), so I cannot say its outcome.")
        if near:
            names = "; ".join(dict.fromkeys(f"{i.service} (case {i.case_number or i.doc_id})" for i in near[:3]))
            message += f" Did you mean: {names}?"
        return self.nothing(question, message)

    def best_matches(
        self, service: str, plan: CatalogQuery, filters: AnswerFilters, question: str = "",
        threshold: float = MATCH_THRESHOLD,
    ) -> list[tuple[ItemRef, float]]:
        """Items whose service the question names, best first (near ties kept: the same service in
        several letters is several answers). Among equal scores, a service the question quotes word
        for word ("X-rays lumbar spine", not "X-rays of the lumbar spine") comes first."""
        terms, _ = service_match(service)
        if not terms:
            return []
        tokens = [t for term in terms for alt in term.alternatives for t in alt]
        candidates = self.sql.service_candidates(tokens, plan, filters)
        if not candidates:
            return []
        idf, unseen = self.sql.service_idf(tokens + [t for _, item_words in candidates for t in item_words])
        weight = lambda words: sum(idf.get(w, unseen) for w in words)  # noqa: E731
        asked = " " + " ".join(service_tokens(question or service)) + " "
        scored = []
        for item, item_words in candidates:
            have = set(item_words) - JOINING_WORDS
            asked_weight = got = 0.0
            used: set[str] = set()
            for term in terms:
                named = [alt for alt in term.alternatives if set(alt) <= have]
                w = max(map(weight, named)) if named else weight(term.text.split())
                asked_weight += w
                if named:
                    got += w
                    used.update(t for alt in named for t in alt)
            if not used:
                continue
            score = 0.5 * got / asked_weight + 0.5 * weight(used) / max(weight(have), 1e-9)
            if score >= threshold:
                quoted = f" {' '.join(item_words)} " in asked
                scored.append((item, score, -len(item_words) if quoted else 0))
        if not scored:
            return []
        top = max(s for _, s, _ in scored)
        near = sorted((p for p in scored if p[1] >= top - 0.05), key=lambda p: (-round(p[1], 9), p[2]))
        return [(i, s) for i, s, _ in near]

    def unmentioned(self, service: str, question: str = "") -> str | None:
        """The service phrase, when no single item or passage names most of it (IDF-weighted):
        then the answer is "no letter in the library mentions ...", never a near item; unless a
        passage is so close in meaning (a paraphrase) that it stands for the question."""
        if self.unmentioned_share(service) <= UNMENTIONED_SHARE:
            return None
        if question and self._paraphrase_hits(question, AnswerFilters(), k=1, floor=PARAPHRASE_SIMILARITY):
            return None
        return service

    def unmentioned_share(self, service: str) -> float:
        """1 - the largest IDF-weighted share of the phrase's terms that one letter names (in its
        items or its passages: 0 when some letter names them all, 1 when no letter uses any)."""
        terms, _ = service_match(service)
        if not terms:
            return 0.0
        tokens = [t for term in terms for alt in term.alternatives for t in alt]
        idf, unseen = self.sql.service_idf(tokens)
        weight = lambda words: sum(idf.get(w, unseen) for w in words)  # noqa: E731
        own = [weight(term.text.split()) for term in terms]
        total = sum(own)
        holders: dict[str, set[str]] = {}  # what each letter says, as far as the searches saw
        for item, item_words in self.sql.service_candidates(tokens, CatalogQuery(), limit=50):
            holders.setdefault(item.doc_id, set()).update(item_words)
        phrase = " ".join(" ".join(term.text.split()) for term in terms)
        for hit in self.library.search(phrase, k=20, mode="lexical"):
            holders.setdefault(hit.doc_id, set()).update(service_tokens(hit.text))
        best = 0.0
        for have in holders.values():
            covered = sum(w for term, w in zip(terms, own) if any(set(alt) <= have for alt in term.alternatives))
            best = max(best, covered / total)
        return 1.0 - best

    def _in_passages(self, tokens: tuple[str, ...]) -> bool:
        """Whether any passage uses all these (plural-blind) words, singular or plural."""
        return all(self.library.search(f"{t} {t}s", k=1, mode="lexical") for t in tokens)

    def _item_from_passages(self, question: str, filters: AnswerFilters, plan: CatalogQuery) -> ItemRef | None:
        """The disputed item whose block holds the best passage, when the question asks for an outcome
        in words the service name does not use."""
        q_words = set(content_words(question))
        subject = " ".join(content_words(question)) or question  # outcome words match every outcome line
        hits = [h for h in self.library.search(subject, k=5, filters=filters.for_search())
                if (best := best_sentence(h, q_words)) is not None and best[1] >= PASSAGE_MIN_SCORE]
        for hit in hits + self._paraphrase_hits(question, filters, k=3):
            if hit.item_index is not None:
                item = self._current_item(hit.doc_id, hit.item_index, plan, filters)
                if item is not None:
                    return item
        return None

    def _current_item(self, doc_id: str, item_index: int, plan: CatalogQuery, filters: AnswerFilters) -> ItemRef | None:
        where, params = self.sql.where(plan, filters)
        row = self.library.catalog.db.execute(
            ITEM_COLUMNS + FROM + where + " AND i.doc_id = ? AND i.item_index = ?", [*params, doc_id, item_index]
        ).fetchone()
        return item_ref(row) if row else None

    def _paraphrase_hits(self, question: str, filters: AnswerFilters, k: int, floor: float = 0.0) -> list[Hit]:
        """Dense hits similar enough to stand for the question although no words are shared."""
        hits = self.library.search(question, k=k, filters=filters.for_search(), mode="dense")
        return [h for h in hits if h.score >= max(floor, DENSE_MIN_SIMILARITY)]

    def _decision_answer(self, question: str, items: list[ItemRef], whole_case: bool = False) -> Answer:
        b = self.builder()
        wants_guideline = bool(re.search(r"guideline|criteria|cite[sd]?\b|based on", question, re.I))
        if whole_case:
            first = items[0]
            b.say(f"Case {first.case_number or first.doc_id} (decided {first.decision_date or 'on an unstated date'}) "
                  f"had {len(items)} disputed item{'s' if len(items) != 1 else ''}:")
        for item in items[:MAX_LISTED]:
            cite = self.cite_item(b, item)
            where = f"case {item.case_number}" if item.case_number else _file_name(item.source)
            date = f", decided {item.decision_date}" if item.decision_date else ""
            b.say(f"In {where}{date}, the request for {item.service} was "
                  f"{OUTCOME_WORDS.get(item.determination, item.determination)}.", cite)
            if wants_guideline:
                self.say_guideline(b, item)
            else:
                self._say_conclusion(b, item)
        if len(items) > MAX_LISTED:
            b.say(f"{len(items) - MAX_LISTED} more matching items are not listed; narrow the question or use filters.")
        return b.answer(question, "decision")

    def cite_item(self, b: AnswerBuilder, item: ItemRef) -> list[int]:
        if item.determination_start is None:
            return []
        return [b.cite(item.doc_id, item.case_number, item.source, item.determination_start,
                       item.determination_end, "item")]

    def rationale_spans(self, item: ItemRef) -> list[tuple[int, int]]:
        """The sentences of the item's own rationale span, without any that hold an outcome line."""
        return rationale_spans(self.library.catalog.decision(item.doc_id), item.item_index, self.text_of(item.doc_id))

    def _say_conclusion(self, b: AnswerBuilder, item: ItemRef) -> None:
        """Quote the rationale's conclusion for this item, when one states it (see conclusion_span)."""
        text = self.text_of(item.doc_id)
        span = conclusion_span(self.rationale_spans(item), text, item.determination, item.service)
        if span is not None:
            n = b.cite(item.doc_id, item.case_number, item.source, *span, "item")
            b.say(f'The reviewer concluded: "{squash(text[span[0]:span[1]])}"', [n])

    def say_guideline(self, b: AnswerBuilder, item: ItemRef) -> None:
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
        b.say(f"The reviewer relied on {families}: \"{squash(text[label.end():end])}\"", [n])

    # -- answers from passages -----------------------------------------------------------
    def passage_answer(self, question: str, filters: AnswerFilters, k: int = 5) -> Answer:
        b = self.builder()
        hits = self.library.search(question, k=k, filters=filters.for_search())
        q_words = set(content_words(question))
        quoted = 0
        for hit in hits:
            best = best_sentence(hit, q_words)
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
        quote(b, hit, start, end, self.text_of)

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




def _file_name(path: str) -> str:
    return Path(path).name
