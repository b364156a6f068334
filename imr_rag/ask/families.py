"""Service families: the one name a ranking groups an item's service under.

The catalog stores each item's service as the letter printed it ("MRI of the lumbar spine
without contrast", "Lumbar MRI"), so grouping by the exact text splits one service over its many
wordings. An item's family is the synonym group (imr_rag/data/service_synonyms.json, the same
table the reader links question words to) of the first group name its service names, the longest
name first at each word ('MARS MRI' before 'MRI'); a service naming no group is its own family
(its text, case-blind). A group another group includes belongs to the including one
('lidocaine patch' is 'lidocaine', EMG and nerve conduction are 'EMG/NCV'); a drug class
('opioid') includes its drugs for questions only, never as their family, and a body part
('lumbar spine') is no family. The compiler reaches this through the SQL function `service_family`,
registered on the catalog connection by `register`.
"""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache

from imr_rag.ask.service_vocab import JOINING_WORDS, SYNONYMS_FILE, vocabulary
from imr_rag.textutil import service_tokens

SQL_FUNCTION = "service_family"


@lru_cache(maxsize=65536)
def service_family(service: str | None) -> str | None:
    """The family name of one service text (None for no text)."""
    if not service or not service.strip():
        return None
    vocab = vocabulary()
    tokens = [t for t in service_tokens(service) if t not in JOINING_WORDS]
    for i in range(len(tokens)):
        for size in range(min(vocab.longest, len(tokens) - i), 0, -1):
            group = vocab.by_variant.get(tuple(tokens[i:i + size]))
            if group is not None and group not in _body_parts():
                return _broader().get(group, group)
    return " ".join(service.split())


@lru_cache(maxsize=1)
def _body_parts() -> frozenset[str]:
    """Groups naming a body part ('lumbar spine'): where a service is done, never what it is."""
    data = json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    return frozenset(g["name"] for g in data["groups"] if g.get("body_part"))


@lru_cache(maxsize=1)
def _broader() -> dict[str, str]:
    """Group -> the one group that includes it in the synonym table ('lidocaine patch' ->
    'lidocaine'): a family is the broadest name the table gives a service."""
    data = json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    owners: dict[str, list[str]] = {}
    for g in data["groups"]:
        if g.get("class"):  # a drug class is asked about, never a family: Norco ranks as Norco, not 'opioid'
            continue
        for included in g.get("includes", []):
            owners.setdefault(included, []).append(g["name"])
    return {k: v[0] for k, v in owners.items() if len(v) == 1}


def family_key(service: str | None) -> str | None:
    """The grouping key of a service: its family, case-blind."""
    family = service_family(service)
    return family.lower() if family else None


def register(db: sqlite3.Connection) -> None:
    """Make `service_family(text)` (the family name) and `service_family_key(text)` callable in SQL."""
    if not hasattr(db, "create_function"):  # a wrapper (tests record SQL through one): nothing to add
        return
    db.create_function(SQL_FUNCTION, 1, service_family, deterministic=True)
    db.create_function(SQL_FUNCTION + "_key", 1, family_key, deterministic=True)
