"""A perturbation corpus: the fixture letters rewritten the ways real letters differ, gold carried over.

Each source letter (the dev PDFs' extracted text, the seeds, the synthetic `.txt`/`.md` letters)
is rewritten once per applicable perturbation kind; the gold record is copied unchanged (only
`source_file` changes), because every kind keeps what the letter says and changes only how it is
rendered. Deterministic: the same sources and seed give byte-identical letters.

Kinds (`KINDS`): re-wrapped lines, double spacing, page headers/footers inserted mid-item, heading
case and punctuation, smart quotes, ligatures, hyphenation at line ends, other wordings of the
California original-request construction, Texas checkbox renderings, the Texas outcome in prose
only, and outcome-looking lines / a quoted decisions heading inside the prose (distractors).

Two sets are built. `perturbation` uses the development variants and seed; `perturbation-heldout`
uses another seed, wordings and renderings kept apart from development (`HELD_OUT_*`), and
combinations of kinds. The held-out set was not looked at while the parsers were fixed.

    python evals/perturb.py --output DIR [--fixtures ../shared] [--held-out]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evals.cases import FixtureSet, load_fixture_set

SET_NAME = "perturbation"
HELD_OUT_SET_NAME = "perturbation-heldout"
DEV_SEED = 20240611
HELD_OUT_SEED = 77003
TEXT_SUFFIXES = {".txt", ".md", ".pdf"}  # HTML sources are skipped: their markup is not line-based


@dataclass(frozen=True)
class Source:
    name: str  # the letter's file name
    text: str  # what the file holds (a PDF's extracted text), with \n line ends
    gold: dict
    letter_format: str


@dataclass
class Variant:
    """Which templates a build may use: development ones, or the held-out ones."""

    held_out: bool
    rng: random.Random

    def pick(self, dev: list, held: list):
        return self.rng.choice(held if self.held_out else dev)


Perturb = Callable[[Source, Variant], "str | None"]


# -- helpers -----------------------------------------------------------------------------------
OUTCOME_LINE = re.compile(r":[ \t]*\n?[ \t]*(Partially\s+Overturned|Overturned|Upheld)[ \t]*$", re.I | re.M)
LABEL_START = re.compile(
    r"^\s*(Claims\s+Administrator\s+guideline|MAXIMUS\s+guideline|Decision\s+rationale|\[|[A-Z][A-Z ,()/&'#-]{8,}:?\s*$)"
)


def _decisions_start(text: str) -> int:
    m = re.search(r"^IMR\s+ISSUES,?\s+DECISIONS", text, re.M | re.I)
    return m.start() if m else 0


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Runs of lines a typesetter could re-flow: a paragraph ends at a blank line, a line ending a
    sentence or a label, an outcome line, a form feed; labels and headings start one."""
    paras: list[list[str]] = []
    cur: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or "\f" in line:
            if cur:
                paras.append(cur)
            paras.append([line])
            cur = []
            continue
        if cur and LABEL_START.match(line):
            paras.append(cur)
            cur = []
        cur.append(line)
        if re.search(r"[.:;]\s*$|(Upheld|Overturned)\s*$", stripped, re.I) or stripped.isupper():
            paras.append(cur)
            cur = []
    if cur:
        paras.append(cur)
    return paras


def _fill(words: list[str], width: int) -> list[str]:
    out, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        out.append(cur)
    return out


# -- generic kinds -----------------------------------------------------------------------------
def rewrap(src: Source, v: Variant) -> str:
    width = v.rng.randint(55, 110)
    out: list[str] = []
    for para in _paragraphs(_lines(src.text)):
        words = " ".join(para).split()
        if len(para) == 1 and not words:
            out.append(para[0])
            continue
        out += _fill(words, width)
    return "\n".join(out)


def double_space(src: Source, v: Variant) -> str:
    return "\n\n".join(line.rstrip() for line in _lines(src.text))


FURNITURE_DEV = [
    ("Independent Medical Review Final Determination {case}", "Page {n} of {total}"),
    ("{case}", "Page {n}"),
]
FURNITURE_HELD = [
    ("CONFIDENTIAL - IMR Final Determination Letter", "- {n} -"),
    ("Notice of Decision  Case {case}", "{n}/{total}"),
]


def page_furniture(src: Source, v: Variant) -> str:
    """Page breaks with a running header and footer, two of them inside the decisions part."""
    header, footer = v.pick(FURNITURE_DEV, FURNITURE_HELD)
    case = src.gold.get("case_number") or "IRO review"
    lines = _lines(re.sub(r"\n?\f", "\n", src.text))
    start = _decisions_start(src.text)
    first_decision_line = src.text[:start].count("\n") if start else len(lines) // 3
    candidates = list(range(max(first_decision_line + 1, 1), len(lines) - 1))
    if len(candidates) < 2:
        candidates = list(range(1, max(2, len(lines) - 1)))
    breaks = sorted(v.rng.sample(candidates, k=min(3, len(candidates))))
    total = len(breaks) + 1
    out = [header.format(case=case, n=1, total=total)]
    n = 1
    for i, line in enumerate(lines):
        if i in breaks:
            out.append(footer.format(case=case, n=n, total=total))
            n += 1
            out.append("\f" + header.format(case=case, n=n, total=total))
        out.append(line)
    out.append(footer.format(case=case, n=n, total=total))
    return "\n".join(out)


