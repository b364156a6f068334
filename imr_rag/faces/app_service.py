"""The one service the web app calls: answers with sources, letters with highlights, the decisions table.

No gradio here. The app (app.py) only turns widget values into calls on `AppService` and its
results into widgets, so everything the UI shows can be tested without a browser.

On first start with an empty catalog the bundled synthetic letters are ingested and extracted
(rules backend) so the app has something to answer from out of the box.
"""

from __future__ import annotations

import html
import ipaddress
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imr_rag.catalog.export import FORMATS, table, write_table
from imr_rag.errors import ImrError, redact
from imr_rag.faces.highlight import Mark, decision_marks, highlight_fragment, legend_html
from imr_rag.filters import answer_filters, describe_filters
from imr_rag.faces.markdown import escape_markdown
from imr_rag.faces.uploads import UploadSummary, add_letters, add_tables, file_digest, throttled
from imr_rag.ingest.tabular import is_table
from imr_rag.layout import sample_letters
from imr_rag.library import Library
from imr_rag.schema import Answer, AnswerFilters, Citation, Determination
from imr_rag.settings import Settings
from imr_rag.textutil import normalize_case_number

SAMPLE_LETTERS = sample_letters()
DETERMINATIONS = tuple(d.value for d in Determination)
ANY = "any"

# The item-table columns the app shows; exports carry every column of export.table.
TABLE_COLUMNS = (
    "case_number", "decision_date", "item", "determination", "category", "service", "guideline_sources",
    "file", "review",
)
# What a person reads at the top of each column of the app's table (the exports keep the field names).
TABLE_HEADERS = {
    "case_number": "Case", "decision_date": "Decided", "item": "Item", "determination": "Outcome",
    "category": "Category", "service": "Service in dispute", "guideline_sources": "Guidelines",
    "file": "File", "review": "Needs review because",
}
# Column widths that keep the longest word of each column whole at 1440 px ("CM16-0232543",
# "overturned", "medication"); the service takes what is left.
TABLE_WIDTHS = {
    "case_number": "118px", "decision_date": "98px", "item": "52px", "determination": "106px",
    "category": "98px", "service": "360px", "guideline_sources": "98px", "file": "160px", "review": "120px",
}
OUTCOME_COLOURS = {"upheld": "#c0392b", "overturned": "#27ae60", "partially_overturned": "#f39c12"}
# The cited passage is outlined once around its whole span (highlight_fragment keeps it one element).
PASSAGE_STYLE = "<style>.letter-view mark.passage{outline:2px solid #c2185b;outline-offset:1px}</style>"

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total), as the library reports it."""

SourceRef = int | Citation | tuple[str, int, int]
"""A passage to show: a citation number of the last answer, a Citation, or (doc id, start, end)."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


# -- pure helpers -------------------------------------------------------------------------
def make_filters(
    letter_format: str | None = None,
    determination: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    case_number: str | None = None,
) -> AnswerFilters:
    """Filters from widget values; blank or 'any' means no constraint. A value that cannot apply
    (2017-02-30, an unknown outcome) raises InvalidFilter, checked as the CLI checks it."""

    def value(raw: str | None) -> str | None:
        text = (raw or "").strip()
        return None if not text or text.lower() == ANY else text

    return answer_filters(
        letter_format=value(letter_format), determination=value(determination), date_from=value(date_from),
        date_to=value(date_to), case_number=value(case_number),
    )


def filters_line(filters: AnswerFilters | None) -> str:
    """'Filters: ...' naming every filter an answer or table was computed with ('' for none)."""
    described = describe_filters(filters) if filters else ""
    return f"Filters: {described}" if described else ""


def row_matches(row: dict, filters: AnswerFilters) -> bool:
    """Whether an item row (export.table level 'item') passes the filters."""
    if filters.case_number and (row.get("case_number") or "").upper() != filters.case_number.upper():
        return False
    if filters.letter_format and row.get("letter_format") != filters.letter_format:
        return False
    if filters.determination and row.get("determination") != filters.determination.value:
        return False
    date = row.get("decision_date")
    if filters.date_from and (not date or date < filters.date_from):
        return False
    if filters.date_to and (not date or date > filters.date_to):
        return False
    return True


