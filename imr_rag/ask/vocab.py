"""What the reader knows about THIS library, loaded once per catalog generation: the services of
its items (and the synonym table), specialties, case numbers, categories, guideline families,
letter formats, states of licensure and the newest decision date.

Service words are linked against `service_words` (every token of an item service or of a synonym
variant, with how many items use it); a word not among them may be a typo of exactly one of them
(see slots.correct_word)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass

from imr_rag.ask.function_words import FUNCTION_WORDS
from imr_rag.ask.service_vocab import vocabulary as synonym_vocabulary
from imr_rag.textutil import service_tokens


@dataclass(frozen=True)
class Vocabulary:
    """Everything the reader links question words to (all lower-case unless said)."""

    services: tuple[str, ...]
    """Distinct service strings of the current items, as printed."""
    service_words: dict[str, int]
    """Service token (plural-blind) -> number of items whose service holds it; synonym variant
    tokens count 0 when no item uses them (still linkable: the compiler matches synonyms)."""
    synonym_groups: dict[tuple[str, ...], str]
    """Synonym variant (tokens) -> group name ('pt' -> 'physical therapy')."""
    longest_synonym: int
    specialties: tuple[str, ...]
    """Single specialties (the catalog's strings split at commas)."""
    specialty_strings: tuple[str, ...]
    """The catalog's full reviewer_specialty strings."""
    case_numbers: frozenset[str]
    categories: tuple[str, ...]
    guideline_families: tuple[str, ...]
    letter_formats: tuple[str, ...]
    states: tuple[str, ...]
    """States of licensure named in the letters."""
    priorities: tuple[str, ...]
    table_values: dict[str, tuple[str, ...]]
    """Values of the published determinations' fields (TABLE_FIELDS) present in the catalog."""
    newest_decision_date: str | None

    def is_service_word(self, token: str) -> bool:
        return token in self.service_words

    def specialty_strings_with(self, specialty: str) -> list[str]:
        """The catalog's full specialty strings that hold `specialty` as one of their parts."""
        want = _norm_specialty(specialty)
        return [s for s in self.specialty_strings if want in {_norm_specialty(p) for p in s.split(",")}]


TABLE_FIELDS = ("diagnosis_category", "diagnosis_subcategory", "treatment_category", "treatment_subcategory",
                "review_type", "age_range")
"""Fields of a published determination whose values a question may name ('Mental Disorder')."""


def _norm_specialty(text: str) -> str:
    return " ".join(text.lower().replace("&", "and").replace("orthopaedic", "orthopedic").split())


def load_vocabulary(db: sqlite3.Connection) -> Vocabulary:
    """Read the vocabulary from the catalog (items, decisions) and the synonym table."""
    services = tuple(r[0] for r in db.execute("SELECT DISTINCT service FROM items ORDER BY service"))
    counts: Counter[str] = Counter()
    for (service, n) in db.execute("SELECT service, COUNT(*) FROM items GROUP BY service"):
        for tok in set(service_tokens(service)):
            if tok not in FUNCTION_WORDS and not tok.isdigit() and len(tok) > 1:
                counts[tok] += n
    counts.setdefault("x", 0)  # 'x-ray' splits into 'x' 'ray'
    syn = synonym_vocabulary()
    for variant in syn.by_variant:
        for tok in variant:
            if tok not in FUNCTION_WORDS and len(tok) > 1:
                counts.setdefault(tok, 0)
    strings = tuple(r[0] for r in db.execute(
        "SELECT DISTINCT reviewer_specialty FROM decisions WHERE reviewer_specialty IS NOT NULL ORDER BY 1"))
    singles = sorted({p.strip() for s in strings for p in s.split(",") if p.strip()})
    guidelines: set[str] = set()
    for (raw,) in db.execute("SELECT DISTINCT guideline_sources FROM items"):
        try:
            guidelines.update(json.loads(raw or "[]"))
        except ValueError:
            continue
    states: set[str] = set()
    priorities: set[str] = set()
    for (lic, pri) in db.execute(
            "SELECT json_extract(record, '$.reviewer.licensure'), json_extract(record, '$.priority') FROM decisions"):
        if lic:
            try:
                states.update(s for s in json.loads(lic) if isinstance(s, str))
            except ValueError:
                pass
        if pri:
            priorities.add(pri)
    return Vocabulary(
        services=services,
        service_words=dict(counts),
        synonym_groups=dict(syn.by_variant),
        longest_synonym=syn.longest,
        specialties=tuple(singles),
        specialty_strings=strings,
        case_numbers=frozenset(r[0].upper() for r in db.execute(
            "SELECT DISTINCT case_number FROM decisions WHERE case_number IS NOT NULL")),
        categories=tuple(r[0] for r in db.execute("SELECT DISTINCT category FROM items ORDER BY 1")),
        guideline_families=tuple(sorted(guidelines | {"MTUS", "ODG", "ACOEM"})),
        letter_formats=tuple(r[0] for r in db.execute("SELECT DISTINCT letter_format FROM decisions ORDER BY 1")),
        states=tuple(sorted(states)),
        priorities=tuple(sorted(priorities)),
        table_values={f: tuple(r[0] for r in db.execute(
            f"SELECT DISTINCT {f} FROM decisions WHERE {f} IS NOT NULL AND superseded_by IS NULL ORDER BY 1"))
            for f in TABLE_FIELDS},
        newest_decision_date=db.execute("SELECT MAX(decision_date) FROM decisions").fetchone()[0],
    )
