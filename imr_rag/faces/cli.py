"""imr-rag turns Independent Medical Review (IMR) decision letters (PDF, txt, md, html) into a
searchable library: one typed decision record per letter, every field tied to the sentence it came
from, questions answered with citations, and the decisions table exported as CSV, JSONL or Parquet.
Offline by default; an OpenAI-compatible LLM is optional (IMR_LLM_BASE_URL)."""

# Developers: this module only parses arguments, builds Settings, calls the library and prints.

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imr_rag import layout
from imr_rag.errors import ImrError, InvalidFilter, redact
from imr_rag.settings import Settings
from imr_rag.textutil import normalize_case_number, printable

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, what a Unix tool ends with when its reader closes the pipe
MAX_LISTED_WAITING = 20  # batch-requested letters without an answer, listed by name


def iso_date(value: str) -> str:
    """An argparse type: a real calendar date written YYYY-MM-DD (2017-13-45 is a usage error),
    checked as the app checks its date filters."""
    from imr_rag.filters import calendar_date

    try:
        return calendar_date(value)
    except InvalidFilter as exc:
        raise argparse.ArgumentTypeError(printable(str(exc))) from exc


def non_blank(value: str) -> str:
    """An argparse type: text with something other than whitespace in it."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


EXAMPLES = """\
examples:
  imr-rag demo                                   ingest, extract and ask about the sample letters
  imr-rag ingest --extract letters/              read a folder of letters and extract the decisions
  imr-rag ask "How many MRI requests were overturned in 2017?"
  imr-rag review                                 the records a person should check
  imr-rag export --format csv --output decisions.csv
  imr-rag serve                                  the web app on http://127.0.0.1:7860
  imr-rag eval --suite extraction                score against the gold fixtures

'imr-rag COMMAND --help' shows each command's options and an example."""

# One example per command, shown at the end of its --help.
COMMAND_EXAMPLES = {
    "ingest": "imr-rag ingest --extract letters/ more/letter.pdf",
    "embed": "imr-rag ingest --no-embed letters/ && imr-rag embed",
    "search": 'imr-rag search "physical therapy after knee surgery" -k 5 --mode hybrid',
    "check": "imr-rag check --repair",
    "doctor": "imr-rag doctor",
    "stats": "imr-rag stats --json",
    "review": "imr-rag review --check case_conflict\n  imr-rag review --keep CM16-0232543 letters/CM16-0232543.pdf",
    "extract": "imr-rag extract --backend rules --output decisions.jsonl",
    "export": "imr-rag export --format parquet --output items.parquet --level item",
    "demo": "imr-rag demo --corpus letters/",
    "ask": 'imr-rag ask "Was the request for Lyrica 75mg #60 upheld or overturned?"\n'
           '  imr-rag ask "overturn rate by reviewer specialty" --date-from 2017-01-01 --json',
    "show": "imr-rag show CM16-0232543 --output letter.html",
    "serve": "imr-rag serve --port 7861",
    "eval": "imr-rag eval --suite extraction --baseline evals/reports/last/report.json",
}