def display_row(row: dict) -> dict:
    """The columns of TABLE_COLUMNS from a full item row."""
    return {
        "case_number": row["case_number"],
        "decision_date": row["decision_date"],
        "item": row["item_index"] + 1,
        "determination": row["determination"],
        "category": row["category"],
        "service": row["service"],
        "guideline_sources": row["guideline_sources"],
        "file": Path(row["source"]).name,
        "review": row["review_reasons"],
    }


def human_row(row: dict) -> list:
    """A display_row as the app's table shows it: the outcome in words, blanks for None."""
    shown = {
        **row,
        "determination": row["determination"].replace("_", " "),
    }
    return [shown[c] if shown[c] is not None else "" for c in TABLE_COLUMNS]


def overturn_rows(rows: list[dict], key: Callable[[dict], str | None]) -> list[dict]:
    """Overturn rates of item rows grouped by `key`: [{group, items, overturned, partly, rate}].

    `rate` counts items overturned in full or in part; an item without a value for the key is
    grouped under 'not stated'.
    """
    groups: dict[str, Counter] = {}
    for r in rows:
        groups.setdefault(key(r) or "not stated", Counter())[r["determination"]] += 1
    out = []
    for group, c in groups.items():
        items = sum(c.values())
        out.append({"group": group, "items": items, "overturned": c["overturned"],
                    "partly": c["partially_overturned"],
                    "rate": (c["overturned"] + c["partially_overturned"]) / items})
    return out


def _bar(share: float, colour: str) -> str:
    return (f'<span class="imr-bar" style="width:{max(share, 0) * 100:.1f}%;background:{colour}"></span>')


def overview_html(by_month: list[dict], by_category: list[dict], by_specialty: list[dict]) -> str:
    """Three small tables of overturn rates (month, item category, reviewer specialty), each
    with a bar scaled to 100%, so every axis fits whatever the data are. Pure HTML, no script."""

    def table(title: str, rows: list[dict]) -> str:
        if not rows:
            return f'<div class="imr-panel"><h4>{title}</h4><p class="imr-empty">No items.</p></div>'
        body = "".join(
            f"<tr><th scope='row'>{html.escape(r['group'])}</th>"
            f"<td class='imr-num'>{r['overturned'] + r['partly']} of {r['items']}</td>"
            f"<td class='imr-rate'><span class='imr-track'>{_bar(r['rate'], '#27ae60')}</span>"
            f"<span class='imr-pct'>{r['rate']:.0%}</span></td></tr>"
            for r in rows
        )
        return (f'<div class="imr-panel"><h4>{title}</h4><table class="imr-rates"><thead><tr><th>'
                f'</th><th class="imr-num">overturned</th><th>rate</th></tr></thead><tbody>{body}</tbody></table></div>')

    return (
        '<div class="imr-overview">'
        + table("By month decided", by_month)
        + table("By item category", by_category)
        + table("By reviewer specialty", by_specialty)
        + "</div><p class='imr-note'>Overturned = overturned in full or in part; the filters above apply.</p>"
    )


def outcome_bars_html(by_category: list[dict]) -> str:
    """Outcomes by service category as horizontal stacked bars, the longest bar the full width."""
    totals: dict[str, Counter] = {}
    for r in by_category:
        totals.setdefault(r["category"], Counter())[r["determination"]] = r["count"]
    if not totals:
        return "<p class='imr-empty'>No items.</p>"
    widest = max(sum(c.values()) for c in totals.values())
    rows = "".join(
        f"<div class='imr-stack-row'><span class='imr-label'>{html.escape(category)}</span>"
        f"<span class='imr-stack'>"
        + "".join(
            f"<span class='imr-seg' title='{det.replace('_', ' ')}: {c[det]}' "
            f"style='width:{c[det] / widest * 100:.2f}%;background:{OUTCOME_COLOURS[det]}'></span>"
            for det in DETERMINATIONS if c[det]
        )
        + f"</span><span class='imr-total'>{sum(c.values())}</span></div>"
        for category, c in totals.items()
    )
    legend = " ".join(
        f"<span class='imr-key'><span class='imr-swatch' style='background:{colour}'></span>{det.replace('_', ' ')}</span>"
        for det, colour in OUTCOME_COLOURS.items()
    )
    return f"<div class='imr-chart'><h4>Outcomes by service category</h4>{rows}<p class='imr-legend'>{legend}</p></div>"


