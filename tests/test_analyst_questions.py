"""Analyst questions (issue 10) on a real library of synthetic letters written from a plan: every
expected number is computed from the plan (tests/analyst_letters.py), the answers come from the
real parser, SQL executor and catalog. The LLM path fills the same plan through the scripted
OpenAI-compatible server."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path

import pytest
from analyst_letters import current, plan_library, write_library
from helpers import make_settings
from llm_server import scripted_llm_server

from imr_rag.ask.answer import MAX_CITED
from imr_rag.ask.engine import Asker
from imr_rag.catalog import Catalog
from imr_rag.extract.service import ExtractionService
from imr_rag.library import Library
from imr_rag.schema import Determination

LETTERS = plan_library()
CURRENT = current(LETTERS)


@pytest.fixture(scope="module")
def analyst(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("analyst")
    settings = make_settings(root / "data")
    lib = Library(settings)
    lib.ingest([write_library(root / "letters", LETTERS)], embed=False)
    docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
    list(ExtractionService(settings, lib.catalog, "rules").run(iter(docs), len(docs)))
    yield lib, settings
    lib.close()


@pytest.fixture(scope="module")
def engine(analyst) -> Asker:
    """Relative dates count from the settings' today: here the first day after the newest
    letter's month, so that "last month" is that month."""
    lib, settings = analyst
    return Asker(lib, settings.model_copy(update={"today": next_month(newest())}))


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def items(where=lambda letter, item: True):
    return [(letter, item) for letter in CURRENT for item in letter.items if where(letter, item)]


def first_line(answer) -> str:
    """The answer line: the line after the reading line ("Read as: ..."), which every answer starts with."""
    lines = answer.text.splitlines()
    assert lines[0] == f"Read as: {answer.reading}."
    return lines[1]


def states(line: str, number) -> bool:
    """`line` states `number` as a number of its own (not part of a date, case number or dose)."""
    return re.search(rf"(?<![\w./-]){re.escape(str(number))}(?![\w/-]|[.,]\d)", line) is not None


def count_of(answer) -> int:
    """The count an answered count question gives, said in its answer line."""
    assert answer.status == "answered", answer.text
    assert isinstance(answer.value, int) and not isinstance(answer.value, bool), answer.value
    assert states(first_line(answer), answer.value), first_line(answer)
    return answer.value


def assert_cited(engine: Asker, answer) -> None:
    for c in answer.citations:
        assert engine.text_of(c.doc_id)[c.start:c.end] == c.quote


# -- the four questions of the issue ------------------------------------------------------------

def test_count_in_a_month_keeps_the_date(engine: Asker) -> None:
    in_dec = lambda letter, item: letter.decided.strftime("%Y-%m") == "2016-12"  # noqa: E731
    total = items(in_dec)
    over = [p for p in total if p[1].outcome == "Overturned"]
    answer = engine.answer("How many disputed items were overturned in letters decided in December 2016?")
    assert answer.kind == "count" and answer.plan["unit"] == "items"
    assert count_of(answer) == len(over) < len(total)
    assert len(answer.counted) == len(over)
    assert all(c.decision_date.startswith("2016-12") and c.determination == "overturned" for c in answer.counted)
    assert len(answer.citations) == len(over) and all("Overturned" in c.quote for c in answer.citations)
    assert_cited(engine, answer)


def test_specialty_of_the_reviewer_of_a_case(engine: Asker) -> None:
    letter = CURRENT[5]
    answer = engine.answer(f"What is the specialty of the physician reviewer in case {letter.case}?")
    assert answer.status == "answered" and answer.plan["operation"] == "fact"
    assert answer.value == letter.specialty
    assert letter.case in first_line(answer) and letter.specialty in first_line(answer)
    assert answer.citations[0].quote == letter.specialty
    assert_cited(engine, answer)


def test_share_of_a_service(engine: Asker) -> None:
    acu = items(lambda letter, item: item.service.startswith("Acupuncture"))
    over = [p for p in acu if p[1].outcome == "Overturned"]
    assert (len(over), len(acu)) == (3, 12)
    answer = engine.answer("What share of the requests for acupuncture were overturned?")
    assert answer.status == "answered" and answer.value == 0.25
    assert re.match(r"3 of 12 \D*\(25(\.0)?%\)", first_line(answer))
    # every letter counted is cited, numbered
    assert sorted(c.case_number for c in answer.citations) == sorted(letter.case for letter, _ in acu)
    assert_cited(engine, answer)


