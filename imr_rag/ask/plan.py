"""The plan a question is read into: a small algebra that one general compiler turns into SQL.

A plan says which rows count (conditions on items and letters, a per-letter quantifier over its
items, a threshold on how many items a letter has), in which unit they are counted (items or
letters), what is computed over them (a measure: count, share, average, median, min, max,
earliest, latest, list), and how it is arranged (grouped by a key, ordered, top N, or one measure
per segment for a comparison). Three operations are not aggregates: a fact of one case, why an
item of a case was decided so, and a passage question (search).

Anything this algebra cannot express is not bent into the nearest plan: the reader says so.

Values are plain JSON types: dates ISO `yyyy-mm-dd` (inclusive bounds), outcomes as
`Determination` values, services as the vocabulary terms the reader linked them to.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from imr_rag.ask.fields import DATE_FIELDS, FIELDS, NUMBER_FIELDS

Op = Literal["eq", "in", "between", "ge", "gt", "le", "lt", "matches", "known"]
Unit = Literal["items", "letters"]
Aggregate = Literal["count", "share", "avg", "median", "min", "max", "earliest", "latest", "list"]
Operation = Literal["aggregate", "rank", "compare", "fact", "why", "passage"]


class Condition(BaseModel):
    """`field op value`, or its negation. Item fields condition items; letter fields condition
    letters (an item counts when its letter passes).

    ops: eq (one value), in (any of a list), between (value and value2, inclusive), ge/gt/le/lt
    (numbers and ISO dates), matches (service: any of the vocabulary terms in `value`, a list;
    their synonyms match too), known (the field has a value)."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="A key of imr_rag.ask.fields.FIELDS.")
    op: Op
    value: str | float | int | list[str] | None = None
    value2: str | float | int | None = Field(default=None, description="Upper bound of 'between'.")
    negate: bool = Field(default=False, description="Rows that do NOT satisfy the condition.")

    @model_validator(mode="after")
    def _valid(self) -> Condition:
        if self.field not in FIELDS:
            raise ValueError(f"unknown field {self.field!r}")
        if self.op == "between" and (self.value is None or self.value2 is None):
            raise ValueError("'between' needs value and value2")
        if self.op in ("in", "matches") and not isinstance(self.value, list):
            raise ValueError(f"{self.op!r} needs a list of values")
        return self


class Quantifier(BaseModel):
    """A condition on a letter over its items: every / some / none of its items satisfy `where`
    ("letters where every request was upheld", "cases with no overturned item")."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["every", "some", "none"]
    where: list[Condition]


class Threshold(BaseModel):
    """Letters whose number of items satisfying `where` (all items when empty) compares to `n`
    ("cases disputing at least four treatments": op ge, n 4)."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["eq", "ge", "gt", "le", "lt"]
    n: int
    where: list[Condition] = Field(default_factory=list)


class Measure(BaseModel):
    """What is computed over the counted rows.

    count: how many (in the plan's unit); share: the part of the rows satisfying `part` (x of n);
    avg/median/min/max of a number field or of a duration (`duration`: days from the first date
    field to the second, per letter); earliest/latest of a date field (the rows holding it are
    the answer's evidence); list: the rows themselves."""

    model_config = ConfigDict(extra="forbid")

    aggregate: Aggregate = "count"
    field: str | None = Field(default=None, description="Number or date field for avg/median/min/max/earliest/latest.")
    duration: tuple[str, str] | None = Field(default=None, description="(from date field, to date field).")
    part: list[Condition] = Field(default_factory=list, description="For share: which rows are the part.")

    @model_validator(mode="after")
    def _valid(self) -> Measure:
        if self.aggregate == "share" and not self.part:
            raise ValueError("a share needs the part whose share is wanted")
        if self.aggregate in ("avg", "median", "min", "max"):
            if (self.field is None) == (self.duration is None):
                raise ValueError(f"{self.aggregate} needs one number field or one duration")
            if self.field is not None and self.field not in NUMBER_FIELDS:
                raise ValueError(f"{self.field!r} is not a number field")
        if self.aggregate in ("earliest", "latest") and self.field not in DATE_FIELDS:
            raise ValueError(f"{self.aggregate} needs a date field")
        if self.duration is not None and not all(f in DATE_FIELDS for f in self.duration):
            raise ValueError("a duration runs between two date fields")
        return self


class GroupBy(BaseModel):
    """Group the counted rows by a field, or by the month/quarter/year of a date field."""

    model_config = ConfigDict(extra="forbid")

    field: str
    part: Literal["month", "quarter", "year"] | None = None


class Plan(BaseModel):
    """A question about the letters, as the compiler needs it."""

    model_config = ConfigDict(extra="forbid")

    operation: Operation = "aggregate"
    unit: Unit = Field(default="items", description="What is counted: disputed items or letters (cases).")
    where: list[Condition] = Field(default_factory=list, description="All must hold.")
    quantifier: Quantifier | None = None
    threshold: Threshold | None = None
    measure: Measure = Field(default_factory=Measure)
    group_by: GroupBy | None = Field(default=None, description="For rank: the key ranked.")
    order: Literal["desc", "asc"] = "desc"
    limit: int | None = Field(default=None, description="For rank: top N (ties at the cut are kept).")
    segments: list[list[Condition]] = Field(
        default_factory=list, description="For compare: the measure once per segment (each added to `where`)."
    )
    segment_labels: list[str] = Field(default_factory=list, description="How the answer names each segment.")
    which: bool = Field(default=False, description="For min/max/earliest/latest: the answer is the letters holding "
                        "the extreme value (\"which case waited longest\"), not only the value.")
    case_number: str | None = Field(default=None, description="For fact/why: the case.")
    fact: str | None = Field(default=None, description="For fact: the field asked for.")
    search: str | None = Field(default=None, description="For passage/why: the words to search the letters for.")
    yes_no: bool = Field(default=False, description="Asked as yes/no: the answer is whether the value is non-zero "
                         "(count > 0), or for a fact of an item whether its outcome is the one in `where`.")

    @model_validator(mode="after")
    def _valid(self) -> Plan:
        if self.operation == "rank" and self.group_by is None:
            raise ValueError("rank needs group_by")
        if self.operation == "compare" and len(self.segments) < 2:
            raise ValueError("compare needs two or more segments")
        if self.operation == "fact" and (self.fact not in FIELDS
                                         or (self.case_number is None and FIELDS[self.fact].level == "letter")):
            raise ValueError("fact needs a field, and a case number for a fact of a letter")
        return self

    def shown(self) -> dict:
        """The plan as an answer carries it (JSON, defaults left out but for what every plan
        says: its operation, its unit and its measure's aggregate)."""
        shown = self.model_dump(mode="json", exclude_defaults=True)
        shown.update(operation=self.operation, unit=self.unit)
        shown.setdefault("measure", {})["aggregate"] = self.measure.aggregate
        return shown
