"""LLM extraction at Batch API price: request file and results file, against files only.

The request body must be what the live path sends (checked against the scripted server's record
of a live request); results go through the live validation, alignment and catalog writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import SYNTHETIC_LETTERS
from llm_server import scripted_llm_server
from test_llm_extract import INVENTED, LETTER, MRI_ITEM, answer, item

from imr_rag.faces.cli import main
from imr_rag.ingest.documents import read_document
from imr_rag.extract.align import evidence_is_grounded
from imr_rag.extract.batch import write_requests
from imr_rag.extract.llm import LLMExtractor, chat_request_body
from imr_rag.extract.service import ExtractionService, extract_rules
from imr_rag.library import Library
from imr_rag.schema import Determination
from imr_rag.settings import Settings


def letter_text(n: int) -> str:
    return LETTER.replace("CM99-0000042", f"CM99-00000{n:02d}")


def letter_answer(n: int, *items: dict[str, Any]) -> dict[str, Any]:
    return answer(*items) | {"case_number": f"CM99-00000{n:02d}"}


def completion(arguments: dict[str, Any] | str, *, prompt: int = 3000, completion_tokens: int = 400,
               finish: str = "tool_calls") -> dict[str, Any]:
    """A chat completion as the Batch API returns it in `response.body` (tools mode)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": "chatcmpl-batch", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": finish, "logprobs": None, "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "LLMDecision", "arguments": args}}]}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                  "total_tokens": prompt + completion_tokens},
    }


def result_line(custom_id: str, body: dict[str, Any] | None = None, *, status: int = 200,
                error: dict[str, Any] | None = None) -> str:
    response = None if error else {"status_code": status, "request_id": "req_1", "body": body}
    return json.dumps({"id": "batch_req_1", "custom_id": custom_id, "response": response, "error": error})


