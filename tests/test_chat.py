"""The answer engine on a real library of the synthetic letters (ingested, embedded, extracted).

Offline answers are checked for the right outcome and the right cited sentence; the LLM path
runs the real openai + instructor code against the scripted server on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import SYNTHETIC_LETTERS, make_settings
from llm_server import scripted_llm_server

from imr_rag.ask.engine import Asker
from imr_rag.extract.service import ExtractionService
from imr_rag.library import Library
from imr_rag.schema import AnswerFilters, Determination

QUESTIONS = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "synthetic" / "questions.jsonl"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory):
    """A library of every synthetic letter with rules-extracted decisions. Read-only."""
    settings = make_settings(tmp_path_factory.mktemp("chat-library"))
    lib = Library(settings)
    lib.ingest([SYNTHETIC_LETTERS])
    service = ExtractionService(settings, lib.catalog, "rules")
    docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
    list(service.run(iter(docs), len(docs)))
    yield lib, settings
    lib.close()


@pytest.fixture(scope="module")
def engine(extracted) -> Asker:
    lib, settings = extracted
    return Asker(lib, settings)


def squash(text: str) -> str:
    return " ".join(text.split())


def questions(kind: str) -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [q for q in rows if q["kind"] == kind]


def answer_line(answer) -> str:
    """The line after the reading line ("Read as: ..."), which every answer starts with."""
    lines = answer.text.splitlines()
    assert lines[0] == f"Read as: {answer.reading}."
    return lines[1]


def states(line: str, number: int) -> bool:
    return re.search(rf"(?<![\w.]){number}(?![\w]|\.\d)", line) is not None


def outcome_sentence(answer) -> str:
    """The sentence citing [1]: for a question about one request, its outcome line."""
    return next(s.text for s in answer.sentences if 1 in s.citations)


def assert_citations_real(engine: Asker, answer) -> None:
    """Every citation slices its letter to exactly its quote; numbers are 1..n in order of use."""
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    used = [n for s in answer.sentences for n in s.citations]
    assert sorted(set(used)) == [c.n for c in answer.citations]
    first_use = list(dict.fromkeys(used))
    assert first_use == sorted(first_use)
    for c in answer.citations:
        assert engine.text_of(c.doc_id)[c.start : c.end] == c.quote


@pytest.mark.parametrize("q", questions("determination"), ids=lambda q: q["id"])
def test_offline_determination_questions(engine: Asker, q: dict) -> None:
    answer = engine.answer(q["question"])
    assert answer.mode == "offline"
    assert answer.status == "answered" and answer.kind == "decision"
    expected = q["expected_determination"].replace("_", " ")
    if isinstance(answer.value, bool):  # "Was X approved?": yes/no, then the item's outcome line
        assert " or " not in q["question"], "an either/or question is answered with the outcome, not yes/no"
        assert expected in outcome_sentence(answer).lower()
    else:
        assert expected in answer_line(answer).lower()
    assert_citations_real(engine, answer)
    assert any(Path(c.source).name in q["expected_source_files"] for c in answer.citations)
    assert Path(answer.citations[0].source).name in q["expected_source_files"]


def test_offline_answer_cites_the_outcome_sentence(engine: Asker) -> None:
    answer = engine.answer("Was the request for Lyrica 75mg upheld or overturned?")
    assert "overturned" in answer_line(answer).lower()
    first = answer.citations[0]
    assert squash(first.quote) == "Lyrica 75mg #60: Overturned"
    assert first.case_number == "CM99-0000001"
    assert "medically necessary" in answer.citations[1].quote


def test_offline_case_number_question(engine: Asker) -> None:
    answer = engine.answer("What was decided in case CM99-0000007?")
    assert answer.kind == "decision"
    assert {c.case_number for c in answer.citations} == {"CM99-0000007"}
    assert "Cymbalta 30mg #30: Overturned" in [squash(c.quote) for c in answer.citations]
    assert_citations_real(engine, answer)


@pytest.mark.parametrize("q", questions("count"), ids=lambda q: q["id"])
def test_offline_counting_questions(engine: Asker, q: dict) -> None:
    answer = engine.answer(q["question"])
    assert answer.status == "answered" and answer.kind in {"count", "decision"}  # a case's item count is its fact
    assert answer.value == q["expected_count"]
    assert states(answer_line(answer), q["expected_count"])
    assert_citations_real(engine, answer)
    cited_files = {Path(c.source).name for c in answer.citations}
    assert cited_files <= set(q["expected_source_files"])


def test_grouped_question_reports_rates(engine: Asker) -> None:
    answer = engine.answer("Which specialties overturn most?")
    assert answer.status == "answered" and answer.kind == "count"
    assert answer.plan["operation"] == "rank" and answer.plan["measure"]["aggregate"] == "share"
    assert answer.value and all(0 <= row["value"] <= 1 for row in answer.value)
    # the reading line, the top group ("1. <specialty>: x% of n"), then the cited items counted
    assert " of " in answer.sentences[1].text
    assert any(s.citations for s in answer.sentences[2:])
    assert_citations_real(engine, answer)


def test_passage_question_quotes_the_supporting_sentence(engine: Asker) -> None:
    answer = engine.answer("Why did the IRO find the carpal tunnel release not medically necessary?")
    assert answer.kind in {"passages", "decision"}
    assert any("tx_iro_upheld.txt" == Path(c.source).name for c in answer.citations)
    assert_citations_real(engine, answer)


def test_no_support_says_so(engine: Asker) -> None:
    answer = engine.answer("What is the boiling point of liquid nitrogen on Mars?")
    assert answer.kind == "none"
    assert answer.citations == []
    assert answer_line(answer).lower() == 'no letter in the library mentions "boiling point of liquid nitrogen on mars".'
    assert answer.value in (0, None) and "No letter" in answer.text


def test_filters_narrow_the_answer(engine: Asker) -> None:
    answer = engine.answer(
        "How many requests were overturned?", filters=AnswerFilters(case_number="CM99-0000006")
    )
    assert answer.status == "answered" and answer.value == 6
    assert states(answer_line(answer), 6)
    assert {c.case_number for c in answer.citations} == {"CM99-0000006"}
    only_upheld = engine.answer(
        "How many requests for physical therapy were decided?",
        filters=AnswerFilters(determination=Determination.upheld),
    )
    assert only_upheld.status == "answered" and only_upheld.counted
    assert {c.determination for c in only_upheld.counted} == {"upheld"}
    assert "overturned" not in only_upheld.text.split("[")[0]


# -- the LLM path, against the scripted OpenAI-compatible server ------------------------------


@pytest.fixture()
def llm_engine(extracted):
    lib, settings = extracted
    with scripted_llm_server() as server:
        llm_settings = settings.model_copy(update={"llm_base_url": server.base_url, "llm_max_retries": 1})
        yield Asker(lib, llm_settings), server


def passages_sent(request: dict) -> str:
    return request["messages"][-1]["content"]  # the user message: the question and passages, fenced


def test_llm_answer_with_valid_citation(llm_engine) -> None:
    engine, server = llm_engine
    question = "Was the Lyrica request overturned?"
    # Quote the first retrieved passage, as a model would.
    quote = engine.library.search(question, k=6)[0].text.split("\n")[0][:60]
    server.enqueue({"kind": "passages", "plan": None})
    server.enqueue({
        "supported": True,
        "sentences": [{"text": "The Lyrica request in case CM99-0000001 was overturned.",
                       "citations": [{"passage": 1, "quote": quote}]}],
    })
    answer = engine.answer(question)
    assert answer.mode == "llm" and answer.kind == "llm"
    assert answer.text.endswith("[1]")
    assert answer.citations[0].quote == quote
    assert_citations_real(engine, answer)
    assert "[1]" in passages_sent(server.requests[1])


def test_llm_invented_citation_is_reasked(llm_engine) -> None:
    engine, server = llm_engine
    question = "Why was the lumbar support brace not medically necessary?"
    hits = engine.library.search(question, k=6)
    real_quote = hits[0].text[:50]
    server.enqueue({"kind": "passages", "plan": None})
    server.enqueue({"supported": True, "sentences": [
        {"text": "It was not necessary.", "citations": [{"passage": 9, "quote": "invented words"}]}]})
    server.enqueue({"supported": True, "sentences": [
        {"text": "It was not necessary.", "citations": [{"passage": 1, "quote": real_quote}]}]})
    answer = engine.answer(question)
    assert answer.kind == "llm"
    assert len(server.requests) == 3
    assert "Validation Error" in json.dumps(server.requests[2]["messages"])
    assert_citations_real(engine, answer)


def test_llm_unsupported_answer_says_so(llm_engine) -> None:
    engine, server = llm_engine
    server.enqueue({"kind": "passages", "plan": None}, {"supported": False, "sentences": []})
    answer = engine.answer("What colour is the reviewer's car?")
    assert answer.kind == "none" and answer.citations == []
    assert "do not answer" in answer.text


OVERTURNED_IN_CASE_6 = {"operation": "aggregate", "unit": "items", "measure": {"aggregate": "count"}, "where": [
    {"field": "case_number", "op": "eq", "value": "CM99-0000006"},
    {"field": "determination", "op": "eq", "value": "overturned"},
]}
"""The Route tool's plan for 'how many items were overturned in case CM99-0000006?'."""