def test_unknown_service_is_no_letter_mentions_it(engine: Asker) -> None:
    answer = engine.answer("Was the request for hyperbaric oxygen therapy upheld or overturned?")
    assert first_line(answer).startswith('No letter in the library mentions "hyperbaric oxygen')
    assert answer.kind == "none" and answer.citations == [] and answer.value in (0, None)
    count = engine.answer("How many hyperbaric oxygen therapy requests were overturned?")
    assert first_line(count).startswith('No letter in the library mentions "hyperbaric oxygen')
    assert count.citations == [] and count.value == 0


# -- dates ---------------------------------------------------------------------------------------

def newest() -> dt.date:
    return max(letter.decided for letter in CURRENT)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("How many items were decided in Q4 2016?", dt.date(2016, 10, 1), dt.date(2016, 12, 31)),
        ("How many items were decided in 2017?", dt.date(2017, 1, 1), dt.date(2017, 12, 31)),
        ("How many items were decided before November 2016?", dt.date(2000, 1, 1), dt.date(2016, 10, 31)),
        ("How many items were decided after 11/30/2016?", dt.date(2016, 12, 1), dt.date(2099, 1, 1)),
        ("How many items were decided between November 2016 and January 2017?", dt.date(2016, 11, 1), dt.date(2017, 1, 31)),
        ("How many items were decided last month?", newest().replace(day=1), next_month(newest()) - dt.timedelta(days=1)),
    ],
)
def test_date_ranges(engine: Asker, question: str, start: dt.date, end: dt.date) -> None:
    expected = items(lambda letter, item: start <= letter.decided <= end)
    answer = engine.answer(question)
    assert answer.kind == "count"
    assert count_of(answer) == len(expected)
    assert len(answer.counted) == len(expected)


def test_a_day(engine: Asker) -> None:
    day = CURRENT[7].decided
    answer = engine.answer(f"How many requests were decided on {day.strftime('%B')} {day.day}, {day.year}?")
    assert count_of(answer) == len(CURRENT[7].items)


# -- group-by, comparison, filters ----------------------------------------------------------------

def test_group_by_month(engine: Asker) -> None:
    answer = engine.answer("How many overturned requests per month?")
    assert answer.kind == "count"
    months: dict[str, list[int]] = {}
    for letter, item in items():
        m = months.setdefault(letter.decided.strftime("%Y-%m"), [0, 0])
        m[0] += item.outcome == "Overturned"
        m[1] += 1
    got = {row["label"]: row["value"] for row in answer.value}
    assert {m: v for m, v in got.items() if v} == {month: x for month, (x, n) in months.items() if x}
    for month, (x, n) in months.items():
        if x:  # each month's count is said, in words, as well as in the value
            assert any(re.search(rf"\b{month}: {x}\b", line) for line in answer.text.splitlines()), month


def test_overturn_rate_by_specialty_names_the_highest(engine: Asker) -> None:
    answer = engine.answer("Which specialties overturn most?")
    rates = {}
    for letter, item in items():
        x, n = rates.get(letter.specialty, (0, 0))
        rates[letter.specialty] = (x + (item.outcome == "Overturned"), n + 1)
    best = max((x / n, n) for x, n in rates.values())
    assert answer.status == "answered" and answer.plan["group_by"]["field"] == "reviewer_specialty"
    top = answer.value[0]
    assert top["label"] in [s for s, (x, n) in rates.items() if x / n == best[0]]
    assert top["value"] == pytest.approx(best[0])
    assert first_line(answer).startswith(f"1. {top['label']}: ") and f"of {rates[top['label']][1]}" in first_line(answer)


def assert_acupuncture_vs_chiropractic(answer) -> None:
    """Acupuncture 3 of 12 overturned (25%), chiropractic 5 of 10 (50%): the value and the words."""
    assert answer.status == "answered" and answer.plan["operation"] == "compare"
    assert [(row["label"].lower(), row["value"]) for row in answer.value] == [("acupuncture", 0.25), ("chiropractic", 0.5)]
    lines = [line.lower() for line in answer.text.splitlines()]
    assert any(re.search(r"acupuncture: 25(\.0)?% of 12\b", line) for line in lines)
    assert any(re.search(r"chiropractic: 50(\.0)?% of 10\b", line) for line in lines)