HEADINGS = [
    "IMR ISSUES, DECISIONS AND RATIONALES", "HOW THE IMR FINAL DETERMINATION WAS MADE", "CLINICAL CASE SUMMARY",
    "Claims Administrator guideline:", "MAXIMUS guideline:", "Decision rationale:",
    "DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE:", "REVIEW OUTCOME:", "PATIENT CLINICAL HISTORY [SUMMARY]:",
    "ANALYSIS AND EXPLANATION OF THE DECISION INCLUDE CLINICAL BASIS, FINDINGS AND CONCLUSIONS USED TO SUPPORT THE DECISION:",
]


def _recase(words: str, style: str) -> str:
    if style == "upper":
        return words.upper()
    if style == "lower":
        return words.lower()
    return " ".join(w[:1].upper() + w[1:].lower() for w in words.split(" "))


def heading_case(src: Source, v: Variant) -> str:
    """Headings and labels in another case, commas and colons changed, outcome words recased."""
    text = src.text
    for heading in HEADINGS:
        pattern = re.compile(r"\s+".join(re.escape(w) for w in heading.split()), re.I)
        style = v.rng.choice(["upper", "lower", "title"])
        punct = v.rng.choice(["keep", "drop_comma", "space_colon"])

        def repl(m: re.Match[str], style=style, punct=punct) -> str:
            out = _recase(m.group(0), style)
            if punct == "drop_comma":
                out = out.replace(",", "")
            elif punct == "space_colon" and out.endswith(":"):
                out = out[:-1] + " :"
            return out

        text = pattern.sub(repl, text)
    style = v.rng.choice(["upper", "lower", "title"])
    tail = v.rng.choice(["", ".", " "])
    return OUTCOME_LINE.sub(lambda m: m.group(0).rstrip()[: -len(m.group(1))] + _recase(m.group(1), style) + tail,
                            text)


def smart_quotes(src: Source, v: Variant) -> str:
    text = re.sub(r"(?<=\w)'(?=\w)", "\u2019", src.text)
    text = re.sub(r"'", "\u2018", text)
    opened = [False]

    def dq(m: re.Match[str]) -> str:
        opened[0] = not opened[0]
        return "\u201c" if opened[0] else "\u201d"

    return re.sub(r'"', dq, text)


LIGATURES = [("ffi", "\ufb03"), ("ffl", "\ufb04"), ("ff", "\ufb00"), ("fi", "\ufb01"), ("fl", "\ufb02")]


def ligatures(src: Source, v: Variant) -> str:
    text = src.text
    for plain, lig in LIGATURES:
        text = text.replace(plain, lig)
    return text


def hyphenation(src: Source, v: Variant) -> str:
    """Long words split over line ends with a hyphen, as a justified typesetter does."""
    lines = _lines(src.text)
    out: list[str] = []
    carry = ""
    for i, line in enumerate(lines):
        line = carry + line
        carry = ""
        m = re.search(r"(?<![\w-])([a-z]{9,})\s*$", line)
        if m and i + 1 < len(lines) and lines[i + 1].strip() and v.rng.random() < 0.5:
            word = m.group(1)
            cut = v.rng.randint(3, len(word) - 4)
            line = line[: m.start(1)] + word[:cut] + "-"
            carry = word[cut:] + " "
        out.append(line)
    if carry:
        out.append(carry)
    return "\n".join(out)


# -- California original-request wordings ------------------------------------------------------
WORDINGS_DEV = [
    "{O} was the original request. The Claims Administrator authorized {A}, leaving the remainder of the "
    "original request IMR eligible. The remainder of the original request, {S} is: {OUT}",
    "The original request was for {O}. The Claims Administrator certified {A}. The IMR eligible portion, "
    "{S}, is: {OUT}",
    "{O} was requested. {A} was approved by the Claims Administrator. The remaining portion of the request, "
    "{S} is: {OUT}",
]
WORDINGS_HELD = [
    "The Claims Administrator authorized {A} of the original request for {O}. The portion remaining "
    "eligible for IMR, {S}, is: {OUT}",
    "{O} was the original request, of which {A} was modified and authorized by the Claims Administrator. "
    "The rest of the original request, {S} is: {OUT}",
]


