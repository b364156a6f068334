"""The web app: Gradio widgets over `imr_rag.faces.app_service.AppService`. No logic of its own.

Run it with `imr-rag serve` (binds 127.0.0.1:7860; any other host needs --auth or IMR_AUTH), or
`python app.py [--host H] [--port P] [--auth user:pass]`, which goes through the same command.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from imr_rag.faces.app_service import (  # noqa: E402
    ANY,
    DETERMINATIONS,
    OUTCOME_COLOURS,
    TABLE_COLUMNS,
    TABLE_HEADERS,
    TABLE_WIDTHS,
    AppService,
    display_row,
    escape_markdown,
    filters_line,
    human_row,
    make_filters,
    outcome_bars_html,
    overview_html,
)
from imr_rag.faces.tabular_view import (  # noqa: E402
    ROW_COLUMNS,
    ROW_HEADERS,
    ROW_WIDTHS,
    has_table_rows,
    label_order,
    outcomes_by,
    row_values,
)
from imr_rag.errors import InvalidFilter  # noqa: E402
from imr_rag.filters import letter_formats  # noqa: E402
from imr_rag.schema import AnswerFilters, Citation  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

EMPTY_LETTER = "<p style='color:#666'>Click a source to read it, highlighted, in its letter.</p>"
SCROLL_TO_ANCHOR = """() => { setTimeout(() => {
  const el = document.querySelector('#letter-view #anchor');
  if (el) el.scrollIntoView({block: 'center'});
}, 150); }"""
EMPTY_TABLE_LETTER = "<p style='color:#666'>Click a row of the table to read its letter, every extracted span highlighted.</p>"
HEADERS = [TABLE_HEADERS[c] for c in TABLE_COLUMNS]
DMHC_HEADERS = HEADERS + [ROW_HEADERS[c] for c in ROW_COLUMNS]  # when the items hold DMHC table rows
WIDTHS = [TABLE_WIDTHS[c] for c in TABLE_COLUMNS]
DMHC_WIDTHS = WIDTHS + [ROW_WIDTHS[c] for c in ROW_COLUMNS]
CHART_COLOURS = {k.replace("_", " "): v for k, v in OUTCOME_COLOURS.items()}
SCROLL_TO_TABLE_LETTER = """() => { setTimeout(() => {
  const el = document.querySelector('#table-letter .letter-view');
  if (el) el.scrollIntoView({block: 'start'});
  const box = document.querySelector('#table-letter #letter-scroll');
  const first = document.querySelector('#table-letter #anchor');
  if (box && first) box.scrollTop = first.offsetTop - box.offsetTop - 40;
}, 150); }"""
CSS = """
#answer {min-height: 4em}
#sources label {white-space: normal}
/* whole words in the table: break lines at spaces only, never inside a word or a case number */
#decisions-table .body-cell, #decisions-table .body-cell *, #decisions-table th, #decisions-table th * {
  word-break: normal !important; overflow-wrap: normal !important; hyphens: none; font-family: var(--font)}
/* file names are not words: they may break anywhere (the 8th column) */
#decisions-table .virtual-row > .body-cell:nth-child(8), #decisions-table .virtual-row > .body-cell:nth-child(8) * {
  overflow-wrap: anywhere !important}
