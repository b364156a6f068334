"""Command line: parse arguments, build Settings, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imr_rag.errors import ImrError
from imr_rag.settings import Settings

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imr-rag", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="data folder (default ./imr-data or IMR_DATA_DIR)")
    parser.add_argument("--chroma-url", help="Chroma server URL instead of the embedded store")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="read letters (files or folders) into the catalog and indexes")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--no-embed", action="store_true", help="parse and index lexically; embed later")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("embed", help="embed chunks not yet in the dense store")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="top passages for a query")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--case-number")
    p.add_argument("--format", dest="letter_format")
    p.add_argument("--section")
    p.add_argument("--doc-id")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("stats", help="documents, chunks, formats, failures")
    p.add_argument("--json", action="store_true")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.chroma_url:
        overrides["chroma_url"] = args.chroma_url
    return Settings(**overrides)


@contextmanager
def progress_bars() -> Iterator:
    """A progress callback drawing one tqdm bar per stage on stderr."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="file" if stage == "parse" else "chunk",
                                     file=sys.stderr, leave=True, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"imr-rag ingest: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    with Library(settings) as lib, progress_bars() as progress:
        report = lib.ingest(args.paths, embed=not args.no_embed, progress=progress)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for path, reason in report.failed:
            print(f"FAILED {path}: {reason}", file=sys.stderr)
        print(
            f"ingested {len(report.ingested)}, replaced {len(report.replaced)}, unchanged "
            f"{len(report.unchanged)}, failed {len(report.failed)}; {report.chunks_added} chunks added, "
            f"{report.chunks_embedded} embedded ({report.vectors_computed} distinct texts computed)"
        )
    return EXIT_FAILURES if report.failed else EXIT_OK


def cmd_embed(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.library import Library

    with Library(settings) as lib, progress_bars() as progress:
        stored, computed = lib.embed_pending(progress)
    summary = {"chunks_embedded": stored, "vectors_computed": computed}
    print(json.dumps(summary) if args.json else f"embedded {stored} chunks ({computed} distinct texts computed)")
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
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=2))
        return EXIT_OK
    if not hits:
        print("no passages found")
    for n, h in enumerate(hits, 1):
        where = f"{h.case_number or h.doc_id} {h.section}" + (f" #{h.item_index + 1}" if h.item_index is not None else "")
        print(f"[{n}] {where}  ({Path(h.source).name} {h.start}-{h.end}, score {h.score:.4f})")
        snippet = " ".join(h.text.split())
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
        print(f"  {f['path']}: {f['reason']}")
    return EXIT_OK


COMMANDS = {"ingest": cmd_ingest, "embed": cmd_embed, "search": cmd_search, "stats": cmd_stats}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args, settings_from(args))
    except ImrError as exc:
        print(f"imr-rag {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILURES


if __name__ == "__main__":
    sys.exit(main())
