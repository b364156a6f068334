"""The analyst question set (evals/analyst_questions.py): enough questions of enough kinds, checkers
that accept a right answer and reject a wrong one (including the right number among others), and
the `questions` eval suite end to end on the synthetic fixtures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from evals import analyst_questions as aq
from evals.analyst_heldout import HELDOUT_TEMPLATES
from evals.cases import load_fixture_set
from helpers import DEV_GOLD, EVALS, SEED_GOLD, make_settings

SYNTHETIC = EVALS / "fixtures" / "synthetic"


def committed_gold() -> list[aq.GoldLetter]:
    """Every committed gold record (dev, seeds, synthetic); their letters are not needed to ask."""
    sets = []
    for folder in (DEV_GOLD, SEED_GOLD, SYNTHETIC / "gold"):
        records = {}
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            records[record["source_file"]] = record
        sets.append((folder.name, records))
    return aq.gold_letters(sets)


@pytest.fixture(scope="module")
def questions() -> list[aq.AnalystQuestion]:
    return aq.generate(committed_gold())


def test_at_least_200_questions_over_at_least_10_kinds_with_checkers(questions) -> None:
    kinds = Counter(q.kind for q in questions)
    assert len(questions) >= 200 and len(kinds) >= 10, kinds
    assert all(q.expect.get("type") for q in questions)
    assert len({q.question for q in questions}) > 0.9 * len(questions)
    for kind in kinds:  # every kind is asked with dev and with held-out wordings
        splits = {q.split for q in questions if q.kind == kind}
        assert splits == {"dev", "heldout"}, kind
    # the held-out wordings are not dev wordings, and each kind has several of both
    for kind, templates in aq.DEV_TEMPLATES.items():
        assert len(templates) >= 2 and len(HELDOUT_TEMPLATES[kind]) >= 2
        assert not set(templates) & set(HELDOUT_TEMPLATES[kind])
    held = {q.template for q in questions if q.split == "heldout"}
    assert held <= {t for ts in HELDOUT_TEMPLATES.values() for t in ts}


def test_expected_answers_are_computed_from_gold(questions) -> None:
    by_text = {q.question: q for q in questions}
    letters = committed_gold()
    # the case field lookups say what the gold record says
    for q in questions:
        if q.kind == "case_specialty":
            case = q.question.split("case ")[-1].rstrip("?.") if "case " in q.question else None
            match = [l for l in letters if l.case and l.case in q.question]
            assert len(match) == 1 and q.expect["value"] == match[0].specialty, (q.question, case)
    # a share over a service counts every gold item naming it (brand and generic names alike)
    share = next(q for q in questions if q.kind in ("share", "paraphrase") and q.expect["type"] == "share"
                 and "physical therapy" in q.question.lower())
    items = [i for l in letters for i in l.items if "physical therapy" in i.service.lower()]
    assert (share.expect["hits"], share.expect["total"]) == (
        sum(i.determination == "overturned" for i in items), len(items))
    assert by_text  # no two facts collapsed into an empty set


def right_answer(q: aq.AnalystQuestion) -> str:
    """An answer whose first sentence says what gold says, as an analyst would write it."""
    e = q.expect
    t = e["type"]
    if t == "outcome":
        return f"The request in case CM16-0246487 (decided 2017-01-31) was {e['value'].replace('_', ' ')}. [1]"
    if t == "number":
        return f"{e['value']} were found in the letters decided in January 2017. [1]\nMore detail follows: 3 of 9."
    if t == "share":
        pct = 100 * e["hits"] / e["total"]
        return f"{e['hits']} of {e['total']} requests were overturned ({pct:.0f}%), in 2 letters. [1] [2]"
    if t == "date":
        return f"The date in case CM17-0009996 is {e['value']}. [1]"
    if t == "text":
        return f"The reviewer is board certified in {e['value']}. [1]"
    if t == "sex":
        return f"The injured worker is {e['value']}. [1]"
    if t == "families":
        return f"The reviewer cited {' and '.join(e['value'])}. [1]"
    if t == "groups":
        lines = [f"By {e['by']}:"]
        for g in e["groups"]:
            label = g["label"].replace("_", " ")
            lines.append(f"{label}: {g['hits']} of {g['total']} overturned." if e["share"] else f"{label}: {g['total']}.")
        return "\n".join(lines)
    if t == "compare":
        a, b = e["sides"]
        return (f"{a['label']}: {a['hits']} of {a['total']} overturned; "
                f"{b['label']}: {b['hits']} of {b['total']} overturned. [1]")
    if t == "none":
        return "No letter in the library mentions this."
    raise AssertionError(t)


def wrong_answer(q: aq.AnalystQuestion) -> str:
    e = q.expect
    t = e["type"]
    if t == "outcome":
        other = "upheld" if e["value"] != "upheld" else "overturned"
        return f"The request was {other}. [1]"
    if t == "number":  # the right number is there, but not as the answer
        return f"{e['value'] + 1} were found, of {e['value']} requested. [1]"
    if t == "share":
        return f"{e['hits'] + 1} of {e['total']} requests were overturned. [1] ({e['hits']} of {e['total']} upheld)"
    if t == "date":
        return f"The letter was decided 2030-01-01; the date you asked for is {e['value']}. [1]"
    if t == "text":
        return f"The reviewer in this case (a licensed physician) signed the letter. Specialty: {e['value']}. [1]"
    if t == "sex":
        return f"The injured worker is {'female' if e['value'] == 'male' else 'male'}. [1]"
    if t == "families":
        return f"The reviewer cited {' and '.join(e['value'])} and ACOEM and ODG and MTUS, or none. [1]" \
            if len(e["value"]) < 3 else "The reviewer cited MTUS only. [1]"
    if t == "groups":
        g = e["groups"][0]
        label = g["label"].replace("_", " ")
        return f"By {e['by']}:\n{label}: {g['total'] + 1} of {g['total'] + 2}."
    if t == "compare":
        a, b = e["sides"]
        return (f"{a['label']}: {b['hits']} of {b['total'] + 1} overturned; "
                f"{b['label']}: {a['hits']} of {a['total'] + 1} overturned. [1]")
    if t == "none":
        return "In case CM16-0246487 the request for physical therapy was upheld. [1]"
    raise AssertionError(t)


CITE = [SimpleNamespace(doc_id="d", start=0, end=10)]


def test_checkers_accept_a_right_answer_and_reject_a_wrong_one(questions) -> None:
    for q in questions:
        if q.kind == "why":
            continue
        cites = [] if q.expect["type"] == "none" else CITE
        right = aq.check(q, right_answer(q), cites)
        assert right.correct, (q.question, right_answer(q), right.reason)
        wrong = aq.check(q, wrong_answer(q), CITE)
        assert not wrong.correct and wrong.cited, (q.question, wrong_answer(q))


def test_why_needs_a_citation_of_the_items_own_rationale(questions) -> None:
    q = next(q for q in questions if q.kind == "why")
    key = (q.expect["source_file"], q.expect["item"])
    regions = {key: [("doc", 100, 900, 100, 160)]}  # item section 100-900, its heading 100-160
    outcome = q.expect["outcome"]
    rationale = SimpleNamespace(doc_id="doc", start=400, end=520)
    assert aq.check(q, f"It was {outcome} because ... [1]", [rationale], regions).correct
    heading_only = SimpleNamespace(doc_id="doc", start=100, end=160)
    assert not aq.check(q, f"It was {outcome}. [1]", [heading_only], regions).correct
    elsewhere = SimpleNamespace(doc_id="other", start=400, end=520)
    assert not aq.check(q, f"It was {outcome}. [1]", [elsewhere], regions).correct
    wrong_outcome = "overturned" if outcome == "upheld" else "upheld"
    assert not aq.check(q, f"It was {wrong_outcome} because ... [1]", [rationale], regions).correct


def test_first_sentence_rules() -> None:
    number = {"expect": {"type": "number", "value": 3}}
    assert aq.check(number, "3 items were overturned in December 2016, in 2 letters. [1]", CITE).correct
    assert aq.check(number, "In December 2016, three items were overturned (CM16-0246487).", CITE).correct
    # the right number later in the answer is not an answer
    assert not aq.check(number, "12 items were decided in December 2016.\n3 of them were overturned.", CITE).correct
    assert not aq.check(number, "No overturned requests for december 2016 were found.", []).correct
    share = {"expect": {"type": "share", "hits": 3, "total": 12}}
    assert aq.check(share, "3 of 12 requests for acupuncture were overturned (25%). [1]", CITE).correct
    assert not aq.check(share, "3 of 12 requests for acupuncture were overturned (30%). [1]", CITE).correct
    assert not aq.check(share, "In case CM16-0248698 the acupuncture was upheld. [1] 3 of 12 overturned.", CITE).correct
    date = {"expect": {"type": "date", "value": "2016-10-21"}}
    for text in ("The date of injury in case CM16-0246487 is 2016-10-21.", "It was October 21, 2016.",
                 "The injury happened on 10/21/2016 (decided 2017-01-31).", "21 October 2016."):
        assert aq.check(date, text, CITE).correct, text
    assert not aq.check(date, "Case CM16-0246487 was decided 2017-01-31; injured 2016-10-21.", CITE).correct
    none = {"expect": {"type": "none"}}
    assert aq.check(none, "No letter in the library mentions hyperbaric oxygen therapy.", []).correct
    assert aq.check(none, "0 letters were decided in 2019.", []).correct
    assert not aq.check(none, "No letter in the library mentions it. [1]", CITE).correct  # cites something
    assert not aq.check(none, "Physical therapy was upheld.", []).correct
    compare = {"expect": {"type": "compare", "sides": [
        {"label": "lidocaine patch", "pattern": aq.CONCEPTS["lidocaine_patch"][1], "hits": 0, "total": 3},
        {"label": "omeprazole", "pattern": aq.CONCEPTS["omeprazole"][1], "hits": 1, "total": 2}]}}
    listed = ("Lidocaine patch 0 of 3 overturned (0%); omeprazole 1 of 2 overturned (50%). Lidocaine patch:\n"
              "- CM16-0243394: Lidoderm patch 12 hours on, #1 box: upheld. [1]")
    assert aq.check(compare, listed, CITE).correct
    assert not aq.check(compare, listed.replace("1 of 2", "2 of 2"), CITE).correct
    specialty = {"expect": {"type": "text", "value": "Physical Medicine & Rehabilitation"}}
    assert aq.check(specialty, "The reviewer is certified in Physical Medicine and Rehabilitation. [1]", CITE).correct
    assert not aq.check(specialty, "No extracted decisions match the question.", []).correct


def test_questions_suite_runs_end_to_end_on_the_synthetic_fixtures(tmp_path: Path) -> None:
    from evals.report import flatten_metrics, render_markdown
    from evals.runner import EvalOptions, run_eval

    fixture = load_fixture_set(SYNTHETIC, [])
    report = run_eval(EvalOptions(sets=[fixture], suites=("questions",)), make_settings(tmp_path))
    summary = report["questions"]
    assert summary["questions"] >= 200 and summary["kinds"] >= 10
    assert set(summary["per_kind"]["no_answer"]) == {"dev", "heldout", "all"}
    rows = summary["per_question"]
    assert len(rows) == summary["questions"] and all(isinstance(r["correct"], bool) for r in rows)
    assert summary["overall"]["all"]["correct"] == sum(r["correct"] for r in rows)
    wrong = [r for r in rows if not r["correct"]]
    assert summary["wrong_cited_rate"] == (sum(r["cited"] for r in wrong) / len(wrong) if wrong else 0.0)
    # the engine answers some of them right (a suite that marks everything wrong is broken)
    assert summary["per_kind"]["why"]["all"]["accuracy"] > 0.5
    metrics = flatten_metrics(report)
    assert "questions/accuracy" in metrics and "questions/kind=share/heldout/accuracy" in metrics
    markdown = render_markdown({**report, "metrics": metrics})
    assert "## Analyst questions" in markdown and "| kind | questions | dev accuracy | held-out accuracy |" in markdown