@pytest.mark.parametrize("mode", ["tools", "json", "json_schema", "md_json"])
def test_batch_body_is_the_live_request(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "CM99-0000042.txt"
    braces = "Fax cover: {{ patient }} {% if x %} {# note #}\n"  # not template code: sent as written
    path.write_text(LETTER + braces, encoding="utf-8")
    document = read_document(path)
    with scripted_llm_server() as llm:
        settings = Settings(_env_file=None, llm_base_url=llm.base_url, llm_model="test-model", llm_mode=mode)
        llm.enqueue(answer() if mode != "md_json" else f"```json\n{json.dumps(answer())}\n```")
        LLMExtractor(settings, backoff_base=0.01).extract(document)
        (live,) = llm.requests
    batch = chat_request_body(settings, document)
    assert batch == live
    assert document.text in batch["messages"][-1]["content"] and "{{ patient }} {% if x %}" in document.text


def test_request_files_split_at_the_batch_limits(tmp_path: Path) -> None:
    documents = []
    for n in range(5):
        path = tmp_path / f"l{n}.txt"
        path.write_text(letter_text(n), encoding="utf-8")
        documents.append(read_document(path))
    settings = Settings(_env_file=None)
    written = write_requests(settings, documents, tmp_path / "req.jsonl", max_requests=2)
    assert [p.name for p in written.paths] == ["req.jsonl", "req.2.jsonl", "req.3.jsonl"]
    assert [len(p.read_text().splitlines()) for p in written.paths] == [2, 2, 1]
    one_line = len((tmp_path / "req.jsonl").read_text().splitlines()[0].encode())
    by_size = write_requests(settings, documents, tmp_path / "size.jsonl", max_bytes=one_line * 3 + 10)
    assert [len(p.read_text().splitlines()) for p in by_size.paths] == [3, 2]


def test_batch_file_then_results_store_decisions_and_report_failures(tmp_path: Path, capsys) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    for n in range(1, 6):
        (letters / f"CM99-00000{n:02d}.txt").write_text(letter_text(n), encoding="utf-8")
    data, requests = tmp_path / "data", tmp_path / "requests.jsonl"

    code = main(["--data-dir", str(data), "extract", str(letters), "--backend", "llm", "--batch-file", str(requests)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "wrote 5 requests" in out and "prompt tokens per letter" in out
    lines = [json.loads(line) for line in requests.read_text().splitlines()]
    with Library(Settings(_env_file=None, data_dir=data)) as lib:
        docs = {Path(d.path).stem: d for d in lib.catalog.documents()}
        assert lib.catalog.decisions() == []  # writing requests calls no model and stores nothing
    assert {line["custom_id"] for line in lines} == {d.doc_id for d in docs.values()}
    for line in lines:
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        body = line["body"]
        assert body["model"] == "gpt-4o-mini" and body["tools"][0]["function"]["name"] == "LLMDecision"
        assert body["messages"][-1]["content"].count("Case Number: CM99-00000") == 1

    doc = {n: docs[f"CM99-00000{n:02d}"].doc_id for n in range(1, 6)}
    invented = INVENTED | {"case_number": "CM99-0000002"}
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join([
        result_line(doc[1], completion(letter_answer(1))),
        result_line(doc[2], completion(invented)),  # a quote that is not in the letter
        result_line(doc[3], completion('{"items": [', finish="length")),  # cut off
        result_line(doc[4], error={"code": "batch_expired", "message": "This request could not be executed"}),
        result_line(doc[5], completion(letter_answer(5, item(determination="upheld"), MRI_ITEM))),
        result_line("no-such-doc", completion(letter_answer(1))),
        "{not json",
    ]) + "\n")

    code = main(["--data-dir", str(data), "extract", "--batch-results", str(results), "--json"])
    captured = capsys.readouterr()
    assert code == 1  # some letters failed
    summary = json.loads(captured.out)
    assert (summary["extracted"], summary["failed"], summary["unmatched_lines"]) == (2, 3, 2)
    # five letters answered: 4 x (3000 + 400) tokens reported (the expired one reported none)
    assert summary["per_1000_letters"]["prompt_tokens"] == 4 * 3000 * 1000 / 5
    assert summary["per_1000_letters"]["completion_tokens"] == 4 * 400 * 1000 / 5
    assert summary["per_1000_letters"]["usd"] == pytest.approx((2_400_000 * 0.075 + 320_000 * 0.30) / 1e6)
    err = captured.err
    assert f"CM99-0000002.txt (doc {doc[2]}): LLM answer failed validation" in err and "quote not found" in err
    assert f"CM99-0000003.txt (doc {doc[3]}): the model's answer was cut off" in err
    assert f"doc {doc[4]}): batch request failed: batch_expired: This request could not be executed" in err
    assert f"{results} line 6: custom_id 'no-such-doc' is not a letter in this catalog" in err
    assert f"{results} line 7: not JSON" in err

    with Library(Settings(_env_file=None, data_dir=data)) as lib:
        stored = {doc_id: decision for doc_id, _, decision in lib.catalog.decisions()}
        assert set(stored) == {doc[1], doc[5]}
        text = lib.catalog.load_document(doc[1]).text
        failures = dict(lib.catalog.db.execute("SELECT doc_id, reason FROM extraction_failures").fetchall())
    assert [i.determination for i in stored[doc[5]].items] == [Determination.upheld, Determination.upheld]
    for disputed in stored[doc[1]].items:  # aligned spans, as from the live path
        for ev in (disputed.evidence.service, disputed.evidence.determination, disputed.evidence.rationale):
            assert evidence_is_grounded(text, ev) and text[ev.start : ev.end] == ev.quote
    assert set(failures) == {doc[2], doc[3], doc[4]} and "quote not found" in failures[doc[2]]

    code = main(["--data-dir", str(data), "extract", "--batch-results", str(results)])
    out = capsys.readouterr().out
    assert "2 decisions (4 items) from batch results; 3 failed, 2 lines matched no letter" in out
    assert "per 1,000 letters: 2,400,000 prompt + 320,000 completion tokens, about $0.28" in out


def test_batch_options_are_checked(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "extract", "--batch-file", str(tmp_path / "r.jsonl")]) == 2
    assert "--batch-file needs --backend llm" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "extract", "--batch-results", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_requested_letters_without_a_result_line_are_listed_until_answered(tmp_path: Path, capsys) -> None:
    """A batch that expires or is cancelled leaves some requests with no line at all in its output:
    those letters are named after each results file, until a later file answers them."""
    letters = tmp_path / "letters"
    letters.mkdir()
    for n in range(1, 4):
        (letters / f"CM99-00000{n:02d}.txt").write_text(letter_text(n), encoding="utf-8")
    data, requests = tmp_path / "data", tmp_path / "requests.jsonl"
    assert main(["--data-dir", str(data), "extract", str(letters), "--backend", "llm", "--batch-file", str(requests)]) == 0
    capsys.readouterr()
    with Library(Settings(_env_file=None, data_dir=data)) as lib:
        doc = {Path(d.path).stem: d.doc_id for d in lib.catalog.documents()}
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(result_line(doc["CM99-0000001"], completion(letter_answer(1))) + "\n")
    second.write_text("\n".join(result_line(doc[f"CM99-00000{n:02d}"], completion(letter_answer(n)))
                                for n in (2, 3)) + "\n")

    assert main(["--data-dir", str(data), "extract", "--batch-results", str(first)]) == 0  # not a failure
    err = capsys.readouterr().err
    assert f"note: 2 requested letters have no answer in any results file applied yet (from {requests})" in err
    assert "CM99-0000002.txt" in err and "CM99-0000003.txt" in err and "CM99-0000001.txt" not in err

    assert main(["--data-dir", str(data), "extract", "--batch-results", str(second), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["waiting"] == [] and "no answer" not in captured.err


def test_a_live_llm_outcome_answers_the_batch_request_and_a_rules_record_does_not(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    for n in (1, 2):
        (letters / f"CM99-00000{n:02d}.txt").write_text(letter_text(n), encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "extract", str(letters), "--backend", "llm",
                 "--batch-file", str(tmp_path / "requests.jsonl")]) == 0
    with Library(Settings(_env_file=None, data_dir=data)) as lib:
        doc = {Path(d.path).stem: d.doc_id for d in lib.catalog.documents()}
        rules = ExtractionService(lib.settings, lib.catalog, "rules")
        [ruled] = rules.run(iter([lib.catalog.load_document(doc["CM99-0000002"])]), 1)
        assert ruled.backend == "rules"  # its outcome (here the rules parser's failure) is stored
        assert len(lib.catalog.batch_waiting()) == 2  # a rules outcome answers no LLM request
        lib.catalog.record_extraction_failure(doc["CM99-0000001"], "llm", "the endpoint refused")
        decision = extract_rules(read_document(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt")).decision
        lib.catalog.save_decision(doc["CM99-0000002"], "llm", decision)
        assert lib.catalog.batch_waiting() == []
