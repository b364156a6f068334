"""The eval metric functions on hand-made cases (no library, no files but tmp_path)."""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import REPO_ROOT

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from evals import metrics  # noqa: E402
from evals.cases import FixtureError, Question, load_fixture_set, resolve_fixture_sets  # noqa: E402
from evals.report import compare_to_baseline, flatten_metrics, render_markdown  # noqa: E402

LETTER = (
    "Case Number: CM99-0000001\n"
    "Lyrica 75mg #60: Overturned\nThe request for Lyrica is medically necessary.\n"
    "TENS unit: Upheld\nThe request for a TENS unit is not medically necessary.\n"
)


def span(text: str, quote: str) -> dict:
    start = text.index(quote)
    return {"quote": quote, "start": start, "end": start + len(quote), "alignment": "exact"}


def item(service: str, determination: str, **extra) -> dict:
    base = {"service": service, "original_request": None, "authorized_portion": None, "category": "medication",
            "determination": determination, "medically_necessary": determination == "overturned",
            "guidelines": [{"source": "MTUS", "cited_by": "reviewer"}]}
    base.update(extra)
    return base


def gold_record() -> dict:
    return {
        "source_file": "letter.txt", "case_number": "CM99-0000001", "letter_format": "ca_dwc_imr",
        "decision_date": "2022-04-18", "date_of_injury": "2020-01-02", "date_assigned": None,
        "ur_denial_date": None, "application_received": None, "priority": "Standard",
        "reviewer": {"specialty": "Internal Medicine", "licensure": ["California"]},
        "patient": {"age": 40, "sex": "female"},
        "items": [item("Lyrica 75mg #60", "overturned"), item("TENS unit", "upheld", category="DME")],
    }


def predicted_record() -> dict:
    record = copy.deepcopy(gold_record())
    for it in record["items"]:
        heading = f"{it['service']}: {it['determination'].capitalize()}"
        it["evidence"] = {"service": span(LETTER, it["service"]), "determination": span(LETTER, heading),
                          "rationale": None}
    return record


# -- extraction ---------------------------------------------------------------------------------
def test_perfect_record_scores_one_everywhere():
    score = metrics.score_letter(gold_record(), predicted_record())
    assert score.exact
    assert score.pairs == {0: 0, 1: 1}
    for name in ("items", "determination", "category", "guidelines", "dates", "case_number", "reviewer_specialty"):
        counts = score.fields[name]
        assert (counts.precision, counts.recall, counts.f1) == (1.0, 1.0, 1.0), name
    assert score.fields["dates"].tp == 2  # only the dates the gold states
    # No partial requests anywhere: nothing to score, reported as undefined, still exact.
    assert score.fields["original_request"].f1 is None


def test_missing_item_lowers_recall_not_precision():
    predicted = predicted_record()
    del predicted["items"][1]
    score = metrics.score_letter(gold_record(), predicted)
    items = score.fields["items"]
    assert (items.tp, items.fp, items.fn) == (1, 0, 1)
    assert items.precision == 1.0 and items.recall == 0.5
    assert score.fields["determination"].fn == 1 and score.fields["category"].fn == 1
    assert score.fields["guidelines"].fn == 1
    assert not score.exact


def test_extra_item_lowers_precision_not_recall():
    predicted = predicted_record()
    predicted["items"].append(item("Urine drug screen", "upheld", category="other"))
    score = metrics.score_letter(gold_record(), predicted)
    items = score.fields["items"]
    assert (items.tp, items.fp, items.fn) == (2, 1, 0)
    assert items.recall == 1.0 and items.precision == pytest.approx(2 / 3)
    assert score.fields["determination"].fp == 1
    assert not score.exact


def test_swapped_determinations_match_items_but_miss_every_determination():
    predicted = predicted_record()
    predicted["items"][0]["determination"], predicted["items"][1]["determination"] = "upheld", "overturned"
    score = metrics.score_letter(gold_record(), predicted)
    assert score.fields["items"].f1 == 1.0
    det = score.fields["determination"]
    assert (det.tp, det.fp, det.fn) == (0, 2, 2)
    assert det.f1 == 0.0
    assert score.fields["category"].f1 == 1.0


def test_fuzzy_service_names_are_paired_one_to_one():
    predicted = predicted_record()
    predicted["items"][0]["service"] = "Lyrica  75 mg\n#60"
    predicted["items"][1]["service"] = "TENS unit (purchase)"
    score = metrics.score_letter(gold_record(), predicted)
    assert score.pairs == {0: 0, 1: 1}
    assert score.fields["items"].f1 == 1.0
    # Two near-identical extracted items compete for one gold item: only one gets it.
    pairs = metrics.match_gold_items([item("TENS unit", "upheld")],
                                     [item("TENS unit rental", "upheld"), item("TENS unit", "upheld")])
    assert pairs == {0: 1}
    # A different service is not paired at all.
    assert metrics.match_gold_items([item("Lyrica 75mg #60", "upheld")], [item("MRI of the knee", "upheld")]) == {}