def test_compare_two_services(engine: Asker) -> None:
    answer = engine.answer("Acupuncture vs chiropractic overturn rate?")
    assert_acupuncture_vs_chiropractic(answer)
    assert len(answer.counted) == 22


def test_guideline_family_specialty_and_format_filters(engine: Asker) -> None:
    odg = items(lambda letter, item: item.guideline == "ODG" and item.outcome == "Overturned")
    assert count_of(engine.answer("How many requests citing ODG were overturned?")) == len(odg)
    ortho = items(lambda letter, item: letter.specialty == "Orthopedic Surgery" and item.outcome == "Overturned")
    answer = engine.answer("How many requests were overturned by orthopedic surgeons?")
    assert count_of(answer) == len(ortho)
    assert "orthopedic surgery" in answer.reading.lower()
    texas = engine.answer("How many requests were upheld in Texas IRO letters?")
    assert count_of(texas) == 0 and "texas" in texas.reading.lower()


def test_synonyms_count_the_same_items(engine: Asker) -> None:
    norco = items(lambda letter, item: item.service.startswith("Norco"))
    for name in ("Norco", "hydrocodone", "hydrocodone-acetaminophen"):
        assert count_of(engine.answer(f"How many {name} requests were there?")) == len(norco), name
    mri = items(lambda letter, item: item.service.startswith("MRI"))
    answer = engine.answer("How many requests for magnetic resonance imaging of the lumbar spine were decided?")
    assert count_of(answer) == len(mri)


def test_partly_authorised_items(engine: Asker) -> None:
    partly = items(lambda letter, item: item.authorized is not None)
    answer = engine.answer("How many items had part of the request already authorized by the claims administrator?")
    assert count_of(answer) == len(partly)


def test_superseded_versions_are_never_counted(engine: Asker) -> None:
    """The older letter of the first case overturned its acupuncture request; only the newest counts."""
    answer = engine.answer("How many acupuncture requests were overturned?")
    assert count_of(answer) == 3 and len(answer.counted) == 3
    old = next(x for x in LETTERS if x.file.endswith("old_version.txt"))
    assert all(Path(c.source).name != old.file for c in answer.citations)


def test_long_lists_are_capped_with_and_more_and_counted_in_full(engine: Asker) -> None:
    everything = items()
    answer = engine.answer("List the disputed items")
    assert answer.status == "answered" and answer.plan["measure"]["aggregate"] == "list"
    assert len(answer.value) == len(everything)
    assert len(answer.counted) == len(everything) > MAX_CITED
    assert len(answer.citations) == MAX_CITED
    assert f"and {len(everything) - MAX_CITED} more" in answer.text


# -- one fact of a case, why ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What was the date of injury in case {case}?", lambda p: p.injured.isoformat()),
        ("When was case {case} decided?", lambda p: p.decided.isoformat()),
        ("Where is the reviewer of case {case} licensed?", lambda p: list(p.licensure)),
        ("How old was the patient in case {case}?", lambda p: p.age),
        ("What is the sex of the patient in case {case}?", lambda p: p.sex),
    ],
)
def test_fields_of_a_case(engine: Asker, question: str, expected) -> None:
    letter = CURRENT[9]
    answer = engine.answer(question.format(case=letter.case))
    assert answer.status == "answered" and answer.plan["operation"] == "fact"
    value = expected(letter)
    assert answer.value == value
    said = answer.sentences[1]  # after the reading line
    assert letter.case in said.text and all(str(v) in said.text for v in (value if isinstance(value, list) else [value]))
    assert said.citations
    assert_cited(engine, answer)


def test_why_quotes_the_rationale_and_the_guideline(engine: Asker) -> None:
    letter = next(x for x in CURRENT if any(i.service.startswith("MRI") and i.outcome == "Upheld" for i in x.items))
    answer = engine.answer(f"Why was the lumbar MRI in case {letter.case} denied?")
    assert answer.status == "answered" and answer.plan["operation"] == "why"
    said = first_line(answer)
    assert said.startswith("MRI of the lumbar spine without contrast") and letter.case in said and "upheld" in said
    quotes = [c.quote for c in answer.citations]
    assert any("is not medically necessary" in q for q in quotes)
    assert any(q.startswith("MAXIMUS guideline:") and "(ODG)" in q for q in quotes)
    assert_cited(engine, answer)


