"""The LLM extractor through the real openai + instructor stack, against a scripted server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from llm_server import Delay, HTTPError, Reply, ScriptedLLMServer, embedding_vector, scripted_llm_server

from imr_rag import prompts
from imr_rag.ingest.documents import read_document
from imr_rag.schema import Document
from imr_rag.errors import ExtractionFailed, LLMUnavailable
from imr_rag.extract.align import evidence_is_grounded
from imr_rag.extract.llm import LLMDecision, LLMExtractor, TokenUsage, response_model_hash
from imr_rag.schema import Alignment, Determination
from imr_rag.settings import Settings

LETTER = """\
Case Number: CM99-0000042
Date Assigned: 03/14/2022 Date of Injury: 06/02/2021
Decision Date: 04/18/2022 UR Denial Date: 02/22/2022
Priority: Standard Application Received: 03/07/2022
The Expert Reviewer has the following credentials:
State(s) of Licensure: California
Certification(s)/Specialty: Family Practice
CLINICAL CASE SUMMARY
This case involves a now 58-year-old female with lumbar radiculopathy. The treatment plan
included a trial of Lyrica and a repeat MRI of the lumbar spine.
IMR ISSUES, DECISIONS AND RATIONALES
Lyrica 75mg #60: Overturned
MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s):
Antiepilepsy drugs (AEDs).
Decision rationale: The California MTUS 2016 Chronic Pain Guidelines recommend antiepilepsy
drugs such as pregabalin as a first-line option for neuropathic pain. Therefore, the request
for Lyrica 75mg #60 is medically necessary.
MRI of the lumbar spine without contrast: Upheld
MAXIMUS guideline: Decision based on MTUS Low Back Complaints 2004, Section(s): Special Studies.
Decision rationale: Repeat imaging is reserved for a significant change in symptoms or findings
suggestive of significant pathology. Given the above, the request for a repeat MRI of the
lumbar spine without contrast is not medically necessary.
"""


def item(**overrides: Any) -> dict[str, Any]:
    answer = {
        "service": "Lyrica 75mg #60",
        "category": "medication",
        "determination": "overturned",
        "medically_necessary": True,
        "guidelines": [{"source": "MTUS", "citation": "MTUS Chronic Pain Medical Treatment 2016"}],
        "service_quote": "Lyrica 75mg #60",
        "determination_quote": "Lyrica 75mg #60: Overturned",
        # spans a line break in the letter: aligned as 'whitespace'
        "rationale_quote": "recommend antiepilepsy drugs such as pregabalin as a first-line option",
    }
    return answer | overrides


MRI_ITEM = {
    "service": "MRI of the lumbar spine without contrast",
    "category": "imaging",
    "determination": "upheld",
    "medically_necessary": False,
    "service_quote": "MRI of the lumbar spine without contrast",
    "determination_quote": "MRI of the lumbar spine without contrast: Upheld",
    "rationale_quote": "Repeat imaging is reserved for a significant change in symptoms",
}


def answer(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_number": "CM99-0000042",
        "decision_date": "2022-04-18",
        "date_of_injury": "2021-06-02",
        "priority": "Standard",
        "reviewer": {"specialty": "Family Practice", "licensure": ["California"]},
        "patient": {"age": 58, "sex": "female"},
        "diagnoses": ["lumbar radiculopathy"],
        "items": list(items) if items else [item(), MRI_ITEM],
    }


INVENTED = answer(item(rationale_quote="Lyrica is the best drug for all back pain."), MRI_ITEM)


@pytest.fixture
def letter(tmp_path: Path) -> Document:
    path = tmp_path / "CM99-0000042.txt"
    path.write_text(LETTER, encoding="utf-8")
    return read_document(path)


@pytest.fixture
def llm() -> Iterator[ScriptedLLMServer]:
    with scripted_llm_server() as server:
        yield server
        assert server.unscripted == 0, "the extractor sent more requests than the test scripted"


def extractor(server: ScriptedLLMServer, **overrides: Any) -> LLMExtractor:
    """Settings that ignore .env and IMR_* variables; tiny backoff so retries are quick."""
    fields: dict[str, Any] = {"llm_base_url": server.base_url, "llm_model": "test-model"}
    settings = Settings(_env_file=None, **(fields | overrides))
    return LLMExtractor(settings, backoff_base=0.01)


# -- a good answer ---------------------------------------------------------------------------


def test_valid_answer_becomes_a_decision_with_grounded_evidence(llm, letter):
    llm.enqueue(answer())
    result = extractor(llm).extract(letter)

    decision = result.decision
    assert decision.case_number == "CM99-0000042"
    assert decision.letter_format == letter.letter_format
    assert decision.source.path == letter.path and decision.source.doc_id == letter.doc_id
    assert decision.patient.age == 58 and decision.reviewer.licensure == ["California"]
    assert [i.determination for i in decision.items] == [
        Determination.overturned, Determination.upheld
    ]
    for disputed in decision.items:
        for ev in (disputed.evidence.service, disputed.evidence.determination,
                   disputed.evidence.rationale):
            assert ev is not None and evidence_is_grounded(letter.text, ev)
            assert letter.text[ev.start : ev.end] == ev.quote
    lyrica = decision.items[0]
    assert lyrica.evidence.rationale.alignment is Alignment.whitespace
    assert lyrica.rationale == lyrica.evidence.rationale.quote
    # the service is found on the item's decision line, not in the case summary
    assert lyrica.evidence.service.start == lyrica.evidence.determination.start
    assert (result.calls, result.retries, result.http_retries) == (1, 0, 0)
    assert result.seconds > 0


def test_request_carries_the_prompt_the_letter_and_the_tool_schema(llm, letter):
    llm.enqueue(answer())
    extractor(llm).extract(letter)

    (request,) = llm.requests
    assert request["model"] == "test-model"
    system, user = request["messages"]
    assert system["role"] == "system" and "VERBATIM" in system["content"]
    assert user["role"] == "user" and letter.text in user["content"]
    tool = request["tools"][0]["function"]
    assert tool["name"] == "LLMDecision"
    assert "service_quote" in str(tool["parameters"])


# -- re-asks ---------------------------------------------------------------------------------


def test_invented_quote_is_reasked_then_accepted(llm, letter):
    llm.enqueue(INVENTED, answer())
    result = extractor(llm).extract(letter)

    assert len(llm.requests) == 2
    reask = llm.requests[1]["messages"][-1]
    assert reask["role"] == "tool"
    assert reask["content"].startswith("Validation Error found")
    assert "quote not found in the letter" in reask["content"]
    assert "Lyrica is the best drug" in reask["content"]
    assert (result.calls, result.retries) == (2, 1)
    assert all(evidence_is_grounded(letter.text, i.evidence.rationale) for i in result.decision.items)


def test_garbage_until_retries_run_out_raises_extraction_failed(llm, letter):
    llm.enqueue("I am sorry, I cannot do that.", {"items": "none"}, "still not a tool call")
    with pytest.raises(ExtractionFailed) as failure:
        extractor(llm, llm_max_retries=2).extract(letter)

    assert len(llm.requests) == 3
    assert failure.value.path == letter.path
    assert "failed validation after 3 attempt(s)" in failure.value.reason
    assert "No tool calls" in failure.value.reason  # the last attempt's error, on one line
    assert "\n" not in failure.value.reason


def test_garbage_json_in_json_mode_raises_extraction_failed(llm, letter):
    llm.enqueue("{not json", "[1, 2]")
    with pytest.raises(ExtractionFailed) as failure:
        extractor(llm, llm_mode="json", llm_max_retries=1).extract(letter)
    assert len(llm.requests) == 2
    assert "failed validation after 2 attempt(s)" in failure.value.reason
    assert "Correct your JSON" in llm.requests[1]["messages"][-1]["content"]


# -- HTTP failures ---------------------------------------------------------------------------


def test_429_is_retried_then_succeeds(llm, letter):
    llm.enqueue(HTTPError(429, "rate limited"), answer())
    result = extractor(llm).extract(letter)
    assert len(llm.requests) == 2
    assert (result.calls, result.http_retries, result.retries) == (2, 1, 0)
    assert len(result.decision.items) == 2


def test_500_twice_is_retried_then_succeeds(llm, letter):
    llm.enqueue(HTTPError(500), HTTPError(503), answer())
    result = extractor(llm, llm_http_retries=2).extract(letter)
    assert len(llm.requests) == 3
    assert result.http_retries == 2


def test_5xx_beyond_the_retries_raises_llm_unavailable_naming_endpoint_and_reason(llm, letter):
    llm.enqueue(HTTPError(502, "bad gateway"), HTTPError(502, "bad gateway"))
    with pytest.raises(LLMUnavailable) as failure:
        extractor(llm, llm_http_retries=1).extract(letter)
    message = str(failure.value)
    assert llm.base_url in message and "HTTP 502: bad gateway" in message
    assert "after 2 attempt(s)" in message


def test_retry_after_header_is_honoured(llm, letter):
    llm.enqueue(HTTPError(429, headers={"Retry-After": "0.3"}), answer())
    started = time.monotonic()
    extractor(llm).extract(letter)
    assert time.monotonic() - started >= 0.3


def test_timeouts_are_retried_then_raise_llm_unavailable(llm, letter):
    llm.enqueue(Delay(2.0), Delay(2.0))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as failure:
        extractor(llm, llm_timeout=0.5, llm_http_retries=1).extract(letter)

    assert len(llm.requests) == 2
    assert "timed out after 0.5 s" in str(failure.value) and llm.base_url in str(failure.value)
    assert time.monotonic() - started < 1.9  # two 0.5 s timeouts, not the server's 2 s delays


def test_timeout_then_success(llm, letter):
    llm.enqueue(Delay(2.0), answer())
    result = extractor(llm, llm_timeout=0.5).extract(letter)
    assert (result.calls, result.http_retries) == (2, 1)


def test_connection_refused_raises_llm_unavailable(letter):
    with scripted_llm_server() as server:
        closed = extractor(server, llm_http_retries=1)
    with pytest.raises(LLMUnavailable) as failure:
        closed.extract(letter)
    assert "connection failed" in str(failure.value)


def test_auth_error_is_not_retried(llm, letter):
    llm.enqueue(HTTPError(401, "invalid api key"))
    with pytest.raises(LLMUnavailable) as failure:
        extractor(llm).extract(letter)
    assert len(llm.requests) == 1
    assert "HTTP 401: invalid api key" in str(failure.value)


def test_request_rejected_for_this_letter_is_an_extraction_failure(llm, letter):
    llm.enqueue(HTTPError(400, "context length exceeded"))
    with pytest.raises(ExtractionFailed) as failure:
        extractor(llm).extract(letter)
    assert len(llm.requests) == 1
    assert "HTTP 400: context length exceeded" in failure.value.reason


def test_no_endpoint_configured_raises_llm_unavailable():
    with pytest.raises(LLMUnavailable, match="IMR_LLM_BASE_URL"):
        LLMExtractor(Settings(_env_file=None, llm_base_url=None))


# -- usage and the token budget --------------------------------------------------------------


def test_usage_is_summed_over_reasks_and_http_retries(llm, letter):
    llm.enqueue(
        Reply(INVENTED, prompt_tokens=1000, completion_tokens=200),
        HTTPError(500),  # no usage: nothing was generated
        Reply(INVENTED, prompt_tokens=1100, completion_tokens=210),
        Reply(answer(), prompt_tokens=1300, completion_tokens=220),
    )
    result = extractor(llm, llm_max_retries=2).extract(letter)

    assert len(llm.requests) == 4
    assert result.usage == TokenUsage(3400, 630, 4030)
    assert result.usage == TokenUsage(**llm.total_reported_usage())
    assert (result.calls, result.retries, result.http_retries) == (4, 2, 1)


def test_usage_with_default_server_numbers_matches_the_server(llm, letter):
    llm.enqueue(INVENTED, INVENTED, answer())
    result = extractor(llm, llm_max_retries=2).extract(letter)
    assert result.usage == TokenUsage(**llm.total_reported_usage())
    # each re-ask resends the conversation, so later requests report more prompt tokens
    prompts_seen = [u["prompt_tokens"] for u in llm.reported_usage]
    assert prompts_seen == sorted(prompts_seen) and prompts_seen[0] < prompts_seen[-1]


def test_token_budget_exceeded_fails_without_further_calls(llm, letter):
    llm.enqueue(Reply(INVENTED, prompt_tokens=1500, completion_tokens=100), answer())
    with pytest.raises(ExtractionFailed) as failure:
        extractor(llm, llm_max_tokens_per_letter=1000, llm_max_retries=3).extract(letter)

    assert len(llm.requests) == 1 and llm.pending == 1
    assert "token budget of 1000 per letter exhausted (1600 tokens over 1 request(s))" in (
        failure.value.reason
    )
    assert "quote not found" in failure.value.reason


def test_token_budget_stops_reasks_once_the_sum_passes_it(llm, letter):
    llm.enqueue(
        Reply(INVENTED, prompt_tokens=500, completion_tokens=100),
        Reply(INVENTED, prompt_tokens=500, completion_tokens=100),
    )
    with pytest.raises(ExtractionFailed, match="token budget of 1000"):
        extractor(llm, llm_max_tokens_per_letter=1000, llm_max_retries=5).extract(letter)
    assert len(llm.requests) == 2


def test_token_budget_spans_http_retries(llm, letter):
    """instructor restarts its own usage total on every call; the letter's budget does not."""
    llm.enqueue(
        Reply(INVENTED, prompt_tokens=500, completion_tokens=100),
        HTTPError(500),  # during the re-ask: the whole call is retried from the first prompt
        Reply(INVENTED, prompt_tokens=500, completion_tokens=100),
        answer(),
    )
    with pytest.raises(ExtractionFailed, match=r"token budget of 1000 .*\(1200 tokens over 3"):
        extractor(llm, llm_max_tokens_per_letter=1000, llm_max_retries=3).extract(letter)
    assert len(llm.requests) == 3 and llm.pending == 1


