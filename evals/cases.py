"""Fixture sets as data: letters (paths) + gold records + optional questions.

A fixture set is a folder holding gold JSON records (in `gold/` or directly in the folder), each
naming its letter by `source_file`, and optionally `questions.jsonl`. A table set (`dmhc`) names
rows instead: `source_csv` and `reference_id`, one gold record per row of a DMHC IMR determinations
CSV; its `letters` are the rows' names (FILE.csv#REFERENCEID) and its `tables` the CSVs. Letters are looked up in
the set's own `letters/` folder first, then under the letter roots (the shared folder): as
`<root>/<set name>/<file>`, `<root>/corpus/<set name>/<file>` or `<root>/<file>`. So the committed
synthetic set carries its letters, while `dwc-dev` and `seeds` point at the real letters in
`../shared` (or $IMR_SHARED_DIR) without copying them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from imr_rag.layout import is_checkout

EVALS_DIR = Path(__file__).resolve().parent
FIXTURES_DIR = EVALS_DIR / "fixtures"
REPO_ROOT = EVALS_DIR.parent
DEFAULT_SET = "synthetic"
SHARED_SETS = ("dwc-dev", "seeds")  # committed gold whose letters live in the shared folder
TABLE_SETS = ("dmhc",)  # committed gold of table rows: written rows here, real rows in the shared folder


class FixtureError(Exception):
    """A fixture folder or file is missing or malformed (a usage error for the CLI)."""


@dataclass(frozen=True)
class Question:
    """One question with what a good retrieval / answer must contain."""

    id: str
    question: str
    kind: str  # determination | case | count | passage
    expected_case_numbers: tuple[str, ...] = ()
    expected_source_files: tuple[str, ...] = ()
    expected_determination: str | None = None
    expected_count: int | None = None
    expected_quote: str | None = None

    @classmethod
    def from_dict(cls, data: dict, fallback_id: str) -> Question:
        return cls(
            id=str(data.get("id") or fallback_id),
            question=data["question"],
            kind=data.get("kind") or "passage",
            expected_case_numbers=tuple(data.get("expected_case_numbers") or ()),
            expected_source_files=tuple(data.get("expected_source_files") or ()),
            expected_determination=data.get("expected_determination"),
            expected_count=data.get("expected_count"),
            expected_quote=data.get("expected_quote"),
        )


@dataclass
class FixtureSet:
    """Letters with their gold records, and the questions asked about them."""

    name: str
    root: Path
    letters: list[Path] = field(default_factory=list)  # letters found, each with a gold record
    gold: dict[str, dict] = field(default_factory=dict)  # letter file name -> gold record
    questions: list[Question] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # gold source files whose letter is absent
    tables: list[Path] = field(default_factory=list)  # a table set's CSVs (its letters are their rows)

    def ingest_paths(self) -> list[Path]:
        """What to ingest for this set: its letters, or a table set's CSVs."""
        return list(self.tables) if self.tables else list(self.letters)

    def describe(self) -> dict:
        out = {
            "name": self.name,
            "root": str(self.root),
            "letters": len(self.letters),
            "missing_letters": len(self.missing),
            "questions": len(self.questions),
        }
        if self.tables:
            out["tables"] = [str(t) for t in self.tables]
        return out