# -- not understood ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("How many requests were overturned in the winter?", "in the winter"),
        ("How many requests from Kaiser were upheld?", "from Kaiser"),
        ("How many items were overturned in case CM17-0000001?", "CM17-0000001"),
    ],
)
def test_what_was_not_understood_is_said(engine: Asker, question: str, phrase: str) -> None:
    answer = engine.answer(question)
    assert answer.status == "refused" and answer.kind == "none" and answer.citations == []
    assert answer.value is None
    # the reading line says how the question was read; the answer names the words it could not use
    assert phrase.split()[-1].lower() in first_line(answer).lower() + answer.reading.lower()


# -- the index behind it -----------------------------------------------------------------------------

def test_service_index_follows_deletes_and_is_built_for_older_catalogs(analyst, tmp_path: Path) -> None:
    lib, _ = analyst
    copy = tmp_path / "catalog.sqlite"
    with sqlite3.connect(copy) as dst:
        lib.catalog.db.backup(dst)
    with sqlite3.connect(copy) as db:  # as a catalog written before the service index existed
        db.execute("DROP TABLE items_fts_vocab")
        db.execute("DROP TABLE items_fts")
        db.execute("UPDATE items SET service_words = NULL, needs_review = NULL")
        db.execute("UPDATE decisions SET needs_review = NULL")
    with Catalog(copy) as catalog:
        assert catalog.db.execute("SELECT COUNT(*) FROM items WHERE needs_review IS NULL").fetchone()[0] == 0
        hits = catalog.db.execute("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'acupuncture'").fetchone()[0]
        assert hits == 13  # 12 current + the superseded version
        doc = catalog.db.execute("SELECT doc_id FROM items WHERE service LIKE 'Acupuncture%' LIMIT 1").fetchone()[0]
        catalog.delete_document(doc)
        assert catalog.db.execute("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'acupuncture'").fetchone()[0] == 12


GROUP_SQL = {  # the group-by keys over the decisions table, joined per item: the oracle
    "month": "substr(d.decision_date, 1, 7)", "year": "substr(d.decision_date, 1, 4)", "category": "i.category",
    "specialty": "d.reviewer_specialty", "determination": "i.determination", "guideline": "g.value",
    "quarter": "substr(d.decision_date, 1, 4) || '-Q' || ((CAST(substr(d.decision_date, 6, 2) AS INTEGER) + 2) / 3)",
}


def joined_tally(db: sqlite3.Connection, group_by: str) -> list[tuple]:
    join = " LEFT JOIN json_each(i.guideline_sources) g" if group_by == "guideline" else ""
    return [tuple(r) for r in db.execute(
        f"SELECT {GROUP_SQL[group_by]} AS k, COUNT(*), SUM(i.determination = 'overturned'), SUM(i.needs_review),"
        f" SUM(i.needs_review AND i.determination = 'overturned') FROM items i JOIN decisions d ON d.doc_id = i.doc_id"
        f"{join} WHERE d.superseded_by IS NULL GROUP BY k ORDER BY k")]


def kept_tally(catalog: Catalog, group_by: str) -> list[tuple]:
    """The counts `item_groups` keeps, as joined_tally computes them."""
    return [tuple(r) for r in catalog.db.execute(
        "SELECT NULLIF(key, ''), SUM(n), SUM(CASE WHEN determination = 'overturned' THEN n ELSE 0 END),"
        " SUM(CASE WHEN flagged THEN n ELSE 0 END), SUM(CASE WHEN flagged AND determination = 'overturned' THEN n"
        " ELSE 0 END) FROM item_groups WHERE kind = ? GROUP BY key HAVING SUM(n) > 0 ORDER BY NULLIF(key, '')",
        (group_by,))]


