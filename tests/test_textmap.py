"""normalise() and MappedText: the cleaned text and its map back to the source text."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from helpers import require_shared, squash
from imr_rag.ingest.textmap import MappedText, folded, looks_like_html, normalise

PROPERTY = hyp_settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

# Pieces that exercise every rewrite: line endings, page breaks, tabs, odd spaces, HTML tags and
# entities, markdown heading marks and bold, hyphenated line breaks, blank-line runs.
ARTEFACTS = [
    "\r\n", "\r", "\n", "\n\n", "\n\n\n\n", " \n\n", "\f", "\v", "\t", "  ", "\u00a0", "\u200b",
    "\u2028", "<b>", "</b>", "<p>", "</p>", "<br>", "<br/>", "<div class='x'>", "</div>",
    "<script>var x = 1;</script>", "<!-- note -->", "&amp;", "&lt;", "&eacute;", "&#8217;", "&#x2019;",
    "&nbsp;", "### ", "## ", "# ", "**", "*", "-\n", "-", ":", ".", "#60", "5/325mg", "é", "’", "\ufb01", "\u201c", "Page 2 of 3",
]
WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
piece = st.one_of(
    st.sampled_from(ARTEFACTS),
    st.text(alphabet=WORD_CHARS, min_size=1, max_size=8),
    st.text(max_size=3),  # anything at all, including control and surrogate-free unicode
)
letterish = st.lists(piece, max_size=60).map("".join)
html_modes = st.sampled_from([None, True, False])
ENTITY_AT = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")


def _html_mode(source: str, html_input: bool | None) -> bool:
    return html_input if html_input is not None else looks_like_html(source)


# -- properties -------------------------------------------------------------------------------
@PROPERTY
@given(source=letterish, html_input=html_modes)
def test_offsets_have_one_entry_per_char_plus_end_and_never_go_back(source: str, html_input: bool | None) -> None:
    m = normalise(source, html_input=html_input)
    assert len(m.offsets) == len(m.text) + 1
    assert int(m.offsets[-1]) == len(source)
    assert np.all(np.diff(m.offsets) >= 0)
    assert np.all(m.offsets >= 0) and np.all(m.offsets <= len(source))


@PROPERTY
@given(source=letterish, html_input=html_modes)
def test_every_visible_char_comes_from_the_same_char_in_the_source(source: str, html_input: bool | None) -> None:
    m = normalise(source, html_input=html_input)
    html_mode = _html_mode(source, html_input)
    for i, ch in enumerate(m.text):
        if ch.isspace():
            continue
        origin = int(m.offsets[i])
        if html_mode and ENTITY_AT.match(source, origin):
            continue  # decoded entity: the whole entity maps to its '&'
        assert origin < len(source) and ch in folded(source[origin]), (i, ch, origin)


def _assert_span_round_trips(source: str, html_input: bool | None, data: st.DataObject) -> None:
    m = normalise(source, html_input=html_input)
    assume(m.text.strip())
    start = data.draw(st.integers(0, len(m.text) - 1), label="start")
    end = data.draw(st.integers(start + 1, len(m.text)), label="end")
    span = m.text[start:end]
    assume(span.strip())
    a, b = m.source_span(start, end)
    assert 0 <= a < b <= len(source)
    again = normalise(source[a:b], html_input=_html_mode(source, html_input)).text
    # Whitespace may differ (a substring is judged on its own: double spacing, hyphenated breaks
    # across a blank line), and a '#'-run at the start of a substring looks like a heading mark.
    def content(s: str) -> str:
        return squash(s).replace("#", "").replace("*", "")

    if any(folded(c) != c for c in source[a:b]):  # a span may take part of a ligature's letters
        assert content(span) in content(again)
    else:
        assert content(again) == content(span)


@PROPERTY
@given(source=letterish, data=st.data())
def test_source_span_of_plain_text_renormalises_to_the_same_words(source: str, data: st.DataObject) -> None:
    _assert_span_round_trips(source, False, data)


@PROPERTY
@given(source=letterish, data=st.data())
def test_source_span_of_html_text_renormalises_to_the_same_words(source: str, data: st.DataObject) -> None:
    _assert_span_round_trips(source, True, data)


# -- source_span edge cases -------------------------------------------------------------------
def test_source_span_empty_and_out_of_range() -> None:
    m = normalise("Hello\r\n\r\nworld")
    assert m.text == "Hello\n\nworld"
    point = m.source_span(2, 2)
    assert point[0] == point[1] == 2
    assert m.source_span(0, len(m.text)) == (0, len("Hello\r\n\r\nworld"))
    with pytest.raises(ValueError):
        m.source_span(3, 2)
    with pytest.raises(ValueError):
        m.source_span(0, len(m.text) + 1)


def test_source_span_of_an_entity_covers_the_whole_entity() -> None:
    source = "<p>Caf&eacute; visits &amp; more</p>"
    m = normalise(source)
    assert m.text == "Café visits & more"
    a, b = m.source_span(0, 4)  # "Café"
    assert source[a:b] == "Caf&eacute;"
    a, b = m.source_span(12, 13)  # "&"
    assert source[a:b] == "&amp;"


def test_identity_maps_every_index_to_itself() -> None:
    m = MappedText.identity("abc")
    assert m.offsets.tolist() == [0, 1, 2, 3]
    assert m.source_span(1, 3) == (1, 3)


# -- concrete rewrites ------------------------------------------------------------------------
def _double_spaced(lines: list[str]) -> str:
    """The seed export style: every line ends with a space and is followed by a blank line."""
    return "\n\n".join(f"{line} " for line in lines) + "\n\n"


def test_double_spaced_letter_keeps_lines_and_one_blank_line_per_paragraph() -> None:
    para1 = [f"first paragraph line {n}" for n in range(6)]
    para2 = [f"second paragraph line {n}" for n in range(6)]
    source = _double_spaced(para1 + [""] + para2)  # a line holding one space = paragraph break
    m = normalise(source)
    assert m.text == "\n".join(para1) + "\n\n" + "\n".join(para2)


def test_real_double_spaced_seed_collapses() -> None:
    seed = next(iter(sorted(require_shared("seeds").glob("001_*.txt"))), None)
    if seed is None:
        pytest.skip("seed 001 is absent")
    source = seed.read_text(encoding="utf-8")
    text = normalise(source).text
    assert "\n\n\n" not in text
    assert not text.startswith((" ", "\n"))
    assert "sent the complete case file to a physician reviewer. He/she has no\naffiliation" in text
    assert re.search(r"Review determinations\.\n\nCLINICAL CASE SUMMARY\n", text)
    # Most lines are now single-spaced: far fewer blank lines than lines.
    assert text.count("\n\n") * 5 < text.count("\n")


def test_single_spaced_text_is_not_collapsed() -> None:
    source = "Line one\nLine two\n\nNew paragraph\n\n\n\n\nAfter a gap"
    assert normalise(source).text == "Line one\nLine two\n\nNew paragraph\n\nAfter a gap"


def test_html_tags_are_stripped_and_entities_decoded() -> None:
    source = "<p><b>Case Number:</b> CM99-0000005</p><p>Tom &amp; Jerry&#8217;s &lt;note&gt;</p>"
    m = normalise(source)
    assert m.text == "Case Number: CM99-0000005\nTom & Jerry’s <note>"
    i = m.text.index("CM99")
    assert source[int(m.offsets[i]) :].startswith("CM99-0000005")


def test_html_script_style_and_comments_are_dropped() -> None:
    source = "<html><head><style>p {color: red}</style><script>alert(1)</script></head>" \
             "<body><!-- hidden --><p>Visible text</p></body></html>"
    assert normalise(source).text == "Visible text"


def test_plain_text_with_angle_brackets_is_not_treated_as_html() -> None:
    source = "Pain < 5 and > 2 &amp; stable"
    assert normalise(source).text == source


def test_markdown_heading_marks_and_bold_are_stripped() -> None:
    source = "### HOW THE IMR FINAL DETERMINATION WAS MADE\n**Decision rationale:** text\n## Case #60"
    m = normalise(source)
    assert m.text == "HOW THE IMR FINAL DETERMINATION WAS MADE\nDecision rationale: text\nCase #60"
    assert source[int(m.offsets[0])] == "H"


def test_crlf_form_feed_and_vertical_tab_become_newlines() -> None:
    source = "Page one line\r\nsecond line\fPage two\r\n\r\nParagraph\vend\r"
    assert normalise(source).text == "Page one line\nsecond line\nPage two\n\nParagraph\nend"


def test_tabs_and_space_runs_collapse_and_lines_are_trimmed() -> None:
    source = "  Case Number:\t\tCM99-0000004 \t\n\t Date\u00a0\u00a0Assigned:   10/03/2023  "
    assert normalise(source).text == "Case Number: CM99-0000004\nDate Assigned: 10/03/2023"


def test_hyphenated_line_break_is_joined_keeping_the_hyphen() -> None:
    source = "has difficulty-\nperforming her duties"
    m = normalise(source)
    assert m.text == "has difficulty-performing her duties"
    a, b = m.source_span(4, len("has difficulty-performing"))
    assert source[a:b] == "difficulty-\nperforming"


def test_hyphen_before_a_capitalised_line_is_kept_as_a_break() -> None:
    assert normalise("left L4-\nL5 level").text == "left L4-\nL5 level"


def test_hyphenated_line_break_in_double_spaced_text_is_joined() -> None:
    lines = [f"line {n}" for n in range(10)] + ["has difficulty-", "performing her duties"]
    text = normalise(_double_spaced(lines)).text
    assert "difficulty-performing" in text


def test_empty_and_whitespace_only_sources() -> None:
    assert normalise("").text == ""
    m = normalise(" \r\n\t\f ")
    assert m.text == ""
    assert m.offsets.tolist() == [6]


def test_typesetter_hyphen_goes_when_the_letter_spells_the_word_whole_elsewhere() -> None:
    source = "The medi-\ncation was refilled. The medication helps."
    m = normalise(source)
    assert m.text == "The medication was refilled. The medication helps."
    a, b = m.source_span(4, 14)
    assert source[a:b] == "medi-\ncation"
    # A real compound stays hyphenated even when its parts appear apart.
    assert normalise("a follow-\nup visit; follow up soon").text == "a follow-up visit; follow up soon"


def test_ligatures_are_folded_with_offsets_and_quotes_kept() -> None:
    source = "Oﬃcial “Disability” patient’s ﬁle"
    m = normalise(source)
    assert m.text == "Official “Disability” patient’s file"
    start = m.text.index("file")
    assert m.source_span(start, start + 4) == (source.index("ﬁle"), len(source))
    assert folded("ﬂ") == "fl" and folded("”") == "”" and folded("x") == "x"


def test_running_page_headers_and_footers_are_removed_at_page_edges_only() -> None:
    pages = [
        "Letterhead CM99-1\nCase Number: CM99-1\nfirst page text\nPage 1 of 3",
        "Letterhead CM99-1\nTENS unit 30 day\nPage 2 of 3",
        "Letterhead CM99-1\nhome trial: Overturned\nLetterhead CM99-1 is quoted mid-page\nPage 3 of 3",
    ]
    text = normalise("\f".join(pages)).text
    assert text == ("Case Number: CM99-1\nfirst page text\nTENS unit 30 day\nhome trial: Overturned\n"
                    "Letterhead CM99-1 is quoted mid-page")
    # A line that merely repeats at two of five page edges is content, not furniture.
    repeated = "\f".join(["intro\nDecision based on MTUS.", "Decision based on MTUS.\nmore", "a\nb", "c\nd", "e\nf"])
    assert normalise(repeated).text.count("Decision based on MTUS.") == 2
