"""`imr-rag extract / export / show` end to end, and the hybrid backend against a scripted LLM."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import SYNTHETIC_LETTERS, gold_for, make_settings
from llm_server import scripted_llm_server

from imr_rag.faces.cli import main
from imr_rag.ingest.documents import read_document
from imr_rag.extract.service import ExtractionService
from imr_rag.library import Library

LETTERS = ["dwc_cm99_0000001.txt", "dwc_cm99_0000006.txt", "tx_iro_partial.txt"]


@pytest.fixture()
def letters_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "letters"
    folder.mkdir()
    for name in LETTERS:
        shutil.copy(SYNTHETIC_LETTERS / name, folder / name)
    (folder / "broken.pdf").write_bytes(b"this is not a pdf at all")
    return folder


def run(capsys, data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_extract_writes_one_line_per_file_and_goes_on_after_a_bad_one(tmp_path, letters_dir, capsys) -> None:
    data, output = tmp_path / "data", tmp_path / "out.jsonl"
    code, _, err = run(capsys, data, "extract", str(letters_dir), "--output", str(output))
    assert code == 1  # one file failed, the rest were extracted
    assert "broken.pdf: not a PDF" in err
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == 4
    by_name = {Path(line["source"]).name: line for line in lines}
    assert by_name["broken.pdf"]["decision"] is None and "not a PDF" in by_name["broken.pdf"]["error"]
    for name in LETTERS:
        line = by_name[name]
        assert set(line) == {"source", "doc_id", "decision", "error"} and line["error"] is None
        decision = line["decision"]
        gold = gold_for(SYNTHETIC_LETTERS / name)
        assert decision["case_number"] == gold["case_number"]
        assert [i["determination"] for i in decision["items"]] == [i["determination"] for i in gold["items"]]
        text = read_document(letters_dir / name).text
        for item in decision["items"]:
            for ev in item["evidence"].values():
                assert text[ev["start"] : ev["end"]] == ev["quote"]

    # Re-running changes nothing: no duplicated decisions or items.
    run(capsys, data, "extract", str(letters_dir), "--output", str(output))
    code, out, _ = run(capsys, data, "stats", "--json")
    stats = json.loads(out)
    assert stats["decisions"] == 3
    assert stats["items"] == sum(len(gold_for(SYNTHETIC_LETTERS / n)["items"]) for n in LETTERS)


def test_export_formats_and_levels(tmp_path, letters_dir, capsys) -> None:
    data = tmp_path / "data"
    run(capsys, data, "extract", str(letters_dir))
    items = sum(len(gold_for(SYNTHETIC_LETTERS / n)["items"]) for n in LETTERS)
    assert run(capsys, data, "export", "--format", "csv", "--output", str(tmp_path / "i.csv"), "--level", "item")[0] == 0
    rows = list(csv.DictReader((tmp_path / "i.csv").open()))
    assert len(rows) == items
    assert {"case_number", "service", "determination", "guideline_sources", "decision_date"} <= set(rows[0])
    lyrica = next(r for r in rows if r["service"].startswith("Lyrica"))
    assert lyrica["determination"] == "overturned" and lyrica["case_number"] == "CM99-0000001"

    run(capsys, data, "export", "--format", "jsonl", "--output", str(tmp_path / "d.jsonl"))
    decisions = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert len(decisions) == 3 and sum(d["items"] for d in decisions) == items

    run(capsys, data, "export", "--format", "parquet", "--output", str(tmp_path / "i.parquet"), "--level", "item")
    table = pq.read_table(tmp_path / "i.parquet")
    assert table.num_rows == items and "determination" in table.column_names


def test_show_writes_highlighted_html(tmp_path, letters_dir, capsys) -> None:
    data = tmp_path / "data"
    run(capsys, data, "extract", str(letters_dir))
    page = tmp_path / "page.html"
    code, out, _ = run(capsys, data, "show", "CM99-0000001", "--output", str(page))
    assert code == 0 and "9 highlighted spans" in out
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    determinations = set(re.findall(r'title="item (\d+) determination', html))
    assert determinations == {"1", "2", "3"}
    assert "Lyrica 75mg #60: Overturned" in re.sub(r"<[^>]+>", "", html)
    assert run(capsys, data, "show", "no-such-letter")[0] == 2


# -- hybrid and llm backends against the scripted server --------------------------------------


def llm_answer_for(gold: dict, text: str, flip_first: bool = False) -> dict:
    """What a model would answer for a letter: the gold fields plus verbatim quotes."""
    items = []
    for n, item in enumerate(gold["items"]):
        determination = item["determination"]
        if flip_first and n == 0:
            determination = "upheld" if determination == "overturned" else "overturned"
        heading = next(line for line in text.splitlines() if line.startswith(item["service"][:20]))
        items.append({
            "service": item["service"], "category": item["category"], "determination": determination,
            "medically_necessary": item["medically_necessary"], "guidelines": [],
            "service_quote": item["service"][:20], "determination_quote": heading, "rationale_quote": None,
        })
    return {"case_number": gold["case_number"], "decision_date": gold["decision_date"],
            "diagnoses": ["lumbar radiculopathy"], "patient": {"age": 51, "sex": "female"}, "items": items}


@contextmanager
def flipped_answer_extraction(tmp_path: Path, backend: str) -> Iterator[tuple]:
    """One synthetic letter ingested and extracted by `backend` through the scripted server, which
    answers with the letter's gold record but the first item's determination flipped. Yields
    (result, library, server, settings, stored document, gold)."""
    letter = SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt"
    gold, doc = gold_for(letter), read_document(letter)
    with scripted_llm_server() as server:
        settings = make_settings(tmp_path / "data", llm_base_url=server.base_url, llm_max_retries=0)
        with Library(settings) as lib:
            lib.ingest([letter], embed=False)
            stored = lib.catalog.load_document(doc.doc_id)
            server.enqueue(llm_answer_for(gold, doc.text, flip_first=True))
            [result] = ExtractionService(settings, lib.catalog, backend).run(iter([stored]), 1)
            yield result, lib, server, settings, stored, gold


def test_hybrid_flags_disagreement_and_reuses_the_cache(tmp_path: Path) -> None:
    with flipped_answer_extraction(tmp_path, "hybrid") as (result, lib, server, settings, stored, gold):
        assert result.error is None and result.llm_calls == 1
        flags = result.decision.review_flags
        assert len(flags) == 1 and "determination rules=overturned llm=upheld" in flags[0].reason
        # Rules keep the determination; the LLM fills what rules leave empty.
        assert result.decision.items[0].determination.value == gold["items"][0]["determination"]
        assert result.decision.diagnoses == ["lumbar radiculopathy"]
        assert lib.catalog.stats()["decisions_flagged"] == 1

        requests_before = len(server.requests)
        [again] = ExtractionService(settings, lib.catalog, "hybrid").run(iter([stored]), 1)
        assert again.cached and again.llm_calls == 0
        assert len(server.requests) == requests_before
        assert again.decision.review_flags == flags


def test_llm_records_go_through_the_self_checks(tmp_path: Path) -> None:
    """An LLM record whose determination its own quoted outcome line contradicts is flagged, and
    so is every header date the letter states that the answer left out."""
    with flipped_answer_extraction(tmp_path, "llm") as (result, lib, *_):
        flags = result.decision.review_flags
        on_first = {f.check for f in flags if f.item_index == 0}
        assert {"determination_backed", "item_count"} <= on_first
        assert not any(f.item_index == 1 for f in flags)
        assert any(f.check == "stated_fields" and "date of injury" in f.reason for f in flags)
        assert lib.catalog.stats()["decisions_flagged"] == 1


def test_llm_backend_garbage_fails_per_letter_and_batch_goes_on(tmp_path: Path) -> None:
    first, second = SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", SYNTHETIC_LETTERS / "dwc_cm99_0000002.txt"
    with scripted_llm_server() as server:
        settings = make_settings(tmp_path / "data", llm_base_url=server.base_url, llm_max_retries=1)
        with Library(settings) as lib:
            lib.ingest([first, second], embed=False)
            docs = [lib.catalog.load_document(read_document(p).doc_id) for p in (first, second)]
            server.enqueue("not json at all", "still not json")
            server.enqueue(llm_answer_for(gold_for(second), docs[1].text))
            results = list(ExtractionService(settings, lib.catalog, "llm").run(iter(docs), 2))
            assert results[0].decision is None and "failed validation after 2 attempt(s)" in results[0].error
            # A failed letter still reports what it cost.
            assert results[0].llm_calls == 2 and results[0].tokens["total_tokens"] > 0
            assert results[1].error is None and len(results[1].decision.items) == 3
            assert lib.catalog.stats()["extraction_failures"] == 1


def test_llm_extract_cli_with_concurrency(tmp_path: Path, capsys, monkeypatch) -> None:
    """`--concurrency 2` sends letters in parallel and still writes one line per letter, in order."""
    letters = [SYNTHETIC_LETTERS / n for n in ("tx_iro_upheld.txt", "tx_iro_overturned.txt", "tx_iro_partial.txt")]
    generic = {  # quotes every Texas IRO letter contains, so any letter may take any reply
        "items": [{"service": "services in dispute", "determination": "upheld",
                   "service_quote": "DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE",
                   "determination_quote": "REVIEW OUTCOME"}],
    }
    with scripted_llm_server() as server:
        server.enqueue(*[generic] * 3)
        monkeypatch.setenv("IMR_LLM_BASE_URL", server.base_url)
        output = tmp_path / "out.jsonl"
        code, out, _ = run(capsys, tmp_path / "data", "extract", *map(str, letters), "--backend", "llm",
                           "--concurrency", "2", "--output", str(output), "--json")
        assert code == 0
        assert len(server.requests) == 3
    summary = json.loads(out)
    assert summary["extracted"] == 3 and summary["llm_calls"] == 3 and summary["tokens"]["total_tokens"] > 0
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [Path(line["source"]).name for line in lines] == [p.name for p in letters]
    for line, letter in zip(lines, letters):
        ev = line["decision"]["items"][0]["evidence"]["determination"]
        assert read_document(letter).text[ev["start"] : ev["end"]] == "REVIEW OUTCOME"