def test_kept_group_counts_follow_every_change_and_match_the_join(analyst, tmp_path: Path) -> None:
    """Group-by questions with no other condition read `item_groups`, kept by triggers: after
    extraction, a superseding version, a re-extraction, a delete, and for a catalog written before
    the table existed, they equal a GROUP BY over items joined to their decisions."""
    lib, _ = analyst
    copy = tmp_path / "catalog.sqlite"
    with sqlite3.connect(copy) as dst:
        lib.catalog.db.backup(dst)
    with Catalog(copy) as catalog:
        def same() -> None:
            assert catalog.item_group_drift() == []
            for group_by in GROUP_SQL:
                assert kept_tally(catalog, group_by) == joined_tally(catalog.db, group_by), group_by
        same()
        superseded = catalog.db.execute("SELECT COUNT(*) FROM items WHERE current = 0").fetchone()[0]
        assert superseded > 0  # the library has old versions, and their items are not counted
        # The current letter of a case with an old version goes: the old version is current again.
        doc, case = catalog.db.execute(
            "SELECT d.doc_id, d.case_number FROM decisions d WHERE d.superseded_by IS NULL AND EXISTS"
            " (SELECT 1 FROM decisions o WHERE o.superseded_by = d.doc_id)").fetchone()
        catalog.delete_document(doc)
        assert catalog.db.execute("SELECT COUNT(*) FROM items WHERE current = 1 AND case_number = ?",
                                  (case,)).fetchone()[0] > 0
        same()
        # A re-extraction replaces a decision's items (with other outcomes): counts follow.
        other = catalog.db.execute("SELECT doc_id FROM decisions WHERE superseded_by IS NULL LIMIT 1").fetchone()[0]
        decision = catalog.decision(other)
        flipped = decision.model_copy(update={"items": [
            item.model_copy(update={"determination": Determination.upheld if item.determination != Determination.upheld
                                    else Determination.overturned})
            for item in decision.items]})
        catalog.save_decision(other, "rules", flipped)
        same()
    with sqlite3.connect(copy) as db:  # as a catalog written before the kept counts existed
        for trigger in ("item_groups_insert", "item_groups_delete", "item_groups_update", "items_follow_decision"):
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP TABLE item_groups")
        db.execute("UPDATE items SET current = NULL, decision_date = NULL")
    with Catalog(copy) as catalog:
        assert catalog.db.execute("SELECT COUNT(*) FROM items WHERE current IS NULL").fetchone()[0] == 0
        same()


# -- the LLM fills the same plan -----------------------------------------------------------------------

@pytest.fixture()
def llm_engine(analyst):
    lib, settings = analyst
    with scripted_llm_server() as server:
        yield Asker(lib, settings.model_copy(update={"llm_base_url": server.base_url, "llm_max_retries": 1})), server


def test_llm_plan_with_a_date_range_is_executed_in_sql(llm_engine) -> None:
    engine, server = llm_engine
    server.enqueue({"kind": "catalog", "plan": {
        "measure": {"aggregate": "share", "part": [{"field": "determination", "op": "eq", "value": "overturned"}]},
        "where": [{"field": "service", "op": "matches", "value": ["chiropractic"]},
                  {"field": "decision_date", "op": "between", "value": "2016-11-01", "value2": "2016-12-31"}]}})
    answer = engine.answer("What share of chiropractic requests were overturned in Nov-Dec 2016?")
    chiro = items(lambda letter, item: item.service.startswith("Chiropractic")
                  and dt.date(2016, 11, 1) <= letter.decided <= dt.date(2016, 12, 31))
    over = [p for p in chiro if p[1].outcome == "Overturned"]
    assert answer.mode == "llm" and answer.status == "answered"
    assert len(chiro) > 0 and answer.value == pytest.approx(len(over) / len(chiro))
    assert first_line(answer).startswith(f"{len(over)} of {len(chiro)} ")
    assert {"field": "decision_date", "op": "between", "value": "2016-11-01", "value2": "2016-12-31"} in answer.plan["where"]
    # a share's counted rows are its whole denominator, each with its outcome
    assert len(answer.counted) == len(chiro) and sum(c.determination == "overturned" for c in answer.counted) == len(over)
    assert all("2016-11-01" <= c.decision_date <= "2016-12-31" for c in answer.counted)
    assert f"the newest decision is {newest().isoformat()}" in server.requests[0]["messages"][0]["content"]


def test_llm_plan_with_an_unknown_field_is_reasked(llm_engine) -> None:
    engine, server = llm_engine
    acupuncture_overturned = [{"field": "service", "op": "matches", "value": ["acupuncture"]},
                              {"field": "determination", "op": "eq", "value": "overturned"}]
    server.enqueue({"kind": "catalog", "plan": {"where": [*acupuncture_overturned,
                                                          {"field": "hospital", "op": "eq", "value": "Kaiser"}]}})
    server.enqueue({"kind": "catalog", "plan": {"where": acupuncture_overturned}})
    answer = engine.answer("How many acupuncture requests were overturned?")
    assert len(server.requests) == 2
    assert "Validation Error" in json.dumps(server.requests[1]["messages"]) and "hospital" in json.dumps(server.requests[1]["messages"])
    assert count_of(answer) == 3 and len(answer.counted) == 3
    assert answer.mode == "llm"


