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

from imr_rag.catalog import Catalog
from imr_rag.ask.engine import Asker
from imr_rag.ask.answer import MAX_CITED
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
    lib, settings = analyst
    return Asker(lib, settings)


def items(where=lambda letter, item: True):
    return [(letter, item) for letter in CURRENT for item in letter.items if where(letter, item)]


def first_line(answer) -> str:
    return answer.text.splitlines()[0]


def assert_cited(engine: Asker, answer) -> None:
    for c in answer.citations:
        assert engine.text_of(c.doc_id)[c.start:c.end] == c.quote


# -- the four questions of the issue ------------------------------------------------------------

def test_count_in_a_month_keeps_the_date(engine: Asker) -> None:
    in_dec = lambda letter, item: letter.decided.strftime("%Y-%m") == "2016-12"  # noqa: E731
    total = items(in_dec)
    over = [p for p in total if p[1].outcome == "Overturned"]
    answer = engine.answer("How many disputed items were overturned in letters decided in December 2016?")
    assert answer.kind == "count"
    assert first_line(answer).startswith(f"{len(over)} of the {len(total)} disputed items decided 2016-12-01 to 2016-12-31 were overturned")
    assert len(answer.counted) == len(over)
    assert all(c.decision_date.startswith("2016-12") and c.determination == "overturned" for c in answer.counted)
    assert len(answer.citations) == len(over) and all("Overturned" in c.quote for c in answer.citations)
    assert_cited(engine, answer)


def test_specialty_of_the_reviewer_of_a_case(engine: Asker) -> None:
    letter = CURRENT[5]
    answer = engine.answer(f"What is the specialty of the physician reviewer in case {letter.case}?")
    assert answer.kind == "field"
    assert first_line(answer).startswith(f"The reviewer in case {letter.case} is certified in {letter.specialty}.")
    assert answer.citations[0].quote == letter.specialty
    assert_cited(engine, answer)


def test_share_of_a_service(engine: Asker) -> None:
    acu = items(lambda letter, item: item.service.startswith("Acupuncture"))
    over = [p for p in acu if p[1].outcome == "Overturned"]
    assert (len(over), len(acu)) == (3, 12)
    answer = engine.answer("What share of the requests for acupuncture were overturned?")
    assert first_line(answer) == "3 of 12 requests for acupuncture were overturned (25%)."
    # every letter counted is cited, numbered
    assert sorted(c.case_number for c in answer.citations) == sorted(letter.case for letter, _ in acu)
    assert_cited(engine, answer)


def test_unknown_service_is_no_letter_mentions_it(engine: Asker) -> None:
    answer = engine.answer("Was the request for hyperbaric oxygen therapy upheld or overturned?")
    assert answer.text == "No letter in the library mentions hyperbaric oxygen therapy."
    assert answer.kind == "none" and answer.citations == []
    count = engine.answer("How many hyperbaric oxygen therapy requests were overturned?")
    assert first_line(count).startswith("No letter in the library mentions hyperbaric oxygen therapy")
    assert count.citations == []


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
        ("How many items were decided last month?", newest().replace(day=1), newest()),
    ],
)
def test_date_ranges(engine: Asker, question: str, start: dt.date, end: dt.date) -> None:
    expected = items(lambda letter, item: start <= letter.decided <= end)
    answer = engine.answer(question)
    assert answer.kind == "count"
    assert first_line(answer).split()[0] == str(len(expected))
    assert len(answer.counted) == len(expected)


def test_a_day(engine: Asker) -> None:
    day = CURRENT[7].decided
    answer = engine.answer(f"How many requests were decided on {day.strftime('%B')} {day.day}, {day.year}?")
    assert first_line(answer).split()[0] == str(len(CURRENT[7].items))


# -- group-by, comparison, filters ----------------------------------------------------------------

def test_group_by_month(engine: Asker) -> None:
    answer = engine.answer("How many overturned requests per month?")
    assert answer.kind == "count"
    months: dict[str, list[int]] = {}
    for letter, item in items():
        m = months.setdefault(letter.decided.strftime("%Y-%m"), [0, 0])
        m[0] += item.outcome == "Overturned"
        m[1] += 1
    for month, (x, n) in months.items():
        assert any(line.startswith(f"{month}: {x} of {n} overturned") for line in answer.text.splitlines()), month


def test_overturn_rate_by_specialty_names_the_highest(engine: Asker) -> None:
    answer = engine.answer("Which specialties overturn most?")
    rates = {}
    for letter, item in items():
        x, n = rates.get(letter.specialty, (0, 0))
        rates[letter.specialty] = (x + (item.outcome == "Overturned"), n + 1)
    best = max((x / n, n) for x, n in rates.values())
    tops = [s for s, (x, n) in rates.items() if (x / n, n) == best]
    assert any(first_line(answer).startswith(f"By specialty, the highest share overturned is {top}: "
                                             f"{rates[top][0]} of {rates[top][1]}") for top in tops)


