"""imr-rag turns Independent Medical Review (IMR) decision letters (PDF, txt, md, html) into a
searchable library: one typed decision record per letter, every field tied to the sentence it came
from, questions answered with citations, and the decisions table exported as CSV, JSONL or Parquet.
Offline by default; an OpenAI-compatible LLM is optional (IMR_LLM_BASE_URL)."""

# Developers: this module only parses arguments, builds Settings, calls the library and prints.

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imr_rag import layout
from imr_rag.errors import ImrError, InvalidFilter, redact
from imr_rag.faces.commands_answer import cmd_ask, cmd_eval, cmd_serve
from imr_rag.faces.commands_extract import cmd_extract
from imr_rag.faces.commands_library import (
    cmd_check, cmd_doctor, cmd_embed, cmd_export, cmd_ingest, cmd_review, cmd_search, cmd_show, cmd_stats,
)
from imr_rag.faces.output import (
    EXIT_FAILURES, EXIT_USAGE, configure_output, end_quietly_on_closed_pipe, hide_url_credentials, redacted_output,
)
from imr_rag.schema import Determination
from imr_rag.settings import Settings
from imr_rag.textutil import normalize_case_number, printable

__all__ = ["build_parser", "hide_url_credentials", "main"]


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
    p.add_argument("--superseded", action="store_true",
                   help="also the old versions of table rows a later export revised (left out by default)")
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
    p.add_argument("--outcome", choices=[d.value for d in Determination])
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


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """--quiet / --verbose, accepted before the command and after it (`imr-rag ingest x --quiet`)."""
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for target, default in [(parser, False), *((p, argparse.SUPPRESS) for p in subparsers.choices.values())]:
        group = target.add_mutually_exclusive_group()
        group.add_argument("-q", "--quiet", action="store_true", default=default,
                           help="no progress, warnings and errors only")
        group.add_argument("-v", "--verbose", action="store_true", default=default,
                           help="progress every second in logs; library logs (HTTP requests, retries) on stderr")


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


def run(settings: Settings, *argv: str) -> int:
    """Run one command as `imr-rag COMMAND ARGS...` would: its arguments parsed by the same parser
    (so every option has its default), then the same function."""
    args = build_parser().parse_args(list(argv))
    return COMMANDS[args.command](args, settings)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The main job end to end on the embedded defaults: ingest, extract, search, ask."""
    corpus, kind = (args.corpus, "dwc-dev") if args.corpus else default_corpus(settings)
    if not corpus.is_dir():
        print(f"imr-rag demo: no such folder: {corpus}", file=sys.stderr)
        return EXIT_USAGE
    print(f"== ingest {corpus}")
    status = run(settings, "ingest", str(corpus))
    print("== extract (rules backend)")
    # Not part of the exit status: the rules backend declines a letter of unknown format (the samples
    # hold one on purpose); each letter it could not extract is still printed as a FAILED line.
    run(settings, "extract", "--backend", "rules")
    for question in DEMO_QUESTIONS[kind]:
        print(f"\n== ask {question!r}")
        run(settings, "ask", question)
    print("\nNext: imr-rag search \"...\", imr-rag ask \"...\", imr-rag export --format csv --output decisions.csv,"
          " imr-rag serve (the app on http://127.0.0.1:7860)")
    return status


COMMANDS = {
    "eval": cmd_eval,
    "ingest": cmd_ingest, "embed": cmd_embed, "search": cmd_search, "stats": cmd_stats, "check": cmd_check,
    "extract": cmd_extract, "review": cmd_review, "export": cmd_export, "show": cmd_show, "ask": cmd_ask, "demo": cmd_demo, "serve": cmd_serve,
    "doctor": cmd_doctor,
}


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