def test_llm_routes_counting_to_the_catalog_plan(llm_engine) -> None:
    engine, server = llm_engine
    server.enqueue({"kind": "catalog", "plan": OVERTURNED_IN_CASE_6})
    answer = engine.answer("How many items did the reviewer overturn in CM99-0000006?")
    assert answer.mode == "llm" and answer.kind == "count"
    assert answer.value == 6 and states(answer_line(answer), 6)
    assert {c.case_number for c in answer.citations} == {"CM99-0000006"}
    assert_citations_real(engine, answer)


def test_llm_follow_up_is_rewritten_with_history(llm_engine) -> None:
    engine, server = llm_engine
    server.enqueue({"question": "How many items were overturned in case CM99-0000006?"})
    server.enqueue({"kind": "catalog", "plan": OVERTURNED_IN_CASE_6})
    answer = engine.answer("And how many were overturned?",
                           history=[("What was decided in case CM99-0000006?", "12 items were decided.")])
    assert "CM99-0000006" in json.dumps(server.requests[0]["messages"])
    assert answer.value == 6 and states(answer_line(answer), 6)


# -- every disputed item of the 25 real dev letters, asked offline ------------------------------

DEV_QUESTIONS = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "dwc-dev" / "questions.jsonl"


@pytest.mark.slow
def test_offline_answers_every_dev_item(tmp_path: Path) -> None:
    """'Was the request for <service> upheld or overturned?' for every item of the dev letters:
    the right outcome comes first, citing the outcome line of the right letter."""
    from helpers import require_shared

    corpus = require_shared("corpus", "dwc-dev")
    settings = make_settings(tmp_path / "data")
    with Library(settings) as lib:
        lib.ingest([corpus])
        docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
        list(ExtractionService(settings, lib.catalog, "rules").run(iter(docs), len(docs)))
        engine = Asker(lib, settings)
        item_questions = [
            json.loads(line) for line in DEV_QUESTIONS.read_text().splitlines()
            if line.strip() and not json.loads(line)["id"].startswith("dev-r")
        ]
        assert len(item_questions) == 81
        wrong = []
        for q in item_questions:
            answer = engine.answer(q["question"])
            first = answer.citations[0] if answer.citations else None
            ok = (
                answer.status == "answered" and not isinstance(answer.value, bool)  # either/or: the outcome
                and q["expected_determination"].replace("_", " ") in answer_line(answer).lower()
                and first is not None
                and Path(first.source).name in q["expected_source_files"]
                and squash(q["expected_quote"]) in squash(first.quote)
            )
            if not ok:
                wrong.append((q["question"], answer.text[:200]))
            assert_citations_real(engine, answer)
        assert wrong == []


