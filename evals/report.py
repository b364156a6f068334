"""The report: flat comparable metrics, baseline comparison, and markdown tables.

`flatten_metrics` turns a report into `{"suite/.../metric": number}`; a baseline comparison is
done on those names only, so two reports of different fixture sets compare on what they share.
Every metric is higher-is-better except the rates of failures named in LOWER_IS_BETTER.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

LOWER_IS_BETTER = ("no_valid_citation_rate", "wrong_cited_rate", "silent_error_rate", "flag_rate")
PERTURBATION_METRICS = ("item_f1", "determination_accuracy", "exact_match_rate", "silent_error_rate")
ANSWER_METRICS = (
    "correctness", "citation_precision", "citation_precision_section", "citation_recall", "no_valid_citation_rate",
    "faithfulness",
)
NA = "n/a"


# -- flat metrics and the baseline -------------------------------------------------------------
def flatten_metrics(report: dict) -> dict[str, float]:
    out: dict[str, object] = {}
    for backend, per_set in (report.get("extraction") or {}).items():
        for set_name, summary in per_set.items():
            base = f"extraction/{backend}/{set_name}"
            for field_name, counts in summary["fields"].items():
                for m in ("precision", "recall", "f1"):
                    out[f"{base}/{field_name}/{m}"] = counts[m]
            out[f"{base}/exact_match_rate"] = summary["exact_match_rate"]
            out[f"{base}/grounding_rate"] = summary["grounding_rate"]
            if "flag_rate" in summary:
                out[f"{base}/flag_rate"] = summary["flag_rate"]
            for field_name, counts in (summary.get("row_fields") or {}).items():  # a table set's row fields
                out[f"{base}/row_fields/{field_name}/accuracy"] = counts["accuracy"]
    for set_name, per_mode in (report.get("retrieval") or {}).items():
        for mode, summary in per_mode.items():
            if mode == "per_question":
                continue
            for key, value in summary.items():
                if "recall@" in key or key.endswith("mrr"):
                    out[f"retrieval/{set_name}/{mode}/{key}"] = value
            for kind, by_kind in (summary.get("by_kind") or {}).items():
                for key, value in by_kind.items():
                    if "recall@" in key or key.endswith("mrr"):
                        out[f"retrieval/{set_name}/{mode}/kind={kind}/{key}"] = value
    for set_name, summary in (report.get("answers") or {}).items():
        for key in ANSWER_METRICS:
            out[f"answers/{set_name}/{key}"] = summary.get(key)
    questions = report.get("questions") or {}
    if questions:
        out["questions/accuracy"] = questions.get("accuracy")
        out["questions/wrong_cited_rate"] = questions.get("wrong_cited_rate")
        for split, s in (questions.get("overall") or {}).items():
            out[f"questions/split={split}/accuracy"] = s["accuracy"]
        for kind, by_split in (questions.get("per_kind") or {}).items():
            for split, s in by_split.items():
                out[f"questions/kind={kind}/{split}/accuracy"] = s["accuracy"]
    for backend, per_set in (report.get("perturbation") or {}).items():
        for set_name, summary in per_set.items():
            for key in PERTURBATION_METRICS:
                out[f"perturbation/{backend}/{set_name}/{key}"] = summary.get(key)
    return {k: float(v) for k, v in out.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@dataclass
class MetricChange:
    name: str
    baseline: float
    current: float
    delta: float
    regressed: bool


def lower_is_better(name: str) -> bool:
    return name.rsplit("/", 1)[-1] in LOWER_IS_BETTER


def compare_to_baseline(current: dict[str, float], baseline: dict[str, float], tolerance: float) -> dict:
    """Per-metric differences; a metric regressed when it got worse by more than the tolerance."""
    changes = []
    for name in sorted(current.keys() & baseline.keys()):
        delta = current[name] - baseline[name]
        worse = delta if lower_is_better(name) else -delta
        changes.append(MetricChange(name, baseline[name], current[name], delta, worse > tolerance + 1e-12))
    return {
        "tolerance": tolerance,
        "compared": len(changes),
        "regressions": [asdict(c) for c in changes if c.regressed],
        "changes": [asdict(c) for c in changes if abs(c.delta) > 1e-12],
        "only_in_baseline": sorted(baseline.keys() - current.keys()),
        "only_in_current": sorted(current.keys() - baseline.keys()),
    }


def baseline_metrics(baseline_report: dict) -> dict[str, float]:
    metrics = baseline_report.get("metrics")
    if isinstance(metrics, dict):
        return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return flatten_metrics(baseline_report)


# -- markdown ----------------------------------------------------------------------------------
def fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return NA
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: dict) -> str:
    parts = [f"# imr-rag eval report ({report['created']})", ""]
    parts.append(
        f"Suites: {', '.join(report['suites'])}. Backends: {', '.join(report['backends'])}. "
        f"imr-rag {report['version']}, {report.get('seconds', 0)} s."
    )
    sets = [[s["name"], s["letters"], s["missing_letters"], s["questions"]] for s in report["fixture_sets"]]
    parts += ["", table(["fixture set", "letters", "missing letters", "questions"], sets)]
    for note in report.get("notes") or []:
        parts.append(f"\nNote: {note}")
    for failure in (report.get("ingest") or {}).get("failed") or []:
        parts.append(f"\nUnreadable: {failure['path']}: {failure['reason']}")
    if report.get("extraction"):
        parts += ["", _extraction_md(report["extraction"])]
        usage = {b: u for b, u in (report.get("llm_usage") or {}).items() if b != "rules" or u["llm_calls"]}
        if usage:
            parts += ["", _usage_md(usage, report["settings"].get("price_per_1k_tokens"))]
    if report.get("retrieval"):
        parts += ["", _retrieval_md(report["retrieval"])]
    if report.get("answers"):
        parts += ["", _answers_md(report["answers"])]
    if report.get("questions"):
        parts += ["", questions_md(report["questions"])]
    if report.get("perturbation"):
        parts += ["", _perturbation_md(report["perturbation"])]
    if report.get("baseline"):
        parts += ["", _baseline_md(report["baseline"])]
    return "\n".join(parts).rstrip() + "\n"


def _perturbation_md(perturbation: dict) -> str:
    parts = ["## Perturbation (letters rewritten as real letters differ; gold carried over)"]
    header = ["set", "letters", "item F1", "determination accuracy", "letter exact-match", "wrong letters",
              "flagged letters", "silent errors", "silent error rate", "without a record"]
    for backend, per_set in perturbation.items():
        rows = [[name, s["letters"], s["item_f1"], s["determination_accuracy"], s["exact_match_rate"],
                 s.get("wrong_letters"), s.get("flagged_letters"), s.get("silent_errors"), s.get("silent_error_rate"),
                 s["failed"]] for name, s in per_set.items()]
        parts += ["", f"### backend {backend}", "", table(header, rows)]
        for name, s in per_set.items():
            if not s.get("by_kind"):
                continue
            kinds = [[kind, k["letters"], k["exact"], k["silent"], k["failed"]] for kind, k in sorted(s["by_kind"].items())]
            parts += ["", f"{name} by kind:", "", table(["kind", "letters", "exact", "silent errors", "without a record"], kinds)]
            for row in s.get("silent_letters") or []:
                parts.append(f"- silent: {row['letter']} ({', '.join(row['fields'])})")
    return "\n".join(parts)


def _extraction_md(extraction: dict) -> str:
    parts = ["## Extraction"]
    for backend, per_set in extraction.items():
        for set_name, s in per_set.items():
            title = f"### backend {backend}, {set_name} ({s['letters']} letters, {s.get('failed', 0)} without a record)"
            parts += ["", title, ""]
            rows = [[name, c["precision"], c["recall"], c["f1"], c["tp"], c["fp"], c["fn"]]
                    for name, c in s["fields"].items()]
            parts.append(table(["field", "precision", "recall", "F1", "tp", "fp", "fn"], rows))
            parts.append(
                f"\nExact-match rate per letter: {fmt(s['exact_match_rate'])}. "
                f"Grounding rate: {fmt(s['grounding_rate'])} of {s['evidence_spans']} evidence spans."
            )
            if s.get("row_fields"):
                parts += ["", "Row fields (accuracy against the gold of each row):", ""]
                parts.append(table(["field", "accuracy", "correct", "rows"],
                                   [[n, c["accuracy"], c["correct"], c["rows"]] for n, c in s["row_fields"].items()]))
            if "flag_rate" in s:
                parts.append(
                    f"\nFlagged for review: {s['flagged_letters']} of {s['letters']} letters ({fmt(s['flag_rate'])}),"
                    f" {s['flagged_correct_letters']} of them matched exactly (noise)."
                )
                parts += [
                    f"- flagged: {r['letter']} ({', '.join(r.get('review_checks') or [])})"
                    for r in s.get("per_letter") or [] if r["flagged"]
                ]
            imperfect = [r for r in s.get("per_letter") or [] if not r["exact"]]
            if imperfect:
                parts.append("\nLetters not matched exactly:")
                parts += [
                    f"- {r['letter']}: " + (f"error: {r['error']}" if r["error"] else ", ".join(r["imperfect_fields"]))
                    + f" (items gold {r['gold_items']}, extracted {r['extracted_items']}, matched {r['matched_items']})"
                    for r in imperfect
                ]
    return "\n".join(parts)


def _usage_md(usage: dict, price: float | None) -> str:
    rows = [
        [backend, u["letters"], u["cached"], u["llm_calls"], u["llm_retries"], u["tokens"]["prompt_tokens"],
         u["tokens"]["completion_tokens"], u["tokens_per_letter"], u["seconds_per_letter"], u["cost_per_1000_letters"]]
        for backend, u in usage.items()
    ]
    price_note = f"at {price} per 1,000 tokens" if price is not None else "(give --price-per-1k-tokens for a cost)"
    return "\n".join([
        "## LLM usage and cost", "",
        table(["backend", "letters", "cached", "calls", "retries", "prompt tokens", "completion tokens",
               "tokens/letter", "seconds/letter", "cost / 1,000 letters"], rows),
        f"\nCost per 1,000 letters {price_note}; per-letter means exclude cached letters.",
    ])


def _retrieval_md(retrieval: dict) -> str:
    parts = ["## Retrieval"]
    for set_name, per_mode in retrieval.items():
        modes = {m: s for m, s in per_mode.items() if m != "per_question"}
        first = next(iter(modes.values()))
        ks = [key.split("@")[1] for key in first if key.startswith("recall@")]
        header = ["mode", *[f"recall@{k}" for k in ks], "MRR", *[f"passage recall@{k}" for k in ks], "passage MRR"]
        rows = [[m, *[s[f"recall@{k}"] for k in ks], s["mrr"], *[s[f"passage_recall@{k}"] for k in ks],
                 s["passage_mrr"]] for m, s in modes.items()]
        title = f"### {set_name} ({first['questions']} questions, {first['passage_questions']} with a passage)"
        parts += ["", title, "", table(header, rows)]
        kind_rows = [[m, kind, k["questions"], k.get("recall@5"), k["mrr"], k.get("passage_recall@5"), k["passage_mrr"]]
                     for m, s in modes.items() for kind, k in (s.get("by_kind") or {}).items()]
        if kind_rows:
            parts += ["", "By question kind:", "", table(
                ["mode", "kind", "questions", "recall@5", "MRR", "passage recall@5", "passage MRR"], kind_rows)]
    parts.append("\nRelevant: a hit from an expected letter (file or case number); passage-level also needs the"
                 " expected quote inside the hit (whitespace-normalised).")
    return "\n".join(parts)


def _answers_md(answers: dict) -> str:
    rows = [[name, s["questions"], s["correctness"], s["citation_precision"], s["citation_precision_section"],
             s["citation_recall"], s["no_valid_citation_rate"], s["faithfulness"]] for name, s in answers.items()]
    return "\n".join([
        "## Answers", "",
        table(["fixture set", "questions", "correctness", "citation precision", "citation precision (section)",
               "citation recall", "no valid citation", "faithfulness"], rows),
        "",
        "Correctness: the determination or count parsed from the answer text, on questions that expect one."
        " Citation precision: share of citations whose passage overlaps the expected quote (count and case"
        " questions: any passage of an expected letter); (section): overlapping the letter section that holds"
        " the quote. Citation recall: answers citing the expected quote. No valid citation: answers none of"
        " whose citations slice their letter to the quoted text. Faithfulness: share of sentences a judge"
        " model finds supported by the cited passages (LLM answers only).",
    ])


def questions_md(questions: dict) -> str:
    """Accuracy per kind on the dev and held-out templates, overall, and wrong answers that cited."""
    rows = []
    for kind, by_split in questions["per_kind"].items():
        d, h, a = by_split["dev"], by_split["heldout"], by_split["all"]
        rows.append([kind, a["questions"], d["accuracy"], h["accuracy"], a["accuracy"], a["wrong_cited"]])
    o = questions["overall"]
    rows.append(["**overall**", o["all"]["questions"], o["dev"]["accuracy"], o["heldout"]["accuracy"],
                 o["all"]["accuracy"], o["all"]["wrong_cited"]])
    wrong = [r for r in questions.get("per_question") or [] if not r["correct"]]
    parts = [
        f"## Analyst questions ({questions['questions']} questions, {questions['kinds']} kinds)", "",
        table(["kind", "questions", "dev accuracy", "held-out accuracy", "accuracy", "wrong and cited"], rows),
        "",
        f"Wrong answers that carried a citation: {fmt(questions['wrong_cited_rate'])} of "
        f"{o['all']['wrong']} wrong answers (target 0). Mean engine time per question: "
        f"{fmt(questions.get('seconds_per_question'))} s.",
        "",
        "Questions are generated from the gold records (`evals/analyst_questions.py`); the number, date,"
        " outcome or specialty is read from the answer's first sentence. Held-out templates"
        " (`evals/analyst_heldout.py`) are not for tuning the engine.",
    ]
    if wrong:
        parts += ["", "Wrong answers (first 40):", ""]
        parts += [f"- {r['id']} {r['question']} -> {r['reason']}; answered: "
                  f"{' '.join(r['answer'].split())[:160]}" for r in wrong[:40]]
    return "\n".join(parts)


def _baseline_md(baseline: dict) -> str:
    parts = [
        f"## Compared with baseline {baseline.get('path', '')}", "",
        f"{baseline['compared']} metrics compared, {len(baseline['regressions'])} dropped by more than "
        f"{baseline['tolerance']}; {len(baseline['only_in_baseline'])} only in the baseline.",
    ]
    if baseline["changes"]:
        rows = [[c["name"], c["baseline"], c["current"], f"{c['delta']:+.3f}", "REGRESSION" if c["regressed"] else ""]
                for c in baseline["changes"]]
        parts += ["", table(["metric", "baseline", "current", "delta", ""], rows)]
    else:
        parts.append("\nNo metric changed.")
    return "\n".join(parts)
