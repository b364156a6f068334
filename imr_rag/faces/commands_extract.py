"""`imr-rag extract`: the rules, LLM and hybrid backends, and the Batch API's request and result files."""

from __future__ import annotations

import argparse
import json
import sys

from imr_rag.faces.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, MAX_LISTED_WAITING, progress_bars, say_waiting
from imr_rag.settings import Settings
from imr_rag.textutil import printable


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
