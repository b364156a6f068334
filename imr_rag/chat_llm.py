"""The answer engine's LLM path: generated answers whose every sentence cites retrieved passages.

1. A follow-up question is rewritten to stand alone, using the conversation.
2. The model routes the question: catalog questions (lists, counts, shares, group-bys,
   comparisons, a fact of one case) become the typed plan `CatalogQuery` (the tool; an unknown
   field fails validation and instructor re-asks), executed by the same SQL executor and answer
   composer as offline, so every number is computed, never generated;
3. anything else is answered from hybrid-retrieved passages. Validators (fed the passages by
   validation context) reject a citation of a passage that was not retrieved or a quote that is
   not in the cited passage, so instructor re-asks. An unsupported answer says so. A passage
   can carry numbers ("the count is 999" planted in a letter) that a quote check lets through, so
   a generated answer to a counting question must use the catalog's numbers or is replaced by
   the offline answer, with a note.

The letter text and the question reach the model only inside fenced blocks that the system
message declares to be quoted material (`imr_rag.prompts`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import instructor
import openai
from instructor.core import InstructorError
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from imr_rag.catalog_query import CatalogQuery
from imr_rag.errors import ImrError, LLMUnavailable, redact
from imr_rag.extract.align import align_quote
from imr_rag.extract.llm import MODES, describe_failure, find_cause
from imr_rag.prompts import jinja_literal, render_messages
from imr_rag.schema import Answer, AnswerFilters, Hit
from imr_rag.settings import Settings

if TYPE_CHECKING:
    from imr_rag.chat import ChatEngine

RETRIEVE_K = 6
UNSUPPORTED = "The retrieved passages of the letters do not answer this question."
NUMBER = re.compile(r"(?<![\w./-])\d+(?:[.,]\d+)*(?![\w/-]|[.,]\d)")
"""A number as a sentence states it ("999", "60", "1,200"); not part of a case number, date or dose."""


class Route(BaseModel):
    """How to answer: from the decisions catalog (counting, comparing) or from passages."""

    kind: Literal["catalog", "passages"] = Field(description="'catalog' for counts/comparisons, else 'passages'.")
    query: CatalogQuery | None = Field(default=None, description="The catalog query when kind is 'catalog'.")


class StandaloneQuestion(BaseModel):
    question: str = Field(description="The question rewritten to stand alone.")


class PassageQuote(BaseModel):
    """A citation: a retrieved passage's number and a verbatim quote from it."""

    passage: int = Field(description="Number of the cited passage, as listed.")
    quote: str = Field(description="Words copied exactly from that passage that support the sentence.")

    @field_validator("quote")
    @classmethod
    def _quote_in_passage(cls, quote: str, info: ValidationInfo) -> str:
        passages: dict[int, str] = (info.context or {}).get("passages", {})
        number = info.data.get("passage")
        if number not in passages:
            raise ValueError(f"passage {number} was not retrieved; cite one of {sorted(passages)}")
        if align_quote(passages[number], quote) is None:
            raise ValueError(f"quote not found in passage {number}: {quote!r}; copy it verbatim")
        return quote


class GeneratedSentence(BaseModel):
    text: str = Field(description="One sentence of the answer.")
    citations: list[PassageQuote] = Field(min_length=1, description="Passages supporting this sentence.")


class GeneratedAnswer(BaseModel):
    """An answer built only from the passages, each sentence cited."""

    supported: bool = Field(description="False when the passages do not answer the question.")
    sentences: list[GeneratedSentence] = Field(default_factory=list, description="The answer, sentence by sentence.")


