"""`imr-rag eval`: check the arguments, run the suites, write report.json + report.md, compare.

Exit codes: 0 done, 1 a metric dropped more than the tolerance below the baseline (or the run
failed), 2 usage errors (bad option values, unknown fixtures, unreadable baseline, a backend or
suite that cannot run here).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from evals.cases import EVALS_DIR, FixtureError, resolve_fixture_sets, shared_dir
from evals.report import baseline_metrics, compare_to_baseline, flatten_metrics, render_markdown
from evals.runner import SUITES, EvalOptions, run_eval
from imr_rag.layout import is_checkout
from imr_rag.settings import Settings

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2


def _usage(message: str) -> int:
    print(f"imr-rag eval: {message}", file=sys.stderr)
    return EXIT_USAGE


def _log(message: str) -> None:
    print(f"[eval] {message}", file=sys.stderr, flush=True)


def default_output_dir() -> Path:
    """evals/reports/<timestamp> in a writable source checkout, else ./eval-report (never inside an install)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if is_checkout() and os.access(EVALS_DIR, os.W_OK):
        return EVALS_DIR / "reports" / stamp
    return Path("eval-report")


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    backends = tuple(dict.fromkeys(args.backend or ["rules"]))
    suites = SUITES if args.suite == "all" else (args.suite,)
    if args.tolerance < 0:
        return _usage("--tolerance must be 0 or more")
    if args.price_per_1k_tokens is not None and args.price_per_1k_tokens < 0:
        return _usage("--price-per-1k-tokens must be 0 or more")
    if any(b != "rules" for b in backends) and not settings.llm_enabled:
        return _usage(f"backend {', '.join(b for b in backends if b != 'rules')} needs an LLM: "
                      "set IMR_LLM_BASE_URL (and IMR_LLM_MODEL)")
    notes: list[str] = []
    baseline = None
    if args.baseline is not None:
        try:
            baseline = json.loads(args.baseline.read_text(encoding="utf-8"))
            if not isinstance(baseline, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            return _usage(f"cannot read baseline {args.baseline}: {exc}")
    try:
        sets, set_notes = resolve_fixture_sets(args.fixtures, shared_dir(), tables=True)
    except FixtureError as exc:
        return _usage(str(exc))
    notes += set_notes
    if not sets:
        return _usage("no fixture letters found (" + "; ".join(set_notes or ["no fixture sets"]) + ")")

    options = EvalOptions(sets=sets, suites=suites, backends=backends,
                          price_per_1k_tokens=args.price_per_1k_tokens, notes=notes)
    judge = None
    if "answers" in suites:
        from evals.judge import make_judge

        judge = make_judge(settings)
    data_dir = args.eval_data_dir or args.data_dir
    if data_dir is not None:
        report = run_eval(options, settings.model_copy(update={"data_dir": data_dir}), judge=judge, log=_log)
    else:
        with tempfile.TemporaryDirectory(prefix="imr-eval-") as tmp:
            # A fresh library, always in the embedded store: an eval never writes to a shared server.
            fresh = settings.model_copy(update={"data_dir": Path(tmp), "chroma_url": None})
            report = run_eval(options, fresh, judge=judge, log=_log)

    report["metrics"] = flatten_metrics(report)
    regressions = 0
    if baseline is not None:
        report["baseline"] = compare_to_baseline(report["metrics"], baseline_metrics(baseline), args.tolerance)
        report["baseline"]["path"] = str(args.baseline)
        regressions = len(report["baseline"]["regressions"])
    output = args.output or default_output_dir()
    output.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(report)
    (output / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (output / "report.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"wrote {output / 'report.json'} and {output / 'report.md'}", file=sys.stderr)
    if regressions:
        print(f"imr-rag eval: {regressions} metric(s) dropped more than {args.tolerance} below the baseline",
              file=sys.stderr)
        return EXIT_REGRESSION
    return EXIT_OK
