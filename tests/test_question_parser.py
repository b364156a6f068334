"""The offline reader of analyst questions: plans and what it could not place (pure, no library)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from imr_rag.catalog_query import CatalogQuery
from imr_rag.question_parser import QuestionContext, parse_question
from imr_rag.schema import Category, Determination

NEWEST = dt.date(2017, 2, 28)
CTX = QuestionContext(newest=NEWEST, specialties=["Orthopedic Surgery", "Family Practice", "Internal Medicine"])


def plan(question: str, case: str | None = None) -> CatalogQuery:
    parsed = parse_question(question, QuestionContext(**{**CTX.__dict__, "case_number": case}))
    assert parsed.not_understood == [], parsed.not_understood
    return parsed.plan


D = dt.date


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        ("in December 2016", D(2016, 12, 1), D(2016, 12, 31)),
        ("in Dec. 2016", D(2016, 12, 1), D(2016, 12, 31)),
        ("in 12/2016", D(2016, 12, 1), D(2016, 12, 31)),
        ("on 12/05/2016", D(2016, 12, 5), D(2016, 12, 5)),
        ("on December 5, 2016", D(2016, 12, 5), D(2016, 12, 5)),
        ("on 2016-12-05", D(2016, 12, 5), D(2016, 12, 5)),
        ("in Q3 2016", D(2016, 7, 1), D(2016, 9, 30)),
        ("in the second quarter of 2016", D(2016, 4, 1), D(2016, 6, 30)),
        ("in 2016", D(2016, 1, 1), D(2016, 12, 31)),
        ("before 2017", None, D(2016, 12, 31)),
        ("after March 2016", D(2016, 4, 1), None),
        ("since March 2016", D(2016, 3, 1), None),
        ("between January 2016 and March 2016", D(2016, 1, 1), D(2016, 3, 31)),
        ("from 01/01/2016 to 06/30/2016", D(2016, 1, 1), D(2016, 6, 30)),
        ("last month", D(2017, 2, 1), D(2017, 2, 28)),
        ("in the last 3 months", D(2016, 12, 1), D(2017, 2, 28)),
        ("last year", D(2017, 1, 1), D(2017, 12, 31)),
        ("in December", D(2016, 12, 1), D(2016, 12, 31)),
    ],
)
def test_decision_dates(words: str, start, end) -> None:
    p = plan(f"How many requests were overturned {words}?")
    assert (p.date_from, p.date_to) == (start, end)
    assert p.determination == Determination.overturned and p.returns == "count"
    assert p.service_terms == []


def test_month_is_not_a_service_and_the_count_keeps_it() -> None:
    p = plan("How many disputed items were overturned in letters decided in December 2016?")
    assert p.model_dump(exclude_defaults=True) | {"returns": p.returns} == {
        "determination": Determination.overturned, "date_from": D(2016, 12, 1), "date_to": D(2016, 12, 31),
        "returns": "count",
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What share of the requests for acupuncture were overturned?",
         {"returns": "share", "service_terms": ["acupuncture"], "determination": Determination.overturned}),
        ("What is the overturn rate by specialty?",
         {"returns": "group", "group_by": "specialty", "determination": Determination.overturned}),
        ("How many requests per month?", {"returns": "group", "group_by": "month"}),
        ("Break down the decisions by guideline family", {"returns": "group", "group_by": "guideline"}),
        ("Acupuncture vs chiropractic overturn rate",
         {"returns": "compare", "compare": ["acupuncture", "chiropractic"], "determination": Determination.overturned}),
        ("How many imaging requests were upheld?", {"returns": "count", "category": Category.imaging,
                                                    "determination": Determination.upheld}),
        ("How many requests citing ODG were overturned?",
         {"returns": "count", "guideline_family": "ODG", "determination": Determination.overturned}),
        ("How many requests were overturned by orthopedic surgeons?",
         {"returns": "count", "reviewer_specialty": "Orthopedic Surgery", "determination": Determination.overturned}),
        ("How many Norco requests were upheld in Texas letters?",
         {"returns": "count", "service_terms": ["norco"], "letter_format": "tx_iro", "determination": Determination.upheld}),
        ("How many items had part of the request already authorized by the claims administrator?",
         {"returns": "count", "partly_authorized": True}),
        ("In how many letters was a request for an MRI disputed?",
         {"returns": "count", "service_terms": ["mri"], "count_letters": True}),
        ("List the overturned acupuncture requests",
         {"returns": "list", "service_terms": ["acupuncture"], "determination": Determination.overturned}),
        ("Was the request for Lyrica 75mg upheld or overturned?", {"returns": "decision", "service_terms": ["lyrica 75mg"]}),
    ],
)
def test_what_to_return_and_filters(question: str, expected: dict) -> None:
    p = plan(question)
    assert p.model_dump(exclude_defaults=True) | {"returns": p.returns} == expected


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("What is the specialty of the physician reviewer in case CM17-0000001?", "reviewer_specialty"),
        ("What was the date of injury in case CM17-0000001?", "date_of_injury"),
        ("When was case CM17-0000001 decided?", "decision_date"),
        ("What is the UR denial date of case CM17-0000001?", "ur_denial_date"),
        ("When was case CM17-0000001 assigned?", "date_assigned"),
        ("Where is the reviewer in case CM17-0000001 licensed?", "reviewer_licensure"),
        ("Which guidelines were cited in case CM17-0000001?", "guidelines"),
        ("How old is the patient in case CM17-0000001?", "patient_age"),
        ("Is the patient in case CM17-0000001 male or female?", "patient_sex"),
        ("What are the diagnoses in case CM17-0000001?", "diagnoses"),
        ("Why was the lumbar MRI in case CM17-0000001 denied?", "rationale"),
    ],
)
def test_a_field_of_one_case(question: str, field: str) -> None:
    p = plan(question, case="CM17-0000001")
    assert (p.returns, p.field, p.case_number) == ("field", field, "CM17-0000001")


def test_why_keeps_the_service() -> None:
    p = plan("Why was the lumbar MRI in case CM17-0000001 denied?", case="CM17-0000001")
    assert p.service_terms == ["lumbar mri"]


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("How many requests were overturned in the winter?", "in the winter"),
        ("How many requests were overturned last week?", "last week"),
        ("How many requests from Kaiser were upheld?", "from Kaiser"),
        ("How many requests were upheld in case CM17-0000999?", "CM17-0000999"),
        ("How many patients injured in 2015 had requests overturned?", "2015"),
    ],
)
def test_what_could_not_be_placed_is_reported(question: str, phrase: str) -> None:
    parsed = parse_question(question, CTX)
    assert any(phrase in p for p in parsed.not_understood), parsed.not_understood


def test_a_date_relative_to_an_empty_library_is_not_understood() -> None:
    parsed = parse_question("How many requests were overturned last month?", QuestionContext())
    assert parsed.not_understood == ["last month"]


def test_the_plan_validates_what_a_model_fills_in() -> None:
    with pytest.raises(ValidationError, match="extra"):
        CatalogQuery(returns="count", hospital="Kaiser")
    with pytest.raises(ValidationError):
        CatalogQuery(returns="compare", compare=["acupuncture"])
    with pytest.raises(ValidationError):
        CatalogQuery(returns="field")
    with pytest.raises(ValidationError):
        CatalogQuery(date_from="2017-01-01", date_to="2016-01-01")
    assert CatalogQuery(group_by="month").returns == "group"
    assert "decided 2016-12-01 to 2016-12-31" in CatalogQuery(date_from="2016-12-01", date_to="2016-12-31").describe()


# -- words that change WHAT is returned are placed, not left as a service name -----------------

@pytest.mark.parametrize(
    "question",
    [
        "What is the overall count of decision letters that upheld a request?",
        "Give me the total number of IMR letters with an overturned item.",
        "What was the tally of review cases that upheld a request in 2016?",
    ],
)
def test_letters_are_the_counted_unit_whatever_words_stand_between(question: str) -> None:
    p = plan(question)
    assert p.returns == "count" and p.count_letters and p.service_terms == []


@pytest.mark.parametrize(
    ("question", "pair"),
    [
        ("How do acupuncture and chiropractic care differ in how often they are overturned?", ["acupuncture", "chiropractic care"]),
        ("Do Norco and tramadol differ in their overturn rate?", ["norco", "tramadol"]),
        ("Is there a difference in approval rates of Lyrica or gabapentin?", ["lyrica", "gabapentin"]),
    ],
)
def test_two_services_joined_under_a_difference_cue_are_a_comparison(question: str, pair: list[str]) -> None:
    p = plan(question)
    assert p.returns == "compare" and p.compare == pair and p.service_terms == []


@pytest.mark.parametrize(
    "question",
    [
        "In which field is the physician reviewer board certified for CM99-0000006?",
        "What area of medicine does the reviewer practice in case CM99-0000006?",
        "Which discipline is the expert reviewer certified in, case CM99-0000006?",
    ],
)
def test_field_nouns_near_the_reviewer_ask_for_the_specialty(question: str) -> None:
    p = plan(question, case="CM99-0000006")
    assert (p.returns, p.field) == ("field", "reviewer_specialty")
    assert p.service_terms == [] and p.determination is None


def test_under_case_names_the_case_not_the_service() -> None:
    p = plan("Tell me the determination for the lumbar MRI under case CM99-0000006.", case="CM99-0000006")
    assert (p.returns, p.case_number, p.service_terms) == ("decision", "CM99-0000006", ["lumbar mri"])


def test_contrast_in_an_imaging_name_is_not_a_comparison() -> None:
    p = plan("Was the request for MRI of the knee without contrast, 3 Tesla or higher upheld or overturned?")
    assert p.returns == "decision" and p.compare == []
