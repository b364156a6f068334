"""Attack: a forged letter must not silently replace a real decision, and a case number must be
read as the case it imitates however it was typed (reliability round 3, item 2).

Tested at the CLI and answer level (what a user sees), so the tests survive the chat rebuild."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from helpers import synthetic_letter
from imr_rag.faces import cli

CASE = "CM99-0000001"
LETTER = "dwc_cm99_0000001.txt"  # Lyrica 75mg #60: Overturned, TENS unit: Overturned, lumbar MRI: Upheld


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("IMR_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("IMR_DATA_DIR", str(tmp_path / "data"))


def run(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def forged(text: str) -> str:
    """The attack as found: the case number in lower case, a later decision date, outcomes flipped."""
    flipped = (text.replace(f"Case Number: {CASE}", f"Case Number: {CASE.lower()}")
               .replace("Decision Date: 04/18/2022", "Decision Date: 06/30/2022")
               .replace(": Overturned", ": @@").replace(": Upheld", ": Overturned").replace(": @@", ": Upheld"))
    assert flipped.count(": Upheld") == 2 and flipped.count(": Overturned") == 1
    return flipped


def ingest(capsys, *paths: Path) -> None:
    code, out = run(capsys, "ingest", "--no-embed", "--extract", *map(str, paths))
    assert code == 0, out


def overturned_count(capsys) -> tuple[int, dict]:
    code, out = run(capsys, "ask", "--json", "How many requests were overturned?")
    assert code == 0, out
    answer = json.loads(out)
    return answer["counted_total"], answer


def exported(capsys, tmp_path: Path) -> list[dict]:
    target = tmp_path / "items.csv"
    code, out = run(capsys, "export", "--format", "csv", "--level", "item", "--output", str(target))
    assert code == 0, out
    with target.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["case_number"] == CASE]


def test_a_forged_later_letter_is_a_conflict_and_never_changes_the_numbers_by_itself(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    original = folder / "original.txt"
    original.write_text(synthetic_letter(LETTER).read_text(encoding="utf-8"), encoding="utf-8")
    ingest(capsys, original)
    before, _ = overturned_count(capsys)
    assert before == 2
    rows_before = exported(capsys, tmp_path)

    forgery = folder / "forgery.txt"
    forgery.write_text(forged(original.read_text(encoding="utf-8")), encoding="utf-8")
    ingest(capsys, forgery)

    # The numbers, the export and `show` still read the letter stored first...
    after, answer = overturned_count(capsys)
    assert after == before
    assert exported(capsys, tmp_path) == rows_before
    code, out = run(capsys, "show", CASE.lower(), "--output", str(tmp_path / "shown.html"))
    assert code == 0 and "original.txt" in (tmp_path / "shown.html").read_text(encoding="utf-8")
    # ...the answer says the case has conflicting letters...
    assert any("conflicting letters" in n and CASE in n for n in answer["notes"]), answer["notes"]
    # ...and `review` names both files.
    code, out = run(capsys, "review", "--json")
    conflicts = [f for f in json.loads(out)["flags"] if f["check"] == "case_conflict"]
    assert len(conflicts) == 1 and conflicts[0]["case_number"] == CASE
    assert "forgery.txt" in conflicts[0]["reason"] and "original.txt" in conflicts[0]["reason"]

    # A person chooses: now the other letter counts, everywhere, and the conflict is settled.
    code, out = run(capsys, "review", "--keep", CASE.lower(), "forgery.txt")
    assert code == 0 and "forgery.txt now counts" in out, out
    assert overturned_count(capsys)[0] == 1
    assert {r["determination"] for r in exported(capsys, tmp_path)} == {"upheld", "overturned"}
    assert sum(r["determination"] == "overturned" for r in exported(capsys, tmp_path)) == 1
    run(capsys, "show", CASE, "--output", str(tmp_path / "shown.html"))
    assert "forgery.txt" in (tmp_path / "shown.html").read_text(encoding="utf-8")
    code, out = run(capsys, "review", "--json", "--check", "case_conflict")
    assert json.loads(out)["flags"] == []

    # A name that is not one of the case's letters is refused, naming the letters.
    code, out = run(capsys, "review", "--keep", CASE, "nothing.txt")
    assert code == 1 and "original.txt" in out and "forgery.txt" in out


LOOK_ALIKES = {
    "lower-case": CASE.lower(),
    "full-width": "ＣＭ９９－００００００１",
    "zero-width space": "CM99-00000\u200b01",
    "non-breaking hyphen": "CM99\u20110000001",
    "minus sign": "CM99\u22120000001",
    "Cyrillic letters": "\u0421\u041c99-0000001",
    "Greek letter": "C\u039c99-0000001",
}


def test_look_alike_case_numbers_are_the_same_case_and_the_same_decision(capsys, tmp_path: Path) -> None:
    """Copies of one letter whose case number is printed with look-alike characters are the same
    decision read from other files: one case, not a new one, not truncated, not a conflict."""
    folder = tmp_path / "letters"
    folder.mkdir()
    text = synthetic_letter(LETTER).read_text(encoding="utf-8")
    for n, (name, number) in enumerate(LOOK_ALIKES.items()):
        (folder / f"{n}-{name.replace(' ', '-')}.txt").write_text(
            text.replace(f"Case Number: {CASE}", f"Case Number: {number}"), encoding="utf-8")
    ingest(capsys, folder)
    code, out = run(capsys, "stats", "--json")
    stats = json.loads(out)
    assert stats["documents"] == len(LOOK_ALIKES) and stats["decisions"] == 1, stats
    rows = exported(capsys, tmp_path)
    assert len(rows) == 3
    code, out = run(capsys, "review", "--json", "--check", "case_conflict")
    assert json.loads(out)["flags"] == []
    assert overturned_count(capsys)[0] == 2


@pytest.mark.parametrize("typed", list(LOOK_ALIKES.values()), ids=list(LOOK_ALIKES))
def test_look_alike_case_numbers_in_questions_and_filters_find_the_case(typed: str, capsys, tmp_path: Path) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "letter.txt").write_text(synthetic_letter(LETTER).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "other.txt").write_text(synthetic_letter("dwc_cm99_0000002.txt").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    ingest(capsys, folder)
    code, out = run(capsys, "ask", "--json", f"What was decided for Lyrica in case {typed}?")
    answer = json.loads(out)
    assert code == 0 and "overturned" in answer["answer"].lower(), answer["answer"]
    assert {c["case_number"] for c in answer["citations"]} == {CASE}
    code, out = run(capsys, "ask", "--json", "--case-number", typed, "How many requests were overturned?")
    assert json.loads(out)["counted_total"] == 2


def test_the_app_lists_conflicts_and_a_person_chooses_there(tmp_path: Path) -> None:
    """The app's review view and the CLI follow one rule: the app lists the disagreeing letter and
    its choice changes what counts in the table."""
    from helpers import make_settings
    from imr_rag.faces.app_service import AppService

    folder = tmp_path / "letters"
    folder.mkdir()
    original = folder / "original.txt"
    original.write_text(synthetic_letter(LETTER).read_text(encoding="utf-8"), encoding="utf-8")
    with AppService(make_settings(tmp_path / "appdata"), seed=False) as service:
        service.add_paths([original], backend="rules")
        forgery = folder / "forgery.txt"
        forgery.write_text(forged(original.read_text(encoding="utf-8")), encoding="utf-8")
        service.add_paths([forgery], backend="rules")
        assert service.case_conflicts() == [{"case_number": CASE, "counts": "original.txt", "disagrees": "forgery.txt"}]
        assert sum(r["determination"] == "overturned" for r in service.item_rows()) == 2
        assert "not" in service.keep_letter(CASE, "nothing.txt").lower()
        assert service.keep_letter(CASE.lower(), "forgery.txt") == f"{CASE}: forgery.txt now counts."
        assert service.case_conflicts() == []
        assert sum(r["determination"] == "overturned" for r in service.item_rows()) == 1