def test_field_values_compare_case_and_whitespace_insensitive_but_dates_exactly():
    predicted = predicted_record()
    predicted["reviewer"]["specialty"] = "internal  medicine"
    predicted["decision_date"] = "2022-04-19"
    predicted["date_assigned"] = "2022-03-01"  # the gold states none: a false positive
    score = metrics.score_letter(gold_record(), predicted)
    assert score.fields["reviewer_specialty"].f1 == 1.0
    dates = score.fields["dates"]
    assert (dates.tp, dates.fp, dates.fn) == (1, 2, 1)


def test_guidelines_count_reviewer_families_only():
    gold = gold_record()
    predicted = predicted_record()
    predicted["items"][0]["guidelines"] = [
        {"source": "MTUS", "cited_by": "reviewer"},
        {"source": "ODG", "cited_by": "claims_administrator"},  # not the reviewer's: ignored
        {"source": "ACOEM", "cited_by": "reviewer"},  # wrong family: a false positive
    ]
    predicted["items"][1]["guidelines"] = []  # missing: a false negative
    g = metrics.score_letter(gold, predicted).fields["guidelines"]
    assert (g.tp, g.fp, g.fn) == (1, 1, 1)


def test_partial_request_fields():
    gold = gold_record()
    gold["items"][0].update(original_request="Lyrica 75mg #120", authorized_portion="Lyrica 75mg #60")
    predicted = predicted_record()
    predicted["items"][0].update(original_request="Lyrica 75mg #120", authorized_portion=None)
    score = metrics.score_letter(gold, predicted)
    assert score.fields["original_request"].f1 == 1.0
    a = score.fields["authorized_portion"]
    assert (a.tp, a.fp, a.fn) == (0, 0, 1)


def test_failed_extraction_misses_everything_and_an_empty_letter_can_match_exactly():
    score = metrics.score_letter(gold_record(), None)
    assert score.fields["items"].recall == 0.0
    assert score.fields["items"].precision is None
    assert not score.exact
    empty_gold = {"source_file": "appeal.txt", "case_number": None, "items": [], "reviewer": {"specialty": None}}
    assert metrics.score_letter(empty_gold, None).exact


def test_grounding_counts_spans_whose_slice_is_the_quote():
    predicted = predicted_record()
    assert metrics.grounding(predicted, LETTER) == (4, 4)
    predicted["items"][0]["evidence"]["service"]["quote"] = "Lyrica 75 mg #60"  # not what the slice says
    predicted["items"][1]["evidence"]["determination"]["start"] += 1  # off by one
    assert metrics.grounding(predicted, LETTER) == (2, 4)
    predicted["items"][1]["evidence"]["service"]["end"] = len(LETTER) + 50  # out of the text
    assert metrics.grounding(predicted, LETTER) == (1, 4)
    assert metrics.grounding(None, LETTER) == (0, 0)


def test_summary_is_micro_averaged_with_exact_and_grounding_rates():
    perfect = metrics.score_letter(gold_record(), predicted_record())
    missing = metrics.score_letter(gold_record(), None)
    summary = metrics.summarize_letters([perfect, missing], [(4, 4), (0, 0)])
    assert summary["letters"] == 2
    assert summary["exact_match_rate"] == 0.5
    assert summary["fields"]["items"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3),
                                          "tp": 2, "fp": 0, "fn": 2}
    assert summary["grounding_rate"] == 1.0 and summary["evidence_spans"] == 4


# -- retrieval ----------------------------------------------------------------------------------
@dataclass
class FakeHit:
    source: str
    case_number: str | None
    text: str


def question(**overrides) -> Question:
    values = dict(id="q", question="?", kind="determination", expected_case_numbers=("CM99-0000001",),
                  expected_source_files=("letter.txt",), expected_determination="overturned",
                  expected_quote="Lyrica 75mg #60: Overturned")
    values.update(overrides)
    return Question(**values)


def test_relevance_by_file_or_case_and_passage_needs_the_quote():
    q = question()
    other = FakeHit("/x/other.txt", "CM99-0000002", "Lyrica 75mg #60: Overturned")
    same_case = FakeHit("/copy/renamed.pdf", "CM99-0000001", "TENS unit: Upheld")
    with_quote = FakeHit("/data/letter.txt", None, "text\nLyrica   75mg\n#60: Overturned\nmore")
    hits = [other, same_case, with_quote]
    assert metrics.first_relevant_rank(hits, q) == 2
    assert metrics.first_relevant_rank(hits, q, passage=True) == 3
    assert metrics.first_relevant_rank([other], q) is None
    assert metrics.is_passage_question(q)
    assert not metrics.is_passage_question(question(kind="count"))