class LLMAnswerer:
    """Generates answers through one OpenAI-compatible endpoint with instructor."""

    def __init__(self, settings: Settings, engine: ChatEngine):
        self.settings = settings
        self.engine = engine
        self.client = instructor.from_openai(
            openai.OpenAI(
                base_url=settings.llm_base_url, api_key=settings.llm_api_key,
                timeout=settings.llm_timeout, max_retries=settings.llm_http_retries,
            ),
            mode=MODES[settings.llm_mode],
        )

    def _ask(self, model: type[BaseModel], messages: list[dict[str, str]], context: dict | None = None) -> BaseModel:
        # instructor renders the messages as Jinja templates when a context is given; keep a
        # passage's or question's own '{{ x }}' literal (without a context nothing is rendered).
        if context:
            messages = [m | {"content": jinja_literal(m["content"])} for m in messages]
        try:
            return self.client.create(
                model=self.settings.llm_model, response_model=model,
                messages=messages,
                max_retries=self.settings.llm_max_retries, context=context or {}, strict=False,
            )
        except InstructorError as exc:  # instructor wraps both HTTP and validation failures
            api_error = find_cause(exc, openai.APIError)
            if api_error is not None:
                raise LLMUnavailable(redact(f"LLM endpoint {self.settings.llm_base_url}: {api_error}",
                                            self.settings.secrets())) from exc
            raise ImrError(f"the model's {model.__name__} answer failed validation: {describe_failure(exc)}") from exc

    def answer(self, question: str, history: list[tuple[str, str]], filters: AnswerFilters) -> Answer:
        if history:
            transcript = "\n".join(f"user: {q}\nassistant: {a}" for q, a in history[-6:])
            rewrite = render_messages("rewrite_question", history=transcript, question=question)
            question = self._ask(StandaloneQuestion, rewrite).question
        newest = self.engine.sql.newest_decision_date() or "unknown"
        route = self._ask(Route, render_messages("route_question", question=question, newest=newest))
        if route.kind == "catalog" and route.query is not None:
            answer = self.engine.execute(question, route.query, filters)
            return answer.model_copy(update={"mode": "llm"})
        return self._numbers_checked(question, self._from_passages(question, filters), filters)

    def _numbers_checked(self, question: str, answer: Answer, filters: AnswerFilters) -> Answer:
        """The generated answer, unless the question counts and it states a number the catalog's
        SQL answer does not: then the catalog's answer, saying why."""
        said = set(NUMBER.findall(" ".join(s.text for s in answer.sentences)))
        if not said:
            return answer
        computed = self.engine.offline_answer(question, filters)
        if computed.kind != "count" or said <= set(NUMBER.findall(computed.text)):
            return answer
        computed.notes.append(f"the model's answer stated numbers the catalog does not compute "
                              f"({', '.join(sorted(said - set(NUMBER.findall(computed.text))))}); answered from the catalog")
        return computed

    def _from_passages(self, question: str, filters: AnswerFilters) -> Answer:
        hits = self.engine.library.search(question, k=RETRIEVE_K, filters=filters.for_search())
        if not hits:
            return self.engine.nothing(question, UNSUPPORTED)
        numbered = {n: hit for n, hit in enumerate(hits, 1)}
        listing = "\n\n".join(
            f"[{n}] (case {h.case_number or h.doc_id}, {h.section})\n{h.text}" for n, h in numbered.items()
        )
        generated = self._ask(
            GeneratedAnswer, render_messages("answer", question=question, passages=listing),
            context={"passages": {n: h.text for n, h in numbered.items()}},
        )
        if not generated.supported or not generated.sentences:
            return self.engine.nothing(question, UNSUPPORTED)
        b = self.engine.builder()
        for sentence in generated.sentences:
            cites = [self._cite(b, numbered[c.passage], c.quote) for c in sentence.citations]
            b.say(sentence.text, sorted(set(cites), key=cites.index))
        return b.answer(question, "llm", mode="llm")

    @staticmethod
    def _cite(b, hit: Hit, quote: str) -> int:
        """Number the cited quote, located inside its passage (validators already found it)."""
        ev = align_quote(hit.text, quote)
        return b.cite(hit.doc_id, hit.case_number, hit.source, hit.start + ev.start, hit.start + ev.end, hit.section)
