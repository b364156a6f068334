"""What the reader hands on: a `Reading` (a plan, a question back or a refusal), and the
question split into its parts (`Parts`, `Word`). Plain data shared by reader.py and build.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from imr_rag.ask.plan import Plan
from imr_rag.ask.slots import Number, Period

DATE_FIELD_CHOICES = ["decision", "injury", "UR denial", "assigned", "application received"]


@dataclass
class Reading:
    """How a question was read. status plan: `plan` is set; clarify: `message` asks back with
    `choices`; refuse: `message` says what could not be read and why; unknown_service: the service
    phrase `unknown_phrase` linked to nothing (the engine searches the letters for it)."""

    status: Literal["plan", "clarify", "refuse", "unknown_service"]
    plan: Plan | None
    read_as: str
    message: str = ""
    choices: list[str] = field(default_factory=list)
    corrections: list[tuple[str, str]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    unknown_phrase: str | None = None
    suggestions: list[str] = field(default_factory=list)


@dataclass
class Word:
    text: str
    start: int
    end: int
    kind: str = ""  # slot kind, lexicon kind, 'service', 'unknown'
    value: object = None
    tail: bool = False
    """A later word of a multi-word lexicon phrase (its meaning is on the first word)."""




@dataclass
class Parts:
    """The question split into what it names (filled by `_collect`)."""

    cases: list[str] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    outcomes: list[tuple[str, bool]] = field(default_factory=list)  # (value, negated)
    fields: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    categories: list[tuple[str, bool]] = field(default_factory=list)
    guidelines: list[tuple[str, bool]] = field(default_factory=list)
    specialties: list[tuple[str, bool]] = field(default_factory=list)
    states: list[tuple[str, bool]] = field(default_factory=list)
    formats: list[tuple[str, bool]] = field(default_factory=list)
    sexes: list[str] = field(default_factory=list)
    priorities: list[tuple[str, bool]] = field(default_factory=list)
    values: list[tuple[tuple[str, str], bool]] = field(default_factory=list)
    """((field, value), negated) of the tabular fields of published determinations (DMHC rows):
    diagnosis and treatment category, review type, age range."""
    quants: list[str] = field(default_factory=list)
    cues: set[str] = field(default_factory=set)
    services: list[tuple[list[str], bool]] = field(default_factory=list)  # phrases (linked words), negated
    service_text: list[str] = field(default_factory=list)
    service_said: list[str] = field(default_factory=list)
    """Each service phrase as the question wrote it ('TENS unit', 'x-rays'): the labels of a comparison."""
    corrections: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[list[Word]] = field(default_factory=list)
    ambiguous: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    leftover_meaning: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    """Unknown words standing where no service stands: descriptive words the plan does not use
    (the reading line names them); next to a date they are time words and the reader refuses."""
    by_targets: list[object] = field(default_factory=list)
    """What each grouping word ('by', 'per', 'for each') is followed by: (kind, value) of the word."""