def test_recall_at_k_and_mrr():
    ranks = [1, 3, None, 2]
    assert metrics.recall_at_k(ranks, 1) == 0.25
    assert metrics.recall_at_k(ranks, 5) == 0.75
    assert metrics.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert metrics.recall_at_k([], 5) is None


# -- answers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("In case CM99-0000001 the request for Lyrica 75mg #60 was overturned. [1]", "overturned"),
    ("Lyrica 75mg #60: Upheld [1]", "upheld"),
    ("The IRO partially overturned the denial [2].", "partially_overturned"),
    ("The decision was Partially Overturned (Agree in part).", "partially_overturned"),
    ("The denial was not overturned.", "upheld"),
    ("The reviewer upheld the denial; the request was not overturned.", "upheld"),
    ("I found nothing in the ingested letters that answers this question.", None),
])
def test_parse_determination(text, expected):
    assert metrics.parse_determination(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("6 requests for all services were overturned, in 1 letter. [1] [2]", 6),
    ("In case CM99-0000006, decided 2023-03-10, 12 items were reviewed [3].", 12),
    ("Lyrica 75mg #60 and two other requests: three in all.", 2),
    ("Norco 10/325mg #60 was requested on 09/14/2021; five items were upheld.", 5),
    ("Nothing was counted.", None),
])
def test_parse_count(text, expected):
    assert metrics.parse_count(text) == expected


@dataclass
class FakeCitation:
    doc_id: str
    start: int
    end: int
    quote: str


def cite(doc_id: str, text: str, quote: str) -> FakeCitation:
    start = text.index(quote)
    return FakeCitation(doc_id, start, start + len(quote), quote)


def test_quote_span_ignores_whitespace_layout():
    assert metrics.quote_span("a\nLyrica  75mg\n#60: Overturned b", "Lyrica 75mg #60: Overturned") == (2, 30)
    assert metrics.quote_span("nothing here", "Lyrica") is None


def test_answer_scores_correctness_precision_recall_and_validity():
    q = question()
    expected = [("d1", *metrics.quote_span(LETTER, q.expected_quote))]
    texts = {"d1": LETTER}
    on_quote = cite("d1", LETTER, "Lyrica 75mg #60: Overturned")
    rationale = cite("d1", LETTER, "The request for Lyrica is medically necessary.")
    other_item = cite("d1", LETTER, "TENS unit: Upheld")
    broken = FakeCitation("d1", 0, 10, "not the text")
    unknown_doc = FakeCitation("nope", 0, 4, "Case")
    score = metrics.score_answer("Lyrica was overturned [1] [2] [3] [4] [5].",
                                 [on_quote, rationale, other_item, broken, unknown_doc], q, expected, {"d1"}, texts,
                                 support_regions=[("d1", on_quote.start, rationale.end)])
    assert score.correct is True
    assert (score.citations, score.valid_citations, score.supporting_citations) == (5, 3, 1)
    assert score.section_supporting_citations == 2  # the rationale lies in the item's section
    assert score.expected_cited is True

    wrong = metrics.score_answer("It was upheld [1].", [other_item], q, expected, {"d1"}, texts)
    assert wrong.correct is False and wrong.supporting_citations == 0 and wrong.expected_cited is False
    uncited = metrics.score_answer("It was overturned.", [broken], q, expected, {"d1"}, texts)
    assert uncited.valid_citations == 0

    summary = metrics.summarize_answers([score, wrong, uncited])
    assert summary["correctness"] == pytest.approx(2 / 3)
    assert summary["citation_precision"] == pytest.approx(1 / 7)
    assert summary["citation_recall"] == pytest.approx(1 / 3)
    assert summary["no_valid_citation_rate"] == pytest.approx(1 / 3)
    assert summary["faithfulness"] is None


def test_count_and_case_answers_are_supported_by_any_passage_of_an_expected_letter():
    q = question(kind="count", expected_determination=None, expected_count=2, expected_quote="TENS unit: Upheld")
    expected = [("d1", *metrics.quote_span(LETTER, q.expected_quote))]
    lyrica = cite("d1", LETTER, "Lyrica 75mg #60: Overturned")
    score = metrics.score_answer("2 requests were reviewed [1].", [lyrica], q, expected, {"d1"}, {"d1": LETTER})
    assert score.correct is True
    assert score.supporting_citations == 1
    assert score.expected_cited is False  # the expected passage itself was not cited
    no_grade = metrics.score_answer("x", [], question(expected_determination=None), expected, {"d1"}, {"d1": LETTER})
    assert no_grade.correct is None