def _flex(value: str) -> str:
    return r"\s+".join(re.escape(w) for w in value.split())


def ca_original_request(src: Source, v: Variant) -> str | None:
    if src.letter_format != "ca_dwc_imr":
        return None
    text, changed = src.text, False
    for item in src.gold.get("items") or []:
        if not item.get("original_request"):
            continue
        o, a, s = item["original_request"], item["authorized_portion"], item["service"]
        pattern = re.compile(
            _flex(o) + r"\s+was\s+the\s+original\s+request\..*?" + _flex(s)
            + r"\s+is:\s*(?P<out>Upheld|Overturned)", re.S | re.I)
        m = pattern.search(text)
        if not m:
            continue
        heading = v.pick(WORDINGS_DEV, WORDINGS_HELD).format(O=o, A=a, S=s, OUT=m.group("out"))
        text = text[: m.start()] + "\n".join(_fill(heading.split(), v.rng.randint(70, 100))) + text[m.end():]
        changed = True
    return text if changed else None


# -- Texas checkbox renderings and prose ---------------------------------------------------------
BOX = re.compile(r"^(?P<indent>[ \t]*)\[\s*(?P<mark>[Xx]?)\s*\][ \t]*(?P<label>\S[^\n]*)$", re.M)
MARKS_DEV = ["X", "x", "\u2612", "\u2713", "\u2714", "\u25a0"]
MARKS_HELD = ["\u2714", "X", "\u2612"]
RENDER_DEV = ["bare_before", "glyph_before", "bracket_after", "own_line"]
RENDER_HELD = ["paren_before", "bare_after", "own_line_after"]


def _render_box(label: str, checked: bool, mark: str, style: str) -> str:
    empty_glyph = "\u2610" if mark in ("\u2612", "\u25a0") else " "
    if style == "bare_before":
        return f"{mark} {label}" if checked else f"  {label}"
    if style == "glyph_before":
        return f"{mark if checked else chr(0x2610)} {label}"
    if style == "bracket_after":
        return f"{label} [{mark}]" if checked else f"{label} [ ]"
    if style == "own_line":
        return f"[{mark}]\n{label}" if checked else f"[ ]\n{label}"
    if style == "paren_before":
        return f"({mark}) {label}" if checked else f"( ) {label}"
    if style == "bare_after":
        return f"{label} {mark}" if checked else f"{label}{empty_glyph}".rstrip()
    if style == "own_line_after":
        return f"{label}\n{mark}" if checked else f"{label}\n{empty_glyph}".rstrip()
    raise ValueError(style)


def tx_checkbox(src: Source, v: Variant) -> str | None:
    if src.letter_format != "tx_iro":
        return None
    mark = v.pick(MARKS_DEV, MARKS_HELD)
    style = v.pick(RENDER_DEV, RENDER_HELD)
    return BOX.sub(lambda m: m.group("indent") + _render_box(m.group("label").rstrip(), bool(m.group("mark")), mark, style),
                   src.text)


OUTCOME_BOXES = re.compile(r"should\s+be:\s*\n(?:\s*\[[^\]\n]*\][^\n]*\n)+", re.I)
PROSE_DEV = ["blank_boxes", "sentence"]
PROSE_HELD = ["no_boxes", "sentence_upper"]


def tx_prose_only(src: Source, v: Variant) -> str | None:
    """No review-outcome box is marked; what the outcome was is said only in words."""
    if src.letter_format != "tx_iro":
        return None
    m = OUTCOME_BOXES.search(src.text)
    if not m:
        return None
    style = v.pick(PROSE_DEV, PROSE_HELD)
    words = {"upheld": "upheld", "overturned": "overturned", "partially_overturned": "partially overturned"}
    outcome = words[src.gold["items"][0]["determination"]]
    block = m.group(0)
    if style == "blank_boxes":
        new = re.sub(r"\[\s*[Xx]\s*\]", "[  ]", block)
    elif style == "no_boxes":
        new = "should be:\n\n"
    elif style == "sentence":
        new = f"should be {outcome}.\n\n"
    else:
        new = f"should be {outcome.upper()}.\n\n"
    return src.text[: m.start()] + new + src.text[m.end():]


# -- distractors (issue 13): outcome-looking lines and a quoted heading inside prose ------------
DISTRACTOR_DEV = [
    "Tramadol ER 150mg #30: Overturned",
    "The prior reviewer wrote, under IMR ISSUES, DECISIONS AND RATIONALES, that the request was: Upheld",
]
DISTRACTOR_HELD = [
    "Previously requested Omeprazole 20mg #60: Upheld",
    "IMR ISSUES, DECISIONS AND RATIONALES",
]


