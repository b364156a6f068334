"""The web app's service layer, on a real Library in tmp_path (no gradio, no mocks)."""

from __future__ import annotations

import csv
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import SYNTHETIC_GOLD, SYNTHETIC_LETTERS, flagged_letter_text, make_settings
from imr_rag.faces.app_service import (
    TABLE_COLUMNS,
    AppService,
    bind_problem,
    escape_markdown,
    is_loopback,
    make_filters,
    parse_auth,
    row_matches,
)
from imr_rag.schema import AnswerFilters, Determination

LYRICA = "Was the request for Lyrica 75mg #60 upheld or overturned?"


class PassageText(HTMLParser):
    """Text inside <mark class="passage"> elements, and whether one of them has id="anchor"."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []
        self.anchor_in_passage = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mark":
            a = dict(attrs)
            is_passage = a.get("class") == "passage"
            self.stack.append(is_passage)
            if is_passage and a.get("id") == "anchor":
                self.anchor_in_passage = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if any(self.stack):
            self.parts.append(data)

    @classmethod
    def of(cls, fragment: str) -> PassageText:
        parser = cls()
        parser.feed(fragment)
        return parser


def gold_item_count() -> int:
    return sum(len(json.loads(p.read_text())["items"]) for p in SYNTHETIC_GOLD.glob("*.json"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    """An app service that seeded itself with the synthetic letters. Read-only for the tests."""
    if not SYNTHETIC_LETTERS.is_dir():
        pytest.skip("no synthetic letters in evals/fixtures/synthetic/letters")
    data_dir = tmp_path_factory.mktemp("app-service")
    svc = AppService(make_settings(data_dir))
    try:
        yield svc
    finally:
        svc.close()


# -- pure helpers ---------------------------------------------------------------------------
def test_make_filters_blank_and_any_mean_no_constraint() -> None:
    assert make_filters("any", "any", "", "  ", "") == AnswerFilters()
    f = make_filters("ca_dwc_imr", "overturned", "2022-01-01", "2022-12-31", " cm99-0000001 ")
    assert f.letter_format == "ca_dwc_imr"
    assert f.determination is Determination.overturned
    assert (f.date_from, f.date_to) == ("2022-01-01", "2022-12-31")
    assert f.case_number == "CM99-0000001"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date_from": "01/02/2022"}, "date from must be an ISO date"),
        ({"date_to": "2022-1-2"}, "date to must be an ISO date"),
        ({"date_from": "2023-01-01", "date_to": "2022-01-01"}, "is after date to"),
        ({"determination": "denied"}, "outcome must be one of"),
    ],
)
def test_make_filters_rejects_bad_values_with_a_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_filters(**kwargs)


def test_row_matches_dates_exclude_rows_without_a_date() -> None:
    row = {"case_number": "CM1", "letter_format": "tx_iro", "determination": "upheld", "decision_date": None}
    assert row_matches(row, AnswerFilters())
    assert not row_matches(row, AnswerFilters(date_from="2020-01-01"))
    dated = {**row, "decision_date": "2021-05-05"}
    assert row_matches(dated, AnswerFilters(date_from="2021-05-05", date_to="2021-05-05", case_number="cm1"))
    assert not row_matches(dated, AnswerFilters(determination=Determination.overturned))


def test_serving_beyond_loopback_needs_a_login() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    assert bind_problem("127.0.0.1", None) is None
    assert bind_problem("0.0.0.0", ("u", "p")) is None
    problem = bind_problem("0.0.0.0", None)
    assert problem and "--auth" in problem and "IMR_AUTH" in problem
    assert parse_auth("alice:s3:cret") == ("alice", "s3:cret")
    assert parse_auth(None) is None and parse_auth("  ") is None
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(ValueError, match="user:pass"):
            parse_auth(bad)


# -- the seeded service ---------------------------------------------------------------------
def test_first_start_seeds_the_sample_letters(service: AppService) -> None:
    seeded = service.seeded
    assert seeded is not None
    letters = [p for p in SYNTHETIC_LETTERS.iterdir() if p.is_file()]
    assert len(seeded.ingested) == len(letters)
    assert "dwc_cm99_0000001.txt" in seeded.extracted
    # The generic appeal letter is no IMR letter: it is kept, but cannot be extracted, and says why.
    reasons = {name: (stage, reason) for name, stage, reason in seeded.failures}
    assert reasons["appeal_letter_generic.txt"][0] == "extract"
    assert "no rules parser" in reasons["appeal_letter_generic.txt"][1]


def test_ask_answers_with_a_numbered_citation(service: AppService) -> None:
    markdown, sources = service.ask(LYRICA)
    assert "overturned" in markdown.lower()
    assert "[1]" in markdown
    first = sources[0]
    assert first["n"] == 1 and first["label"].startswith("[1] ")
    assert first["case_number"] == "CM99-0000001"
    text = service.library.catalog.document(first["doc_id"]).text
    assert text[first["start"]:first["end"]] == first["quote"]


def test_ask_without_a_question_asks_for_one(service: AppService) -> None:
    markdown, sources = service.ask("   ")
    assert "question" in markdown.lower()
    assert sources == []


def test_source_html_highlights_the_cited_passage_with_an_anchor(service: AppService) -> None:
    _, sources = service.ask(LYRICA)
    fragment = service.source_html(1)
    passage = PassageText.of(fragment)
    assert passage.anchor_in_passage
    assert "".join(passage.parts) == sources[0]["quote"]
    assert 'class="determination"' in fragment  # the extracted decision spans are shown too
    assert "CM99-0000001" in fragment
    by_span = service.source_html((sources[0]["doc_id"], sources[0]["start"], sources[0]["end"]))
    assert "".join(PassageText.of(by_span).parts) == sources[0]["quote"]


def test_source_html_refuses_what_it_cannot_show(service: AppService) -> None:
    service.ask(LYRICA)
    with pytest.raises(KeyError, match="no citation"):
        service.source_html(99)
    with pytest.raises(KeyError, match="no ingested document"):
        service.source_html(("0" * 16, 0, 5))
    doc_id = service.last_answer.citations[0].doc_id
    with pytest.raises(ValueError, match="outside the letter"):
        service.source_html((doc_id, 10, 10_000_000))


def test_decisions_table_has_one_row_per_disputed_item(service: AppService) -> None:
    rows = service.decisions_table()
    assert rows and all(tuple(r) == TABLE_COLUMNS for r in rows)
    assert len(rows) == gold_item_count()
    lyrica = [r for r in rows if r["service"] == "Lyrica 75mg #60"]
    assert lyrica == [
        {
            "case_number": "CM99-0000001", "decision_date": "2022-04-18", "item": 1,
            "determination": "overturned", "category": "medication", "service": "Lyrica 75mg #60",
            "guideline_sources": "MTUS", "file": "dwc_cm99_0000001.txt", "review": "",
        }
    ]


def test_decisions_filters(service: AppService) -> None:
    upheld = service.decisions_table(make_filters(determination="upheld"))
    assert upheld and all(r["determination"] == "upheld" for r in upheld)
    one_case = service.decisions_table(make_filters(case_number="cm99-0000001"))
    assert [r["service"] for r in one_case] == [
        "Lyrica 75mg #60", "TENS unit 30 day home trial", "MRI of the lumbar spine without contrast",
    ]
    in_2022 = service.decisions_table(make_filters(date_from="2022-01-01", date_to="2022-12-31"))
    assert in_2022 and all("2022-01-01" <= r["decision_date"] <= "2022-12-31" for r in in_2022)
    texas = service.decisions_table(make_filters(letter_format="tx_iro"))
    assert {r["file"] for r in texas} == {"tx_iro_upheld.txt", "tx_iro_overturned.txt", "tx_iro_partial.txt"}


def test_counts_and_chart_data_agree_with_the_table(service: AppService) -> None:
    rows = service.decisions_table()
    counts = service.outcome_counts()
    assert set(counts) == {"upheld", "overturned", "partially_overturned"}
    assert sum(counts.values()) == len(rows)
    assert counts["partially_overturned"] == 1
    bars = service.outcomes_by_category()
    assert sum(b["count"] for b in bars) == len(rows)
    assert {"category": "medication", "determination": "overturned"} in [
        {k: b[k] for k in ("category", "determination")} for b in bars
    ]
    only_upheld = service.outcome_counts(make_filters(determination="upheld"))
    assert only_upheld["overturned"] == 0 and only_upheld["upheld"] == counts["upheld"]


def test_the_table_reads_as_words_and_a_case_opens_its_letter_highlighted(service: AppService) -> None:
    from imr_rag.faces.app_service import TABLE_HEADERS, human_row

    assert all(" " in h or h.istitle() for h in TABLE_HEADERS.values()) and "_" not in "".join(TABLE_HEADERS.values())
    partial = next(r for r in service.decisions_table() if r["determination"] == "partially_overturned")
    assert "partially overturned" in human_row(partial)
    page = service.letter_html("cm99-0000001")
    assert "CM99-0000001" in page and 'id="anchor"' in page
    assert '<mark class="service"' in page and ">Lyrica 75mg #60<" in page
    knee = service.letter_html("", "dwc_knee_doublespaced.txt")  # a letter without a case number: by its file
    assert "dwc_knee_doublespaced.txt" in knee
    with pytest.raises(KeyError):
        service.letter_html("CM00-0000000")


def test_overturn_overview_follows_the_filters(service: AppService) -> None:
    from imr_rag.faces.app_service import overview_html

    everything = service.overturn_overview()
    items = len(service.decisions_table())
    for key in ("month", "category", "specialty"):
        assert sum(g["items"] for g in everything[key]) == items, key
    medication = next(g for g in everything["category"] if g["group"] == "medication")
    assert medication["rate"] == (medication["overturned"] + medication["partly"]) / medication["items"]
    months = [g["group"] for g in everything["month"] if g["group"] != "not stated"]
    assert months == sorted(months)
    upheld = service.overturn_overview(make_filters(determination="upheld"))
    assert all(g["rate"] == 0 for g in upheld["category"])
    page = overview_html(everything["month"], everything["category"], everything["specialty"])
    assert "By reviewer specialty" in page and "<script" not in page


def test_export_files_in_every_format(service: AppService) -> None:
    import pyarrow.parquet as pq

    total = len(service.decisions_table())
    path = service.export_file("csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == total
    assert {"doc_id", "case_number", "service", "determination", "rationale"} <= set(rows[0])
    lines = service.export_file("jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == total and json.loads(lines[0])["service"]
    assert pq.read_table(service.export_file("parquet")).num_rows == total
    filtered = service.export_file("csv", make_filters(case_number="CM99-0000001"))
    assert len(filtered.read_text(encoding="utf-8").splitlines()) == 1 + 3
    assert filtered != path  # each export gets its own file
    with pytest.raises(ValueError, match="format must be one of"):
        service.export_file("xlsx")


# -- starting again, and adding letters -----------------------------------------------------
def test_a_second_start_does_not_seed_again(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    shutil.copy(SYNTHETIC_LETTERS / "tx_iro_upheld.txt", letters)
    settings = make_settings(tmp_path / "data")
    with AppService(settings, sample_dir=letters) as first:
        assert first.seeded is not None and first.seeded.extracted == ["tx_iro_upheld.txt"]
    with AppService(settings, sample_dir=letters) as second:
        assert second.seeded is None
        assert len(second.decisions_table()) == 1


def test_upload_ingests_extracts_and_reports_each_failure(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = Path(shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", inbox))
    appeal = Path(shutil.copy(SYNTHETIC_LETTERS / "appeal_letter_generic.txt", inbox))
    empty = inbox / "empty.txt"
    empty.write_text("")
    fake_pdf = inbox / "scan.pdf"
    fake_pdf.write_bytes(b"this is not a pdf at all")
    calls: list[tuple[str, int, int]] = []
    settings = make_settings(tmp_path / "data")
    with AppService(settings, seed=False) as svc:
        assert svc.seeded is None and svc.decisions_table() == []
        summary = svc.upload([good, appeal, empty, fake_pdf], upload_root=inbox, progress=lambda *a: calls.append(a))
        assert sorted(summary.ingested) == ["appeal_letter_generic.txt", "dwc_cm99_0000001.txt"]
        assert summary.extracted == ["dwc_cm99_0000001.txt"] and summary.items == 3
        failures = {name: (stage, reason) for name, stage, reason in summary.failures}
        assert failures["empty.txt"] == ("ingest", "empty file")
        assert failures["scan.pdf"][0] == "ingest" and "not a PDF" in failures["scan.pdf"][1]
        assert failures["appeal_letter_generic.txt"][0] == "extract"
        assert "failed 3" in summary.message()
        assert {stage for stage, _, _ in calls} >= {"parse", "embed", "extract"}
        # The files were kept in the data folder, so the catalog does not point at a temp upload;
        # the copies of the files that could not be ingested were removed.
        kept = sorted(p.name for p in (settings.data_dir / "uploads").rglob("*") if p.is_file())
        assert kept == ["appeal_letter_generic.txt", "dwc_cm99_0000001.txt"]
        assert len(svc.decisions_table()) == 3
        again = svc.upload([good], upload_root=inbox)
        assert again.unchanged == ["dwc_cm99_0000001.txt"] and again.extracted == [] and again.failures == []
        markdown, sources = svc.ask(LYRICA)
        assert "overturned" in markdown.lower() and sources


def test_the_decisions_table_filters_items_that_need_review(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", inbox)
    (inbox / "odd.txt").write_text(flagged_letter_text("CM99-0000777"), encoding="utf-8")
    with AppService(make_settings(tmp_path / "data"), seed=False) as svc:
        svc.upload(sorted(inbox.iterdir()), upload_root=inbox)
        everything = svc.decisions_table()
        flagged = svc.decisions_table(needs_review=True)
        assert flagged and len(flagged) < len(everything)
        assert {r["case_number"] for r in flagged} == {"CM99-0000777"} and all(r["review"] for r in flagged)
        assert all(not r["review"] for r in everything if r["case_number"] == "CM99-0000001")
        assert svc.needs_review_count() == len(flagged) == sum(svc.outcome_counts(needs_review=True).values())
        assert svc.needs_review_count(make_filters(case_number="CM99-0000001")) == 0
        with open(svc.export_file("csv", needs_review=True), encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == len(flagged) and all(r["needs_review"] == "True" for r in rows)
        assert svc.stats()["decisions_flagged"] == 1


def test_upload_refuses_files_that_were_not_uploaded(tmp_path: Path) -> None:
    """A client can name any server-side path; only files in the upload folder are taken."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET: the server password is hunter2\n")
    settings = make_settings(tmp_path / "data")
    with AppService(settings, seed=False) as svc:
        sneaky = inbox / ".." / "secret.txt"  # inside the folder only by its spelling
        summary = svc.upload([secret, sneaky], upload_root=inbox)
        assert summary.ingested == [] and svc.stats()["documents"] == 0
        assert [(name, stage) for name, stage, _ in summary.failures] == [("secret.txt", "ingest")] * 2
        assert "not a file uploaded through this app" in summary.failures[0][2]
        markdown, _ = svc.ask("What is the server password?")
        assert "hunter2" not in markdown