.imr-overview {display: grid; grid-template-columns: repeat(auto-fit, minmax(17em, 1fr)); gap: 1em}
.imr-panel h4, .imr-chart h4 {margin: 0 0 .4em}
.imr-rates {width: 100%; border-collapse: collapse; font-size: .92em}
.imr-rates th, .imr-rates td {padding: .15em .4em !important; text-align: left; vertical-align: middle;
  border: 0 !important; border-bottom: 1px solid #eee !important; background: none !important}
.imr-rates th[scope=row] {font-weight: normal; overflow-wrap: break-word; hyphens: auto}
.imr-num {white-space: nowrap; text-align: right !important}
.imr-rate {width: 40%; min-width: 6em; white-space: nowrap}
.imr-track {display: inline-block; width: calc(100% - 3.2em); height: .8em; background: #e8e8e8;
  vertical-align: middle; border-radius: 2px; overflow: hidden}
.imr-bar {display: block; height: 100%}
.imr-pct {display: inline-block; width: 3em; text-align: right}
.imr-stack-row {display: flex; align-items: center; gap: .5em; margin: .2em 0}
.imr-label {flex: 0 0 6.5em; overflow-wrap: anywhere}
.imr-stack {flex: 1 1 auto; display: flex; height: 1.1em; min-width: 0}
.imr-seg {display: block; height: 100%}
.imr-total {flex: 0 0 2em; text-align: right}
.imr-key {margin-right: 1em; white-space: nowrap}
.imr-swatch {display: inline-block; width: .8em; height: .8em; margin-right: .3em}
.imr-note, .imr-legend, .imr-empty {font-size: .9em; color: #555}
"""

def build_app(service: AppService) -> gr.Blocks:
    """The three tabs (Chat, Decisions, Library) wired to the service."""
    with gr.Blocks(title="IMR decision letters") as demo:
        gr.Markdown("## IMR decision letters\nAsk about the letters, read the cited passages, export the decisions.")
        history = gr.State([])
        cited = gr.State([])

        with gr.Accordion("Filters (chat answers and the decisions table)", open=False, elem_id="filters"):
            with gr.Row():
                letter_format = gr.Dropdown([ANY, *letter_formats()], value=ANY, label="Letter format", elem_id="filter-format")
                outcome = gr.Dropdown([ANY, *DETERMINATIONS], value=ANY, label="Outcome", elem_id="filter-outcome")
                date_from = gr.Textbox(label="Decided on or after", placeholder="yyyy-mm-dd", elem_id="filter-date-from")
                date_to = gr.Textbox(label="Decided on or before", placeholder="yyyy-mm-dd", elem_id="filter-date-to")
                case_number = gr.Textbox(label="Case number", placeholder="e.g. CM16-0232543", elem_id="filter-case")
            filter_note = gr.Markdown(elem_id="filter-note")
        filter_inputs = [letter_format, outcome, date_from, date_to, case_number]

        with gr.Tabs():
            with gr.Tab("Chat", elem_id="tab-chat"):
                with gr.Row():
                    with gr.Column(scale=5):
                        question = gr.Textbox(
                            label="Question", placeholder="e.g. Was the request for Lyrica 75mg #60 upheld or overturned?",
                            elem_id="question",
                        )
                        with gr.Row():
                            ask = gr.Button("Ask", variant="primary", elem_id="ask")
                            new_chat = gr.Button("New conversation", elem_id="new-chat")
                        answer = gr.Markdown(elem_id="answer")
                        sources = gr.Radio(
                            [], type="index", label="Sources (click one to read it in its letter)", elem_id="sources"
                        )
                    with gr.Column(scale=6):
                        letter = gr.HTML(EMPTY_LETTER, elem_id="letter-view")

            with gr.Tab("Decisions", elem_id="tab-decisions"):
                counts = gr.Markdown(elem_id="outcome-counts")
                with gr.Row():
                    review_only = gr.Checkbox(
                        label="Only items that need review (self-checks failed or backends disagree)",
                        elem_id="filter-needs-review",
                    )
                    refresh = gr.Button("Refresh", size="sm", elem_id="refresh-decisions")
                    download_csv = gr.DownloadButton("Download CSV", size="sm", elem_id="download-csv")
                    download_jsonl = gr.DownloadButton("Download JSONL", size="sm", elem_id="download-jsonl")
                    download_parquet = gr.DownloadButton("Download Parquet", size="sm", elem_id="download-parquet")
                table = gr.Dataframe(
                    headers=HEADERS, interactive=False, wrap=True, max_height=480,
                    column_widths=WIDTHS,
                    label="Disputed items (click a header to sort, a row to read its letter)",
                    elem_id="decisions-table",
                )
                table_letter = gr.HTML(EMPTY_TABLE_LETTER, elem_id="table-letter")
                with gr.Accordion("Cases whose letters disagree", open=False, elem_id="conflicts"):
                    conflicts = gr.Dataframe(
                        headers=["Case", "Letter that counts", "Letter that disagrees"], interactive=False,
                        elem_id="conflicts-table",
                        label="The first letter stored counts until you choose another one here",
                    )
                    with gr.Row():
                        keep_case = gr.Textbox(label="Case number", elem_id="keep-case", scale=2)
                        keep_file = gr.Textbox(label="File name of the letter that should count", elem_id="keep-file",
                                               scale=3)
                        keep = gr.Button("Make it count", size="sm", elem_id="keep-letter", scale=1)
                    keep_note = gr.Markdown(elem_id="keep-note")
                gr.Markdown("### Overturn rates", elem_id="overview-title")
                overview = gr.HTML(elem_id="overview")
                chart = gr.HTML(elem_id="outcome-chart")
                with gr.Row(visible=False, elem_id="dmhc-charts") as dmhc_charts:  # shown when DMHC rows are
                    by_diagnosis = gr.BarPlot(
                        x="diagnosis_category", y="items", color="outcome", color_map=CHART_COLOURS, x_label_angle=-35,
                        title="DMHC reviews by diagnosis category", x_title="diagnosis category", y_title="items",
                        elem_id="dmhc-by-diagnosis",
                    )
                    by_year = gr.BarPlot(
                        x="report_year", y="items", color="outcome", color_map=CHART_COLOURS,
                        title="DMHC reviews by report year", x_title="report year", y_title="items",
                        elem_id="dmhc-by-year",
                    )

            with gr.Tab("Library", elem_id="tab-library"):
                library_stats = gr.Markdown(elem_id="library-stats")
                files = gr.File(
                    file_count="multiple", file_types=[".pdf", ".txt", ".md", ".html", ".htm", ".csv"],
                    label="Letters to add (PDF, txt, md, html), or a DMHC IMR determinations CSV (one case per row)",
                    elem_id="upload-files",
                )
                add = gr.Button("Ingest and extract", variant="primary", elem_id="upload-run")
                upload_summary = gr.Markdown(elem_id="upload-summary")
                upload_failures = gr.Dataframe(
                    headers=["file", "stage", "reason"], interactive=False, wrap=True, label="Failures",
                    elem_id="upload-failures",
                )

        # -- handlers: widget values in, service calls, widget values out ------------------
        def filters_or_error(*values: str) -> tuple[AnswerFilters | None, str]:
            try:
                return make_filters(*values), ""
            except InvalidFilter as exc:  # shown, and nothing is computed without the filter
                return None, f"**Filter not applied, nothing shown:** {escape_markdown(str(exc))}"

        def on_ask(text, turns, *filter_values):
            filters, problem = filters_or_error(*filter_values)
            if filters is None:
                return problem, gr.Radio(choices=[], value=None), [], turns, EMPTY_LETTER, problem
            result = service.ask_full(text, turns, filters)
            if result.answer is not None:
                turns = [*turns, (result.answer.question, result.answer.text)]
            labels = [s["label"] for s in result.sources]
            return result.markdown, gr.Radio(choices=labels, value=None), result.sources, turns, EMPTY_LETTER, ""

        def on_source(index, sources_shown):
            if index is None or not 0 <= index < len(sources_shown):
                return EMPTY_LETTER
            fields = Citation.model_fields
            return service.source_html(Citation(**{k: v for k, v in sources_shown[index].items() if k in fields}))

        def on_new_chat():
            return "", gr.Radio(choices=[], value=None), [], [], EMPTY_LETTER, ""

        def on_decisions(*values):
            *filter_values, review = values
            filters, problem = filters_or_error(*filter_values)
            if filters is None:  # a table of what the user did not ask for must not stay on screen
                return (problem, "", pd.DataFrame(columns=HEADERS), "", "", EMPTY_TABLE_LETTER, None, None, None,
                        *dmhc_views([]))
            items = service.item_rows(filters, needs_review=review)
            dmhc = has_table_rows(items)
            frame = gr.Dataframe(
                pd.DataFrame([human_row(display_row(r)) + (row_values(r) if dmhc else []) for r in items],
                             columns=DMHC_HEADERS if dmhc else HEADERS),
                column_widths=DMHC_WIDTHS if dmhc else WIDTHS,
            )
            outcome_counts = service.outcome_counts(filters, needs_review=review)
            summary = (
                f"**{len(items)} disputed items{' that need review' if review else ''}:** "
                + " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in outcome_counts.items())
                + f" · **{service.needs_review_count(filters)} need review**"
                + (f"  \n{escape_markdown(applied)}" if (applied := filters_line(filters)) else "")
            )
            rates = service.overturn_overview(filters, needs_review=review)
            return (
                "", summary, frame,
                overview_html(rates["month"], rates["category"], rates["specialty"]),
                outcome_bars_html(service.outcomes_by_category(filters, needs_review=review)),
                EMPTY_TABLE_LETTER,
                str(service.export_file("csv", filters, needs_review=review)),
                str(service.export_file("jsonl", filters, needs_review=review)),
                str(service.export_file("parquet", filters, needs_review=review)),
                *dmhc_views(items),
            )

        def dmhc_views(items):
            """The DMHC charts' row (shown only when the items hold table rows) and their two plots."""
            plots = []
            for column in ("diagnosis_category", "report_year"):
                entries = outcomes_by(items, column)
                frame = pd.DataFrame(entries, columns=[column, "outcome", "items"])
                plots.append(gr.BarPlot(frame, sort=label_order(entries, column) or None))
            return gr.Row(visible=has_table_rows(items)), *plots

        def on_row(evt: gr.SelectData):
            values = list(evt.row_value or [])
            if len(values) not in (len(TABLE_COLUMNS), len(DMHC_HEADERS)):
                return EMPTY_TABLE_LETTER
            row = dict(zip(TABLE_COLUMNS, values))  # the DMHC columns, when shown, come after these
            try:
                return service.letter_html(str(row["case_number"] or ""), str(row["file"] or ""))
            except KeyError:  # the table changed under the click (a new ingest): read it again
                return EMPTY_TABLE_LETTER

        def on_conflicts():
            rows = service.case_conflicts()
            return pd.DataFrame([[r["case_number"], r["counts"], r["disagrees"]] for r in rows],
                                columns=["Case", "Letter that counts", "Letter that disagrees"])

        def on_keep(case_number, file):
            if not (case_number or "").strip() or not (file or "").strip():
                return "Give the case number and the file name of the letter that should count.", on_conflicts()
            return escape_markdown(service.keep_letter(case_number, file)), on_conflicts()

        def on_stats():
            s = service.stats()
            # file names and reasons may carry a letter's (or an uploader's) text: shown as text
            failures = "".join(f"\n- {escape_markdown(f['path'])}: {escape_markdown(f['reason'])}" for f in s["failures"])
            return (
                f"**{s['documents']} letters** ({s['decisions']} extracted, {s['items']} disputed items, "
                f"{s['extraction_failures']} not extractable, {s['decisions_flagged']} need review);"
                f" {s['chunks']} passages indexed. "
                f"Data folder: `{s['data_dir']}`" + (f"\n\nFiles that could not be read:{failures}" if failures else "")
            )

        def on_upload(paths, progress=gr.Progress()):
            if not paths:
                return "Choose one or more files first.", pd.DataFrame(columns=["file", "stage", "reason"])

            def report(stage: str, done: int, total: int) -> None:
                progress((done, total) if total else None, desc=stage)

            # Only what the browser sent (gradio's own upload folder) is taken: a client can name
            # any server-side path in an API call.
            summary = service.upload(paths, upload_root=Path(demo.GRADIO_CACHE), progress=report)
            failures = pd.DataFrame(summary.failures, columns=["file", "stage", "reason"])
            return summary.message(), failures

        decision_outputs = [filter_note, counts, table, overview, chart, table_letter, download_csv, download_jsonl,
                            download_parquet, dmhc_charts, by_diagnosis, by_year]
        ask_outputs = [answer, sources, cited, history, letter, filter_note]
        ask_inputs = [question, history, *filter_inputs]
        ask.click(on_ask, ask_inputs, ask_outputs)
        question.submit(on_ask, ask_inputs, ask_outputs)
        new_chat.click(on_new_chat, None, ask_outputs)
        sources.input(on_source, [sources, cited], letter).then(None, None, None, js=SCROLL_TO_ANCHOR)

        decision_inputs = [*filter_inputs, review_only]
        table.select(on_row, None, table_letter).then(None, None, None, js=SCROLL_TO_TABLE_LETTER)
        refresh.click(on_decisions, decision_inputs, decision_outputs)
        for dropdown in (letter_format, outcome, review_only):
            dropdown.change(on_decisions, decision_inputs, decision_outputs)
        for box in (date_from, date_to, case_number):
            box.submit(on_decisions, decision_inputs, decision_outputs)
            box.blur(on_decisions, decision_inputs, decision_outputs)

        add.click(on_upload, files, [upload_summary, upload_failures]).then(on_stats, None, library_stats).then(
            on_decisions, decision_inputs, decision_outputs
        )
        keep.click(on_keep, [keep_case, keep_file], [keep_note, conflicts]).then(
            on_decisions, decision_inputs, decision_outputs)
        refresh.click(on_conflicts, None, conflicts)
        demo.load(on_conflicts, None, conflicts)
        demo.load(on_decisions, decision_inputs, decision_outputs)
        demo.load(on_stats, None, library_stats)
    return demo


def launch(
    settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
    *, block: bool = True,
) -> gr.Blocks:
    """Build the service and the app, serve it (never a share link) and print the URL."""
    service = AppService(settings)
    demo = build_app(service)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host, server_port=port, auth=auth, share=False, prevent_thread_lock=True,
        show_error=True, quiet=True, css=CSS,
    )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    where = " (listening on all interfaces)" if host in ("0.0.0.0", "::") else ""
    print(f"imr-rag serve: http://{shown}:{port}/{where}", flush=True)
    if block:
        try:
            demo.block_thread()
        finally:
            service.close()
    return demo


def main(argv: list[str] | None = None) -> int:
    """`python app.py ...` is `imr-rag serve ...` (same options, same rules for host and auth)."""
    from imr_rag.faces.cli import main as cli_main

    return cli_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
