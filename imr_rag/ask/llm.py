"""The LLM path of the engine: a planner that fills the same `Plan` the reader fills, and answers
generated from passages whose every sentence cites them.

1. A follow-up question is rewritten to stand alone, using the conversation.
2. The model routes the question: a catalog question becomes a `Plan` (the tool's schema; a
   field the plan does not know, or a service, specialty or case the library does not hold,
   fails validation and instructor re-asks), answered by the same compiler and answer writer as
   offline, so every number is computed in SQL, never generated;
3. anything else is answered from retrieved passages. Validators (fed the passages by the
   validation context) reject a citation of a passage that was not retrieved or a quote that is
   not in the cited passage, so instructor re-asks.

The letter text and the question reach the model only inside fenced blocks that the system
message declares to be quoted material (`imr_rag.prompts`). This module holds the client only;
the engine (`ask.engine`) decides what to do with what it returns.
"""

from __future__ import annotations

import re
from typing import Literal

import instructor
import openai
from instructor.core import InstructorError
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from imr_rag.ask.plan import Condition, Plan
from imr_rag.errors import ImrError, LLMUnavailable, redact
from imr_rag.extract.align import align_quote
from imr_rag.extract.llm import MODES, describe_failure, find_cause
from imr_rag.prompts import jinja_literal, render_messages
from imr_rag.settings import Settings

NUMBER = re.compile(r"(?<![\w./-])\d+(?:[.,]\d+)*(?![\w/-]|[.,]\d)")
"""A number as a sentence states it ("999", "60", "1,200"); not part of a case number, date or dose."""


class Route(BaseModel):
    """How to answer: a plan over the decisions catalog, or passages of the letters."""

    kind: Literal["catalog", "passages"] = Field(description="'catalog' for what the plan can compute, else 'passages'.")
    plan: Plan | None = Field(default=None, description="The plan when kind is 'catalog'.")

    @model_validator(mode="after")
    def _linked(self, info: ValidationInfo) -> Route:
        """Every value the plan names must be one the library holds (the reader's linking check)."""
        known = (info.context or {}).get("known")
        if self.kind == "catalog" and self.plan is None:
            raise ValueError("kind 'catalog' needs the plan")
        if self.plan is not None and known is not None:
            for problem in unlinked(self.plan, known):
                raise ValueError(problem)
        return self


def unlinked(plan: Plan, known: dict[str, set[str]]) -> list[str]:
    """Values of the plan that the library does not hold: `known` maps a field to its values
    (lower case), e.g. {"case_number": {...}, "reviewer_specialty": {...}, "service": {...words}}."""
    problems = []
    conditions: list[Condition] = [*plan.where, *plan.measure.part, *(c for s in plan.segments for c in s)]
    conditions += plan.quantifier.where if plan.quantifier else []
    conditions += plan.threshold.where if plan.threshold else []
    for c in conditions:
        values = c.value if isinstance(c.value, list) else [c.value]
        for value in values:
            if c.field == "service":
                words = set(str(value).lower().split())
                if not words & known.get("service", set()):
                    problems.append(f"no disputed item names {value!r}; use the words the letters use")
            elif c.field in known and str(value).lower() not in known[c.field]:
                problems.append(f"{c.field} {value!r} is not in the library; choose one of {sorted(known[c.field])[:20]}")
    if plan.case_number and plan.case_number.lower() not in known.get("case_number", set()):
        problems.append(f"no letter has case number {plan.case_number}")
    return problems


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


class LLMClient:
    """One OpenAI-compatible endpoint through instructor."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = instructor.from_openai(
            openai.OpenAI(
                base_url=settings.llm_base_url, api_key=settings.llm_api_key,
                timeout=settings.llm_timeout, max_retries=settings.llm_http_retries,
            ),
            mode=MODES[settings.llm_mode],
        )

    def ask(self, model: type[BaseModel], messages: list[dict[str, str]], context: dict | None = None) -> BaseModel:
        # instructor renders the messages as Jinja templates when a context is given; keep a
        # passage's or question's own '{{ x }}' literal (without a context nothing is rendered).
        if context:
            messages = [m | {"content": jinja_literal(m["content"])} for m in messages]
        try:
            return self.client.create(
                model=self.settings.llm_model, response_model=model, messages=messages,
                max_retries=self.settings.llm_max_retries, context=context or {}, strict=False,
            )
        except InstructorError as exc:  # instructor wraps both HTTP and validation failures
            api_error = find_cause(exc, openai.APIError)
            if api_error is not None:
                raise LLMUnavailable(redact(f"LLM endpoint {self.settings.llm_base_url}: {api_error}",
                                            self.settings.secrets())) from exc
            raise ImrError(f"the model's {model.__name__} answer failed validation: {describe_failure(exc)}") from exc

    def standalone(self, question: str, history: list[tuple[str, str]]) -> str:
        if not history:
            return question
        transcript = "\n".join(f"user: {q}\nassistant: {a}" for q, a in history[-6:])
        return self.ask(StandaloneQuestion, render_messages("rewrite_question", history=transcript,
                                                            question=question)).question

    def route(self, question: str, newest: str, today: str, known: dict[str, set[str]]) -> Route:
        return self.ask(Route, render_messages("route_question", question=question, newest=newest, today=today),
                        context={"known": known})

    def generate(self, question: str, passages: dict[int, tuple[str, str]]) -> GeneratedAnswer:
        """An answer from `passages` ({number: (label, text)}), every sentence citing them."""
        listing = "\n\n".join(f"[{n}] ({label})\n{text}" for n, (label, text) in passages.items())
        return self.ask(GeneratedAnswer, render_messages("answer", question=question, passages=listing),
                        context={"passages": {n: text for n, (_label, text) in passages.items()}})