def test_llm_field_plan(llm_engine) -> None:
    engine, server = llm_engine
    letter = CURRENT[3]
    server.enqueue({"kind": "catalog", "plan": {"operation": "fact", "fact": "reviewer_specialty", "case_number": letter.case}})
    answer = engine.answer(f"Who reviewed case {letter.case}?")
    assert answer.mode == "llm" and answer.value == letter.specialty
    assert letter.case in first_line(answer) and letter.specialty in first_line(answer)


# -- what the CLI and the app show -------------------------------------------------------------------

def test_cli_json_lists_every_counted_item_and_the_plan(analyst, capsys, monkeypatch) -> None:
    from imr_rag.faces import cli

    lib, settings = analyst
    for key in [k for k in __import__("os").environ if k.startswith("IMR_")]:
        monkeypatch.delenv(key)
    assert cli.main(["--data-dir", str(settings.data_dir), "ask", "--json", "List the disputed items"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["counted"]) == len(items()) and len(out["citations"]) == MAX_CITED
    assert out["plan"]["measure"]["aggregate"] == "list" and out["status"] == "answered"
    assert cli.main(["--data-dir", str(settings.data_dir), "ask", "What share of the requests for acupuncture were overturned?"]) == 0
    text = capsys.readouterr().out
    reading, said = text.splitlines()[:2]
    assert reading.startswith("Read as: ") and "acupuncture" in reading
    assert re.match(r"3 of 12 \D*\(25(\.0)?%\)", said)


def test_app_shows_the_same_text_and_a_table_of_the_counted_items(engine: Asker) -> None:
    from imr_rag.faces.app_service import answer_markdown, escape_markdown

    answer = engine.answer("What share of the requests for acupuncture were overturned?")
    markdown = answer_markdown(answer)
    # letter-derived text is escaped: the reading line, then the answer line
    assert markdown.startswith(escape_markdown(answer.text.splitlines()[0]))
    assert escape_markdown(first_line(answer)) in markdown
    assert "<summary>All 12 counted items</summary>" in markdown
    assert markdown.count("| Acupuncture 6 sessions |") == 12


def test_counts_say_how_many_counted_items_are_flagged_for_review(tmp_path: Path) -> None:
    """A review flag naming an item (or its whole letter) is counted in the answer and marked."""
    from imr_rag.schema import ReviewFlag

    letters = [x for x in CURRENT if any(i.service.startswith("Acupuncture") for i in x.items)][:4]
    settings = make_settings(tmp_path / "data")
    with Library(settings) as lib:
        lib.ingest([write_library(tmp_path / "letters", letters)], embed=False)
        docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
        list(ExtractionService(settings, lib.catalog, "rules").run(iter(docs), len(docs)))
        (doc_id, backend, decision), *_ = lib.catalog.decisions()
        decision.review_flags = [ReviewFlag(check="item_count", reason="a heading may be missing", item_index=0)]
        lib.catalog.save_decision(doc_id, backend, decision)
        answer = Asker(lib, settings).answer("How many acupuncture requests were decided?")
        lines = answer.text.splitlines()
        assert count_of(answer) == 4
        assert lines[2] == "1 of the counted items is flagged for review (marked \u2691 below; the export's review_reasons say why)."
        assert sum("flagged for review [" in line for line in lines) == 1
        assert [c.needs_review for c in answer.counted].count(True) == 1


# -- a named item the case does not have is said, not answered with the whole case ----------------

def test_an_item_missing_from_the_named_case_is_not_answered_with_the_case_list(engine: Asker) -> None:
    letter = next(x for x in CURRENT if not any(i.service.startswith("Acupuncture") for i in x.items))
    answer = engine.answer(f"Tell me the outcome for acupuncture under case {letter.case}.")
    assert answer.status != "answered" and answer.kind == "none" and answer.citations == []
    said = first_line(answer)
    assert "acupuncture" in said.lower() and letter.case in said and "No letter in the library mentions" not in said
    assert all(item.service in answer.text for item in letter.items)


def test_differ_wording_is_the_comparison(engine: Asker) -> None:
    answer = engine.answer("How do acupuncture and chiropractic requests differ in how often they were overturned?")
    assert_acupuncture_vs_chiropractic(answer)


def test_field_wording_is_the_reviewer_specialty(engine: Asker) -> None:
    letter = CURRENT[5]
    answer = engine.answer(f"In which field is the physician reviewer board certified for case {letter.case}?")
    assert answer.status == "answered" and answer.value == letter.specialty
    assert letter.case in first_line(answer) and letter.specialty in first_line(answer)
    assert_cited(engine, answer)


def test_comparison_without_an_outcome_word_compares_overturn_shares(engine: Asker) -> None:
    answer = engine.answer("Compare acupuncture and chiropractic requests.")
    assert_acupuncture_vs_chiropractic(answer)


def date_range(label: str) -> tuple[str, str]:
    """The first and last day of a month ("2016-12"), quarter ("2016-Q4") or year ("2016") group."""
    year = int(label[:4])
    first, months = (3 * int(label[-1]) - 2, 3) if "-Q" in label else (int(label[5:]), 1) if len(label) == 7 else (1, 12)
    after = first - 1 + months  # months after January of `year` at which the next period starts
    end = dt.date(year + after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(year, first, 1).isoformat(), end.isoformat()


@pytest.mark.parametrize("part", ["month", "quarter", "year"])
def test_one_date_group_as_a_date_range_is_the_same_items(analyst, part: str) -> None:
    """A month, quarter or year group of a ranking holds the same items as a plan asking for that
    date range (the group-by expression and the date index agree)."""
    from imr_rag.ask.execute import run_plan
    from imr_rag.ask.plan import Condition, GroupBy, Plan

    lib, _ = analyst
    db = lib.catalog.db
    ranked = run_plan(db, Plan(operation="rank", group_by=GroupBy(field="decision_date", part=part)), row_limit=None)
    labels = [g.label for g in ranked.groups]
    assert len(labels) > 1 and sum(g.n for g in ranked.groups) == len(items())
    for g in ranked.groups:
        start, end = date_range(g.label)
        ranged = run_plan(db, Plan(where=[Condition(field="decision_date", op="between", value=start, value2=end)]),
                          row_limit=None)
        assert ranged.total == g.n, g.label
        # a group carries its first rows as examples: each of them is in the range
        assert {(r.doc_id, r.item_index) for r in g.rows} <= {(r.doc_id, r.item_index) for r in ranged.rows}, g.label
        assert all(start <= r.decision_date <= end for r in ranged.rows), g.label


def test_planner_statistics_are_refreshed_once_per_change(tmp_path: Path) -> None:
    """ANALYZE runs when the catalog has no statistics, grew, or gained an index since (a newer
    version's index has none, and the planner then prefers the indexes it knows); otherwise never,
    also while the question tables are still empty (a library ingested without extraction)."""
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        assert catalog.refresh_query_stats() is True
        assert catalog.refresh_query_stats() is False
        catalog.db.execute("CREATE INDEX items_by_service ON items(service)")
        assert catalog.refresh_query_stats() is True
        assert catalog.refresh_query_stats() is False


def test_relative_dates_count_from_today_and_the_reading_says_which_dates(engine: Asker) -> None:
    """'last week' is the week before the settings' today (IMR_TODAY, else this machine's date):
    answered, with the dates in the reading line so that the reading is visible."""
    answer = engine.answer("How many requests were overturned last week?")
    today = engine.settings.today
    monday = today - dt.timedelta(days=today.weekday() + 7)
    assert answer.status == "answered"
    assert f"week of {monday.isoformat()}" in answer.reading
    expected = items(lambda letter, item: monday <= letter.decided <= monday + dt.timedelta(days=6)
                     and item.outcome == "Overturned")
    assert answer.value == len(expected)


def test_the_guideline_an_item_of_a_case_cites(engine: Asker) -> None:
    letter = next(x for x in CURRENT if any(i.service.startswith("MRI") for i in x.items))
    item = next(i for i in letter.items if i.service.startswith("MRI"))
    answer = engine.answer(f"which guideline was cited for the MRI in case {letter.case}?")
    assert answer.status == "answered" and answer.plan["fact"] == "guideline"
    assert answer.value == [item.guideline] and answer.citations
    assert_cited(engine, answer)
