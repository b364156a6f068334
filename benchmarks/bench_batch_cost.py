"""Tokens and cost per 1,000 letters of LLM extraction at Batch API price, through the real file path.

The letters (../shared/corpus/dwc-dev, else the synthetic samples) are ingested into a temporary
library and extracted with the rules backend. Then the batch path runs end to end on files:
`write_requests` writes the Batch API request file; a results file is written with, for each
letter, the answer a model would give if it agreed with the rules record (its quotes are the rules
record's evidence), in the Batch API output format; `apply_results` validates, aligns and stores
them as `imr-rag extract --batch-results` does. No model runs, so token counts are estimates at
4 characters per token: prompt = the request body, completion = the tool-call arguments.

    python benchmarks/bench_batch_cost.py [--corpus DIR]

Prices: IMR_LLM_BATCH_PRICE_INPUT / _OUTPUT (USD per 1M tokens; defaults are gpt-4o-mini's batch price).
Checks: one request line per letter, every answer read back, validated and stored as given. Exit 1
when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script, installed or not

from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.extract.batch import BatchCost, BatchTally, apply_results, write_requests  # noqa: E402
from imr_rag.extract.service import ExtractionService  # noqa: E402
from imr_rag.library import Library  # noqa: E402
from imr_rag.schema import Decision  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
SAMPLES = REPO_ROOT / "evals" / "fixtures" / "synthetic" / "letters"
CHARS_PER_TOKEN = 4
YEAR = 172_000


def model_answer(decision: Decision) -> dict:
    """The LLMDecision a model agreeing with the rules record would return (quotes = evidence)."""
    letter = decision.model_dump(mode="json", include={
        "case_number", "decision_date", "date_of_injury", "date_assigned", "ur_denial_date",
        "application_received", "priority", "reviewer", "patient", "diagnoses"})
    letter["items"] = [{
        "service": item.service, "original_request": item.original_request,
        "authorized_portion": item.authorized_portion, "category": item.category.value,
        "determination": item.determination.value, "medically_necessary": item.medically_necessary,
        "guidelines": [g.model_dump(mode="json") for g in item.guidelines],
        "service_quote": (item.evidence.service or item.evidence.determination).quote,
        "determination_quote": item.evidence.determination.quote,
        "rationale_quote": item.evidence.rationale.quote if item.evidence.rationale else None,
    } for item in decision.items]
    return letter


def result_line(doc_id: str, request_chars: int, arguments: str) -> str:
    body = {
        "id": f"chatcmpl-{doc_id}", "object": "chat.completion", "created": int(time.time()), "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "LLMDecision", "arguments": arguments}}]}}],
        "usage": {"prompt_tokens": request_chars // CHARS_PER_TOKEN,
                  "completion_tokens": len(arguments) // CHARS_PER_TOKEN,
                  "total_tokens": request_chars // CHARS_PER_TOKEN + len(arguments) // CHARS_PER_TOKEN},
    }
    return json.dumps({"id": f"batch_req_{doc_id}", "custom_id": doc_id,
                       "response": {"status_code": 200, "request_id": doc_id, "body": body}, "error": None})


def main(argv: list[str] | None = None) -> int:
    verdict = Verdict()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    corpus = args.corpus if args.corpus.is_dir() else SAMPLES

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data")  # IMR_* prices apply
        with Library(settings) as lib:
            targets, failed = lib.documents_to_extract([corpus])
            rules = ExtractionService(settings, lib.catalog, "rules")
            docs = [lib.catalog.load_document(doc_id) for _, doc_id in targets]
            records = {r.doc_id: r.decision for r in rules.run(iter(docs), len(docs)) if r.decision}

            started = time.perf_counter()
            written = write_requests(settings, docs, root / "requests.jsonl")
            write_seconds = time.perf_counter() - started
            requests = {json.loads(line)["custom_id"]: len(line)
                        for line in (root / "requests.jsonl").read_text().splitlines()}
            with (root / "results.jsonl").open("w") as out:
                for doc_id, decision in records.items():
                    out.write(result_line(doc_id, requests[doc_id], json.dumps(model_answer(decision))) + "\n")
            started = time.perf_counter()
            results = list(apply_results(settings, lib.catalog, root / "results.jsonl", lambda where, why: None))
            apply_seconds = time.perf_counter() - started

    ok = [r for r in results if r.decision]
    agree = sum(1 for r in ok if [i.determination for i in r.decision.items]
                == [i.determination for i in records[r.doc_id].items])
    tally = BatchTally()
    for r in results:
        tally.add(r)
    cost = BatchCost.per_1000(tally.usage, tally.letters, settings)
    print(f"{len(docs)} letters from {corpus}: request file {sum(requests.values()) / 2**20:.2f} MB "
          f"({sum(requests.values()) / len(requests) / 1024:.1f} KB per letter, {written.requests} lines, "
          f"written at {len(docs) / write_seconds:,.0f} letters/s)")
    print(f"results: {len(ok)}/{len(results)} answers validated, aligned and stored at {len(results) / apply_seconds:,.0f} "
          f"letters/s; {agree} with the rules record's determinations")
    print(f"per 1,000 letters (estimated at {CHARS_PER_TOKEN} characters a token): {cost.prompt_tokens:,.0f} prompt + "
          f"{cost.completion_tokens:,.0f} completion tokens = ${cost.usd:.2f} at ${settings.llm_batch_price_input}/1M "
          f"prompt, ${settings.llm_batch_price_output}/1M completion")
    print(f"a year ({YEAR:,} letters): ${cost.usd * YEAR / 1000:,.0f}; request files of "
          f"{sum(requests.values()) / len(requests) * YEAR / 2**30:.1f} GB, at least "
          f"{-(-YEAR * sum(requests.values()) // len(requests) // (190 * 2**20))} batches (190 MB each)")
    verdict.check(len(docs) > 0 and written.requests == len(docs), f"{written.requests} request lines for {len(docs)} letters")
    verdict.check(len(results) == len(records), f"{len(results)} results read back for {len(records)} answers written")
    verdict.check(len(ok) == len(results), f"{len(results) - len(ok)} answers failed validation or alignment")
    verdict.check(agree == len(ok), f"{len(ok) - agree} stored answers disagree with the rules record they repeat")
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
