"""Commands over the library: ingest, embed, search, stats, check, doctor, review, export, show."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from imr_rag.faces.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, progress_bars, say_waiting
from imr_rag.settings import Settings
from imr_rag.textutil import normalize_case_number, printable


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
        hits = lib.search(args.query, k=args.k, filters=filters, mode=args.mode, superseded=args.superseded)
        for note in lib.take_notices():
            print(f"imr-rag search: warning: {printable(note)}", file=sys.stderr)
        old = lib.catalog.superseded_rows() if args.superseded else frozenset()
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=2))
        return EXIT_OK
    if not hits:
        print("no passages found")
    for n, h in enumerate(hits, 1):
        where = f"{h.case_number or h.doc_id} {h.section}" + (f" #{h.item_index + 1}" if h.item_index is not None else "")
        where += " (superseded: revised in a later export)" if h.doc_id in old else ""
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
    rows = f", {stats['table_rows']} rows of DMHC tables" if stats.get("table_rows") else ""
    print(f"documents: {stats['documents']} ({stats['paths']} paths{rows})")
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


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.catalog.export import table, write_table
    from imr_rag.library import Library

    with Library(settings) as lib:
        rows = table(lib.catalog.decisions(), args.level)
    write_table(rows, args.fmt, args.output)
    print(f"wrote {len(rows)} {args.level} rows to {args.output}")
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
