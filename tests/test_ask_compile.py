"""The plan compiler and executor (imr_rag/ask/compile.py, execute.py) over a real catalog of the
synthetic letters, checked against values computed here by hand from the gold JSON (never
through our SQL). A re-issued copy of one letter with a different decision is ingested after it:
the first stored counts, so every expectation below (computed from the gold) also shows that a
superseded decision is never counted."""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from helpers import SYNTHETIC_GOLD, make_settings, synthetic_letters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_rag.ask.execute import run_plan
from imr_rag.ask.fields import FIELDS
from imr_rag.ask.plan import Condition, GroupBy, Measure, Plan, Quantifier, Threshold
from imr_rag.library import Library
from imr_rag.schema import AnswerFilters

C = Condition
OVERTURNED = C(field="determination", op="eq", value="overturned")
UPHELD = C(field="determination", op="eq", value="upheld")
SUPERSEDED_CASE = "CM99-0000001"


def _gold() -> list[dict]:
    """Gold letters the rules backend extracts (a letter of unknown format has no decision)."""
    letters = [json.loads(p.read_text()) for p in sorted(SYNTHETIC_GOLD.glob("*.json"))]
    return [g for g in letters if g["letter_format"] != "unknown"]


GOLD = _gold()
ITEMS = [(g, it) for g in GOLD for it in g["items"]]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    base = tmp_path_factory.mktemp("ask")
    lib = Library(make_settings(base / "data"))
    lib.ingest(synthetic_letters(), embed=False, extract="rules")
    original = next(p for p in synthetic_letters() if p.stem == "dwc_cm99_0000001")
    text = original.read_text().replace("Lyrica 75mg #60: Overturned", "Lyrica 75mg #60: Upheld")
    text = text.replace("Decision Date: 04/18/2022", "Decision Date: 05/02/2022")
    reissued = base / "reissued" / "dwc_cm99_0000001_reissued.txt"
    reissued.parent.mkdir()
    reissued.write_text(text)
    lib.ingest([reissued], embed=False, extract="rules")
    path = lib.catalog.path
    lib.close()
    db = sqlite3.connect(path)  # a plain connection: run_plan needs no row factory
    yield db
    db.close()


def count(db: sqlite3.Connection, **plan) -> int:
    return run_plan(db, Plan(**plan)).value


def spec_parts(text: str | None) -> list[str]:
    """A letter's specialties as the ranking keys them: split at commas, '&' = 'and', case-blind,
    'Orthopaedic' = 'Orthopedic'."""
    return [" ".join(p.replace("&", " and ").split()).lower().replace("orthopaedic", "orthopedic")
            for p in (text or "").split(",") if p.strip()]


def kept_with_ties(values: dict[str, float], limit: int) -> tuple[dict[str, float], set[str]]:
    ordered = sorted(values.values(), reverse=True)
    cut = ordered[min(limit, len(ordered)) - 1]
    kept = {k: v for k, v in values.items() if v >= cut}
    return kept, ({k for k, v in kept.items() if v == cut} if len(kept) > limit else set())