def distractors(src: Source, v: Variant) -> str | None:
    """A line inside a rationale (CA) or the history (TX) that looks like an outcome or the heading."""
    text = src.text
    if src.letter_format == "ca_dwc_imr":
        anchors = [m.end() for m in re.finditer(r"Decision\s+rationale:[^\n]*\n", text, re.I)]
        summary = re.search(r"CLINICAL\s+CASE\s+SUMMARY[^\n]*\n[^\n]*\n", text, re.I)
        quote = "The records include a prior IMR letter quoting its IMR ISSUES, DECISIONS AND RATIONALES section.\n"
        if summary:
            text = text[: summary.end()] + quote + text[summary.end():]
            anchors = [a + len(quote) for a in anchors]
    elif src.letter_format == "tx_iro":
        anchors = [m.end() for m in re.finditer(r"PATIENT\s+CLINICAL\s+HISTORY[^\n]*\n", text, re.I)]
    else:
        return None
    if not anchors:
        return None
    at = v.rng.choice(anchors)
    line = v.pick(DISTRACTOR_DEV, DISTRACTOR_HELD)
    return text[:at] + line + "\n" + text[at:]


KINDS: dict[str, Perturb] = {
    "rewrap": rewrap,
    "double_space": double_space,
    "page_furniture": page_furniture,
    "heading_case": heading_case,
    "smart_quotes": smart_quotes,
    "ligatures": ligatures,
    "hyphenation": hyphenation,
    "ca_original_request": ca_original_request,
    "tx_checkbox": tx_checkbox,
    "tx_prose_only": tx_prose_only,
    "distractors": distractors,
}
# Held-out letters also combine kinds, as real letters do.
HELD_OUT_COMBINATIONS = [
    ("rewrap", "smart_quotes"),
    ("page_furniture", "ligatures", "hyphenation"),
    ("tx_checkbox", "rewrap"),
    ("ca_original_request", "page_furniture"),
    ("heading_case", "double_space"),
]


# -- building ----------------------------------------------------------------------------------
def source_letters(sets: list[FixtureSet]) -> list[Source]:
    """The letters of the given fixture sets whose text can be rewritten (PDF text, txt, md)."""
    from imr_rag.ingest.documents import read_document

    sources = []
    for fixture in sets:
        for path in fixture.letters:
            if path.suffix.lower() not in TEXT_SUFFIXES:
                continue
            gold = fixture.gold[path.name]
            if path.suffix.lower() == ".pdf":
                raw = read_document(path).source_text
            else:
                raw = path.read_bytes().decode("utf-8-sig", errors="replace")
            text = raw.replace("\r\n", "\n").replace("\r", "\n")
            text = re.sub(r"(?<!\n)\f", "\n\f", text)  # a page break always starts a line
            fmt = gold.get("letter_format") or "unknown"
            sources.append(Source(name=f"{fixture.name}__{path.stem}", text=text, gold=gold, letter_format=fmt))
    return sources


def _apply(kinds: tuple[str, ...], src: Source, variant: Variant) -> str | None:
    text, applied = src.text, False
    for kind in kinds:
        out = KINDS[kind](Source(src.name, text, src.gold, src.letter_format), variant)
        if out is not None:
            text, applied = out, True
    return text if applied else None


def build(sets: list[FixtureSet], out_dir: Path, *, held_out: bool = False) -> FixtureSet:
    """Write the perturbed letters (letters/) and their gold (gold/) under out_dir; return the set."""
    name = HELD_OUT_SET_NAME if held_out else SET_NAME
    root = out_dir / name
    (root / "letters").mkdir(parents=True, exist_ok=True)
    (root / "gold").mkdir(parents=True, exist_ok=True)
    rng = random.Random(HELD_OUT_SEED if held_out else DEV_SEED)
    jobs = [(k,) for k in KINDS] + (HELD_OUT_COMBINATIONS if held_out else [])
    for src in source_letters(sets):
        for kinds in jobs:
            text = _apply(kinds, src, Variant(held_out=held_out, rng=rng))
            if text is None or text == src.text:
                continue
            file_name = f"{src.name}__{'+'.join(kinds)}.txt"
            (root / "letters" / file_name).write_text(text, encoding="utf-8")
            gold = dict(src.gold, source_file=file_name, perturbation="+".join(kinds))
            (root / "gold" / f"{Path(file_name).stem}.json").write_text(
                json.dumps(gold, indent=1, ensure_ascii=False), encoding="utf-8")
    return load_fixture_set(root, [])


def main(argv: list[str] | None = None) -> int:
    from evals.cases import resolve_fixture_sets, shared_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--fixtures", type=Path, nargs="*")
    parser.add_argument("--held-out", action="store_true")
    args = parser.parse_args(argv)
    sets, notes = resolve_fixture_sets(args.fixtures, shared_dir())
    for note in notes:
        print(note)
    fixture = build(sets, args.output, held_out=args.held_out)
    print(f"{fixture.name}: {len(fixture.letters)} letters in {fixture.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