def test_concurrent_letters_keep_separate_accounts(llm, letter):
    from concurrent.futures import ThreadPoolExecutor

    llm.enqueue(*[answer()] * 4)
    shared = extractor(llm)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(shared.extract, [letter] * 4))
    assert [r.calls for r in results] == [1, 1, 1, 1]
    total = sum((r.usage for r in results), TokenUsage())
    assert total == TokenUsage(**llm.total_reported_usage())


# -- other modes -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["json", "json_schema", "md_json"])
def test_json_modes_extract_and_reask(llm, letter, mode):
    llm.enqueue(INVENTED, answer())
    result = extractor(llm, llm_mode=mode).extract(letter)

    assert "tools" not in llm.requests[0]
    if mode == "json":
        assert llm.requests[0]["response_format"] == {"type": "json_object"}
    assert "quote not found in the letter" in llm.requests[1]["messages"][-1]["content"]
    assert len(result.decision.items) == 2
    assert all(evidence_is_grounded(letter.text, i.evidence.service) for i in result.decision.items)


def test_md_json_accepts_a_fenced_answer(llm, letter):
    import json

    llm.enqueue("Here it is:\n```json\n" + json.dumps(answer()) + "\n```")
    result = extractor(llm, llm_mode="md_json").extract(letter)
    assert result.decision.case_number == "CM99-0000042"


