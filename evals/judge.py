"""Faithfulness of LLM answers, judged by a configurable model.

The judge is configuration, not code: IMR_JUDGE_BASE_URL / IMR_JUDGE_MODEL / IMR_JUDGE_API_KEY /
IMR_JUDGE_MODE, each falling back to the extraction LLM's `IMR_LLM_*` setting. Without any
endpoint there is no judge and faithfulness is reported as 'n/a'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from imr_rag.prompts import render
from imr_rag.settings import Settings

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
PROMPT_NAME = "judge_faithfulness"


class JudgeSettings(BaseSettings):
    """Where the judge model is; unset fields fall back to the extraction LLM settings."""

    model_config = SettingsConfigDict(env_prefix="IMR_JUDGE_", env_file=".env", extra="ignore")

    base_url: str | None = Field(default=None, description="OpenAI-compatible chat endpoint of the judge.")
    model: str | None = Field(default=None, description="Judge model id.")
    api_key: str | None = Field(default=None, description="API key for the judge endpoint.")
    mode: Literal["tools", "json", "json_schema", "md_json"] | None = Field(
        default=None, description="instructor mode for the judge."
    )
    timeout: float = Field(default=120.0, description="Seconds per judge request.")


class SentenceVerdict(BaseModel):
    """Whether one numbered answer sentence is supported by the cited passages."""

    sentence: int = Field(description="The sentence number, as given.")
    supported: bool = Field(description="True when the cited passages support everything the sentence states.")


class FaithfulnessVerdict(BaseModel):
    """One verdict per answer sentence."""

    verdicts: list[SentenceVerdict] = Field(description="A verdict for every numbered sentence.")


class Judge:
    """Asks a chat model which answer sentences the cited passages support."""

    def __init__(self, base_url: str, model: str, api_key: str, mode: str = "tools", timeout: float = 120.0):
        import instructor
        import openai

        modes = {"tools": instructor.Mode.TOOLS, "json": instructor.Mode.JSON,
                 "json_schema": instructor.Mode.JSON_SCHEMA, "md_json": instructor.Mode.MD_JSON}
        self.model = model
        self.client = instructor.from_openai(
            openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=2), mode=modes[mode]
        )

    def faithfulness(self, question: str, sentences: list[str], passages: list[str]) -> float | None:
        """Share of sentences the judge finds supported (None when there is nothing to judge)."""
        if not sentences:
            return None
        prompt = render(
            PROMPT_NAME, PROMPTS_DIR,
            question=question,
            passages="\n\n".join(f"[{n}] {p}" for n, p in enumerate(passages, 1)) or "(none)",
            sentences="\n".join(f"{n}. {s}" for n, s in enumerate(sentences, 1)),
        )
        verdict = self.client.chat.completions.create(
            model=self.model, response_model=FaithfulnessVerdict, max_retries=1,
            messages=[{"role": "user", "content": prompt}],
        )
        supported = {v.sentence for v in verdict.verdicts if v.supported and 1 <= v.sentence <= len(sentences)}
        return len(supported) / len(sentences)


def make_judge(settings: Settings, judge_settings: JudgeSettings | None = None) -> Judge | None:
    """The judge from judge settings, else from the LLM settings; None when no endpoint is set."""
    js = judge_settings or JudgeSettings()
    base_url = js.base_url or settings.llm_base_url
    if not base_url:
        return None
    return Judge(
        base_url=base_url,
        model=js.model or settings.llm_model,
        api_key=js.api_key or settings.llm_api_key,
        mode=js.mode or settings.llm_mode,
        timeout=js.timeout,
    )


def answer_sentences(answer: Any) -> list[str]:
    """The sentences of an answer (its sentence list, else the text as one sentence)."""
    sentences = [s.text for s in getattr(answer, "sentences", None) or [] if s.text.strip()]
    return sentences or ([answer.text] if answer.text.strip() else [])
