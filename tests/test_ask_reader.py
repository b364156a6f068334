"""The reader: question -> plan / question back / refusal, on a real catalog of the synthetic letters."""

from __future__ import annotations

import datetime as dt

import pytest

from imr_rag.ask.fields import FIELDS
from imr_rag.ask.function_words import FUNCTION_WORDS
from imr_rag.ask.intent import IntentModel
from imr_rag.ask.reader import read_question
from imr_rag.ask.slots import correct_word, find_periods, normalise_question
from imr_rag.ask.vocab import load_vocabulary
from imr_rag.library import Library
from tests.helpers import make_settings, synthetic_letters

TODAY = dt.date(2017, 6, 30)


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    lib = Library(make_settings(tmp_path_factory.mktemp("reader")))
    lib.ingest(synthetic_letters(), embed=False, extract="rules")
    return load_vocabulary(lib.catalog.db)


@pytest.fixture(scope="module")
def intents():
    return IntentModel()


def read(q, vocab, intents):
    return read_question(q, vocab, today=TODAY, intents=intents)


@pytest.mark.parametrize("text,start,end", [
    ("jan. 2017", "2017-01-01", "2017-01-31"), ("1/2017", "2017-01-01", "2017-01-31"),
    ("01/2017", "2017-01-01", "2017-01-31"), ("q1 2017", "2017-01-01", "2017-03-31"),
    ("first quarter of 2017", "2017-01-01", "2017-03-31"), ("between dec 2016 and feb 2017", "2016-12-01", "2017-02-28"),
    ("since march 2017", "2017-03-01", None), ("before 2017", None, "2016-12-31"), ("in 2016", "2016-01-01", "2016-12-31"),
    ("last three months", "2017-03-31", "2017-06-30"), ("this year", "2017-01-01", "2017-12-31"),
    ("last month", "2017-05-01", "2017-05-31"), ("since march", "2017-03-01", None),
])
def test_date_forms(text, start, end):
    (slot,) = find_periods(normalise_question(text), TODAY, [])
    assert (slot.value.start, slot.value.end) == (start, end)


def test_except_month_is_negated():
    periods = [s.value for s in find_periods("2017 decisions except in january", TODAY, [])]
    assert [p.negated for p in periods] == [False, True]


def test_typo_corrected_only_with_margin():
    words = {"acupuncture": 3, "chiropractic": 2, "chiropractor": 0}
    assert correct_word("acupunture", words).corrected == "acupuncture"
    ambiguous = correct_word("chiropractc", words)
    assert ambiguous.corrected is None and set(ambiguous.candidates) == {"chiropractic", "chiropractor"}
    assert correct_word("mri", words).corrected is None  # too short to guess


def test_function_words_short_and_free_of_field_nouns():
    assert len(FUNCTION_WORDS) <= 150
    nouns = {n for f in FIELDS.values() for n in f.nouns}
    assert not nouns & FUNCTION_WORDS


def test_count_items_with_outcome_and_service(vocab, intents):
    r = read("how many mri requests were overturned", vocab, intents)
    assert r.status == "plan" and r.plan.unit == "items" and r.plan.measure.aggregate == "count"
    fields = {c.field: c for c in r.plan.where}
    assert fields["determination"].value == "overturned" and fields["service"].value == ["mri"]
    assert "mri" in r.read_as