def test_compare_two_services(engine: Asker) -> None:
    answer = engine.answer("Acupuncture vs chiropractic overturn rate?")
    assert first_line(answer) == "Acupuncture 3 of 12 overturned (25%); chiropractic 5 of 10 overturned (50%)."
    assert len(answer.counted) == 22


def test_guideline_family_specialty_and_format_filters(engine: Asker) -> None:
    odg = items(lambda letter, item: item.guideline == "ODG" and item.outcome == "Overturned")
    assert first_line(engine.answer("How many requests citing ODG were overturned?")).split()[0] == str(len(odg))
    ortho = items(lambda letter, item: letter.specialty == "Orthopedic Surgery" and item.outcome == "Overturned")
    answer = engine.answer("How many requests were overturned by orthopedic surgeons?")
    assert first_line(answer).split()[0] == str(len(ortho))
    assert "reviewed by Orthopedic Surgery" in first_line(answer)
    texas = engine.answer("How many requests were upheld in Texas IRO letters?")
    assert first_line(texas).startswith("None")


def test_synonyms_count_the_same_items(engine: Asker) -> None:
    norco = items(lambda letter, item: item.service.startswith("Norco"))
    for name in ("Norco", "hydrocodone", "hydrocodone-acetaminophen"):
        assert first_line(engine.answer(f"How many {name} requests were there?")).split()[0] == str(len(norco))
    mri = items(lambda letter, item: item.service.startswith("MRI"))
    answer = engine.answer("How many requests for magnetic resonance imaging of the lumbar spine were decided?")
    assert first_line(answer).split()[0] == str(len(mri))


def test_partly_authorised_items(engine: Asker) -> None:
    partly = items(lambda letter, item: item.authorized is not None)
    answer = engine.answer("How many items had part of the request already authorized by the claims administrator?")
    assert first_line(answer).split()[0] == str(len(partly))


def test_superseded_versions_are_never_counted(engine: Asker) -> None:
    """The older letter of the first case overturned its acupuncture request; only the newest counts."""
    answer = engine.answer("How many acupuncture requests were overturned?")
    assert first_line(answer).startswith("3 of the 12 requests for acupuncture were overturned")
    old = next(x for x in LETTERS if x.file.endswith("old_version.txt"))
    assert all(Path(c.source).name != old.file for c in answer.citations)


def test_long_lists_are_capped_with_and_more_and_counted_in_full(engine: Asker) -> None:
    everything = items()
    answer = engine.answer("List the disputed items")
    assert len(answer.counted) == len(everything) > MAX_CITED
    assert len(answer.citations) == MAX_CITED
    assert f"and {len(everything) - MAX_CITED} more" in answer.text


# -- one fact of a case, why ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What was the date of injury in case {case}?", lambda p: f"The date of injury of case {p.case} is {p.injured.isoformat()}."),
        ("When was case {case} decided?", lambda p: f"The decision date of case {p.case} is {p.decided.isoformat()}."),
        ("Where is the reviewer of case {case} licensed?", lambda p: f"The reviewer in case {p.case} is licensed in {', '.join(p.licensure)}."),
        ("How old was the patient in case {case}?", lambda p: f"The patient in case {p.case} is {p.age} years old."),
        ("What is the sex of the patient in case {case}?", lambda p: f"The patient in case {p.case} is {p.sex}."),
    ],
)
def test_fields_of_a_case(engine: Asker, question: str, expected) -> None:
    letter = CURRENT[9]
    answer = engine.answer(question.format(case=letter.case))
    assert answer.kind == "field"
    assert answer.sentences[0].text == expected(letter)
    assert answer.sentences[0].citations
    assert_cited(engine, answer)