# -- cache key parts -------------------------------------------------------------------------


def test_fingerprint_depends_on_model_mode_and_endpoint(llm, letter):
    base = extractor(llm)
    assert base.cache_fingerprint() == extractor(llm).cache_fingerprint()
    assert base.cache_fingerprint() != extractor(llm, llm_model="other").cache_fingerprint()
    assert base.cache_fingerprint() != extractor(llm, llm_mode="json").cache_fingerprint()
    parts = base.cache_parts()
    assert parts["prompt"] == prompts.prompt_hash("extract_decision")
    assert parts["response_model"] == response_model_hash()
    llm.enqueue(answer())
    assert base.extract(letter).fingerprint == base.cache_fingerprint()


def test_llm_model_has_no_source_or_review_flags_and_quotes_instead_of_spans():
    fields = set(LLMDecision.model_fields)
    assert not {"source", "review_flags", "letter_format"} & fields
    item_fields = set(LLMDecision.model_fields["items"].annotation.__args__[0].model_fields)
    assert {"service_quote", "determination_quote", "rationale_quote"} <= item_fields
    assert "evidence" not in item_fields


# -- prompt templates ------------------------------------------------------------------------


def test_render_checks_declared_variables():
    text = prompts.render("extract_decision", letter="LETTER TEXT $5", letter_format="ca_dwc_imr")
    assert "LETTER TEXT $5" in text and "ca_dwc_imr" in text and "$letter" not in text
    with pytest.raises(prompts.PromptError, match=r"needs variable.*letter_format"):
        prompts.render("extract_decision", letter="x")
    with pytest.raises(prompts.PromptError, match=r"does not declare.*schema"):
        prompts.render("extract_decision", letter="x", letter_format="y", schema="z")