def source_label(c: Citation, width: int = 90) -> str:
    """One line naming a cited passage: number, letter, section and the start of the quote."""
    where = c.case_number or Path(c.source).name
    quote = " ".join(c.quote.split())
    if len(quote) > width:
        quote = quote[: width - 1].rstrip() + "…"
    section = f" · {c.section}" if c.section else ""
    return f"[{c.n}] {where}{section} — “{quote}”"


def answer_markdown(answer: Answer) -> str:
    """The answer text (with its [n] markers), escaped, and a one-line note of how it was produced.

    The answer quotes letters, and letters are untrusted text: only the note is markdown of ours.
    """
    note = f"*{answer.mode} answer · {answer.kind} · {len(answer.citations)} cited passage(s)*"
    lines = answer.text.strip().splitlines()
    body = "  \n".join(escape_markdown(line.rstrip()) for line in lines)  # keep its line breaks
    notes = "".join(f"\n\n> **Note:** {escape_markdown(n)}" for n in answer.notes)
    return f"{body}{notes}{counted_table(answer)}\n\n{note}"


COUNTED_ROWS_SHOWN = 1000


def counted_table(answer: Answer) -> str:
    """Every item a count or share counted, as a table under the answer (folded)."""
    if not answer.counted:
        return ""
    cell = lambda v: escape_markdown(str(v if v is not None else ""))  # noqa: E731  (letter text; "|" too)
    rows = "".join(
        f"\n| {cell(c.case_number or c.doc_id)} | {cell(c.decision_date)} | {cell(c.service)} | "
        f"{cell(c.determination.replace('_', ' '))} |"
        for c in answer.counted[:COUNTED_ROWS_SHOWN]
    )
    more = max(answer.counted_total, len(answer.counted)) - min(len(answer.counted), COUNTED_ROWS_SHOWN)
    tail = f"\n\n{more} more rows: `imr-rag ask --json` lists them all." if more > 0 else ""
    return (f"\n\n<details><summary>All {max(answer.counted_total, len(answer.counted))} counted items</summary>\n\n"
            f"| case | decided | service | outcome |\n|---|---|---|---|{rows}{tail}\n\n</details>")


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(raw: str | None) -> tuple[str, str] | None:
    """'user:pass' -> (user, pass); None or blank -> None; anything else raises ValueError."""
    if raw is None or not raw.strip():
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must be given as user:pass (both non-empty)")
    return user, password


def bind_problem(host: str, auth: tuple[str, str] | None) -> str | None:
    """Why serving on `host` with `auth` is refused, or None when it is allowed."""
    if not is_loopback(host) and auth is None:
        return (
            f"refusing to serve on non-loopback host {host!r} without a login: pass --auth user:pass "
            "or set IMR_AUTH=user:pass (or bind 127.0.0.1)"
        )
    return None


@dataclass
class ChatResult:
    """What the chat tab shows for one question."""

    markdown: str
    sources: list[dict]
    answer: Answer | None = None


