"""Quote alignment: every span returned slices the text exactly; nothing is ever invented."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from imr_rag.extract.align import align_quote, evidence_is_grounded, same_claim
from imr_rag.schema import Alignment, Evidence

LETTER = (
    "IMR ISSUES, DECISIONS AND RATIONALES\n"
    "Lyrica 75mg #60: Overturned\n"
    "Decision rationale: The California MTUS 2016 Chronic Pain Guidelines recommend antiepilepsy\n"
    "drugs such as pregabalin as a first-line option for neuropathic pain. Therefore, the request\n"
    "for Lyrica 75mg #60 is medically necessary.\n"
    "MRI of the lumbar spine without contrast: Upheld\n"
    "Decision rationale: Repeat imaging is reserved for a significant change in symptoms. Given\n"
    "the above, the request for a repeat MRI of the lumbar spine is not medically necessary.\n"
)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- examples --------------------------------------------------------------------------------


def test_exact_match_slices_the_text():
    ev = align_quote(LETTER, "Lyrica 75mg #60: Overturned")
    assert ev is not None and ev.alignment is Alignment.exact
    assert LETTER[ev.start : ev.end] == ev.quote == "Lyrica 75mg #60: Overturned"


def test_exact_match_prefers_the_occurrence_nearest_the_hint():
    first = LETTER.index("Lyrica 75mg #60")
    second = LETTER.index("Lyrica 75mg #60", first + 1)
    assert align_quote(LETTER, "Lyrica 75mg #60").start == first
    assert align_quote(LETTER, "Lyrica 75mg #60", hint=second - 5).start == second
    near_end = align_quote(LETTER, "is not medically necessary", hint=len(LETTER))
    assert near_end.start == LETTER.rindex("is not medically necessary")


def test_line_breaks_and_spacing_align_as_whitespace_with_the_real_slice():
    quote = "recommend antiepilepsy drugs   such as pregabalin"
    ev = align_quote(LETTER, quote)
    assert ev is not None and ev.alignment is Alignment.whitespace
    assert ev.quote == LETTER[ev.start : ev.end] == "recommend antiepilepsy\ndrugs such as pregabalin"


def test_missing_space_between_words_still_aligns_as_whitespace():
    text = "IMR ISSUES, DECISIONS AND RATIONALESThe Final Determination was based on"
    ev = align_quote(text, "RATIONALES The Final Determination")
    assert ev is not None and ev.alignment is Alignment.whitespace
    assert ev.quote == "RATIONALESThe Final Determination"


def test_small_misquote_aligns_fuzzily_to_whole_words_of_the_source():
    quote = "Repeat imaging is reserved for a significant change in symptom."  # 'symptoms.'
    ev = align_quote(LETTER, quote)
    assert ev is not None and ev.alignment is Alignment.fuzzy
    assert evidence_is_grounded(LETTER, ev)
    assert ev.quote == "Repeat imaging is reserved for a significant change in symptoms."


def test_fuzzy_match_across_a_line_break_keeps_the_source_slice():
    quote = "the request for a repeat MRI of the lumbar spine is not medicaly necessary"
    ev = align_quote(LETTER, quote)
    assert ev is not None and ev.alignment is Alignment.fuzzy
    assert ev.quote == LETTER[ev.start : ev.end]
    assert "\n" in ev.quote or ev.quote.startswith("the request")


def test_invented_quote_returns_none():
    assert align_quote(LETTER, "The patient underwent a total knee arthroplasty in 2019.") is None


def test_threshold_decides_between_fuzzy_and_none():
    quote = "Repeat imagng is reservd for a signifcant chnge in symptms."  # 5 of 52 letters gone
    assert align_quote(LETTER, quote, fuzzy_threshold=0.95) is None
    assert align_quote(LETTER, quote, fuzzy_threshold=0.9).quote == (
        "Repeat imaging is reserved for a significant change in symptoms."
    )


@pytest.mark.parametrize("quote", [
    # a negation dropped: the letter says "is not medically necessary" (upheld)
    "the request for a repeat MRI of the lumbar spine is medically necessary",
    # a negation added: the letter says "is medically necessary" (overturned)
    "Therefore, the request for Lyrica 75mg #60 is not medically necessary.",
    "Therefore, the request for Lyrica 75mg #60 is never medically necessary.",
    # a negating prefix flipped
    "Therefore, the request for Lyrica 75mg #60 is medically unnecessary.",
    # a number changed: one digit, well within the fuzzy threshold
    "Therefore, the request for Lyrica 75mg #90 is medically necessary.",
    "The California MTUS 2018 Chronic Pain Guidelines recommend antiepilepsy drugs",
])
def test_fuzzy_alignment_never_accepts_a_quote_that_changes_the_claim(quote: str):
    assert align_quote(LETTER, quote) is None


def test_same_claim_tolerates_typos_but_not_negation_or_numbers():
    assert same_claim("is not medicaly necessary", "is not medically necessary")
    assert same_claim("Lyrica 75mg #60", "Lyrica  75mg #60")
    assert not same_claim("is medically necessary", "is not medically necessary")
    assert not same_claim("isn't supported", "is supported")
    assert not same_claim("non-certified", "certified")  # 'non' is a word of its own here
    assert not same_claim("noncertified", "certified")
    assert not same_claim("appropriate", "inappropriate")
    assert not same_claim("12 sessions", "18 sessions")
    assert not same_claim("1.5 mg", "15 mg")


def test_empty_or_blank_quote_and_empty_text_return_none():
    assert align_quote(LETTER, "") is None
    assert align_quote(LETTER, " \n\t") is None
    assert align_quote("", "Lyrica") is None


def test_evidence_is_grounded_checks_bounds_and_content():
    good = Evidence(quote="Lyrica", start=LETTER.index("Lyrica"), end=LETTER.index("Lyrica") + 6,
                    alignment=Alignment.exact)
    assert evidence_is_grounded(LETTER, good)
    assert not evidence_is_grounded(LETTER, good.model_copy(update={"quote": "Lyric"}))
    assert not evidence_is_grounded(LETTER, good.model_copy(update={"start": -6, "end": 0}))
    past_end = good.model_copy(update={"quote": "", "start": len(LETTER) + 1, "end": len(LETTER) + 1})
    assert not evidence_is_grounded(LETTER, past_end)


def test_long_letter_fuzzy_search_is_fast_enough():
    import time

    text = LETTER * 60  # ~30,000 characters
    started = time.perf_counter()
    assert align_quote(text, "An acupuncture course of twelve sessions is not supported here") is None
    assert time.perf_counter() - started < 2.0


# -- properties ------------------------------------------------------------------------------

ALPHABET = "abcdefghij.,#0123"
separators = st.sampled_from([" ", " ", " ", "\n", "  ", " \n"])


@st.composite
def texts(draw: st.DrawFn, min_words: int = 1, min_word: int = 1) -> str:
    """Letter-like text: short words over a small alphabet (so words repeat), mixed spacing."""
    words = st.text(alphabet=ALPHABET, min_size=min_word, max_size=8)
    parts = draw(st.lists(st.tuples(words, separators), min_size=min_words, max_size=40))
    return "".join(word + sep for word, sep in parts)


@settings(max_examples=300, deadline=None)
@given(text=texts(), data=st.data())
def test_any_substring_aligns_exactly_to_a_span_that_slices_to_it(text: str, data: st.DataObject):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    quote = text[start:end]
    assume(quote.strip())
    ev = align_quote(text, quote, hint=start)
    assert ev is not None and ev.alignment is Alignment.exact
    assert text[ev.start : ev.end] == quote == ev.quote
    assert ev.start == start  # the hint is an occurrence, so it is the nearest one


@settings(max_examples=300, deadline=None)
@given(text=texts(), data=st.data())
def test_whitespace_mangled_substrings_align_as_whitespace(text: str, data: st.DataObject):
    tokens = list(re.finditer(r"\S+", text))
    first = data.draw(st.integers(0, len(tokens) - 1))
    last = data.draw(st.integers(first, len(tokens) - 1))
    original = text[tokens[first].start() : tokens[last].end()]
    gaps = data.draw(st.lists(st.sampled_from(["", " ", "\n", "   ", "\t"]),
                              min_size=last - first, max_size=last - first))
    mangled = tokens[first].group() + "".join(
        gap + tok.group() for gap, tok in zip(gaps, tokens[first + 1 : last + 1], strict=True)
    )
    assume(mangled not in text)
    ev = align_quote(text, mangled, hint=tokens[first].start())
    assert ev is not None and ev.alignment is Alignment.whitespace
    assert ev.quote == text[ev.start : ev.end]
    assert squeeze(ev.quote) == squeeze(mangled) == squeeze(original)


@settings(max_examples=300, deadline=None)
@given(text=texts(), quote=st.text(min_size=1, max_size=60), hint=st.integers(-10, 500))
def test_a_random_quote_gives_none_or_an_exact_slice(text: str, quote: str, hint: int):
    ev = align_quote(text, quote, hint=hint)
    if ev is None:
        return
    assert evidence_is_grounded(text, ev)
    if ev.alignment is Alignment.exact:
        assert ev.quote == quote
    elif ev.alignment is Alignment.whitespace:
        assert squeeze(ev.quote) == squeeze(quote)
    else:
        assert ev.quote.strip() and ev.quote == ev.quote.strip()
        assert same_claim(quote, ev.quote)


@settings(max_examples=200, deadline=None)
@given(text=texts(min_words=12, min_word=4), data=st.data())
def test_a_one_character_typo_in_a_long_quote_still_lands_on_the_source(
    text: str, data: st.DataObject
):
    tokens = list(re.finditer(r"\S+", text))
    first = data.draw(st.integers(0, len(tokens) - 10))
    last = data.draw(st.integers(first + 9, len(tokens) - 1))
    start, end = tokens[first].start(), tokens[last].end()
    original = text[start:end]
    # a typo in a word; a changed digit or decimal point is a different number, never aligned
    letters = [i for i, ch in enumerate(original) if ch.isalpha()]
    assume(letters)
    at = data.draw(st.sampled_from(letters))
    typo = original[:at] + ("X" if original[at] != "X" else "Y") + original[at + 1 :]
    ev = align_quote(text, typo, hint=start)
    assert ev is not None and evidence_is_grounded(text, ev)
    assert ev.alignment is Alignment.fuzzy
    assert ev.start < end and start < ev.end  # overlaps the passage that was quoted