def days(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


# -- the superseded decision -------------------------------------------------------------------
def test_the_reissued_letter_is_stored_and_superseded(catalog):
    rows = catalog.execute("SELECT doc_id, superseded_by FROM decisions WHERE case_number = ?",
                           (SUPERSEDED_CASE,)).fetchall()
    assert len(rows) == 2 and sum(r[1] is not None for r in rows) == 1
    old = next(r[0] for r in rows if r[1] is not None)
    r = run_plan(catalog, Plan(unit="items", measure=Measure(aggregate="list")), row_limit=None)
    assert old not in {row.doc_id for row in r.rows}
    fact = run_plan(catalog, Plan(operation="fact", case_number="cm99-0000001", fact="decision_date"))
    assert fact.value == "2022-04-18" and fact.rows[0].doc_id != old


# -- counts, shares, quantifiers, thresholds ---------------------------------------------------
@pytest.mark.parametrize("outcome", ["upheld", "overturned", "partially_overturned"])
def test_count_items_by_outcome(catalog, outcome):
    expected = sum(it["determination"] == outcome for _, it in ITEMS)
    r = run_plan(catalog, Plan(where=[C(field="determination", op="eq", value=outcome)]))
    assert r.value == r.total == expected
    assert all(row.determination == outcome and row.span is not None for row in r.rows)


def test_count_letters(catalog):
    assert count(catalog, unit="letters") == len(GOLD)
    with_imaging = sum(any(it["category"] == "imaging" for it in g["items"]) for g in GOLD)
    assert count(catalog, unit="letters", where=[C(field="category", op="eq", value="imaging")]) == with_imaging


def test_share_overturned_by_category(catalog):
    r = run_plan(catalog, Plan(operation="rank", group_by=GroupBy(field="category"),
                               measure=Measure(aggregate="share", part=[OVERTURNED])))
    totals = Counter(it["category"] for _, it in ITEMS)
    hits = Counter(it["category"] for _, it in ITEMS if it["determination"] == "overturned")
    assert {g.label: (g.value, g.n) for g in r.groups} == {c: (hits[c] / n, n) for c, n in totals.items()}
    one = run_plan(catalog, Plan(where=[C(field="category", op="eq", value="imaging")],
                                 measure=Measure(aggregate="share", part=[OVERTURNED])))
    assert (one.value, one.total, one.denominator) == (hits["imaging"] / totals["imaging"], hits["imaging"],
                                                       totals["imaging"])


def test_quantifiers_every_upheld_and_none_overturned(catalog):
    every = {g["source_file"] for g in GOLD if g["items"] and all(i["determination"] == "upheld" for i in g["items"])}
    none = {g["source_file"] for g in GOLD if not any(i["determination"] == "overturned" for i in g["items"])}
    r = run_plan(catalog, Plan(unit="letters", quantifier=Quantifier(mode="every", where=[UPHELD])))
    assert {Path(row.source).name for row in r.rows} == every and r.value == len(every)
    r = run_plan(catalog, Plan(unit="letters", quantifier=Quantifier(mode="none", where=[OVERTURNED])))
    assert {Path(row.source).name for row in r.rows} == none
    some = sum(any(i["determination"] == "overturned" for i in g["items"]) for g in GOLD)
    assert count(catalog, unit="letters", quantifier=Quantifier(mode="some", where=[OVERTURNED])) == some


@pytest.mark.parametrize("op,n", [("ge", 3), ("gt", 3), ("lt", 3), ("eq", 1), ("le", 0)])
def test_threshold_on_items_per_letter(catalog, op, n):
    test = {"ge": int.__ge__, "gt": int.__gt__, "lt": int.__lt__, "eq": int.__eq__, "le": int.__le__}[op]
    expected = sum(test(len(g["items"]), n) for g in GOLD)
    assert count(catalog, unit="letters", threshold=Threshold(op=op, n=n)) == expected
    overturned = sum(test(sum(i["determination"] == "overturned" for i in g["items"]), n) for g in GOLD)
    assert count(catalog, unit="letters", threshold=Threshold(op=op, n=n, where=[OVERTURNED])) == overturned


# -- averages, medians, durations, earliest and latest ------------------------------------------
def test_avg_and_median_patient_age(catalog):
    ages = [g["patient"]["age"] for g in GOLD if g["patient"]["age"] is not None]
    avg = run_plan(catalog, Plan(measure=Measure(aggregate="avg", field="patient_age")))
    assert avg.value == pytest.approx(statistics.fmean(ages)) and avg.total == len(ages)
    median = run_plan(catalog, Plan(unit="letters", measure=Measure(aggregate="median", field="patient_age")))
    assert median.value == statistics.median(ages)
    oldest = run_plan(catalog, Plan(measure=Measure(aggregate="max", field="patient_age")))
    assert oldest.value == max(ages) and [r.value for r in oldest.rows] == [max(ages)]


def test_avg_days_from_ur_denial_to_decision(catalog):
    spans = [days(g["ur_denial_date"], g["decision_date"]) for g in GOLD if g["ur_denial_date"] and g["decision_date"]]
    r = run_plan(catalog, Plan(unit="letters", measure=Measure(aggregate="avg",
                                                                duration=("ur_denial_date", "decision_date"))))
    assert r.value == pytest.approx(statistics.fmean(spans)) and r.total == len(spans)
    assert r.notes  # the letters lacking a date are said, not silently dropped
    longest = run_plan(catalog, Plan(measure=Measure(aggregate="max", duration=("ur_denial_date", "decision_date"))))
    assert longest.value == max(spans)


@pytest.mark.parametrize("aggregate,pick", [("earliest", min), ("latest", max)])
def test_earliest_and_latest_decision_date_with_rows(catalog, aggregate, pick):
    dated = [g for g in GOLD if g["decision_date"]]
    best = pick(g["decision_date"] for g in dated)
    r = run_plan(catalog, Plan(unit="letters", measure=Measure(aggregate=aggregate, field="decision_date")))
    assert r.value == best
    assert sorted(Path(row.source).name for row in r.rows) == sorted(
        g["source_file"] for g in dated if g["decision_date"] == best)


# -- rankings with ties, comparisons -----------------------------------------------------------
def check_rank(result, expected: dict[str, float], limit: int) -> None:
    kept, tied = kept_with_ties(expected, limit)
    assert {g.label.lower(): g.value for g in result.groups} == {k.lower(): v for k, v in kept.items()}
    assert {t.lower() for t in result.tied} == {t.lower() for t in tied}
    values = [g.value for g in result.groups]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("unit", ["items", "letters"])
def test_rank_categories(catalog, unit):
    if unit == "items":
        expected = Counter(it["category"] for _, it in ITEMS)
    else:
        expected = Counter(c for g in GOLD for c in {it["category"] for it in g["items"]})
    r = run_plan(catalog, Plan(operation="rank", unit=unit, group_by=GroupBy(field="category"), limit=2))
    check_rank(r, expected, 2)
    assert all(g.rows for g in r.groups)


def test_rank_services_keeps_ties(catalog):
    expected = Counter(it["service"] for _, it in ITEMS if it["category"] == "medication")
    r = run_plan(catalog, Plan(operation="rank", unit="letters", group_by=GroupBy(field="service"), limit=3,
                               where=[C(field="category", op="eq", value="medication")]))
    check_rank(r, expected, 3)
    assert len(r.tied) > 1


def test_rank_specialties_counts_each_listed_specialty(catalog):
    expected = Counter(p for g in GOLD for p in set(spec_parts(g["reviewer"]["specialty"])))
    r = run_plan(catalog, Plan(operation="rank", unit="letters", group_by=GroupBy(field="reviewer_specialty"),
                               limit=2))
    check_rank(r, expected, 2)
    assert expected["physical medicine and rehabilitation"] == 3  # '&' and 'and' are one specialty


@pytest.mark.parametrize("unit", ["items", "letters"])
def test_rank_months(catalog, unit):
    if unit == "items":
        expected = Counter(g["decision_date"][:7] for g, _ in ITEMS if g["decision_date"])
    else:
        expected = Counter(g["decision_date"][:7] for g in GOLD if g["decision_date"])
    r = run_plan(catalog, Plan(operation="rank", unit=unit, group_by=GroupBy(field="decision_date", part="month"),
                               limit=1))
    check_rank(r, expected, 1)


def test_rank_share_overturned_per_year(catalog):
    totals = Counter(g["decision_date"][:4] for g, _ in ITEMS if g["decision_date"])
    hits = Counter(g["decision_date"][:4] for g, it in ITEMS if g["decision_date"] and it["determination"] == "overturned")
    r = run_plan(catalog, Plan(operation="rank", group_by=GroupBy(field="decision_date", part="year"), limit=2,
                               measure=Measure(aggregate="share", part=[OVERTURNED])))
    check_rank(r, {y: hits[y] / n for y, n in totals.items()}, 2)


def test_compare_two_segments(catalog):
    segments = [[C(field="letter_format", op="eq", value="tx_iro")], [C(field="letter_format", op="eq", value="ca_dwc_imr")]]
    r = run_plan(catalog, Plan(operation="compare", segments=segments, segment_labels=["Texas", "California"],
                               measure=Measure(aggregate="share", part=[OVERTURNED])))
    for group, fmt in zip(r.groups, ["tx_iro", "ca_dwc_imr"]):
        items = [it for g, it in ITEMS if g["letter_format"] == fmt]
        assert (group.n, group.value) == (len(items), sum(i["determination"] == "overturned" for i in items) / len(items))
    assert [g.label for g in r.groups] == ["Texas", "California"]


# -- conditions: negation, dates, services, specialties, filters --------------------------------
def test_negated_condition_other_than_imaging(catalog):
    expected = sum(it["category"] != "imaging" for _, it in ITEMS)
    assert count(catalog, where=[C(field="category", op="eq", value="imaging", negate=True)]) == expected
    no_mri = sum("mri" not in it["service"].lower() for _, it in ITEMS)
    assert count(catalog, where=[C(field="service", op="matches", value=["MRI"], negate=True)]) == no_mri
    not_male = sum(g["patient"]["sex"] != "male" for g in GOLD)  # unknown sex is "not male"
    assert count(catalog, unit="letters", where=[C(field="patient_sex", op="eq", value="male", negate=True)]) == not_male


def test_date_between_and_filters(catalog):
    in_2022 = [it for g, it in ITEMS if g["decision_date"] and "2022-01-01" <= g["decision_date"] <= "2022-12-31"]
    between = C(field="decision_date", op="between", value="2022-01-01", value2="2022-12-31")
    assert count(catalog, where=[between]) == len(in_2022)
    filters = AnswerFilters(date_from="2022-01-01", date_to="2022-12-31", determination="overturned")
    r = run_plan(catalog, Plan(), filters)
    assert r.value == sum(it["determination"] == "overturned" for it in in_2022)
    tx = run_plan(catalog, Plan(unit="letters"), AnswerFilters(letter_format="tx_iro"))
    assert tx.value == sum(g["letter_format"] == "tx_iro" for g in GOLD)
    injured_before = sum(bool(g["date_of_injury"]) and g["date_of_injury"] < "2020-01-01" for g in GOLD)
    assert count(catalog, unit="letters", where=[C(field="date_of_injury", op="lt", value="2020-01-01")]) == injured_before


def test_specialty_eq_matches_one_listed_specialty(catalog):
    for name in ("Pain Management", "physical medicine & rehabilitation", "Anesthesiology"):
        expected = sum(spec_parts(name)[0] in spec_parts(g["reviewer"]["specialty"]) for g in GOLD)
        assert count(catalog, unit="letters", where=[C(field="reviewer_specialty", op="eq", value=name)]) == expected


def test_guideline_eq_means_cites(catalog):
    for family in ("MTUS", "ODG", "ACOEM"):
        expected = sum(any(x["source"] == family and x["cited_by"] == "reviewer" for x in it["guidelines"])
                       for _, it in ITEMS)
        assert count(catalog, where=[C(field="guideline", op="eq", value=family)]) == expected


# -- facts and why -----------------------------------------------------------------------------
def gold_fact(g: dict, field: str):
    items = g["items"]
    letter = {
        "reviewer_specialty": g["reviewer"]["specialty"], "reviewer_licensure": g["reviewer"]["licensure"],
        "patient_age": g["patient"]["age"], "patient_sex": g["patient"]["sex"], "diagnoses": g.get("diagnoses", []),
        "item_count": len(items),
    }
    per_item = {
        "service": [i["service"] for i in items], "category": [i["category"] for i in items],
        "determination": [i["determination"] for i in items], "authorized_portion": [i["authorized_portion"] for i in items],
        "guideline": [[x["source"] for x in i["guidelines"] if x["cited_by"] == "reviewer"] for i in items],
    }
    return per_item.get(field, letter.get(field, g.get(field)))


@pytest.mark.parametrize("field", [f for f in FIELDS if f != "service_family"])  # a grouping key, tested below
def test_fact_of_a_case_for_every_field(catalog, field):
    for g in [g for g in GOLD if g["case_number"]]:
        r = run_plan(catalog, Plan(operation="fact", case_number=g["case_number"].lower(), fact=field))
        expected = gold_fact(g, field)
        assert r.value == expected, (g["case_number"], field)
        assert r.rows and all(row.case_number == g["case_number"] for row in r.rows)


def test_why_returns_items_with_rationale_spans(catalog):
    r = run_plan(catalog, Plan(operation="why", case_number="CM99-0000006",
                               where=[C(field="service", op="matches", value=["MRI"])]))
    assert [row.service for row in r.rows] == ["MRI of the right shoulder without contrast"]
    row = r.rows[0]
    text = catalog.execute("SELECT text FROM documents WHERE doc_id = ?", (row.doc_id,)).fetchone()[0]
    start, end = row.span
    assert " ".join(text[start:end].split()) == " ".join(row.value.split())


# -- values never reach the SQL text ------------------------------------------------------------
class Recording:
    """A connection that records every SQL text it is asked to run."""

    def __init__(self, db: sqlite3.Connection):
        self.db, self.sql = db, []

    def execute(self, sql, params=()):
        self.sql.append(sql)
        return self.db.execute(sql, params)


MARK = "zqx"


def plans_with(value: str) -> list[Plan]:
    """Plans that put `value` into every field and op a question can fill."""
    conds = []
    for key, f in FIELDS.items():
        conds.append(C(field=key, op="eq", value=value))
        conds.append(C(field=key, op="in", value=[value, value + "2"], negate=True))
        conds.append(C(field=key, op="matches", value=[value]))
        if f.kind in ("date", "number"):
            conds += [C(field=key, op="between", value=value, value2=value), C(field=key, op="ge", value=value)]
    plans = [Plan(where=[c]) for c in conds if FIELDS[c.field].kind != "number" or c.op in ("matches",)]
    plans += [
        Plan(unit="letters", quantifier=Quantifier(mode="every", where=[C(field="service", op="matches", value=[value])])),
        Plan(unit="letters", threshold=Threshold(op="ge", n=2, where=[C(field="category", op="eq", value=value)])),
        Plan(operation="rank", group_by=GroupBy(field="reviewer_specialty"), limit=1,
             where=[C(field="reviewer_specialty", op="eq", value=value, negate=True)]),
        Plan(operation="compare", segments=[[C(field="priority", op="eq", value=value)], [C(field="patient_sex", op="eq", value=value)]],
             measure=Measure(aggregate="share", part=[C(field="diagnoses", op="eq", value=value)])),
        Plan(operation="fact", case_number=value, fact="diagnoses"),
        Plan(operation="why", case_number=value, where=[C(field="service", op="matches", value=[value])]),
    ]
    return plans


def test_values_are_parameters_never_sql(catalog):
    db = Recording(catalog)
    for plan in plans_with(MARK + "'; DROP TABLE items; --"):
        run_plan(db, plan, AnswerFilters(case_number=MARK + "x", letter_format=MARK + "y"))
    assert db.sql and not [s for s in db.sql if MARK in s.lower()]
    assert count(catalog) == len(ITEMS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=0, max_size=30))
