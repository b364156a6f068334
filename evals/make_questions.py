"""Write evals/fixtures/dwc-dev/questions.jsonl from the dev gold records.

One determination question per disputed item of every dev letter ("Was the request for
<service> upheld or overturned?", expected quote = the item's heading as the letter prints it),
then the hand-written retrieval questions below, which ask about treatments in plain words.

    python evals/make_questions.py            # write the file
    python evals/make_questions.py --check    # also check every quote against the letters
                                              # (../shared/corpus/dwc-dev or $IMR_SHARED_DIR)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLD_DIR = HERE / "fixtures" / "dwc-dev"
OUTPUT = GOLD_DIR / "questions.jsonl"
OUTCOME = {"upheld": "Upheld", "overturned": "Overturned"}

# Treatments named as a patient or adjuster might, not as the letter does. Each expects the
# letter(s) and the item heading (or a phrase every expected heading contains).
RETRIEVAL_QUESTIONS = [
    ("What was decided about a hospital bed rental for home use?",
     ["CM17-0009996.pdf"], "upheld", "Hospital bed for an unspecified rental: Upheld"),
    ("Was shoulder dislocation surgery with a Bankart repair approved?",
     ["CM16-0246487.pdf"], "overturned",
     "Left shoulder arthroscopy with Bankart repair, possible biceps tenodesis: Overturned"),
    ("Was an ice machine after shoulder surgery approved?",
     ["CM16-0246487.pdf"], "overturned", "Associated surgical service: Cold therapy for one week: Overturned"),
    ("Was anti-nausea medicine after the operation approved?",
     ["CM16-0246487.pdf"], "upheld", "Post-op Zofran: Upheld"),
    ("Were rides to and from doctor visits covered?",
     ["CM17-0009883.pdf"], "upheld", "Transportation to/from all medical appointments: Upheld"),
    ("Was a caregiver at home while the spouse is at work approved?",
     ["CM16-0249735.pdf"], "upheld", "when wife is working is: Upheld"),
    ("Was a nerve conduction test of the left arm approved?",
     ["CM17-0009887.pdf"], "upheld", "NCS of the left upper extremity: Upheld"),
    ("Was a follow-up visit with the chiropractor for a low back flare-up approved?",
     ["CM17-0005344.pdf"], "upheld", "Re-exam with chiropractor for the lumbar spine flare-up: Upheld"),
    ("Was a metal artifact reduction MRI of the hip approved?",
     ["CM16-0248698.pdf"], "upheld", "MARS MRI scan of right hip: Upheld"),
    ("Was an injection to destroy nerves in the low back approved?",
     ["CM16-0247274.pdf"], "upheld", "Injection of neurolytic substance, lumbar spine: Upheld"),
    ("Was a test of how much physical work the injured worker can do approved?",
     ["CM16-0248698.pdf", "CM17-0006634.pdf"], "upheld", "Functional capacity evaluation"),
    ("Was an electrical nerve stimulation unit for pain approved?",
     ["CM17-0006634.pdf"], "upheld", "TENS unit: Upheld"),
]


def heading(item: dict) -> str:
    """The item's heading as printed: 'service: Upheld', or 'Z is: Upheld' for a partial request."""
    joiner = " is: " if item.get("original_request") else ": "
    return f"{item['service']}{joiner}{OUTCOME[item['determination']]}"


def gold_records() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLD_DIR.glob("*.json"))]


def build_questions(records: list[dict]) -> list[dict]:
    by_file = {r["source_file"]: r for r in records}
    questions = []
    for record in records:
        for n, item in enumerate(record["items"], 1):
            questions.append({
                "id": f"{record['case_number']}-{n:02d}",
                "question": f"Was the request for {item['service']} upheld or overturned?",
                "kind": "determination",
                "expected_case_numbers": [record["case_number"]],
                "expected_source_files": [record["source_file"]],
                "expected_determination": item["determination"],
                "expected_count": None,
                "expected_quote": heading(item),
            })
    for n, (question, files, determination, quote) in enumerate(RETRIEVAL_QUESTIONS, 1):
        questions.append({
            "id": f"dev-r{n:02d}",
            "question": question,
            "kind": "passage",
            "expected_case_numbers": [by_file[f]["case_number"] for f in files],
            "expected_source_files": files,
            "expected_determination": determination,
            "expected_count": None,
            "expected_quote": quote,
        })
    return questions


def check_quotes(questions: list[dict], letters_dir: Path) -> list[str]:
    """Every quote must occur (whitespace-normalised) in each expected letter's text."""
    from imr_rag.ingest.documents import read_document

    flat = {}
    for path in sorted(letters_dir.glob("*.pdf")):
        flat[path.name] = " ".join(read_document(path).text.split())
    errors = []
    for q in questions:
        for name in q["expected_source_files"]:
            if name not in flat:
                errors.append(f"{q['id']}: letter {name} not found in {letters_dir}")
            elif " ".join(q["expected_quote"].split()) not in flat[name]:
                errors.append(f"{q['id']}: quote not in {name}: {q['expected_quote']!r}")
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="check the quotes against the dev letters")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    questions = build_questions(gold_records())
    if args.check:
        sys.path.insert(0, str(HERE.parent))
        from evals.cases import shared_dir

        shared = shared_dir()
        if shared is None:
            print("shared folder not found: set IMR_SHARED_DIR", file=sys.stderr)
            return 2
        errors = check_quotes(questions, shared / "corpus" / "dwc-dev")
        for error in errors:
            print(error, file=sys.stderr)
        if errors:
            return 1
    args.output.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    print(f"wrote {len(questions)} questions to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
