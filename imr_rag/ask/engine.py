"""The offline answer engine: read the question, run its plan, write the answer.

`Asker.answer` is the one entry point the CLI, the app and the evals use. The reading decides:
a plan is run and written (every answer starts with how the question was read); a question
that is ambiguous is asked back; one that cannot be read is refused with the words that were not
understood; a service phrase that links to no item is checked against the full text of the
letters before any answer may say that no letter mentions it.
"""

from __future__ import annotations

import datetime as dt
import re

from imr_rag.ask.answer import asked_back, reading_line, write
from imr_rag.ask.citations import AnswerBuilder
from imr_rag.ask.conflicts import conflict_notes
from imr_rag.ask.describe import describe_plan
from imr_rag.ask.execute import run_plan
from imr_rag.ask.intent import IntentModel
from imr_rag.ask.lexicon import GENERIC_NOUNS
from imr_rag.ask.llm import NUMBER, LLMClient
from imr_rag.ask.passages import conclusion_span, guideline_spans, mention_sentences, mentioning_hits, quote, quote_hits, rationale_spans, squash
from imr_rag.ask.plan import Condition, Measure, Plan
from imr_rag.ask.reader import JOINING, Reading, read_question
from imr_rag.ask.result import Row
from imr_rag.ask.vocab import Vocabulary, load_vocabulary
from imr_rag.errors import LLMUnavailable
from imr_rag.index.embeddings import ONNX_MODEL_NAME
from imr_rag.extract.align import align_quote
from imr_rag.library import Library
from imr_rag.schema import Answer, AnswerFilters
from imr_rag.settings import Settings
from imr_rag.textutil import content_words, fold_look_alikes, strip_invisible

TEXTS_KEPT = 512
"""Letter texts kept in memory between questions (citations quote them)."""
ROW_LIMIT = 200
"""Counted rows an answer carries by default (the app's table); `imr-rag ask --json` asks for all."""
RETRIEVE_K = 6
"""Passages the model answers from."""
MAX_ITEMS = 10
"""Items an outcome or why answer states one by one."""
UNSUPPORTED = "The retrieved passages of the letters do not answer this question."


def known_values(vocab: Vocabulary) -> dict[str, set[str]]:
    """What a plan may name, lower case: the LLM planner's plans are checked against it."""
    return {
        "case_number": {c.lower() for c in vocab.case_numbers},
        "reviewer_specialty": {s.lower() for s in (*vocab.specialties, *vocab.specialty_strings)},
        "service": {w.lower() for w in vocab.service_words},
        "category": {c.lower() for c in vocab.categories},
        "guideline": {g.lower() for g in vocab.guideline_families},
        "letter_format": {f.lower() for f in vocab.letter_formats},
    }


_SUBORDINATE = re.compile(r"\b(?:prior to|before|after|following|in preparation for|pending)\b", re.I)


def head_items(items: list[Row], plan: Plan) -> list[Row]:
    """Of several items a service phrase matches, those it names as the thing requested: an item
    that mentions the phrase only after 'prior to' / 'before' ... ('Psychological evaluation prior
    to spinal cord stimulator trial') is another request, dropped when some item is named at its head."""
    terms = [t for c in plan.where if c.field == "service" and not c.negate for t in c.value]
    if len(items) < 2 or not terms:
        return items

    def at_head(row: Row) -> bool:
        head = _SUBORDINATE.split(row.service or "", maxsplit=1)[0].lower()
        return any(all(w[:5] in head for w in t.lower().split()) for t in terms)

    heads = [r for r in items if at_head(r)]
    return heads if heads else items