def test_any_text_value_stays_a_parameter(catalog, text):
    db = Recording(catalog)
    value = MARK + text
    for plan in plans_with(value)[::3]:
        run_plan(db, plan)
    assert not [s for s in db.sql if MARK in s.lower()]


# -- service families --------------------------------------------------------------------------------
@pytest.mark.parametrize("service,family", [("Lidoderm 5% patch #30", "lidocaine"),
                                            ("MRI of the lumbar spine without contrast", "MRI"),
                                            ("Post-operative physiotherapy x 6", "physical therapy"),
                                            ("Knee scooter rental", "Knee scooter rental")])
def test_service_family_of_a_wording(service, family):
    from imr_rag.ask.families import service_family
    assert service_family(service) == family


def test_ranking_by_service_family_counts_every_item_once_and_keeps_ties(catalog):
    from imr_rag.ask.plan import GroupBy
    total = catalog.execute("SELECT COUNT(*) FROM items WHERE current = 1").fetchone()[0]
    r = run_plan(catalog, Plan(operation="rank", unit="items", group_by=GroupBy(field="service_family")))
    assert sum(g.n for g in r.groups) == total
    assert len({g.label.lower() for g in r.groups}) == len(r.groups)  # one group per family
    top = run_plan(catalog, Plan(operation="rank", unit="items", group_by=GroupBy(field="service_family"), limit=1))
    assert all(g.value == top.groups[0].value for g in top.groups)  # a tie at the top is shown whole
