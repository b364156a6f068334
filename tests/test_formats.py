"""Format plugins: detection, sections, and one item section per disputed item (checked against gold)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import dev_pdfs, gold_for, seed_files, synthetic_letters
from imr_rag.schema import Document
from imr_rag.formats import case_number_of, detect_format, registered_formats, split_sections
from imr_rag.formats.ca_dwc import item_blocks
from imr_rag.schema import Section

SEEDS = seed_files()
DEV = dev_pdfs()
SYNTHETIC = synthetic_letters()
needs_seeds = pytest.mark.skipif(not SEEDS, reason="shared seeds not found (IMR_SHARED_DIR or ../shared/seeds)")


def _doc(path: Path, real: dict[str, Document], synthetic: dict[str, Document]) -> Document:
    return real[path.name] if path.name in real else synthetic[path.name]


@pytest.fixture(scope="module")
def docs(request: pytest.FixtureRequest) -> dict[str, Document]:
    """Every letter that the parametrised tests refer to, read once."""
    found: dict[str, Document] = {}
    if SEEDS or DEV:
        found.update(request.getfixturevalue("real_documents"))
    if SYNTHETIC:
        found.update(request.getfixturevalue("synthetic_documents"))
    return found


def _first_words(text: str, n: int) -> str:
    return " ".join(text.split()[:n]).lower()


# -- registry and detection -------------------------------------------------------------------
def test_both_builtin_formats_are_registered_through_entry_points() -> None:
    plugins = registered_formats()
    assert {"ca_dwc_imr", "tx_iro"} <= set(plugins)
    for name, plugin in plugins.items():
        assert plugin.name == name
        for attr in ("detect", "sections", "parse", "case_number"):
            assert callable(getattr(plugin, attr))


@needs_seeds
@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_seed_format_is_detected(seed: Path, docs: dict[str, Document]) -> None:
    expected = "tx_iro" if seed.name.startswith("000") else "ca_dwc_imr"
    assert docs[seed.name].letter_format == expected
    assert detect_format(docs[seed.name].text) == expected


@pytest.mark.skipif(not SYNTHETIC, reason="no synthetic letters with gold yet")
@pytest.mark.parametrize("letter", SYNTHETIC, ids=lambda p: p.name)
def test_synthetic_format_matches_gold(letter: Path, docs: dict[str, Document]) -> None:
    assert docs[letter.name].letter_format == gold_for(letter)["letter_format"]


def test_synthetic_set_includes_every_format() -> None:
    formats = {gold_for(p)["letter_format"] for p in SYNTHETIC}
    if not SYNTHETIC:
        pytest.skip("no synthetic letters with gold yet")
    assert {"ca_dwc_imr", "tx_iro", "unknown"} <= formats


@pytest.mark.skipif(not DEV, reason="real dev corpus not found (IMR_SHARED_DIR or ../shared/corpus/dwc-dev)")
def test_every_dev_pdf_is_california(docs: dict[str, Document]) -> None:
    assert {docs[p.name].letter_format for p in DEV} == {"ca_dwc_imr"}


def test_unrelated_text_is_unknown_and_one_body_section() -> None:
    text = "Dear Sir,\nI am writing to appeal the denial of my claim for a new roof.\nRegards"
    assert detect_format(text) == "unknown"
    assert split_sections(text, "unknown") == [Section(name="body", start=0, end=len(text))]


# -- sections ---------------------------------------------------------------------------------
ALL_LETTERS = SEEDS + DEV + SYNTHETIC


@pytest.mark.parametrize("letter", ALL_LETTERS, ids=lambda p: p.name)
def test_sections_are_ordered_disjoint_and_inside_the_text(letter: Path, docs: dict[str, Document]) -> None:
    doc = docs[letter.name]
    sections = split_sections(doc.text, doc.letter_format)
    assert sections
    previous_end = 0
    for s in sections:
        assert previous_end <= s.start < s.end <= len(doc.text), s
        assert doc.text[s.start : s.end].strip()
        previous_end = s.end
    # Nothing but whitespace is left out of the sections.
    covered = set()
    for s in sections:
        covered.update(range(s.start, s.end))
    assert all(doc.text[i].isspace() for i in range(len(doc.text)) if i not in covered)


CALIFORNIA = [p for p in SEEDS if not p.name.startswith("000")] + DEV + [
    p for p in SYNTHETIC if gold_for(p)["letter_format"] == "ca_dwc_imr"
]


@pytest.mark.parametrize("letter", CALIFORNIA, ids=lambda p: p.name)
def test_one_item_section_per_gold_item(letter: Path, docs: dict[str, Document]) -> None:
    doc = docs[letter.name]
    gold = gold_for(letter)
    items = [s for s in split_sections(doc.text, doc.letter_format) if s.name == "item"]
    assert len(items) == len(gold["items"]), [doc.text[s.start : s.start + 80] for s in items]
    assert [s.item_index for s in items] == list(range(len(items)))


@pytest.mark.parametrize("letter", CALIFORNIA, ids=lambda p: p.name)
def test_item_sections_start_with_the_gold_service(letter: Path, docs: dict[str, Document]) -> None:
    """Each item starts with its service's first words, or with the partial-authorisation
    sentence ("<original request> was the original request. ...")."""
    doc = docs[letter.name]
    gold = gold_for(letter)
    items = [s for s in split_sections(doc.text, doc.letter_format) if s.name == "item"]
    for section, item in zip(items, gold["items"]):
        head = " ".join(doc.text[section.start : section.end].split()).lower()
        service_start = _first_words(item["service"], 3)
        if head.startswith(service_start):
            continue
        original = item.get("original_request")
        assert original, f"item {section.item_index} starts {head[:80]!r}, expected {item['service']!r}"
        first_sentence = head[: head.index("was the original request") + 1] if "was the original request" in head else ""
        assert first_sentence.startswith(_first_words(original, 3)), head[:120]
        # The eligible portion the item is about is named before the outcome.
        assert _first_words(item["service"], 3) in head[: head.index("upheld" if item["determination"] == "upheld" else "overturned")]


@pytest.mark.parametrize("letter", CALIFORNIA, ids=lambda p: p.name)
def test_item_blocks_carry_the_gold_outcomes(letter: Path, docs: dict[str, Document]) -> None:
    doc = docs[letter.name]
    gold = gold_for(letter)
    decisions = [s for s in split_sections(doc.text, doc.letter_format) if s.name in ("decisions", "item")]
    assert decisions, "no decisions part found"
    blocks = item_blocks(doc.text, decisions[0].start, decisions[-1].end)
    expected = [i["determination"].replace("_", " ") for i in gold["items"]]
    assert [b.outcome for b in blocks] == expected
    for b in blocks:
        assert doc.text[b.outcome_start :].lower().startswith(b.outcome.split()[0])
        assert b.heading_start < b.outcome_start < b.outcome_line_end <= b.block_end


TEXAS = [p for p in SEEDS if p.name.startswith("000")] + [
    p for p in SYNTHETIC if gold_for(p)["letter_format"] == "tx_iro"
]


@pytest.mark.parametrize("letter", TEXAS, ids=lambda p: p.name)
def test_texas_letter_is_one_disputed_item(letter: Path, docs: dict[str, Document]) -> None:
    doc = docs[letter.name]
    sections = split_sections(doc.text, doc.letter_format)
    names = [s.name for s in sections]
    assert {"services_in_dispute", "review_outcome"} <= set(names)
    indexes = {s.item_index for s in sections if s.item_index is not None}
    assert len(indexes) == len(gold_for(letter)["items"]) == 1
    outcome = next(s for s in sections if s.name == "review_outcome")
    assert re.match(r"REVIEW\s+OUTCOME", doc.text[outcome.start : outcome.end])


@pytest.mark.parametrize(
    "letter", [p for p in SEEDS + DEV + SYNTHETIC if gold_for(p)["case_number"]], ids=lambda p: p.name
)
def test_case_number_matches_gold(letter: Path, docs: dict[str, Document]) -> None:
    doc = docs[letter.name]
    assert case_number_of(doc.text, doc.letter_format) == gold_for(letter)["case_number"]
