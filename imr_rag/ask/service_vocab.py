"""The service vocabulary: names of one service that mean the same thing (MRI / magnetic
resonance imaging, Norco / hydrocodone-acetaminophen), kept as data in
`imr_rag/data/service_synonyms.json` with its sources, and turned into FTS5 match expressions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from imr_rag.textutil import service_tokens

SYNONYMS_FILE = Path(__file__).parents[1] / "data" / "service_synonyms.json"


@dataclass(frozen=True)
class ServiceTerm:
    """One thing the service must name: any of `alternatives` (token sequences) will do."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    group: str | None = None  # the synonym group it came from, if any

    def fts(self) -> str:
        """An FTS5 expression: any alternative; a name of several words matches them close together
        in any order ("lidocaine patch" matches "Lidocaine 5% patch")."""
        return "(" + " OR ".join(_near(alt) for alt in self.alternatives) + ")"


def _near(words: tuple[str, ...]) -> str:
    quoted = " ".join(f'"{w}"' for w in words)
    return quoted if len(words) == 1 else f"NEAR({quoted}, {NEAR_WORDS})"


NEAR_WORDS = 3
"""Words that may stand between the words of a multi-word service name ("MRI of the lumbar spine")."""


@dataclass(frozen=True)
class Vocabulary:
    groups: dict[str, tuple[tuple[str, ...], ...]]  # group name -> every variant, as tokens
    by_variant: dict[tuple[str, ...], str]  # variant tokens -> group name
    longest: int

    def terms(self, tokens: list[str]) -> list[ServiceTerm]:
        """The question's service words as terms: a run of tokens that names a synonym group
        becomes one term with all the group's variants (longest run first); any other word is a
        term of its own."""
        terms: list[ServiceTerm] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                run = tuple(tokens[i : i + size])
                group = self.by_variant.get(run)
                if group is not None:
                    terms.append(ServiceTerm(" ".join(run), self.groups[group], group))
                    i += size
                    break
            else:
                terms.append(ServiceTerm(tokens[i], tuple((w,) for w in _forms(tokens[i]))))
                i += 1
        return terms


_PAIRED_ENDINGS = (("scopy", "scopic"), ("graphy", "graphic"), ("scopies", "scopic"), ("graphies", "graphic"))
"""A procedure's noun and adjective ('arthroscopy' / 'arthroscopic decompression', 'electromyography'
/ 'electromyographic'): one service either way."""


def _forms(word: str) -> tuple[str, ...]:
    for noun, adjective in _PAIRED_ENDINGS:
        if word.endswith(noun):
            return word, word[: -len(noun)] + adjective
        if word.endswith(adjective):
            return word, word[: -len(adjective)] + noun.removesuffix("ies").removesuffix("y") + "y"
    return (word,)


@lru_cache(maxsize=1)
def vocabulary(path: Path = SYNONYMS_FILE) -> Vocabulary:
    data = json.loads(path.read_text(encoding="utf-8"))
    own = {g["name"]: [tuple(service_tokens(v)) for v in g["variants"]] for g in data["groups"]}
    groups: dict[str, tuple[tuple[str, ...], ...]] = {}
    for g in data["groups"]:
        variants = list(own[g["name"]])
        for included in g.get("includes", []):
            variants += own[included]
        groups[g["name"]] = tuple(dict.fromkeys(v for v in variants if v))
    by_variant = {v: name for name, variants in own.items() for v in variants if v}
    return Vocabulary(groups, by_variant, max(len(v) for v in by_variant))


# Words that join a service's name without naming anything ("therapy for the knee").
JOINING_WORDS = frozenset("a an the of for to and with in on at or per".split())


def service_match(text: str) -> tuple[list[ServiceTerm], str]:
    """The terms of a service phrase and the FTS5 expression requiring all of them."""
    terms = vocabulary().terms([t for t in service_tokens(text) if t not in JOINING_WORDS])
    return terms, " AND ".join(t.fts() for t in terms)