def test_negated_category(vocab, intents):
    r = read("overturn rate for everything except medications", vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "share"
    (cat,) = [c for c in r.plan.where if c.field == "category"]
    assert cat.negate and cat.value == "medication"


def test_quantifier_every(vocab, intents):
    r = read("letters where every request was upheld", vocab, intents)
    assert r.status == "plan" and r.plan.unit == "letters"
    assert r.plan.quantifier.mode == "every" and r.plan.quantifier.where[0].value == "upheld"


def test_threshold(vocab, intents):
    r = read("cases disputing at least four treatments", vocab, intents)
    assert r.status == "plan" and r.plan.threshold.op == "ge" and r.plan.threshold.n == 4
    assert r.plan.unit == "letters"


def test_duration_average(vocab, intents):
    r = read("average days from UR denial to decision in 2017", vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "avg"
    assert r.plan.measure.duration == ("ur_denial_date", "decision_date")


def test_rank_unit_letters_vs_items(vocab, intents):
    spec = read("which specialty reviewed the most cases", vocab, intents)
    assert spec.plan.operation == "rank" and spec.plan.unit == "letters"
    assert spec.plan.group_by.field == "reviewer_specialty"
    month = read("which month had the most overturned requests", vocab, intents)
    assert month.plan.operation == "rank" and month.plan.unit == "items"
    assert month.plan.measure.aggregate == "count" and month.plan.group_by.part == "month"


def test_date_question_without_field_is_asked_back(vocab, intents):
    case = sorted(vocab.case_numbers)[0]
    r = read(f"what date was case {case}", vocab, intents)
    assert r.status == "clarify" and "injury" in r.choices


def test_date_field_by_noun(vocab, intents):
    case = sorted(vocab.case_numbers)[0]
    r = read(f"when was the worker in {case} injured", vocab, intents)
    assert r.status == "plan" and r.plan.fact == "date_of_injury"


def test_unknown_service(vocab, intents):
    r = read("how many discectomy requests", vocab, intents)
    assert r.status == "unknown_service" and r.unknown_phrase == "discectomy"


def test_unknown_case_number(vocab, intents):
    r = read("patient age CM12-0000001", vocab, intents)
    assert r.status == "refuse" and "CM12-0000001" in r.message


def test_leftover_meaning_word_refused(vocab, intents):
    r = read("how many letters were decided on weekends", vocab, intents)
    assert r.status == "refuse" and "weekends" in r.unused


def test_read_as_names_correction(vocab, intents):
    if "acupuncture" not in vocab.service_words:
        pytest.skip("no acupuncture in the synthetic letters")
    r = read("acupunture overturn rate", vocab, intents)
    assert r.status == "plan" and ("acupunture", "acupuncture") in r.corrections and "acupunture" in r.read_as


# -- general rules (each with wordings not in the question bank) ---------------------------------
@pytest.mark.parametrize("q", ["which files involved a knee mri", "give me the cases that had an x-ray request",
                               "claims with a physical therapy request"])
def test_which_cases_is_a_list_of_letters(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "list" and r.plan.unit == "letters"


@pytest.mark.parametrize("q", ["x-rays reversed by the IMR reviewer, how many", "number of mri requests upheld by imr"])
def test_by_the_reviewer_is_an_agent_not_a_grouping(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.operation == "aggregate" and r.plan.group_by is None


@pytest.mark.parametrize("q", ["share of physical therapy requests approved", "how many physical therapy items upheld"])
def test_two_words_of_one_service_are_one_service(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.operation != "compare"
    (svc,) = [c for c in r.plan.where if c.field == "service"]
    assert svc.value == ["physical therapy"]


def test_compare_needs_a_comparing_word(vocab, intents):
    r = read("mri versus x-ray overturn rate", vocab, intents)
    assert r.status == "plan" and r.plan.operation == "compare" and len(r.plan.segments) == 2
    r = read("overturn share for imaging apart from mri", vocab, intents)
    assert r.status == "plan" and r.plan.operation != "compare"


@pytest.mark.parametrize("q", ["total upheld requests in all letters", "count of overturned items in total"])
def test_total_is_a_count_not_a_share_or_quantifier(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "count" and r.plan.quantifier is None


@pytest.mark.parametrize("q,limit", [("what treatment is requested the most", 1),
                                     ("top four services overturned", 4)])
def test_ranking_services_groups_by_family(vocab, intents, q, limit):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.group_by.field == "service_family" and r.plan.limit == limit


@pytest.mark.parametrize("q,op,n", [("cases with 6+ requests", "ge", 6), ("letters with only two items", "eq", 2),
                                    ("which letters dispute a single treatment", "eq", 1),
                                    ("letters with more than 3 requests", "gt", 3)])
def test_count_thresholds_in_many_forms(vocab, intents, q, op, n):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.threshold is not None
    assert (r.plan.threshold.op, r.plan.threshold.n) == (op, n)


@pytest.mark.parametrize("q,agg,which", [("oldest injured worker", "max", False),
                                         ("which case had the youngest patient", "min", True),
                                         ("how old was the oldest claimant", "max", False)])
def test_oldest_and_youngest_are_ages_not_dates(vocab, intents, q, agg, which):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.measure.field == "patient_age"
    assert (r.plan.measure.aggregate, r.plan.which) == (agg, which)


@pytest.mark.parametrize("q", ["were all the x-ray requests denied", "was every acupuncture request approved"])
def test_were_all_asks_about_every_item_not_any_letter(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.yes_no and r.plan.unit == "items"
    assert r.plan.measure.aggregate == "share" and r.plan.quantifier is None


@pytest.mark.parametrize("q", ["was that one upheld", "what age was the claimant", "what about the x-ray request"])
def test_a_case_question_without_a_case_is_asked_back(vocab, intents, q):
    assert read(q, vocab, intents).status == "clarify"


def test_count_of_an_outcome_in_one_case(vocab, intents):
    case = sorted(vocab.case_numbers)[0]
    r = read(f"in {case} how many items were upheld", vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "count" and r.plan.unit == "items"
    assert {c.field for c in r.plan.where} == {"case_number", "determination"}


def test_unknown_word_outside_a_service_position_is_refused(vocab, intents):
    r = read("letters decided around thanksgiving 2016", vocab, intents)
    assert r.status == "refuse" and "thanksgiving" in r.unused
    assert read("how many trampoline requests", vocab, intents).status == "unknown_service"


def test_typo_keeps_its_first_letter():
    assert correct_word("dental", {"rental": 1}).corrected is None
    assert correct_word("acupuncure", {"acupuncture": 1}).corrected == "acupuncture"


def test_negation_scope_ends_at_its_word(vocab, intents):
    if "Expedited" not in vocab.priorities:
        pytest.skip("no expedited letter")
    r = read("approved requests in non-expedited cases, how many", vocab, intents)
    conds = {c.field: c for c in r.plan.where}
    assert conds["priority"].negate and not conds["determination"].negate




# -- fail closed: doubtful readings are asked back or refused, never answered -------------------
@pytest.mark.parametrize("q", ["how many letters mention chiropractic, top 3"])
def test_a_number_the_plan_does_not_use_is_refused(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status in ("refuse", "clarify")


def test_a_number_bounding_a_person_is_their_age_in_any_plan(vocab, intents):
    r = read("share of acupuncture requests overturned for claimants above 50", vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "share"
    assert any(c.field == "patient_age" and c.op == "gt" and c.value == 50 for c in r.plan.where)


@pytest.mark.parametrize("q", ["letters decided during the past 2 years", "letters decided on 3/4/2017"])
def test_a_bare_noun_phrase_asks_count_or_list(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "clarify" and "how many" in r.choices


@pytest.mark.parametrize("q", ["letters where every treatment was upheld and none was imaging",
                               "which letters had not one request overturned"])
def test_two_quantifiers_or_a_negated_number_are_refused(vocab, intents, q):
    assert read(q, vocab, intents).status == "refuse"


@pytest.mark.parametrize("q", ["did mri get denied more often than chiropractic",
                               "were more letters decided in march 2017 than in april 2017"])
def test_comparisons_the_plan_cannot_state_are_not_counted(vocab, intents, q):
    assert read(q, vocab, intents).status in ("refuse", "clarify")


@pytest.mark.parametrize("q", ["how many physical therapy requests were denied in other letters",
                               "other requests upheld, how many"])
def test_bare_other_is_not_a_negation(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "refuse" and "other" in r.unused


def test_quoted_other_is_the_category(vocab, intents):
    r = read("how many 'other' items were upheld", vocab, intents)
    assert r.status == "plan" and any(c.field == "category" and c.value == "other" for c in r.plan.where)


@pytest.mark.parametrize("q", ["how many cases except the 2017 ones", "how many letters, not the 2017 ones"])
def test_excluding_a_period_negates_it(vocab, intents, q):
    per = find_periods(normalise_question(q), TODAY, [])
    assert per and per[0].value.negated


@pytest.mark.parametrize("q", ["how many applications came in during jan 2017",
                               "count the applications received in feb 2017"])
def test_a_letter_date_field_counts_letters(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.unit == "letters"


@pytest.mark.parametrize("q", ["median age of claimants injured in the 2017 decisions",
                               "earliest date of injury among 2017 letters"])
def test_a_period_far_from_its_date_field_asks_which_date(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "clarify" and "decision date" in r.choices


@pytest.mark.parametrize("q", ["letters that had no surgery requests", "cases without medication"])
def test_letters_without_a_category_are_a_none_quantifier(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.unit == "letters"
    assert r.plan.quantifier is not None and r.plan.quantifier.mode == "none"


@pytest.mark.parametrize("q", ["which claim had the most requests", "show the letter with the most denials"])
def test_ranking_letters_by_items_is_refused_not_ranked_by_service(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status != "plan" or r.plan.group_by is None or r.plan.group_by.field != "service_family"


@pytest.mark.parametrize("q,fmt", [("how many overturned in california", "ca_dwc_imr"),
                                   ("upheld items from texas", "tx_iro")])
def test_texas_or_california_without_a_licence_word_is_the_letters_jurisdiction(vocab, intents, q, fmt):
    r = read(q, vocab, intents)  # the letters' own jurisdiction (DWC: this library has no DMHC rows), said
    assert r.status == "plan" and any(c.field == "letter_format" and c.value == fmt for c in r.plan.where)
    assert "reviewer" not in r.read_as


def test_a_state_with_a_licence_word_is_the_reviewers_licence(vocab, intents):
    r = read("upheld items of reviewers licensed in california", vocab, intents)
    assert r.status == "plan" and any(c.field == "reviewer_licensure" for c in r.plan.where)


def test_california_letters_are_the_dwc_format_when_no_dmhc_rows_are_there(vocab, intents):
    r = read("how many california cases", vocab, intents)  # this library: DWC and Texas letters only
    assert r.status == "plan" and any(c.field == "letter_format" and c.value == "ca_dwc_imr" for c in r.plan.where)


def test_in_and_at_are_no_unit_words(vocab, intents):
    r = read("how many letters were assigned in jan 2017", vocab, intents)
    assert r.status == "plan" and r.plan.unit == "letters"
    r = read("how many applications were received in jan 2017", vocab, intents)
    assert r.status == "plan" and r.plan.unit == "letters"


@pytest.mark.parametrize("q", ["how many items cite odg only", "count the mri requests, exactly the upheld ones"])
def test_a_meaning_word_never_links_to_a_service(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "refuse"


# -- issue 19 follow-up: plain questions of the older suites ---------------------------------
def _case_with_service(vocab):
    return sorted(vocab.case_numbers)[0]


@pytest.mark.parametrize("q", ["was the lyrica request granted or denied", "did IMR overturn or uphold lyrica"])
def test_either_or_asks_the_outcome_not_yes_no(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and not any(c.field == "determination" for c in r.plan.where)
    assert r.read_as.startswith("outcome of")


@pytest.mark.parametrize("q", ["what got decided about lyrica under case {case}", "{case}: what happened with the lyrica"])
def test_outcome_of_a_named_item_in_a_case_is_the_determination_fact(vocab, intents, q):
    r = read(q.format(case="CM99-0000001"), vocab, intents)
    assert r.status == "plan" and r.plan.operation == "fact" and r.plan.fact == "determination"
    assert r.plan.case_number == "CM99-0000001"


@pytest.mark.parametrize("q,unused", [("was lyrica approved for the woman with chronic neuropathy", "neuropathy"),
                                      ("was lyrica granted after the winter", "winter")])
def test_descriptive_leftovers_are_answered_and_named(vocab, intents, q, unused):
    r = read(q, vocab, intents)
    assert r.status == "plan" and unused in r.unused and "not used: " in r.read_as


@pytest.mark.parametrize("q", ["how many overturned requests per guideline family", "overturn counts, month-wise"])
def test_group_words_rank_in_full(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.operation == "rank" and r.plan.limit is None


def test_by_outcome_groups_by_determination(vocab, intents):
    r = read("tally the requests broken down by outcome", vocab, intents)
    assert r.status == "plan" and r.plan.group_by.field == "determination"


@pytest.mark.parametrize("q", ["total of upheld treatments across letters issued in 2017",
                               "how many disputed services did the reviewers find overturned in 2017"])
def test_the_counted_noun_is_the_unit(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.unit == "items" and r.plan.operation == "aggregate"


@pytest.mark.parametrize("q", ["compare lyrica and omeprazole", "how often was lyrica approved compared with omeprazole"])
def test_compare_two_services_compares_overturn_shares(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.operation == "compare" and r.plan.measure.aggregate == "share"


@pytest.mark.parametrize("word", ["area", "discipline"])
def test_board_certified_field_wording_is_the_specialty(vocab, intents, word):
    r = read(f"what {word} is the reviewer board certified in for CM99-0000001", vocab, intents)
    assert r.status == "plan" and r.plan.fact == "reviewer_specialty"


def test_a_drug_quantity_belongs_to_the_service(vocab, intents):
    r = read("was lyrica 75mg #60 approved", vocab, intents)
    assert r.status == "plan" and any("60" in c.value[0] for c in r.plan.where if c.field == "service")



def _service_terms(r):
    return [t for c in r.plan.where if c.field == "service" for t in c.value]


@pytest.mark.parametrize("q", ["what happened with the extra acupuncture sessions", "any further acupuncture approved?"])
def test_descriptive_adjectives_stay_out_of_the_service(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and not any(w in " ".join(_service_terms(r)) for w in ("extra", "further"))


@pytest.mark.parametrize("q,outcome", [("was the lidoderm patch deemed not medically necessary", "upheld"),
                                       ("was the lyrica found medically necessary?", "overturned")])
def test_medical_necessity_is_an_outcome(vocab, intents, q, outcome):
    r = read(q, vocab, intents)
    assert r.status == "plan" and "medically" not in " ".join(_service_terms(r))
    assert outcome in r.read_as or r.plan.fact == "determination" or r.plan.yes_no


@pytest.mark.parametrize("q,cat", [("how many drugs were denied in CM99-0000006", "medication"),
                                   ("number of therapies upheld in case CM99-0000006", "therapy")])
def test_category_within_a_case_is_counted(vocab, intents, q, cat):
    r = read(q, vocab, intents)
    assert r.status == "plan" and r.plan.unit == "items"
    assert any(c.field == "category" and c.value == cat for c in r.plan.where)


def test_part_already_authorised_is_the_authorized_portion(vocab, intents):
    r = read("in CM99-0000008 how many requests were already approved in part by the claims administrator", vocab, intents)
    assert r.status == "plan" and any(c.field == "authorized_portion" and c.op == "known" for c in r.plan.where)


@pytest.mark.parametrize("q", ["what was the iro ruling on the lumbar facet joint medial branch block",
                               "final determination for the chiropractic manipulation?"])
def test_decision_on_a_service_is_its_outcome(vocab, intents, q):
    r = read(q, vocab, intents)
    assert r.status == "plan" and (r.plan.yes_no or r.plan.fact == "determination") and r.plan.operation != "passage"


# -- wordings met in the blind dev2 bank (2026-12-07) ---------------------------------------------

@pytest.mark.parametrize("q,outcome", [("how many mri requests were green-lit", "overturned"),
                                       ("# of drug requests flipped in the workers favor", "overturned"),
                                       ("how many mri requests were knocked back", "upheld"),
                                       ("how many injection requests stayed denied", "upheld")])
def test_plain_words_for_who_won_are_outcomes(vocab, intents, q, outcome):
    r = read(q, vocab, intents)
    assert r.status == "plan" and outcome in r.read_as


def test_an_unknown_word_where_an_outcome_stands_is_asked_not_counted_past(vocab, intents):
    r = read("how many mri requests were blorped", vocab, intents)
    assert r.status == "clarify" and "blorped" in r.read_as and "overturned" in r.choices


def test_typos_and_shortenings_of_known_words_are_read_and_said(vocab, intents):
    r = read("which cases had an mri reqeust", vocab, intents)
    assert r.status == "plan" and ("reqeust", "request") in r.corrections and "'reqeust' -> request" in r.read_as
    short = read("which cases included a chiro request", vocab, intents)
    assert short.status == "plan" and any(a == "chiro" and b.startswith("chiropract") for a, b in short.corrections)
    dental = read("how many dental claims were decided", vocab, intents)  # a short real word is no typo of 'denial'
    assert not any(b == "denial" for _, b in dental.corrections)


def test_on_or_after_includes_the_day_and_is_no_comparison(vocab, intents):
    r = read("which cases were decided on or after feb 20 2017 but before 2018", vocab, intents)
    assert r.status == "plan" and r.plan.operation == "aggregate"
    bounds = {(c.op, c.value) for c in r.plan.where if c.field == "decision_date"}
    assert ("ge", "2017-02-20") in bounds and ("le", "2017-12-31") in bounds


def test_the_case_with_the_most_items_is_the_extreme_item_count(vocab, intents):
    r = read("which case had the most disputed items", vocab, intents)
    assert r.status == "plan" and r.plan.which and r.plan.measure.field == "item_count"
    assert r.plan.measure.aggregate == "max"


def test_months_group_by_the_date_named(vocab, intents):
    r = read("month with the most UR denials", vocab, intents)
    assert r.status == "plan" and r.plan.group_by.field == "ur_denial_date" and r.plan.group_by.part == "month"


def test_the_past_year_is_the_twelve_months_to_today():
    (slot,) = find_periods("injuries in the past year", dt.date(2017, 6, 30), [])
    assert (slot.value.start, slot.value.end) == ("2016-07-01", "2017-06-30")


@pytest.mark.parametrize("q", ["compare them", "same question for last year's letters", "and the other one"])
def test_a_follow_up_is_asked_back(vocab, intents, q):
    assert read(q, vocab, intents).status == "clarify"


def test_what_happened_answers_outcome_by_outcome_and_one_request_asks_which_case(vocab, intents):
    r = read("what happened to the mri requests", vocab, intents)
    assert r.status == "plan" and r.plan.operation == "rank" and r.plan.group_by.field == "determination"
    one = read("what happened to the medication request", vocab, intents)
    assert one.status == "clarify" and "case" in one.message.lower()
    dated = read("cases where the injury happened before 2020", vocab, intents)
    assert dated.status == "plan" and dated.plan.operation == "aggregate"


def test_the_case_with_the_most_matching_items_ranks_cases(vocab, intents):
    r = read("which letter had the most overturned items", vocab, intents)
    assert r.status == "plan" and r.plan.group_by.field == "case_number" and r.plan.limit == 1


def test_fastest_case_is_a_duration_extreme(vocab, intents):
    r = read("fastest case ur denial -> decision", vocab, intents)
    assert r.status == "plan" and r.plan.measure.aggregate == "min" and r.plan.which
    assert r.plan.measure.duration == ("ur_denial_date", "decision_date")