def test_two_different_letters_with_one_name_are_both_kept(tmp_path: Path) -> None:
    """Identity is the content: a second `letter.txt` never replaces the first."""
    first, second = tmp_path / "up1", tmp_path / "up2"
    first.mkdir()
    second.mkdir()
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", first / "letter.txt")
    shutil.copy(SYNTHETIC_LETTERS / "tx_iro_upheld.txt", second / "letter.txt")
    settings = make_settings(tmp_path / "data")
    with AppService(settings, seed=False) as svc:
        one = svc.upload([first / "letter.txt"], upload_root=tmp_path)
        two = svc.upload([second / "letter.txt"], upload_root=tmp_path)
        both = svc.upload([first / "letter.txt", second / "letter.txt"], upload_root=tmp_path)
        assert one.ingested == ["letter.txt"] and two.ingested == ["letter.txt"]
        assert two.replaced == [] and both.replaced == [] and both.unchanged == ["letter.txt"] * 2
        assert svc.stats()["documents"] == 2 and svc.stats()["decisions"] == 2


def test_the_app_answers_from_letters_a_cli_ingest_added_while_it_runs(tmp_path: Path) -> None:
    """No restart needed: the app follows the indexes and decisions another process changed."""
    from helpers import run_cli

    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    shutil.copy(SYNTHETIC_LETTERS / "tx_iro_upheld.txt", first)
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", later)
    settings = make_settings(tmp_path / "data")
    with AppService(settings, sample_dir=first) as svc:
        markdown, _ = svc.ask(LYRICA)
        assert "CM99-0000001" not in markdown
        for command in (["ingest", str(later)], ["extract", str(later)]):
            result = run_cli(command, data_dir=settings.data_dir, cwd=tmp_path)
            assert result.returncode == 0, result.stderr
        markdown, sources = svc.ask(LYRICA)
        assert "overturned" in markdown.lower() and any(s["case_number"] == "CM99-0000001" for s in sources)
        hits = svc.library.search("Lyrica neuropathic pain", k=3, mode="lexical")
        assert hits and hits[0].case_number == "CM99-0000001"
        hits = svc.library.search("Lyrica neuropathic pain", k=3, mode="dense")
        assert hits and hits[0].case_number == "CM99-0000001"