def shared_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The shared letters folder: $IMR_SHARED_DIR, else ../shared next to the repository (a checkout)."""
    env = (os.environ if environ is None else environ).get("IMR_SHARED_DIR")
    if not env and not is_checkout():
        return None
    path = Path(env) if env else REPO_ROOT.parent / "shared"
    return path if path.is_dir() else None


def _gold_files(folder: Path) -> list[Path]:
    base = folder / "gold" if (folder / "gold").is_dir() else folder
    return sorted(p for p in base.glob("*.json") if p.is_file())


def is_fixture_set(folder: Path) -> bool:
    if (folder / "gold").is_dir() or (folder / "questions.jsonl").is_file():
        return True
    for path in _gold_files(folder)[:3]:
        try:
            if "source_file" in json.loads(path.read_text(encoding="utf-8")):
                return True
        except (OSError, ValueError):
            continue
    return False


def is_letter_root(folder: Path) -> bool:
    """A shared folder of real letters (seeds/, corpus/) rather than a fixture set."""
    return (folder / "seeds").is_dir() or (folder / "corpus").is_dir()


def read_questions(path: Path) -> list[Question]:
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            questions.append(Question.from_dict(json.loads(line), f"{path.parent.name}-{n}"))
        except (ValueError, KeyError) as exc:
            raise FixtureError(f"{path}:{n}: not a question record ({exc})") from exc
    return questions


def _find_letter(name: str, set_folder: Path, set_name: str, letter_roots: list[Path]) -> Path | None:
    candidates = [set_folder / "letters" / name]
    for root in letter_roots:
        candidates += [root / set_name / name, root / "corpus" / set_name / name, root / name]
    return next((c.resolve() for c in candidates if c.is_file()), None)


def _find_table(name: str, set_folder: Path, set_name: str, letter_roots: list[Path]) -> Path | None:
    """A table set's CSV: in the set's folder (the written rows), else in the shared corpus."""
    candidates = [set_folder / name, set_folder / "letters" / name]
    for root in letter_roots:
        candidates += [root / set_name / name, *sorted((root / "corpus").glob(f"*/{name}")), root / name]
    return next((c.resolve() for c in candidates if c.is_file()), None)


def _add_row(fixture: FixtureSet, record: dict, folder: Path, letter_roots: list[Path]) -> None:
    name, reference = record["source_csv"], record["reference_id"]
    table = _find_table(name, folder, fixture.name, letter_roots)
    if table is None:
        fixture.missing.append(f"{name}#{reference}")
        return
    if table not in fixture.tables:
        fixture.tables.append(table)
    row = Path(f"{table}#{reference}")  # the name ingest gives the row's document
    fixture.letters.append(row)
    fixture.gold[row.name] = record


def load_fixture_set(folder: Path, letter_roots: list[Path]) -> FixtureSet:
    folder = folder.resolve()
    fixture = FixtureSet(name=folder.name, root=folder)
    for path in _gold_files(folder):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise FixtureError(f"{path}: not valid JSON ({exc})") from exc
        if isinstance(record, dict) and "source_csv" in record and "reference_id" in record:
            _add_row(fixture, record, folder, letter_roots)
            continue
        if not isinstance(record, dict) or "source_file" not in record:
            continue
        name = record["source_file"]
        letter = _find_letter(name, folder, fixture.name, letter_roots)
        if letter is None:
            fixture.missing.append(name)
            continue
        fixture.letters.append(letter)
        fixture.gold[letter.name] = record
    if (folder / "questions.jsonl").is_file():
        found = set(fixture.gold)
        fixture.questions = [
            q for q in read_questions(folder / "questions.jsonl")
            if not q.expected_source_files or found.intersection(q.expected_source_files)
        ]
    return fixture


def resolve_fixture_sets(
    dirs: list[Path] | None, shared: Path | None, *, tables: bool = False
) -> tuple[list[FixtureSet], list[str]]:
    """The fixture sets to evaluate, and notes on what was skipped.

    No dirs: the synthetic set, plus dwc-dev and seeds when the shared folder is present, plus
    with `tables` the DMHC table set (its written rows, and its real rows when the shared folder
    is present). Each given dir may be a fixture set, a folder of fixture sets, or a shared
    letters folder (which brings in the committed dwc-dev and seeds gold with letters from there).
    Without `tables` (callers that read letters only) table sets are left out.
    """
    letter_roots = [shared] if shared else []
    folders: list[Path] = []
    if not dirs:
        folders.append(FIXTURES_DIR / DEFAULT_SET)
        if shared:
            folders += [FIXTURES_DIR / name for name in SHARED_SETS]
        if tables:
            folders += [FIXTURES_DIR / name for name in TABLE_SETS]
    for d in dirs or []:
        if not d.is_dir():
            raise FixtureError(f"no such fixtures folder: {d}")
        if is_fixture_set(d):
            folders.append(d)
        elif children := [c for c in sorted(d.iterdir()) if c.is_dir() and is_fixture_set(c)]:
            folders += children
        elif is_letter_root(d):
            letter_roots.insert(0, d)
            folders += [FIXTURES_DIR / name for name in SHARED_SETS]
        else:
            raise FixtureError(
                f"{d} is neither a fixture set (gold/*.json or *.json with source_file), a folder of "
                "fixture sets, nor a shared letters folder (seeds/, corpus/)"
            )
    sets, notes, seen = [], [], set()
    for folder in folders:
        key = folder.resolve()
        if key in seen:
            continue
        seen.add(key)
        fixture = load_fixture_set(folder, letter_roots)
        if fixture.tables and not tables:
            continue
        if fixture.missing:
            notes.append(
                f"{fixture.name}: {len(fixture.missing)} of {len(fixture.missing) + len(fixture.letters)}"
                " letters not found (set IMR_SHARED_DIR or pass the shared folder with --fixtures)"
            )
        if fixture.letters:
            sets.append(fixture)
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise FixtureError(f"two fixture sets share a folder name: {sorted(names)}")
    return sets, notes