# -- report and baseline ------------------------------------------------------------------------
def small_report(f1: float, no_valid: float) -> dict:
    counts = {"precision": 1.0, "recall": 1.0, "f1": f1, "tp": 1, "fp": 0, "fn": 0}
    return {
        "created": "now", "version": "0", "suites": ["extraction"], "backends": ["rules"], "settings": {},
        "fixture_sets": [{"name": "s", "letters": 1, "missing_letters": 0, "questions": 0}],
        "extraction": {"rules": {"s": {"letters": 1, "failed": 0, "fields": {"items": counts},
                                       "exact_match_rate": 1.0, "grounding_rate": None, "evidence_spans": 0}}},
        "answers": {"s": {"questions": 1, "correctness": 1.0, "citation_precision": 1.0,
                          "citation_precision_section": 1.0, "citation_recall": 1.0,
                          "no_valid_citation_rate": no_valid, "faithfulness": "n/a"}},
    }


def test_flatten_metrics_keeps_numbers_only():
    flat = flatten_metrics(small_report(0.9, 0.0))
    assert flat["extraction/rules/s/items/f1"] == 0.9
    assert "extraction/rules/s/grounding_rate" not in flat  # None
    assert "answers/s/faithfulness" not in flat  # 'n/a'
    assert flat["answers/s/no_valid_citation_rate"] == 0.0


def test_baseline_comparison_flags_drops_beyond_tolerance_in_the_right_direction():
    baseline = flatten_metrics(small_report(0.9, 0.0))
    same = compare_to_baseline(flatten_metrics(small_report(0.895, 0.0)), baseline, 0.01)
    assert same["regressions"] == [] and same["compared"] == len(baseline)
    worse = compare_to_baseline(flatten_metrics(small_report(0.8, 0.05)), baseline, 0.01)
    assert {r["name"] for r in worse["regressions"]} == {
        "extraction/rules/s/items/f1", "answers/s/no_valid_citation_rate"}
    better = compare_to_baseline(flatten_metrics(small_report(1.0, 0.0)), flatten_metrics(small_report(0.9, 0.2)), 0.0)
    assert better["regressions"] == [] and len(better["changes"]) == 2
    report = small_report(0.8, 0.05)
    report["baseline"] = worse | {"path": "b.json"}
    assert "REGRESSION" in render_markdown(report)


# -- fixture sets -------------------------------------------------------------------------------
def write_gold(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{Path(name).stem}.json").write_text(json.dumps({"source_file": name, "items": []}))


def test_fixture_sets_find_letters_beside_them_or_in_the_shared_folder(tmp_path):
    own = tmp_path / "own"
    write_gold(own / "gold", "a.txt")
    (own / "letters").mkdir()
    (own / "letters" / "a.txt").write_text("letter a")
    (own / "questions.jsonl").write_text(
        json.dumps({"question": "q?", "kind": "case", "expected_source_files": ["a.txt"]}) + "\n"
        + json.dumps({"question": "gone?", "kind": "case", "expected_source_files": ["missing.txt"]}) + "\n"
    )
    fixture = load_fixture_set(own, [])
    assert [p.name for p in fixture.letters] == ["a.txt"] and fixture.missing == []
    assert [q.question for q in fixture.questions] == ["q?"]  # questions about absent letters are dropped

    shared = tmp_path / "shared"
    (shared / "corpus" / "dev").mkdir(parents=True)
    (shared / "corpus" / "dev" / "b.pdf").write_bytes(b"%PDF")
    write_gold(tmp_path / "sets" / "dev", "b.pdf")
    write_gold(tmp_path / "sets" / "dev", "c.pdf")
    sets, notes = resolve_fixture_sets([tmp_path / "sets"], shared)
    assert [s.name for s in sets] == ["dev"]
    assert [p.name for p in sets[0].letters] == ["b.pdf"] and sets[0].missing == ["c.pdf"]
    assert notes and "1 of 2 letters not found" in notes[0]

    with pytest.raises(FixtureError):
        resolve_fixture_sets([tmp_path / "nowhere"], None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FixtureError):
        resolve_fixture_sets([tmp_path / "empty"], None)


def test_default_fixture_sets_include_the_committed_synthetic_set():
    sets, _ = resolve_fixture_sets(None, None)
    assert [s.name for s in sets] == ["synthetic"]
    assert len(sets[0].letters) == len(sets[0].gold) >= 10
    assert sets[0].questions