def add_command(sub: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand whose --help repeats its one-line summary and ends with an example."""
    return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                          epilog=f"example{'s' if chr(10) in COMMAND_EXAMPLES[name] else ''}:\n  {COMMAND_EXAMPLES[name]}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imr-rag", description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="data folder (default ./imr-data or IMR_DATA_DIR)")
    parser.add_argument("--chroma-url", help="Chroma server URL instead of the embedded store")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = add_command(sub, "ingest", help="read letters (files or folders) into the catalog and indexes")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--no-embed", action="store_true", help="parse and index lexically; embed later")
    p.add_argument("--extract", action="store_true",
                   help="also extract each new letter's decision with the rules backend, in the same pass")
    p.add_argument("--workers", type=int, default=1,
                   help="processes that read, chunk and extract; one process writes the catalog (default 1)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = add_command(sub, "embed", help="embed chunks not yet in the dense store")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "search", help="top passages for a query")
    p.add_argument("query", type=non_blank)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--case-number", type=normalize_case_number)
    p.add_argument("--format", dest="letter_format")
    p.add_argument("--section")
    p.add_argument("--doc-id")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "check", help="compare catalog, lexical index and dense store; --repair fixes drift")
    p.add_argument("--repair", action="store_true", help="bring the indexes back in line with the catalog")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "doctor", help="check the data folder, embedding model, stores and the configured LLM")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "stats", help="documents, chunks, formats, failures")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "review", help="records that need a person's look: case, item, reason, the passage to read")
    p.add_argument("--check", help="only flags of this check (e.g. service_name, item_count, case_conflict)")
    p.add_argument("--keep", nargs=2, metavar=("CASE", "FILE"),
                   help="the letters of CASE disagree: make FILE (path, file name or doc id) the one that counts")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "extract", help="extract one decision record per letter")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: everything ingested)")
    p.add_argument("--backend", choices=["rules", "llm", "hybrid"], help="default: hybrid with an LLM, else rules")
    p.add_argument("--output", type=Path, help="write one JSON line per document here")
    p.add_argument("--concurrency", type=int, default=1, help="parallel LLM calls")
    p.add_argument("--batch-file", type=Path, metavar="JSONL",
                   help="with --backend llm: write an OpenAI Batch API request file (one line per letter) "
                        "instead of calling the LLM")
    p.add_argument("--batch-results", type=Path, metavar="JSONL",
                   help="read a Batch API output file: validate, align and store each letter's answer")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = add_command(sub, "export", help="export the decisions table from the catalog")
    p.add_argument("--format", dest="fmt", choices=["csv", "jsonl", "parquet"], required=True)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--level", choices=["decision", "item"], default="decision")

    p = add_command(sub, "demo", help="ingest, extract and query the dev letters (or the bundled samples)")
    p.add_argument("--corpus", type=Path, help="letters folder (default ../shared/corpus/dwc-dev, else the samples)")

    p = add_command(sub, "ask", help="answer a question with citations to the letters")
    p.add_argument("question", type=non_blank)
    p.add_argument("--case-number", type=normalize_case_number)
    p.add_argument("--format", dest="letter_format")
    p.add_argument("--outcome", choices=["upheld", "overturned", "partially_overturned"])
    p.add_argument("--date-from", type=iso_date, help="decision date on or after (YYYY-MM-DD)")
    p.add_argument("--date-to", type=iso_date, help="decision date on or before (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true")

    p = add_command(sub, "show", help="write an HTML page of a letter with its extracted spans highlighted")
    p.add_argument("doc", type=non_blank, help="doc id, case number or file path/name")
    p.add_argument("--output", type=Path, help="HTML file (default: <case or doc id>.html)")

    p = add_command(sub, "serve", help="run the web app (chat with citations, decisions table, uploads)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="user:pass login (or IMR_AUTH); required for any non-loopback --host")

    p = add_command(sub, "eval", help="score extraction, retrieval and answers against the gold fixtures")
    p.add_argument("--backend", action="append", choices=["rules", "llm", "hybrid"],
                   help="extraction backend; repeat to compare backends (default rules)")
    p.add_argument("--suite", choices=["extraction", "retrieval", "answers", "questions", "perturbation", "all"], default="all")
    p.add_argument("--fixtures", nargs="+", action="extend", type=Path, metavar="DIR",
                   help="fixture sets, folders of sets, or the shared letters folder (default: evals/fixtures/"
                        "synthetic, plus dwc-dev and seeds when ../shared or IMR_SHARED_DIR exists)")
    p.add_argument("--output", type=Path, metavar="DIR", help="report folder (default evals/reports/<timestamp>)")
    p.add_argument("--baseline", type=Path, metavar="REPORT", help="report.json to compare with; exit 1 on a drop")
    p.add_argument("--tolerance", type=float, default=0.01, help="allowed drop per metric (default 0.01)")
    p.add_argument("--price-per-1k-tokens", type=float, metavar="X", help="LLM price, for cost per 1,000 letters")
    p.add_argument("--data-dir", dest="eval_data_dir", type=Path, metavar="DIR",
                   help="build the eval library here instead of a fresh temporary folder")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.chroma_url:
        overrides["chroma_url"] = args.chroma_url
    return Settings(**overrides)


def say_waiting(stage: str, pid: int | None) -> None:
    who = f"pid {pid}" if pid else "another process"
    print(f"imr-rag: another writer ({who}) is active on the {stage} stage; waiting", file=sys.stderr, flush=True)


OUTPUT = {"quiet": False, "verbose": False}
"""Set once by main() from --quiet / --verbose."""


def progress_bars():
    """A progress callback: bars on a terminal, a line every few seconds otherwise, none with --quiet."""
    from imr_rag.faces.progress import progress_for

    return progress_for(sys.stderr, quiet=OUTPUT["quiet"], every=1.0 if OUTPUT["verbose"] else 5.0)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """--quiet / --verbose, accepted before the command and after it (`imr-rag ingest x --quiet`)."""
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for target, default in [(parser, False), *((p, argparse.SUPPRESS) for p in subparsers.choices.values())]:
        group = target.add_mutually_exclusive_group()
        group.add_argument("-q", "--quiet", action="store_true", default=default,
                           help="no progress, warnings and errors only")
        group.add_argument("-v", "--verbose", action="store_true", default=default,
                           help="progress every second in logs; library logs (HTTP requests, retries) on stderr")


def configure_output(args: argparse.Namespace) -> None:
    OUTPUT.update(quiet=args.quiet, verbose=args.verbose)
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)  # also for libraries that set their own logger to DEBUG (bm25s)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(hide_url_credentials)  # --verbose logs request URLs
    logging.basicConfig(level=level, handlers=[handler])
    if not args.verbose:
        # instructor logs every failed attempt at ERROR; our typed errors already report them once.
        logging.getLogger("instructor").addHandler(logging.NullHandler())
        logging.getLogger("instructor").propagate = False


def hide_url_credentials(record: logging.LogRecord) -> bool:
    """A log filter: credentials in the message (user:password in URLs, key=... values) become ***."""
    message = record.getMessage()
    hidden = redact(message)
    if hidden != message:
        record.msg, record.args = hidden, ()
    return True


def end_quietly_on_closed_pipe() -> int:
    """The reader of stdout went away (`imr-rag stats --json | head -1`): stop without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
    return EXIT_CLOSED_PIPE


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"imr-rag ingest: no such file or folder: {printable(', '.join(missing))}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1:
        print("imr-rag ingest: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    with Library(settings, on_wait=say_waiting) as lib, progress_bars() as progress:
        report = lib.ingest(args.paths, embed=not args.no_embed, extract="rules" if args.extract else None,
                            workers=args.workers, progress=progress)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for path, reason in report.failed:
            print(f"FAILED {printable(path)}: {printable(reason)}", file=sys.stderr)
        if report.embed_error:
            print(f"imr-rag ingest: embedding stopped: {report.embed_error}", file=sys.stderr)
        print(
            f"ingested {len(report.ingested)}, replaced {len(report.replaced)}, unchanged "
            f"{len(report.unchanged)}, failed {len(report.failed)}; {report.chunks_added} chunks added, "
            + (f"{report.extracted} decisions extracted, " if args.extract else "")
            + f"{report.chunks_embedded} embedded ({report.vectors_computed} distinct texts computed)"
        )
    return EXIT_FAILURES if report.failed or report.embed_error else EXIT_OK


def cmd_embed(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library

    with Library(settings, on_wait=say_waiting) as lib, progress_bars() as progress:
        pending, texts = lib.catalog.count_pending(), lib.catalog.count_pending_texts(lib.embedder.name)
        print(f"embed: {pending} chunks pending, {texts} distinct texts to compute with {lib.embedder.name} "
              "(identical texts share one vector); the bar's ETA is measured as it goes", file=sys.stderr)
        started = time.perf_counter()
        stored, computed = lib.embed_pending(progress)
        seconds = time.perf_counter() - started
    summary = {"chunks_embedded": stored, "vectors_computed": computed, "seconds": round(seconds, 2),
               "chunks_per_second": round(stored / seconds, 1) if seconds else None,
               "texts_per_second": round(computed / seconds, 1) if seconds else None}
    print(json.dumps(summary) if args.json else
          f"embedded {stored} chunks ({computed} distinct texts computed) in {seconds:.1f} s"
          + (f": {summary['chunks_per_second']} chunks/s, {summary['texts_per_second']} texts/s" if stored else ""))
    return EXIT_OK


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library
    from imr_rag.schema import SearchFilters

    if args.k < 1:
        print("imr-rag search: -k must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    filters = SearchFilters(
        case_number=args.case_number, letter_format=args.letter_format, section=args.section, doc_id=args.doc_id
    )
    with Library(settings) as lib:
        hits = lib.search(args.query, k=args.k, filters=filters, mode=args.mode)
        for note in lib.take_notices():
            print(f"imr-rag search: warning: {printable(note)}", file=sys.stderr)
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=2))
        return EXIT_OK
    if not hits:
        print("no passages found")
    for n, h in enumerate(hits, 1):
        where = f"{h.case_number or h.doc_id} {h.section}" + (f" #{h.item_index + 1}" if h.item_index is not None else "")
        print(f"[{n}] {printable(where)}  ({printable(Path(h.source).name)} {h.start}-{h.end}, score {h.score:.4f})")
        snippet = printable(" ".join(h.text.split()))
        print(f"    {snippet[:300]}{'...' if len(snippet) > 300 else ''}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library

    with Library(settings) as lib:
        stats = lib.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return EXIT_OK
    print(f"data dir: {stats['data_dir']}  dense store: {stats['dense_store']}")
    print(f"documents: {stats['documents']} ({stats['paths']} paths)")
    print(f"chunks: {stats['chunks']} ({stats['chunks_embedded']} embedded, {stats['unique_chunk_texts']} distinct texts)")
    print("formats: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["formats"].items())))
    print(f"failures: {len(stats['failures'])}")
    for f in stats["failures"]:
        print(f"  {printable(f['path'])}: {printable(f['reason'])}")
    print(f"decisions: {stats['decisions']} ({stats['items']} items, {stats['decisions_superseded']} superseded)")
    print(f"needs review: {stats['decisions_flagged']} decisions, {stats['items_flagged']} items (imr-rag review)")
    return EXIT_OK


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library
    from imr_rag.extract.review import keep_version, review_entries, summary

    with Library(settings) as lib:
        if args.keep:
            try:
                with lib.writing("catalog"):
                    kept = keep_version(lib.catalog, *args.keep)
            except ValueError as exc:
                print(f"error: {printable(str(exc))}", file=sys.stderr)
                return EXIT_FAILURES
            print(printable(f"{normalize_case_number(args.keep[0])}: {Path(kept).name} now counts"))
        entries = review_entries(lib.catalog, check=args.check)
    if args.json:
        print(json.dumps({"summary": summary(entries), "flags": [e.as_dict() for e in entries]}, indent=2))
        return EXIT_OK
    for e in entries:
        item = f" item {e.item_index + 1}" + (f" ({e.service[:60]})" if e.service else "") if e.item_index is not None else ""
        print(printable(f"{e.case_number or e.doc_id}{item}: {e.check}: {e.reason}"))
        print(f"    {printable(Path(e.source).name)}" + (f" {e.start}-{e.end}: \"{printable(e.excerpt)}\"" if e.excerpt else ""))
    s = summary(entries)
    print(f"{s['flags']} flags on {s['letters']} letters ({s['items']} items) need review")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """One ok/fail line per part of the installation; exit 1 when any part fails."""
    from imr_rag.faces.doctor import FAIL, as_dict, run_checks

    checks = run_checks(settings)
    if args.json:
        print(json.dumps(as_dict(checks), indent=2))
    else:
        for c in checks:
            print(f"{c.status.upper():<5} {c.name}: {c.detail}")
            if c.fix and c.status != "ok":
                print(f"      -> {c.fix}")
        failed = sum(c.status == FAIL for c in checks)
        print("all checks passed" if not failed else f"{failed} check(s) failed")
    return EXIT_FAILURES if any(c.status == FAIL for c in checks) else EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when everything agrees (or was repaired), 1 when drift remains."""
    from imr_rag.integrity import check_library, repair_library
    from imr_rag.library import Library

    with Library(settings, on_wait=say_waiting) as lib, progress_bars() as progress:
        report = check_library(lib)
        repaired = []
        if args.repair and report.drifts:
            with lib.writing("catalog"):
                repaired = repair_library(lib, report, progress)
        after = check_library(lib) if repaired else report
    if args.json:
        print(json.dumps({"before": report.as_dict(), "repaired": repaired, "after": after.as_dict()}, indent=2))
    else:
        dense = "not used" if report.dense_chunks is None else f"{report.dense_chunks} vectors"
        print(f"catalog: {report.documents} documents, {report.chunks} chunks; lexical: "
              f"{report.lexical_chunks} chunks; dense: {dense}")
        for drift in report.drifts:
            print(f"DRIFT {drift.line()}")
        for line in repaired:
            print(f"repaired: {line}")
        for note in after.notes:
            print(f"note: {note}")
        print("no drift" if not after.drifts else f"{len(after.drifts)} kinds of drift remain"
              + ("" if args.repair else " (run `imr-rag check --repair`)"))
    return EXIT_FAILURES if after.drifts else EXIT_OK


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.extract.service import ExtractionService, dumps_line, summarize
    from imr_rag.library import Library

    if args.concurrency < 1:
        print("imr-rag extract: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.batch_file and args.batch_results:
        print("imr-rag extract: --batch-file writes requests, --batch-results reads answers; give one", file=sys.stderr)
        return EXIT_USAGE
    if args.batch_file and args.backend != "llm":
        print("imr-rag extract: --batch-file needs --backend llm", file=sys.stderr)
        return EXIT_USAGE
    if args.batch_results:
        return extract_batch_results(args, settings)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"imr-rag extract: no such file or folder: {printable(', '.join(missing))}", file=sys.stderr)
        return EXIT_USAGE
    with Library(settings, on_wait=say_waiting) as lib, progress_bars() as progress:
        if args.batch_file:
            return write_batch_file(args, settings, lib, progress)
        service = ExtractionService(settings, lib.catalog, args.backend)
        targets, unreadable = lib.documents_to_extract(args.paths, progress=progress)
        docs = (lib.catalog.load_document(doc_id) for _, doc_id in targets)
        out = args.output.open("w", encoding="utf-8") if args.output else None
        results = []
        try:
            for path, reason in unreadable:
                line = json.dumps({"source": path, "doc_id": None, "decision": None, "error": reason})
                if out:
                    out.write(line + "\n")
            for result in service.run(docs, len(targets), concurrency=args.concurrency, progress=progress):
                results.append(result)
                if out:
                    out.write(dumps_line(result) + "\n")
        finally:
            if out:
                out.close()
    summary = summarize(results)
    summary["failed"] += len(unreadable)
    summary["backend"] = service.backend
    for path, reason in unreadable:
        print(f"FAILED {printable(path)}: {printable(reason)}", file=sys.stderr)
    for r in results:
        if r.error:
            print(f"FAILED {printable(r.source)}: {printable(r.error)}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['extracted']} decisions ({summary['items']} items) with backend {service.backend}; "
            f"{summary['failed']} failed, {summary['flagged']} flagged for review; "
            f"LLM calls {summary['llm_calls']} (cached {summary['cached']})"
        )
        reasons = {r.rules_only for r in results if r.rules_only}
        if reasons:
            print(f"note: {summary['rules_only']} letters have the rules parser's record only, the LLM could not "
                  f"be reached ({sorted(reasons)[0]})", file=sys.stderr)
    return EXIT_FAILURES if summary["failed"] else EXIT_OK


def write_batch_file(args: argparse.Namespace, settings: Settings, lib, progress) -> int:
    from imr_rag.extract.batch import BatchCost, write_requests
    from imr_rag.extract.llm import TokenUsage

    targets, unreadable = lib.documents_to_extract(args.paths, progress=progress)
    docs = (lib.catalog.load_document(doc_id) for _, doc_id in targets)
    written = write_requests(settings, docs, args.batch_file)
    lib.catalog.record_batch_requests(written.requested)
    for path, reason in unreadable:
        print(f"FAILED {printable(path)}: {printable(reason)}", file=sys.stderr)
    per_letter = written.prompt_tokens_per_letter()
    cost = BatchCost.per_1000(TokenUsage(prompt_tokens=round(per_letter * 1000)), 1000, settings)
    files = ", ".join(str(p) for p in written.paths) or "nothing"
    print(f"wrote {written.requests} requests (model {settings.llm_model}, mode {settings.llm_mode}) to {files}")
    print(f"about {per_letter:,.0f} prompt tokens per letter ({cost.prompt_tokens:,.0f} per 1,000 letters, "
          f"${cost.usd:.2f} per 1,000 letters at ${settings.llm_batch_price_input}/1M prompt tokens, "
          f"completions extra); submit each file to the Batch API, then run "
          f"imr-rag extract --batch-results <output.jsonl>")
    return EXIT_FAILURES if unreadable else EXIT_OK


def extract_batch_results(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.extract.batch import BatchTally, apply_results
    from imr_rag.library import Library

    if not args.batch_results.is_file():
        print(f"imr-rag extract: no such file: {args.batch_results}", file=sys.stderr)
        return EXIT_USAGE
    unknown = 0

    def unmatched(where: str, reason: str) -> None:
        nonlocal unknown
        unknown += 1
        print(f"FAILED {printable(where)}: {printable(reason)}", file=sys.stderr)

    tally = BatchTally()
    with Library(settings, on_wait=say_waiting) as lib:
        for r in apply_results(settings, lib.catalog, args.batch_results, on_unknown=unmatched):
            tally.add(r)
            if r.error:
                case = getattr(lib.catalog.document(r.doc_id), "case_number", None)
                print(f"FAILED {printable(r.source)} (doc {r.doc_id}{f', case {case}' if case else ''}): "
                      f"{printable(r.error)}", file=sys.stderr)
        waiting = lib.catalog.batch_waiting()
    summary = tally.summary(settings) | {"unmatched_lines": unknown, "waiting": [
        {"doc_id": doc_id, "path": path, "request_file": file} for doc_id, path, file in waiting]}
    cost = summary["per_1000_letters"]
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['extracted']} decisions ({summary['items']} items) from batch results; "
              f"{summary['failed']} failed, {unknown} lines matched no letter")
        print(f"per 1,000 letters: {cost['prompt_tokens']:,} prompt + {cost['completion_tokens']:,} completion "
              f"tokens, about ${cost['usd']:.2f} at ${settings.llm_batch_price_input}/1M prompt and "
              f"${settings.llm_batch_price_output}/1M completion tokens (IMR_LLM_BATCH_PRICE_INPUT/_OUTPUT)")
    if waiting:  # not a failure: another results file (another part, a batch still running) may answer them
        files = ", ".join(sorted({printable(f) for _, _, f in waiting}))
        print(f"note: {len(waiting)} requested letters have no answer in any results file applied yet (from {files}): "
              "the batch may still be running, or they expired or were cancelled without a line; apply their "
              "results when they come, or write them again (imr-rag extract --backend llm --batch-file NEW.jsonl "
              "PATH...) or extract them live:", file=sys.stderr)
        for _, path, _ in waiting[:MAX_LISTED_WAITING]:
            print(f"  {printable(path)}", file=sys.stderr)
        if len(waiting) > MAX_LISTED_WAITING:
            print(f"  and {len(waiting) - MAX_LISTED_WAITING} more (--json lists every one)", file=sys.stderr)
    return EXIT_FAILURES if summary["failed"] or unknown else EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.catalog.export import table, write_table
    from imr_rag.library import Library

    with Library(settings) as lib:
        rows = table(lib.catalog.decisions(), args.level)
    write_table(rows, args.fmt, args.output)
    print(f"wrote {len(rows)} {args.level} rows to {args.output}")
    return EXIT_OK


SAMPLE_LETTERS = layout.sample_letters()
DEMO_QUESTIONS = {
    "dwc-dev": ["Was the request for a hospital bed upheld or overturned?",
                "How many requests for physical therapy were upheld?"],
    "samples": ["Was the request for Lyrica 75mg #60 upheld or overturned?",
                "How many requests for physical therapy were overturned?"],
}


def default_corpus(settings: Settings) -> tuple[Path, str]:
    """The shared dev letters (IMR_SHARED_DIR, else ../shared beside a checkout), else the samples."""
    shared = settings.shared_dir or (layout.project_root().parent / "shared" if layout.is_checkout() else None)
    dev = shared / "corpus" / "dwc-dev" if shared else None
    return (dev, "dwc-dev") if dev and dev.is_dir() else (SAMPLE_LETTERS, "samples")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The main job end to end on the embedded defaults: ingest, extract, search, ask."""
    corpus, kind = (args.corpus, "dwc-dev") if args.corpus else default_corpus(settings)
    if not corpus.is_dir():
        print(f"imr-rag demo: no such folder: {corpus}", file=sys.stderr)
        return EXIT_USAGE
    print(f"== ingest {corpus}")
    status = cmd_ingest(argparse.Namespace(paths=[corpus], no_embed=False, extract=False, workers=1, json=False),
                        settings)
    print("== extract (rules backend)")
    # Not part of the exit status: the rules backend declines a letter of unknown format (the samples
    # hold one on purpose); each letter it could not extract is still printed as a FAILED line.
    cmd_extract(argparse.Namespace(paths=[], backend="rules", output=None, concurrency=1, json=False,
                                             batch_file=None, batch_results=None), settings)
    for question in DEMO_QUESTIONS[kind]:
        print(f"\n== ask {question!r}")
        cmd_ask(argparse.Namespace(question=question, case_number=None, letter_format=None, outcome=None,
                                   date_from=None, date_to=None, json=False), settings)
    print("\nNext: imr-rag search \"...\", imr-rag ask \"...\", imr-rag export --format csv --output decisions.csv,"
          " imr-rag serve (the app on http://127.0.0.1:7860)")
    return status


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.ask.engine import ROW_LIMIT, Asker
    from imr_rag.filters import answer_filters
    from imr_rag.library import Library

    try:  # the same rules as the app's filters: refused, never dropped
        filters = answer_filters(
            case_number=args.case_number, letter_format=args.letter_format, determination=args.outcome,
            date_from=args.date_from, date_to=args.date_to,
        )
    except InvalidFilter as exc:
        print(f"imr-rag ask: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    with Library(settings) as lib:
        engine = Asker(lib, settings, row_limit=None if args.json else ROW_LIMIT)
        answer = engine.answer(args.question, filters=filters)
        answer.notes += lib.take_notices()
    if args.json:
        keys = ("n", "doc_id", "case_number", "source", "section", "start", "end", "quote")
        print(json.dumps({
            "answer": answer.text,
            "status": answer.status,
            "reading": answer.reading,
            "value": answer.value,
            "kind": answer.kind,
            "mode": answer.mode,
            "notes": answer.notes,
            "citations": [{k: getattr(c, k) for k in keys} for c in answer.citations],
            "plan": answer.plan,
            "counted_total": answer.counted_total,
            "counted": [c.model_dump() for c in answer.counted],
        }, indent=2))
        return EXIT_OK
    for line in answer.text.splitlines():  # letter text: no escape sequence reaches the terminal
        print(printable(line))
    for note in answer.notes:
        print(f"Note: {printable(note)}")
    if answer.citations:
        print()
    for c in answer.citations:
        quote = printable(" ".join(c.quote.split()))
        print(f"[{c.n}] {printable(c.case_number or c.doc_id)} {printable(Path(c.source).name)} {c.start}-{c.end}: "
              f"{quote[:200]}{'...' if len(quote) > 200 else ''}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.faces.highlight import decision_marks, letter_page
    from imr_rag.library import Library

    with Library(settings) as lib:
        doc = lib.catalog.resolve_document(args.doc)
        if doc is None:
            print(f"imr-rag show: no ingested document matches '{printable(args.doc)}'", file=sys.stderr)
            return EXIT_USAGE
        decision = lib.catalog.decision(doc.doc_id)
    marks = decision_marks(decision) if decision else []
    title = f"{doc.case_number or doc.doc_id} ({Path(doc.path).name})"
    output = args.output or Path(f"{doc.case_number or doc.doc_id}.html")
    output.write_text(letter_page(title, doc.text, marks, decision), encoding="utf-8")
    note = "" if decision else " (not extracted yet: run imr-rag extract)"
    print(f"wrote {printable(str(output))} with {len(marks)} highlighted spans{note}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import importlib.util

    from imr_rag.faces.app_service import bind_problem, parse_auth

    try:
        auth = parse_auth(args.auth or os.environ.get("IMR_AUTH"))
    except ValueError as exc:
        print(f"imr-rag serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if problem := bind_problem(args.host, auth):
        print(f"imr-rag serve: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if (busy := port_in_use(args.host, args.port)) is not None:
        print(f"imr-rag serve: port {args.port} on {args.host} is in use ({busy}); "
              f"pass a free one, e.g. --port {free_port(args.host, args.port)}", file=sys.stderr)
        return EXIT_FAILURES
    app_path = layout.app_file()
    if not app_path.is_file():
        print(f"imr-rag serve: the web app {app_path} is missing; reinstall imr-rag (pipx install .)",
              file=sys.stderr)
        return EXIT_FAILURES
    spec = importlib.util.spec_from_file_location("imr_rag_web_app", app_path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)  # imports gradio: only now, only for this command
    try:
        app.launch(settings, host=args.host, port=args.port, auth=auth)
    except OSError as exc:  # taken between the check above and gradio's own bind
        print(f"imr-rag serve: cannot listen on {args.host}:{args.port} ({printable(str(exc))}); "
              f"pass a free port, e.g. --port {free_port(args.host, args.port)}", file=sys.stderr)
        return EXIT_FAILURES
    return EXIT_OK


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be bound now (e.g. 'Address already in use'), or None when it can."""
    import socket

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def free_port(host: str, after: int) -> int:
    """The first port above `after` that `host` can bind now (the OS picks one if none of 100 is)."""
    import socket

    for port in range(after + 1, min(after + 101, 65536)):
        if port_in_use(host, port) is None:
            return port
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host.strip("[]"), 0))
        return sock.getsockname()[1]


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    root = layout.project_root()
    if not (root / "evals" / "__init__.py").is_file():
        print(f"imr-rag eval: the evals/ folder is missing from {root}; reinstall imr-rag (pipx install .)",
              file=sys.stderr)
        return EXIT_USAGE
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # evals/ is imported as the top-level package it is in the checkout
    from evals.command import run_command

    return run_command(args, settings)


COMMANDS = {
    "eval": cmd_eval,
    "ingest": cmd_ingest, "embed": cmd_embed, "search": cmd_search, "stats": cmd_stats, "check": cmd_check,
    "extract": cmd_extract, "review": cmd_review, "export": cmd_export, "show": cmd_show, "ask": cmd_ask, "demo": cmd_demo, "serve": cmd_serve,
    "doctor": cmd_doctor,
}


class _RedactingStream:
    """stdout/stderr with every write passed through `redact`: no message the CLI prints (a
    FAILED line, an error, a traceback) can show the API key or a URL's password."""

    def __init__(self, stream, secrets: list[str]):
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(redact(text, self._secrets))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def redacted_output(secrets: list[str]) -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _RedactingStream(sys.stdout, secrets), _RedactingStream(sys.stderr, secrets)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    add_output_options(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        settings = settings_from(args)
    except ValueError as exc:  # pydantic's ValidationError: an IMR_* variable of the wrong type
        print(f"imr-rag: invalid setting: {printable(redact(str(exc)))}", file=sys.stderr)
        return EXIT_USAGE
    with redacted_output(settings.secrets()):
        configure_output(args)  # the log handler writes to the redacting stderr too
        try:
            status = COMMANDS[args.command](args, settings)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
            return status
        except BrokenPipeError:
            return end_quietly_on_closed_pipe()
        except ImrError as exc:
            print(f"imr-rag {args.command}: {printable(str(exc))}", file=sys.stderr)
            return EXIT_FAILURES


if __name__ == "__main__":
    sys.exit(main())