def test_template_using_an_undeclared_variable_fails(tmp_path):
    (tmp_path / "bad.md").write_text("variables: letter\n\n$letter and $extra\n")
    with pytest.raises(prompts.PromptError, match=r"undeclared variable.*extra"):
        prompts.render("bad", tmp_path, letter="x")
    (tmp_path / "nodecl.md").write_text("Hello $letter\n")
    with pytest.raises(prompts.PromptError, match="first line"):
        prompts.render("nodecl", tmp_path, letter="x")
    with pytest.raises(prompts.PromptError, match="not found"):
        prompts.render("missing", tmp_path)


def test_prompt_hash_follows_the_file(tmp_path):
    path = tmp_path / "p.md"
    path.write_text("variables: a\n$a\n")
    first = prompts.prompt_hash("p", tmp_path)
    assert first == prompts.prompt_hash("p", tmp_path) and len(first) == 64
    path.write_text("variables: a\nSay $a\n")
    assert prompts.prompt_hash("p", tmp_path) != first


# -- the scripted server's embeddings endpoint -----------------------------------------------


def test_scripted_server_serves_deterministic_embeddings(llm):
    client = openai.OpenAI(base_url=llm.base_url, api_key="x", max_retries=0)
    first = client.embeddings.create(model="m", input=["lumbar MRI", "knee brace"])
    again = client.embeddings.create(model="m", input="lumbar MRI", encoding_format="float")
    assert len(first.data) == 2 and len(first.data[0].embedding) == 64
    assert again.data[0].embedding == pytest.approx(first.data[0].embedding, abs=1e-6)
    assert again.data[0].embedding == pytest.approx(embedding_vector("lumbar MRI"))
    assert llm.requests == []  # embeddings do not consume the chat script