def test_why_quotes_the_rationale_and_the_guideline(engine: Asker) -> None:
    letter = next(x for x in CURRENT if any(i.service.startswith("MRI") and i.outcome == "Upheld" for i in x.items))
    answer = engine.answer(f"Why was the lumbar MRI in case {letter.case} denied?")
    assert first_line(answer).startswith(f"The request for MRI of the lumbar spine without contrast in case {letter.case} was upheld")
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
        ("How many requests were overturned last week?", "last week"),
        ("How many items were overturned in case CM17-0000001?", "CM17-0000001"),
    ],
)
def test_what_was_not_understood_is_said(engine: Asker, question: str, phrase: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "none" and answer.citations == []
    assert answer.text.startswith("I could not answer this: I did not understand")
    assert phrase in answer.text and "I read the rest of the question as:" in answer.text


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
    server.enqueue({"kind": "catalog", "query": {
        "returns": "share", "service_terms": ["chiropractic"], "determination": "overturned",
        "date_from": "2016-11-01", "date_to": "2016-12-31"}})
    answer = engine.answer("What share of chiropractic requests were overturned in Nov-Dec 2016?")
    chiro = items(lambda letter, item: item.service.startswith("Chiropractic")
                  and dt.date(2016, 11, 1) <= letter.decided <= dt.date(2016, 12, 31))
    over = [p for p in chiro if p[1].outcome == "Overturned"]
    assert answer.mode == "llm"
    assert first_line(answer).startswith(f"{len(over)} of {len(chiro)} requests for chiropractic decided 2016-11-01 to 2016-12-31 were overturned")
    assert answer.plan["date_from"] == "2016-11-01"
    assert "newest letter" in server.requests[0]["messages"][0]["content"]


def test_llm_plan_with_an_unknown_field_is_reasked(llm_engine) -> None:
    engine, server = llm_engine
    server.enqueue({"kind": "catalog", "query": {"returns": "count", "service_terms": ["acupuncture"],
                                                 "determination": "overturned", "hospital": "Kaiser"}})
    server.enqueue({"kind": "catalog", "query": {"returns": "count", "service_terms": ["acupuncture"],
                                                 "determination": "overturned"}})
    answer = engine.answer("How many acupuncture requests were overturned?")
    assert len(server.requests) == 2
    assert "Validation Error" in json.dumps(server.requests[1]["messages"]) and "hospital" in json.dumps(server.requests[1]["messages"])
    assert first_line(answer).startswith("3 of the 12 requests for acupuncture were overturned")
    assert answer.mode == "llm"


def test_llm_field_plan(llm_engine) -> None:
    engine, server = llm_engine
    letter = CURRENT[3]
    server.enqueue({"kind": "catalog", "query": {"returns": "field", "field": "reviewer_specialty", "case_number": letter.case}})
    answer = engine.answer(f"Who reviewed case {letter.case}?")
    assert re.match(rf"The reviewer in case {letter.case} is certified in {letter.specialty}\.", answer.text)


# -- what the CLI and the app show -------------------------------------------------------------------

def test_cli_json_lists_every_counted_item_and_the_plan(analyst, capsys, monkeypatch) -> None:
    from imr_rag.faces import cli

    lib, settings = analyst
    for key in [k for k in __import__("os").environ if k.startswith("IMR_")]:
        monkeypatch.delenv(key)
    assert cli.main(["--data-dir", str(settings.data_dir), "ask", "--json", "List the disputed items"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["counted"]) == len(items()) and len(out["citations"]) == MAX_CITED
    assert out["plan"]["returns"] == "list"
    assert cli.main(["--data-dir", str(settings.data_dir), "ask", "What share of the requests for acupuncture were overturned?"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("3 of 12 requests for acupuncture were overturned (25%).\n")


def test_app_shows_the_same_text_and_a_table_of_the_counted_items(engine: Asker) -> None:
    from imr_rag.faces.app_service import answer_markdown, escape_markdown

    answer = engine.answer("What share of the requests for acupuncture were overturned?")
    markdown = answer_markdown(answer)
    assert markdown.startswith(escape_markdown(first_line(answer)))  # letter-derived text is escaped
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
        assert lines[0].startswith("4 requests for acupuncture")
        assert lines[1] == "1 of the counted items is flagged for review (marked \u2691 below; the export's review_reasons say why)."
        assert sum("flagged for review [" in line for line in lines) == 1
        assert [c.needs_review for c in answer.counted].count(True) == 1


# -- a named item the case does not have is said, not answered with the whole case ----------------

def test_an_item_missing_from_the_named_case_is_not_answered_with_the_case_list(engine: Asker) -> None:
    letter = next(x for x in CURRENT if not any(i.service.startswith("Acupuncture") for i in x.items))
    answer = engine.answer(f"Tell me the outcome for acupuncture under case {letter.case}.")
    assert answer.kind == "none" and answer.citations == []
    assert answer.text.startswith(f'I could not find "acupuncture" among the disputed items of case {letter.case}')
    assert all(item.service in answer.text for item in letter.items)


def test_differ_wording_is_the_comparison(engine: Asker) -> None:
    answer = engine.answer("How do acupuncture and chiropractic requests differ in how often they were overturned?")
    assert first_line(answer) == "Acupuncture 3 of 12 overturned (25%); chiropractic 5 of 10 overturned (50%)."


def test_field_wording_is_the_reviewer_specialty(engine: Asker) -> None:
    letter = CURRENT[5]
    answer = engine.answer(f"In which field is the physician reviewer board certified for case {letter.case}?")
    assert first_line(answer).startswith(f"The reviewer in case {letter.case} is certified in {letter.specialty}.")
    assert_cited(engine, answer)


def test_comparison_without_an_outcome_word_compares_overturn_shares(engine: Asker) -> None:
    answer = engine.answer("Compare acupuncture and chiropractic requests.")
    assert first_line(answer) == "Acupuncture 3 of 12 overturned (25%); chiropractic 5 of 10 overturned (50%)."


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