def test_llm_failures_are_typed_errors_or_an_offline_answer_with_a_note(llm_engine) -> None:
    """Invalid answers after the re-asks surface as an ImrError; an endpoint that fails is
    answered offline, saying the LLM could not be reached."""
    from llm_server import HTTPError

    from imr_rag.errors import ImrError

    engine, server = llm_engine
    server.enqueue("not json", "still not json")
    with pytest.raises(ImrError, match="failed validation"):
        engine.answer("Why was the lumbar support brace not medically necessary?")
    server.enqueue(*[HTTPError(500)] * 8)
    answer = engine.answer("Why was the lumbar support brace not medically necessary?")
    assert answer.mode == "offline" and answer.citations
    assert len(answer.notes) == 1 and answer.notes[0].startswith("the LLM could not be reached (LLM endpoint")


def test_llm_passages_with_template_syntax_reach_the_model_verbatim(tmp_path: Path) -> None:
    """instructor renders messages as Jinja when a validation context is passed (the passages
    answer): a letter's own '{{ x }}' or '{% endraw %}' must reach the model unchanged."""
    letters = tmp_path / "letters"
    letters.mkdir()
    odd = "The reviewer wrote {{ x }} and {% endraw %} and {# note #} in the rationale."
    text = (SYNTHETIC_LETTERS / "appeal_letter_generic.txt").read_text()
    (letters / "template_syntax.txt").write_text(text.replace("APPEAL DECISION\n", f"APPEAL DECISION\n\n{odd}\n", 1))
    settings = make_settings(tmp_path / "data")
    lib = Library(settings)
    try:
        lib.ingest([letters])
        with scripted_llm_server() as server:
            engine = Asker(lib, settings.model_copy(update={"llm_base_url": server.base_url}))
            server.enqueue({"kind": "passages", "plan": None}, {"supported": False, "sentences": []})
            engine.answer("What did the reviewer write about {{ x }} in the rationale?")
            sent = passages_sent(server.requests[1])
        assert odd in sent
        assert "What did the reviewer write about {{ x }} in the rationale?" in sent
        assert "{% raw %}" not in sent
    finally:
        lib.close()