class Asker:
    """Answers questions about one library, offline."""

    def __init__(self, library: Library, settings: Settings, *, row_limit: int | None = ROW_LIMIT):
        self.library = library
        self.settings = settings
        self.row_limit = row_limit
        self.llm = LLMClient(settings) if settings.llm_enabled else None
        self._vocab: tuple[int, Vocabulary] | None = None
        self._intents: IntentModel | None = None
        self._texts: dict[str, str] = {}

    # -- what the reader needs -------------------------------------------------------------
    def vocabulary(self) -> Vocabulary:
        generation = self.library.catalog.generation()
        if self._vocab is None or self._vocab[0] != generation:
            self.library.catalog.refresh_query_stats()
            self._vocab = (generation, load_vocabulary(self.library.catalog.db))
        return self._vocab[1]

    @property
    def intents(self) -> IntentModel:
        if self._intents is None:  # the library's all-MiniLM-L6 when it embeds with it: loaded once
            # the exemplar bank and its margin were calibrated with all-MiniLM-L6-v2, whatever encoder embeds the letters
            same = self.settings.embedding_backend == "onnx" and self.settings.embedding_onnx_model == ONNX_MODEL_NAME
            shared = self.library.embedder if same else None
            self._intents = IntentModel(shared)
        return self._intents

    @property
    def today(self) -> dt.date:
        return self.settings.today or dt.date.today()

    def text_of(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            if len(self._texts) >= TEXTS_KEPT:
                self._texts.clear()
            doc = self.library.catalog.document(doc_id)
            self._texts[doc_id] = doc.text if doc else ""
        return self._texts[doc_id]

    # -- answering ---------------------------------------------------------------------------
    def answer(self, question: str, history: list[tuple[str, str]] | None = None,
               filters: AnswerFilters | None = None) -> Answer:
        """The answer to `question` (a follow-up of `history`, (question, answer) pairs)."""
        question = question.strip()
        filters = filters or AnswerFilters()
        if not question:
            return asked_back(question, "", "Ask a question about the letters.", status="refused")
        if self.llm is not None:
            try:
                answer = self.llm_answer(question, history or [], filters)
            except LLMUnavailable as exc:  # an answer from the catalog beats no answer; say why
                answer = self.offline_answer(question, filters)
                answer.notes.append(f"the LLM could not be reached ({exc}); answered offline")
        else:
            answer = self.offline_answer(question, filters)
        answer.notes += conflict_notes(self.library.catalog, answer)
        return answer

    def offline_answer(self, question: str, filters: AnswerFilters) -> Answer:
        # a case number is read however it was typed: look-alike letters, dashes, invisible characters
        reading = read_question(fold_look_alikes(strip_invisible(question)), self.vocabulary(), today=self.today,
                                intents=self.intents)
        return self.answer_reading(question, reading, filters)

    # -- with an LLM -------------------------------------------------------------------------
    def llm_answer(self, question: str, history: list[tuple[str, str]], filters: AnswerFilters) -> Answer:
        """The model plans (checked like the reader's plans) or writes from cited passages."""
        standalone = self.llm.standalone(question, history)
        vocab = self.vocabulary()
        route = self.llm.route(standalone, vocab.newest_decision_date or "unknown", self.today.isoformat(),
                               known_values(vocab))
        if route.kind == "catalog" and route.plan is not None:
            reading = Reading(status="plan", plan=route.plan, read_as=describe_plan(route.plan))
            return self.answer_reading(question, reading, filters).model_copy(update={"mode": "llm"})
        return self.numbers_checked(question, self.generated(standalone, filters), filters)

    def generated(self, question: str, filters: AnswerFilters) -> Answer:
        hits = self.library.search(question, k=RETRIEVE_K, filters=filters.for_search())
        numbered = {n: hit for n, hit in enumerate(hits, 1)}
        generated = self.llm.generate(question, {
            n: (f"case {h.case_number or h.doc_id}, {h.section}", h.text) for n, h in numbered.items()})
        if not hits or not generated.supported or not generated.sentences:
            return asked_back(question, f"passages about {question}", UNSUPPORTED, status="refused", mode="llm")
        b = AnswerBuilder(text_of=self.text_of)
        for sentence in generated.sentences:
            cites = []
            for c in sentence.citations:
                hit = numbered[c.passage]
                ev = align_quote(hit.text, c.quote)  # the validators already found it
                cites.append(b.cite(hit.doc_id, hit.case_number, hit.source, hit.start + ev.start,
                                    hit.start + ev.end, hit.section))
            b.say(sentence.text, sorted(set(cites), key=cites.index))
        return b.answer(question, "llm", mode="llm")

    def numbers_checked(self, question: str, answer: Answer, filters: AnswerFilters) -> Answer:
        """The generated answer, unless the question counts and it states a number the catalog's
        SQL answer does not (a passage can carry "the count is 999"): then the catalog's answer,
        saying why."""
        said = set(NUMBER.findall(" ".join(s.text for s in answer.sentences)))
        if not said:
            return answer
        computed = self.offline_answer(question, filters)
        if computed.kind != "count" or said <= set(NUMBER.findall(computed.text)):
            return answer
        computed.notes.append(f"the model's answer stated numbers the catalog does not compute "
                              f"({', '.join(sorted(said - set(NUMBER.findall(computed.text))))}); answered from the catalog")
        return computed

    def answer_reading(self, question: str, reading: Reading, filters: AnswerFilters) -> Answer:
        """The answer to a question read as `reading` (the LLM planner's readings come here too)."""
        if reading.status == "clarify":
            choices = f" ({', '.join(reading.choices)})" if reading.choices and not reading.message.endswith("?") else ""
            return asked_back(question, reading.read_as, reading.message + choices, status="clarify")
        if reading.status == "refuse":
            return asked_back(question, reading.read_as, reading.message, status="refused")
        if reading.status == "unknown_service":
            return self.unknown_service(question, reading, filters)
        plan = reading.plan
        assert plan is not None, "a reading with status 'plan' carries its plan"
        if plan.operation == "passage":
            return self.passages(question, reading, plan, filters)
        if plan.operation == "why":
            return self.why(question, reading, plan, filters)
        asks_items = not any(c.field == "guideline" for c in plan.where)  # 'did CM… cite ACOEM': a yes/no count
        if (plan.yes_no and plan.unit == "items" and plan.operation == "aggregate" and asks_items) or (
                plan.operation == "fact" and plan.fact == "determination"):
            return self.item_outcomes(question, reading, plan, filters)
        plan, note = self.service_check(plan)
        read_as = f"{reading.read_as} ({note})" if note else reading.read_as
        result = run_plan(self.library.catalog.db, plan, filters, row_limit=self.row_limit)
        return write(question, read_as, plan, result, self.text_of)

    def matches_items(self, terms: list[str]) -> int:
        """How many current items of the library a service condition of `terms` matches."""
        alone = Plan(unit="items", where=[Condition(field="service", op="matches", value=terms)])
        return run_plan(self.library.catalog.db, alone, None, row_limit=0).value or 0

    def service_check(self, plan: Plan) -> tuple[Plan, str]:
        """Each service phrase the plan requires, checked against the library's items before a
        count or list rests on it: one that matches no item, but does without a generic noun
        ('EMG studies' when no item says 'study'), is read without it and the reading line says
        so; any other is kept (no item matching it is then the answer: 0)."""
        notes: list[str] = []

        def checked(c: Condition) -> Condition:
            if c.field != "service" or c.op != "matches" or c.negate or self.matches_items(list(c.value)):
                return c
            terms = [" ".join(w for w in t.split() if w not in GENERIC_NOUNS) or t for t in c.value]
            if terms == list(c.value) or not self.matches_items(terms):
                return c
            dropped = sorted({w for t in c.value for w in t.split() if w in GENERIC_NOUNS})
            notes.append(f"'{' '.join(dropped)}' read as the service itself: no item names it")
            return c.model_copy(update={"value": terms})

        fixed = plan.model_copy(update={
            "where": [checked(c) for c in plan.where],
            "quantifier": plan.quantifier and plan.quantifier.model_copy(
                update={"where": [checked(c) for c in plan.quantifier.where]}),
            "threshold": plan.threshold and plan.threshold.model_copy(
                update={"where": [checked(c) for c in plan.threshold.where]}),
            "segments": [[checked(c) for c in seg] for seg in plan.segments]})
        return fixed, "; ".join(notes)

    def unknown_service(self, question: str, reading: Reading, filters: AnswerFilters) -> Answer:
        """A service phrase no item is: 'No letter mentions X' only when no passage uses its words
        or their near forms; otherwise what the letters say, and the items it may have meant."""
        phrase = reading.unknown_phrase or ""
        hits = mentioning_hits(
            phrase, lambda q: self.library.search(q, k=20, filters=filters.for_search(), mode="lexical"),
            self.library.lexical.terms_near,
        )
        suggestions = f" Did you mean: {'; '.join(reading.suggestions)}?" if reading.suggestions else ""
        if not hits and len([w for w in phrase.split() if w not in JOINING]) > 3:
            # several words that may each be a service (a list): their absence together shows nothing
            return asked_back(question, reading.read_as, f'"{phrase}" is not one disputed service of the library.'
                              + (suggestions or " Name one service at a time."), status="clarify")
        if not hits:
            answer = asked_back(question, reading.read_as, f'No letter in the library mentions "{phrase}".'
                                + suggestions, status="answered")
            answer.value = 0 if reading.plan is None or reading.plan.measure.aggregate != "list" else []
            return answer
        # what the letters say of it: the sentences that name it, from the best passages of a full
        # (hybrid) search among the letters that mention it; never a line stating an outcome, which
        # inside a letter's text is about another item or planted there
        mentioning = {h.doc_id for h in hits}
        best = [h for h in self.library.search(phrase, k=10, filters=filters.for_search()) if h.doc_id in mentioning]
        said = [(hit, span) for hit in (best or hits)
                for span in mention_sentences(hit, phrase, self.rationale_spans_of(hit.doc_id))][:3]
        if not said:  # the words (or near forms) occur, but never together outside another item's outcome line
            return asked_back(question, reading.read_as, f'No disputed item is "{phrase}" as written; letters use '
                              "its words or near forms only apart, or in lines that state other items' outcomes."
                              + (suggestions or " Which service do you mean?"), status="clarify")
        b = AnswerBuilder(text_of=self.text_of)
        b.say(reading_line(reading.read_as))
        b.say(f'No disputed item is "{phrase}", but {len(mentioning)} letter(s) mention it:' + suggestions)
        for hit, (start, end) in said:
            quote(b, hit, start, end, self.text_of)
        answer = b.answer(question, "passages")
        answer.status, answer.reading = "clarify", reading.read_as
        return answer

    def rationale_spans_of(self, doc_id: str) -> list[tuple[int, int]]:
        """The rationale spans of a letter's extracted items (none when it was not extracted)."""
        decision = self.library.catalog.decision(doc_id)
        return [(i.evidence.rationale.start, i.evidence.rationale.end)
                for i in (decision.items if decision else []) if i.evidence.rationale is not None]

    def passages(self, question: str, reading: Reading, plan: Plan, filters: AnswerFilters) -> Answer:
        b = AnswerBuilder(text_of=self.text_of)
        b.say(reading_line(reading.read_as))
        search = plan.search or question
        if plan.case_number:
            filters = filters.model_copy(update={"case_number": plan.case_number})
        hits = self.library.search(search, k=5, filters=filters.for_search())
        if not quote_hits(b, hits, set(content_words(search)), self.text_of):
            return asked_back(question, reading.read_as,
                              "I found no passage in the letters that answers this.", status="refused")
        answer = b.answer(question, "passages")
        answer.reading, answer.plan = reading.read_as, plan.shown()
        return answer

    def item_outcomes(self, question: str, reading: Reading, plan: Plan, filters: AnswerFilters) -> Answer:
        """"Was X approved?": the items X names, each with its outcome and the conclusion of its
        rationale, and whether the outcome asked about is theirs (not a count of 0 when it is not)."""
        every = plan.measure.aggregate == "share"  # "were ALL X upheld": the part must be every item
        one_case = plan.case_number is not None or any(c.field == "case_number" for c in plan.where)
        asked = {v for c in (plan.measure.part if every else plan.where) if c.field == "determination" and not c.negate
                 for v in (c.value if isinstance(c.value, list) else [c.value])}
        case = [Condition(field="case_number", op="eq", value=plan.case_number)] if plan.case_number else []
        items = head_items(self.listed_items([c for c in plan.where if c.field != "determination"] + case, filters),
                           plan)
        if not items and plan.case_number:  # the case has no such item: say what it has, answer nothing
            return self.not_in_case(question, reading, plan, filters)
        if not items:
            answer = asked_back(question, reading.read_as, "No: no disputed item matches.", status="answered")
            answer.value = False
            return answer
        matching = [r for r in items if not asked or r.determination in asked
                    or (r.determination == "partially_overturned" and "overturned" in asked)]
        b = AnswerBuilder(text_of=self.text_of)
        b.say(reading_line(reading.read_as))
        existential = bool(asked) and not every and not one_case  # "any X approved?", "did IMR ever approve X"
        if not asked:
            if len(items) > 1:
                b.say(f"{len(items)} disputed items match.")
        elif existential:
            b.say(f"Yes: {len(matching)} of {len(items)} matching items." if matching
                  else f"No: none of {len(items)} matching items.")
            items = matching + [r for r in items if r not in matching]
        elif len(matching) == len(items):
            b.say("Yes." if len(items) == 1 else f"Yes: all {len(items)} matching items.")
        else:
            b.say("No." if not matching else f"{'No' if every else 'Partly'}: {len(matching)} of {len(items)} matching items.")
        self.say_items(b, items[:MAX_ITEMS])
        if len(items) > MAX_ITEMS:
            b.say(f"{len(items) - MAX_ITEMS} more matching items are not listed; narrow the question.")
        answer = b.answer(question, "decision")
        verdict = bool(matching) if existential else len(matching) == len(items)
        outcomes = [r.determination for r in items]
        answer.reading = reading.read_as
        answer.value = verdict if asked else (outcomes[0] if len(outcomes) == 1 else outcomes)
        answer.plan = plan.shown()
        return answer

    def listed_items(self, where: list[Condition], filters: AnswerFilters) -> list[Row]:
        """The current items meeting `where` (and the user's filters), in the catalog's order."""
        plan = Plan(unit="items", where=where, measure=Measure(aggregate="list"))
        return [r for r in run_plan(self.library.catalog.db, plan, filters, row_limit=self.row_limit).rows
                if r.item_index is not None]

    def not_in_case(self, question: str, reading: Reading, plan: Plan, filters: AnswerFilters) -> Answer:
        """A service the named case does not dispute: the case's own items, and no outcome."""
        rows = self.listed_items([Condition(field="case_number", op="eq", value=plan.case_number)], filters)
        asked = "; ".join(t for c in plan.where if c.field == "service" and not c.negate for t in c.value) or "it"
        if not rows:
            message = f"Case {plan.case_number} has no disputed item in the library, so no outcome for {asked}."
        else:
            message = (f'Case {plan.case_number} has no disputed item matching "{asked}"; its disputed items are: '
                       + "; ".join(f"{r.service} ({r.determination.replace('_', ' ')})" for r in rows) + ".")
        return asked_back(question, reading.read_as, message + " Which one do you mean?", status="clarify")

    def say_items(self, b: AnswerBuilder, items: list[Row], *, guidelines: bool = False) -> None:
        """Each item's outcome (citing its outcome line), its rationale's conclusion and, with
        `guidelines`, the line citing the guidelines the reviewer relied on."""
        for row in items:
            text = self.text_of(row.doc_id)
            cites = [b.cite(row.doc_id, row.case_number, row.source, *row.span, "item")] if row.span else []
            where = f"case {row.case_number}" if row.case_number else row.source.rsplit("/", 1)[-1]
            b.say(f"{row.service} ({where}): {row.determination.replace('_', ' ')}.", cites)
            spans = rationale_spans(self.library.catalog.decision(row.doc_id), row.item_index, text)
            span = conclusion_span(spans, text, row.determination, row.service)
            if span is not None:
                n = b.cite(row.doc_id, row.case_number, row.source, *span, "item")
                b.say(f'The reviewer concluded: "{squash(text[span[0]:span[1]])}"', [n])
            for start, end in guideline_spans(self.library.catalog.decision(row.doc_id), row.item_index, text) \
                    if guidelines else []:
                n = b.cite(row.doc_id, row.case_number, row.source, start, end, "item")
                b.say(f'Guidelines relied on: "{squash(text[start:end])}"', [n])

    def why(self, question: str, reading: Reading, plan: Plan, filters: AnswerFilters) -> Answer:
        """Why an item was decided so: its outcome line and the conclusion of its own rationale."""
        result = run_plan(self.library.catalog.db, plan.model_copy(update={"operation": "aggregate"}), filters,
                          row_limit=self.row_limit)
        items = [r for r in result.rows if r.item_index is not None]
        if not items:
            return asked_back(question, reading.read_as, "No disputed item matches, so there is no rationale to quote.",
                              status="refused")
        b = AnswerBuilder(text_of=self.text_of)
        b.say(reading_line(reading.read_as))
        self.say_items(b, items[:MAX_ITEMS], guidelines=True)
        answer = b.answer(question, "decision")
        answer.reading, answer.value = reading.read_as, [r.determination for r in items]
        answer.plan = plan.shown()
        return answer