# -- the service --------------------------------------------------------------------------
class AppService:
    """Library + answer engine built once; every method the web app needs.

    A lock serialises catalog access: the app calls in from several worker threads, and all
    of them share one SQLite connection.
    """

    def __init__(self, settings: Settings, *, seed: bool = True, sample_dir: Path = SAMPLE_LETTERS):
        self.settings = settings
        self.library = Library(settings)
        self._lock = threading.RLock()
        self._export_dir = Path(tempfile.mkdtemp(prefix="imr-rag-export-"))
        self.last_answer: Answer | None = None
        self._item_table: tuple[tuple, list[dict]] | None = None
        self.seeded: UploadSummary | None = None
        if seed and self.library.catalog.stats()["documents"] == 0 and sample_dir.is_dir():
            self.seeded = self.add_paths([sample_dir], backend="rules")
        from imr_rag.ask.engine import Asker

        self.engine = Asker(self.library, settings)

    def close(self) -> None:
        self.library.close()
        shutil.rmtree(self._export_dir, ignore_errors=True)

    def __enter__(self) -> AppService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- chat ---------------------------------------------------------------------------
    def ask(
        self, question: str, history: list[tuple[str, str]] | None = None, filters: AnswerFilters | None = None
    ) -> tuple[str, list[dict]]:
        """(answer markdown with [n] markers, cited passages for the sources panel)."""
        result = self.ask_full(question, history, filters)
        return result.markdown, result.sources

    def ask_full(
        self, question: str, history: list[tuple[str, str]] | None = None, filters: AnswerFilters | None = None
    ) -> ChatResult:
        question = (question or "").strip()
        if not question:
            return ChatResult("Type a question about the decision letters.", [])
        try:
            with self._lock:
                answer = self.engine.answer(question, history=history or None, filters=filters)
                answer.notes += self.library.take_notices()
        except ImrError as exc:  # the LLM endpoint failed or kept answering invalid citations
            return ChatResult(f"**Could not answer:** {escape_markdown(redact(str(exc), self.settings.secrets()))}", [])
        self.last_answer = answer
        sources = [
            {**c.model_dump(), "label": source_label(c)} for c in sorted(answer.citations, key=lambda c: c.n)
        ]
        applied = filters_line(filters)  # the reader sees what the answer was restricted to
        markdown = answer_markdown(answer) + (f"\n\n**{escape_markdown(applied)}**" if applied else "")
        return ChatResult(markdown, sources, answer)

    # -- a letter with its cited passage ------------------------------------------------
    def source_html(self, ref: SourceRef) -> str:
        """The whole letter as an HTML fragment: the cited passage marked 'passage' with
        id="anchor" (to scroll to), and the extracted decision spans marked by kind."""
        doc_id, start, end, n = self._resolve_ref(ref)
        label = f"cited passage [{n}]" if n is not None else "cited passage"
        return self._letter_html(doc_id, passage=(start, end, label))

    def letter_html(self, case_number: str | None, file_name: str | None = None) -> str:
        """A letter picked from the decisions table (its case number, or its file name when it has
        none), with every extracted span highlighted and the first item scrolled to."""
        case = (case_number or "").strip().upper()
        name = (file_name or "").strip()
        for r in self.item_rows():
            if (case and (r["case_number"] or "").upper() == case) or (not case and Path(r["source"]).name == name):
                return self._letter_html(r["doc_id"])
        raise KeyError(f"no letter in the table for {case_number or file_name!r}")

    def _letter_html(self, doc_id: str, passage: tuple[int, int, str] | None = None) -> str:
        with self._lock:
            doc = self.library.catalog.document(doc_id)
            decision = self.library.catalog.decision(doc_id) if doc else None
        if doc is None:
            raise KeyError(f"no ingested document {doc_id!r}")
        marks = decision_marks(decision) if decision else []
        anchor = marks[0].label if marks else None
        if passage is not None:
            start, end, anchor = passage
            if not 0 <= start < end <= len(doc.text):
                raise ValueError(f"span {start}-{end} is outside the letter ({len(doc.text)} characters)")
            marks = [*marks, Mark(start, end, anchor, "passage")]
        title = f"{doc.case_number or doc.doc_id} — {Path(doc.path).name}"
        legend = legend_html(with_passage=passage is not None)
        return (
            f'{PASSAGE_STYLE}<div class="letter-view"><h3 style="margin:0 0 .3em;overflow-wrap:anywhere">'
            f'{html.escape(title)}</h3><p style="margin:0 0 .5em;font-size:.9em">{legend}</p>'
            f'<div id="letter-scroll" style="max-height:34em;overflow-y:auto;border:1px solid #ccc;'
            f'padding:.6em;background:#fff;color:#111;overflow-wrap:anywhere">'
            f"{highlight_fragment(doc.text, marks, anchor=anchor)}</div></div>"
        )

    def _resolve_ref(self, ref: SourceRef) -> tuple[str, int, int, int | None]:
        if isinstance(ref, Citation):
            return ref.doc_id, ref.start, ref.end, ref.n
        if isinstance(ref, int):
            cited = {c.n: c for c in (self.last_answer.citations if self.last_answer else [])}
            if ref not in cited:
                raise KeyError(f"the last answer has no citation [{ref}]")
            c = cited[ref]
            return c.doc_id, c.start, c.end, c.n
        doc_id, start, end = ref
        return doc_id, int(start), int(end), None

    # -- cases whose letters disagree -----------------------------------------------------
    def case_conflicts(self) -> list[dict]:
        """Each letter that disagrees with the one that counts for its case (`review`'s rule)."""
        with self._lock:
            return [{"case_number": c.case_number, "counts": Path(c.path).name, "disagrees": Path(other).name}
                    for c in self.library.catalog.case_conflicts() for _doc, other in c.others]

    def keep_letter(self, case_number: str, file: str) -> str:
        """A person's choice: `file` is the letter that counts for its case. The message to show."""
        from imr_rag.extract.review import keep_version

        with self._lock, self.library.writing("catalog"):
            try:
                kept = keep_version(self.library.catalog, case_number, file)
            except ValueError as exc:
                return f"Not changed: {exc}"
        return f"{normalize_case_number(case_number)}: {Path(kept).name} now counts."

    # -- decisions ------------------------------------------------------------------------
    def item_rows(self, filters: AnswerFilters | None = None, *, needs_review: bool = False) -> list[dict]:
        """Every column of the item-level export, filtered (with `needs_review`, flagged items only)."""
        with self._lock:
            version = self.library.catalog.decisions_version()
            if self._item_table is None or self._item_table[0] != version:
                # One refresh of the Decisions tab asks for the table, the counts and the chart:
                # parse the stored decisions once per change, not once per widget.
                self._item_table = (version, table(self.library.catalog.decisions(), "item"))
            rows = self._item_table[1]
        wanted = filters or AnswerFilters()
        return [r for r in rows if row_matches(r, wanted) and (r["needs_review"] or not needs_review)]

    def decisions_table(self, filters: AnswerFilters | None = None, *, needs_review: bool = False) -> list[dict]:
        """One row per disputed item, TABLE_COLUMNS only."""
        return [display_row(r) for r in self.item_rows(filters, needs_review=needs_review)]

    def outcome_counts(self, filters: AnswerFilters | None = None, *, needs_review: bool = False) -> dict[str, int]:
        counts = Counter(r["determination"] for r in self.item_rows(filters, needs_review=needs_review))
        return {d: counts.get(d, 0) for d in DETERMINATIONS}

    def needs_review_count(self, filters: AnswerFilters | None = None) -> int:
        """How many of the filtered items need review."""
        return len(self.item_rows(filters, needs_review=True))

    def outcomes_by_category(self, filters: AnswerFilters | None = None, *, needs_review: bool = False) -> list[dict]:
        """[{category, determination, count}] for a grouped bar chart, largest categories first."""
        counts = Counter((r["category"], r["determination"]) for r in self.item_rows(filters, needs_review=needs_review))
        totals = Counter()
        for (category, _), n in counts.items():
            totals[category] += n
        return [
            {"category": category, "determination": det, "count": counts[(category, det)]}
            for category in sorted(totals, key=lambda c: (-totals[c], c))
            for det in DETERMINATIONS
            if counts[(category, det)]
        ]

    def overturn_overview(self, filters: AnswerFilters | None = None, *, needs_review: bool = False) -> dict:
        """Overturn rates of the filtered items by month decided (oldest first), by item category
        and by reviewer specialty (most items first)."""
        rows = self.item_rows(filters, needs_review=needs_review)
        by_count = lambda groups: sorted(groups, key=lambda g: (-g["items"], g["group"]))
        return {
            "month": sorted(overturn_rows(rows, lambda r: (r["decision_date"] or "")[:7]),
                            key=lambda g: (g["group"] == "not stated", g["group"])),
            "category": by_count(overturn_rows(rows, lambda r: r["category"])),
            "specialty": by_count(overturn_rows(rows, lambda r: r["reviewer_specialty"])),
        }

    def export_file(self, fmt: str, filters: AnswerFilters | None = None, *, needs_review: bool = False) -> Path:
        """Write the item table (all columns, filtered) as csv/jsonl/parquet in a temp folder."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
        # A folder per call: concurrent sessions never write the same file.
        path = Path(tempfile.mkdtemp(dir=self._export_dir)) / f"imr-decisions-items.{fmt}"
        write_table(self.item_rows(filters, needs_review=needs_review), fmt, path)
        return path

    def stats(self) -> dict:
        with self._lock:
            return self.library.stats()

    # -- adding letters -------------------------------------------------------------------
    def upload(
        self, paths: list[Path | str], *, upload_root: Path, progress: Progress = _no_progress
    ) -> UploadSummary:
        """Ingest and extract files that arrived through the web server's upload folder.

        Only files inside `upload_root` (where the web server itself stores what a browser sent)
        are accepted: a client can name any server-side path in its request, and taking it would
        expose every letter-like file the server can read. Each accepted file is copied into the
        data folder under its content hash, so two different letters that share a name are two
        letters and the same bytes sent twice are one; the copy of a file that could not be
        ingested is removed again (of a table, the copy made now when none of its rows was new).
        """
        uploads = self.settings.data_dir / "uploads"
        root = upload_root.resolve()
        kept: list[Path] = []
        copied: set[Path] = set()
        refused: list[tuple[str, str, str]] = []
        for raw in paths:
            src = Path(raw)
            resolved = src.resolve()
            if not resolved.is_relative_to(root) or not resolved.is_file():
                refused.append((src.name, "ingest", "refused: not a file uploaded through this app"))
                continue
            dest = uploads / file_digest(resolved)[:16] / src.name
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(resolved, dest)
                copied.add(dest)
            kept.append(dest)
        summary = self.add_paths(kept, progress=progress) if kept else UploadSummary()
        summary.failures[:0] = refused
        # A table's rows are documents of their own (the catalog holds their text): its copy is
        # kept when this upload stored rows from it, as the file they were read from.
        tables = [dest for dest in kept if is_table(dest)]
        rows_from = {dest: False for dest in tables}
        for dest, tally in zip(tables, summary.tables):
            rows_from[dest] |= bool(tally.added or tally.revised)
        for dest in kept:
            unused = (dest in copied and not rows_from[dest]) if is_table(dest) else (
                self.library.catalog.doc_for_path(str(dest)) is None)
            if unused:
                shutil.rmtree(dest.parent, ignore_errors=True)
        return summary

    def add_paths(
        self, paths: list[Path], *, backend: str | None = None, progress: Progress = _no_progress
    ) -> UploadSummary:
        """Ingest (with embedding) and extract files or folders already on disk. A DMHC IMR
        determinations CSV is one document per row, extracted by the rules parser as it is read
        (the published wording is what that parser reads; an LLM backend would be one call per row
        of a 42,700-row file): `imr-rag extract --backend ...` re-extracts its rows on request."""
        summary = UploadSummary()
        progress = throttled(progress)
        letters = [Path(p) for p in paths if not is_table(p)]
        tables = [Path(p) for p in paths if is_table(p)]
        with self._lock:
            if letters:
                add_letters(self.library, letters, backend, summary, progress)
            if tables:
                add_tables(self.library, tables, summary, progress)
        return summary