def test_a_cited_passage_over_other_marks_is_one_outlined_element() -> None:
    from imr_rag.faces.highlight import Mark, highlight_fragment

    text = "Lyrica 75mg #60: Overturned. Next line."
    page = highlight_fragment(text, [Mark(0, 15, "item 1 service", "service"), Mark(17, 27, "d", "determination"),
                                     Mark(0, 27, "cited passage [1]", "passage")], anchor="cited passage [1]")
    assert page.count('class="passage"') == 1  # one outline around the whole span, last character included
    assert 'id="anchor">' in page and page.index('class="passage"') < page.index('class="service"')
    assert "Overturned</mark></mark>." in page


# -- a DMHC IMR determinations CSV through the Library tab ----------------------------------------
DMHC_ROWS = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "dmhc" / "rows.csv"


def dmhc_rows() -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the DMHC fixture (rows written in the published layout)."""
    with DMHC_ROWS.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def write_dmhc(path: Path, header: list[str], rows: list[list[str]], *, extra: str = "") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        fh.write(extra)
    return path


def test_throttled_progress_keeps_each_stage_s_first_and_last_call() -> None:
    from imr_rag.faces.uploads import throttled

    calls: list[tuple[str, int, int]] = []
    report = throttled(lambda *a: calls.append(a), seconds=60)
    for n in range(1, 42_701):
        report("parse", n, 42_700)
    report("embed", 0, 10)
    report("embed", 10, 10)
    assert calls == [("parse", 1, 42_700), ("parse", 42_700, 42_700), ("embed", 0, 10), ("embed", 10, 10)]


def test_upload_of_a_dmhc_csv_counts_rows_and_lists_each_failed_row(tmp_path: Path) -> None:
    from imr_rag.faces.uploads import TableTally

    header, rows = dmhc_rows()
    refs = [r[header.index("ReferenceID")] for r in rows]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # The fixture's rows, then a row with columns missing and a row with empty findings.
    bad = (f"MN24-70001,2024,Orth/Musculoskeletal,Back Pain\r\n"
           + ",".join(["MN24-70002", "2024", *["x"] * (len(header) - 3), '"  "']) + "\r\n")
    export = write_dmhc(inbox / "dmhc-2024.csv", header, rows, extra=bad)
    calls: list[tuple[str, int, int]] = []
    settings = make_settings(tmp_path / "data")
    with AppService(settings, seed=False) as svc:
        summary = svc.upload([export], upload_root=inbox, progress=lambda *a: calls.append(a))
        assert summary.tables == [TableTally("dmhc-2024.csv", added=len(rows), failed=2)]
        assert summary.ingested == [] and summary.rows_extracted == len(rows)
        n = len(rows)
        assert summary.failures == [
            (f"dmhc-2024.csv row {n + 1}", "ingest",
             "missing columns: " + ", ".join(header[4:]) + f" (line {_line_of(export, 'MN24-70001')}, MN24-70001)"),
            (f"dmhc-2024.csv row {n + 2}", "ingest", f"empty findings (line {_line_of(export, 'MN24-70002')}, MN24-70002)"),
        ]
        assert summary.message().split("  \n") == [
            f"{escape_markdown('dmhc-2024.csv')}: {n} rows added, 0 already present, 0 revised, 2 failed",
            f"extracted {n} rows"]  # the name as Markdown text: it reads as typed
        # Progress came as the rows were read, counted against every row of the file.
        parse = [(done, total) for stage, done, total in calls if stage == "parse"]
        assert parse[0][1] == n + 2 and parse[-1] == (n + 2, n + 2)
        assert {stage for stage, _, _ in calls} >= {"parse", "embed"}
        # Every row is a case of the decisions table, and the export is kept as what they were read from.
        assert {r["case_number"] for r in svc.decisions_table()} == set(refs)
        assert [p.name for p in (settings.data_dir / "uploads").rglob("*.csv")] == ["dmhc-2024.csv"]

        # The same export again: every row already present; a newer one revises one row.
        assert svc.upload([export], upload_root=inbox).tables[0] == TableTally(
            "dmhc-2024.csv", present=n, failed=2)
        findings = header.index("Findings")
        revised = [list(r) for r in rows]
        revised[0][findings] = revised[0][findings].replace("Findings:", "Findings: On second review,", 1)
        newer = write_dmhc(inbox / "dmhc-2025.csv", header, revised)
        again = svc.upload([newer], upload_root=inbox)
        assert again.tables == [TableTally("dmhc-2025.csv", present=n - 1, revised=1)] and again.failures == []
        assert again.message().split("  \n") == [
            f"{escape_markdown('dmhc-2025.csv')}: 0 rows added, {n - 1} already present, 1 revised, 0 failed",
            "extracted 1 rows"]
        assert svc.stats()["documents"] == n + 1 and svc.stats()["decisions"] == n


def _line_of(path: Path, reference_id: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if line.startswith(reference_id))


def test_upload_of_a_csv_of_another_layout_is_refused_with_the_cli_s_reason(tmp_path: Path, capsys) -> None:
    from imr_rag.faces.uploads import TableTally
    from imr_rag.faces.cli import main

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    other = inbox / "claims.csv"
    other.write_text("case,outcome,date\nCM16-1,Upheld,2016-01-01\n", encoding="utf-8")
    letter = Path(shutil.copy(SYNTHETIC_LETTERS / "tx_iro_upheld.txt", inbox))
    settings = make_settings(tmp_path / "data")
    with AppService(settings, seed=False) as svc:
        summary = svc.upload([other, letter], upload_root=inbox)
        assert summary.tables == [TableTally("claims.csv", refused=True)]
        [(name, stage, reason)] = summary.failures
        assert (name, stage) == ("claims.csv", "ingest")
        assert reason.startswith("not the DMHC IMR layout: expected columns ReferenceID, ReportYear")
        assert summary.message().split("  \n") == [
            "ingested 1, replaced 0, unchanged 0, extracted 1 (1 items), failed 0",
            f"{escape_markdown('claims.csv')}: not read, see Failures", "extracted 0 rows"]
        assert [p.name for p in (settings.data_dir / "uploads").rglob("*") if p.is_file()] == ["tx_iro_upheld.txt"]
    assert main(["--data-dir", str(tmp_path / "cli"), "--quiet", "ingest", "--no-embed", str(other)]) == 1
    assert f"FAILED {other}: {reason}\n" in capsys.readouterr().err
