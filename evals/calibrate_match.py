"""Measure the two thresholds of the answer engine's service matching on the fixtures.

    python evals/calibrate_match.py

Builds a library (parse stage only) of the synthetic letters and, when present, the 25 dev
letters, then prints for
- every "was the request for <service> ..." question: the match score of the right item
  (must clear `chat.MATCH_THRESHOLD`) and the share of the service's weight no letter uses;
- the plain-words dev questions (paraphrases): that share (must stay at or below
  `chat.UNMENTIONED_SHARE`, so they still reach the dense fallback);
- services no fixture letter mentions: the best score of any item (must stay below
  MATCH_THRESHOLD) and the unmentioned share (must be above UNMENTIONED_SHARE).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evals.cases import shared_dir  # noqa: E402
from imr_rag.catalog_query import CatalogQuery  # noqa: E402
from imr_rag.chat import MATCH_THRESHOLD, PARAPHRASE_SIMILARITY, UNMENTIONED_SHARE, ChatEngine  # noqa: E402
from imr_rag.extract.service import ExtractionService  # noqa: E402
from imr_rag.library import Library  # noqa: E402
from imr_rag.question_parser import parse_question  # noqa: E402
from imr_rag.schema import AnswerFilters  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

SYNTHETIC = REPO / "evals" / "fixtures" / "synthetic"
DEV_QUESTIONS = REPO / "evals" / "fixtures" / "dwc-dev" / "questions.jsonl"
# Services that no fixture letter mentions (checked below against every letter's text).
ABSENT_SERVICES = [
    "hyperbaric oxygen therapy", "stem cell injection", "gastric bypass surgery", "cochlear implant",
    "hearing aids", "dental implants", "LASIK eye surgery", "chemotherapy", "dialysis", "insulin pump",
    "CPAP machine", "prosthetic leg", "ketamine infusion", "massage chair", "hot tub", "gym membership",
    "bone growth stimulator", "Suboxone", "medical marijuana", "hypnotherapy", "spinal fusion revision",
    "biofeedback therapy", "vestibular rehabilitation", "Botox injection", "Ambien 10mg",
    "deep brain stimulation", "ozone injection", "laser therapy", "prolotherapy injections",
    "craniosacral therapy",
]


def quotes(lines: list[dict], kinds: tuple[str, ...]) -> list[dict]:
    return [q for q in lines if q["kind"] in kinds]


def main() -> None:
    folders = [SYNTHETIC / "letters"]
    shared = shared_dir()
    dev = shared / "corpus" / "dwc-dev" if shared else None
    questions = [json.loads(x) for x in (SYNTHETIC / "questions.jsonl").read_text().splitlines() if x.strip()]
    if dev and dev.is_dir():
        folders.append(dev)
        questions += [json.loads(x) for x in DEV_QUESTIONS.read_text().splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp, Library(Settings(_env_file=None, data_dir=Path(tmp))) as lib:
        lib.ingest(folders)
        docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
        list(ExtractionService(lib.settings, lib.catalog, "rules").run(iter(docs), len(docs)))
        engine = ChatEngine(lib, lib.settings)
        texts = " ".join(" ".join(d.text.lower().split()) for d in lib.catalog.documents())
        positives, paraphrases, negatives = [], [], []
        for q in questions:
            parsed = parse_question(q["question"], engine.context(lib.known_case_number(q["question"])))
            service = parsed.service
            share = engine.unmentioned_share(service) if service else 0.0
            if q["kind"] == "determination":
                scored = engine.best_matches(service, CatalogQuery(returns="decision"), AnswerFilters(), q["question"], 0.0)
                right = [s for item, s in scored if Path(item.source).name in q["expected_source_files"]]
                positives.append((max(right, default=0.0), share, q["question"]))
            elif q["id"].startswith("dev-r"):
                paraphrases.append((share, dense(lib, q["question"]), q["question"]))
        for service in ABSENT_SERVICES:
            words = re.findall(r"[a-z0-9]+", service.lower())
            assert not re.search(r"\b" + r"\s+".join(words) + r"\b", texts), f"a fixture letter mentions {service}"
            scored = engine.best_matches(service, CatalogQuery(returns="decision"), AnswerFilters(), "", 0.0)
            question = f"Was the request for {service} upheld or overturned?"
            negatives.append((max((s for _, s in scored), default=0.0), engine.unmentioned_share(service),
                              dense(lib, question), service))
    print(f"{len(positives)} item questions: right-item score min {min(p[0] for p in positives):.3f} "
          f"(threshold {MATCH_THRESHOLD}); unmentioned share max {max(p[1] for p in positives):.3f}")
    for score, share, text in sorted(positives)[:5]:
        print(f"   lowest: {score:.3f} share {share:.2f}  {text}")
    for share, cosine, text in sorted(paraphrases, reverse=True):
        print(f"   paraphrase: unmentioned share {share:.3f}, dense cosine {cosine:.3f}  {text}")
    print(f"{len(negatives)} absent services: best item score max {max(n[0] for n in negatives):.3f} "
          f"(threshold {MATCH_THRESHOLD}); unmentioned share min {min(n[1] for n in negatives):.3f} "
          f"(threshold {UNMENTIONED_SHARE}); dense cosine max {max(n[2] for n in negatives):.3f} "
          f"(paraphrase threshold {PARAPHRASE_SIMILARITY})")
    for score, share, cosine, text in sorted(negatives, key=lambda n: n[1])[:8]:
        print(f"   absent: share {share:.3f}, best item score {score:.3f}, cosine {cosine:.3f}  {text}")
    refused = [n for n in negatives if n[0] < MATCH_THRESHOLD and n[1] > UNMENTIONED_SHARE and n[2] < PARAPHRASE_SIMILARITY]
    kept = [p for p in paraphrases if p[0] <= UNMENTIONED_SHARE or p[1] >= PARAPHRASE_SIMILARITY]
    print(f"with the current thresholds: item questions matched {sum(p[0] >= MATCH_THRESHOLD for p in positives)}"
          f"/{len(positives)}, absent services refused {len(refused)}/{len(negatives)}, paraphrases passed on to "
          f"the passage search {len(kept)}/{len(paraphrases)}")


def dense(lib: Library, question: str) -> float:
    hits = lib.search(question, k=1, mode="dense")
    return hits[0].score if hits else 0.0


if __name__ == "__main__":
    main()
