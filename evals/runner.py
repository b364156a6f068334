"""Run the eval suites on a library built from the fixture letters; return the report as a dict.

Suites: `extraction` (each backend's records vs the gold records), `retrieval` (recall@k and MRR
of the three search modes on the questions), `answers` (the answer engine's answers on the questions:
correctness, citation precision/recall, answers without a valid citation, faithfulness) and
`questions` (the answer engine's answers to the analyst questions generated from the gold records by
`evals.analyst_questions`: accuracy per kind, dev and held-out templates, wrong answers that cited).
All scoring is in `evals.metrics`; this module only drives the library and collects results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from evals import metrics
from evals.cases import FixtureSet, Question
from imr_rag import __version__
from imr_rag.library import SEARCH_MODES, Library
from imr_rag.settings import Settings

SUITES = ("extraction", "retrieval", "answers", "questions", "perturbation")
K_VALUES = (1, 5, 10)
ALL = "all"  # the pooled row over every fixture set

Log = Callable[[str], None]


@dataclass
class EvalOptions:
    """What to run: fixture sets, suites, extraction backends, and the token price for costs."""

    sets: list[FixtureSet]
    suites: tuple[str, ...] = SUITES
    backends: tuple[str, ...] = ("rules",)
    k_values: tuple[int, ...] = K_VALUES
    price_per_1k_tokens: float | None = None
    perturbation_sets: tuple[bool, ...] = (False, True)  # held_out flags: development, held-out
    notes: list[str] = field(default_factory=list)


def _quiet(message: str) -> None:
    return None


def run_eval(options: EvalOptions, settings: Settings, *, judge=None, log: Log = _quiet) -> dict:
    started = time.perf_counter()
    report: dict = {
        "tool": "imr-rag eval",
        "version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "suites": list(options.suites),
        "backends": list(options.backends),
        "settings": {
            "embedding_model": settings.embedding_model, "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap, "rrf_k": settings.rrf_k,
            "llm_model": settings.llm_model if settings.llm_enabled else None,
            "price_per_1k_tokens": options.price_per_1k_tokens,
        },
        "fixture_sets": [s.describe() for s in options.sets],
        "notes": list(options.notes),
    }
    needs_dense = bool({"retrieval", "answers", "questions"} & set(options.suites))
    # Table sets (DMHC rows) are scored by the extraction suite; the other suites read letters.
    letter_options = replace(options, sets=[s for s in options.sets if not s.tables])
    with Library(settings) as lib:
        letters = [p for s in options.sets for p in s.ingest_paths()]
        log(f"ingesting {len(letters)} letters and tables{' (with embeddings)' if needs_dense else ''}")
        ingest = lib.ingest(letters, embed=needs_dense)
        report["ingest"] = {"letters": len(letters), "failed": [{"path": p, "reason": r} for p, r in ingest.failed],
                            "chunks": lib.catalog.stats()["chunks"], "seconds": ingest.as_dict()["seconds"]}
        doc_ids = {str(p): _doc_id(lib, s, p) for s in options.sets for p in s.letters}
        if {"extraction", "answers", "questions"} & set(options.suites):
            backends = options.backends if "extraction" in options.suites else options.backends[:1]
            report["extraction"], report["llm_usage"] = {}, {}
            for backend in backends:
                log(f"extracting with backend {backend}")
                per_set, usage = run_extraction(lib, settings, options.sets, doc_ids, backend,
                                                options.price_per_1k_tokens)
                report["extraction"][backend], report["llm_usage"][backend] = per_set, usage
            if "answers" in options.suites or "questions" in options.suites:
                report["answers_decisions_backend"] = backends[-1]
            if "extraction" not in options.suites:
                del report["extraction"], report["llm_usage"]  # run only to give the chat engine decisions
        if "retrieval" in options.suites:
            report["retrieval"] = run_retrieval(lib, letter_options.sets, options.k_values, log)
        if "answers" in options.suites:
            report["answers"] = run_answers(lib, settings, letter_options.sets, doc_ids, judge, log)
        if "questions" in options.suites:
            report["questions"] = run_questions(lib, settings, letter_options.sets, doc_ids, log)
        if "perturbation" in options.suites:
            report["perturbation"] = run_perturbation(lib, settings, letter_options, log)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _doc_id(lib: Library, fixture: FixtureSet, path) -> str | None:
    """The document of a letter (by its path) or of a table row (by its name, FILE.csv#ID)."""
    if not fixture.tables:
        return lib.catalog.doc_for_path(str(path))
    stored = lib.catalog.resolve_document(str(path))
    return stored.doc_id if stored and stored.path == str(path) else None


# -- extraction --------------------------------------------------------------------------------
ROW_FIELDS = ("priority", "report_year", "review_type", "diagnosis_category", "diagnosis_subcategory",
              "treatment_category", "treatment_subcategory", "age_range", "days_to_review", "days_to_adopt",
              "reviewer_count", "reviewers_for_outcome", "published_determination", "patient_sex")
"""The fields of a table row's record scored by accuracy against its gold (the letter fields and
items are scored as for letters)."""


def row_field_hits(gold: dict, predicted: dict | None) -> dict[str, bool]:
    """Per row field: whether the record has the gold value (a failed record has none)."""
    def value(record: dict, name: str):
        return (record.get("patient") or {}).get("sex") if name == "patient_sex" else record.get(name)

    return {name: predicted is not None and value(predicted, name) == value(gold, name) for name in ROW_FIELDS}


def row_field_accuracy(hits: list[dict[str, bool]]) -> dict:
    return {name: {"correct": sum(h[name] for h in hits), "rows": len(hits),
                   "accuracy": sum(h[name] for h in hits) / len(hits) if hits else 0.0} for name in ROW_FIELDS}


def run_extraction(
    lib: Library, settings: Settings, sets: list[FixtureSet], doc_ids: dict[str, str | None],
    backend: str, price_per_1k_tokens: float | None,
) -> tuple[dict, dict]:
    """Per fixture set: field scores and per-letter rows; and the backend's LLM usage."""
    from imr_rag.extract.service import ExtractionService

    service = ExtractionService(settings, lib.catalog, backend)
    wanted = sorted({d for d in doc_ids.values() if d})
    documents = (lib.catalog.load_document(d) for d in wanted)
    results = {r.doc_id: r for r in service.run(documents, len(wanted))}
    texts = {d: lib.catalog.document(d).text for d in wanted}
    per_set: dict = {}
    every_score, every_grounding, rows_all, usage_rows = [], [], [], []
    for fixture in sets:
        scores, grounded, rows, hits = [], [], [], []
        for path in fixture.letters:
            gold = fixture.gold[path.name]
            doc_id = doc_ids.get(str(path))
            result = results.get(doc_id) if doc_id else None
            predicted = result.decision.model_dump(mode="json") if result and result.decision else None
            score = metrics.score_letter(gold, predicted)
            spans = metrics.grounding(predicted, texts[doc_id]) if doc_id else (0, 0)
            scores.append(score)
            grounded.append(spans)
            rows.append(_letter_row(path.name, gold, result, score, spans))
            if fixture.tables:
                hits.append(row_field_hits(gold, predicted))
                rows[-1]["imperfect_fields"] += [name for name, ok in hits[-1].items() if not ok]
                rows[-1]["exact"] = rows[-1]["exact"] and all(hits[-1].values())
        summary = metrics.summarize_letters(scores, grounded)
        if fixture.tables:
            summary["row_fields"] = row_field_accuracy(hits)
            summary["exact_match_rate"] = sum(r["exact"] for r in rows) / len(rows) if rows else 0.0
        summary["failed"] = sum(1 for r in rows if r["error"])
        summary.update(flag_counts(rows))
        summary["per_letter"] = rows
        per_set[fixture.name] = summary
        usage_rows += rows
        if fixture.tables:  # the pooled row stays the letters' own (comparable with earlier reports)
            continue
        every_score += scores
        every_grounding += grounded
        rows_all += rows
    if sum(1 for s in sets if not s.tables) > 1:
        pooled = metrics.summarize_letters(every_score, every_grounding)
        pooled["failed"] = sum(1 for r in rows_all if r["error"])
        pooled.update(flag_counts(rows_all))
        per_set[ALL] = pooled
    return per_set, llm_usage(usage_rows, price_per_1k_tokens)


def _letter_row(name: str, gold: dict, result, score: metrics.LetterScore, spans: tuple[int, int]) -> dict:
    error = "not ingested" if result is None else result.error
    return {
        "letter": name,
        "case_number": gold.get("case_number"),
        "error": error,
        "exact": score.exact,
        "gold_items": len(gold.get("items") or []),
        "matched_items": len(score.pairs),
        "extracted_items": len(result.decision.items) if result and result.decision else 0,
        "imperfect_fields": [n for n, c in score.fields.items() if not c.perfect],
        "grounded_spans": list(spans),
        "llm_calls": result.llm_calls if result else 0,
        "llm_retries": result.llm_retries if result else 0,
        "tokens": dict(result.tokens) if result else {},
        "cached": bool(result and result.cached),
        "flagged": bool(result and result.decision and result.decision.review_flags),
        "review_checks": sorted({f.check for f in result.decision.review_flags}) if result and result.decision else [],
        "seconds": round(result.seconds, 4) if result else 0.0,
    }


def flag_counts(rows: list[dict]) -> dict:
    """Letters whose record needs review, and their share of the letters; on letters the parser
    gets right every flag is noise, so this rate should stay near 0 on the clean sets."""
    flagged = sum(1 for r in rows if r["flagged"])
    return {
        "flagged_letters": flagged,
        "flag_rate": flagged / len(rows) if rows else 0.0,
        "flagged_correct_letters": sum(1 for r in rows if r["flagged"] and r["exact"]),
    }


def llm_usage(rows: list[dict], price_per_1k_tokens: float | None) -> dict:
    """Calls, retries, tokens and wall time over letters; cost per 1,000 letters at the price.

    Per-letter means are over letters that were not answered from the LLM cache.
    """
    fresh = [r for r in rows if not r["cached"]]
    kinds = ("prompt_tokens", "completion_tokens", "total_tokens")
    tokens = {k: sum(r["tokens"].get(k, 0) for r in rows) for k in kinds}
    per_letter = tokens["total_tokens"] / len(fresh) if fresh else None
    return {
        "letters": len(rows),
        "cached": len(rows) - len(fresh),
        "llm_calls": sum(r["llm_calls"] for r in rows),
        "llm_retries": sum(r["llm_retries"] for r in rows),
        "tokens": tokens,
        "tokens_per_letter": per_letter,
        "seconds": round(sum(r["seconds"] for r in rows), 3),
        "seconds_per_letter": sum(r["seconds"] for r in fresh) / len(fresh) if fresh else None,
        "cost_per_1000_letters": (
            per_letter * price_per_1k_tokens if per_letter is not None and price_per_1k_tokens is not None else None
        ),
    }


# -- perturbation ------------------------------------------------------------------------------
def run_perturbation(lib: Library, settings: Settings, options: EvalOptions, log: Log) -> dict:
    """Rewrite the fixture letters (`evals.perturb`), extract them, and measure robustness.

    Per backend and perturbation set (development and held-out): item F1, determination accuracy,
    letter exact-match, the silent error rate (letters with any wrong field and no review flag)
    and the same per perturbation kind.
    """
    import tempfile
    from pathlib import Path

    from evals import perturb

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="imr-perturb-") as tmp:
        sets = [perturb.build(options.sets, Path(tmp), held_out=held) for held in options.perturbation_sets]
        letters = [p for s in sets for p in s.letters]
        log(f"perturbation: {len(letters)} rewritten letters")
        lib.ingest(letters, embed=False)
        doc_ids = {str(p): lib.catalog.doc_for_path(str(p)) for p in letters}
        for backend in options.backends:
            per_set, _ = run_extraction(lib, settings, sets, doc_ids, backend, options.price_per_1k_tokens)
            # Development and held-out are reported apart, never pooled.
            out[backend] = {s.name: robustness(per_set[s.name], s) for s in sets}
    return out


def robustness(summary: dict, fixture) -> dict:
    """The robustness measures of one set's extraction summary (its per-letter rows)."""
    rows = summary.get("per_letter") or []
    fields = summary["fields"]
    det = fields["determination"]
    result = {
        "letters": summary["letters"],
        "item_f1": fields["items"]["f1"],
        "determination_accuracy": det["recall"],
        "exact_match_rate": summary["exact_match_rate"],
        "failed": summary.get("failed", 0),
        "fields": fields,
    }
    wrong = [r for r in rows if not r["exact"]]
    silent = [r for r in wrong if not r["error"] and not r["flagged"]]
    result.update({
        "wrong_letters": len(wrong),
        "flagged_letters": sum(1 for r in rows if r["flagged"]),
        "silent_errors": len(silent),
        "silent_error_rate": len(silent) / len(rows) if rows else 0.0,
        "silent_letters": [{"letter": r["letter"], "fields": r["imperfect_fields"]} for r in silent],
        "failed_letters": [{"letter": r["letter"], "error": r["error"]} for r in rows if r["error"]],
    })
    by_kind: dict[str, dict] = {}
    for r in rows:
        kind = fixture.gold[r["letter"]]["perturbation"]
        k = by_kind.setdefault(kind, {"letters": 0, "exact": 0, "silent": 0, "failed": 0})
        k["letters"] += 1
        k["exact"] += r["exact"]
        k["silent"] += (not r["exact"]) and not r["error"] and not r["flagged"]
        k["failed"] += bool(r["error"])
    result["by_kind"] = by_kind
    return result


# -- retrieval ---------------------------------------------------------------------------------
GENERATED_QUERIES = "retrieval.jsonl"
"""Per fixture set, the queries `evals/make_retrieval_queries.py` generates from the gold records
(service, body part, date and reviewer wordings, no case numbers); reported apart from the small
hand-made sets, under `generated:<set>` and `generated:all`, so the earlier figures stay comparable."""
GENERATED = "generated:"


def run_retrieval(lib: Library, sets: list[FixtureSet], k_values: tuple[int, ...], log: Log) -> dict:
    """Per fixture set and mode: recall@k and MRR, letter-level and (for passage questions) passage-level;
    the small question sets first (and their pooled `all`), then the generated queries."""
    out = _retrieval_over(lib, [(s.name, s.questions, False) for s in sets], k_values, log, ALL)
    ingested = {name for s in sets for name in s.gold}
    generated = [(f"{GENERATED}{s.name}", _generated_queries(s, ingested), True) for s in sets]
    out.update(_retrieval_over(lib, generated, k_values, log, f"{GENERATED}{ALL}"))
    return out


def _generated_queries(fixture: FixtureSet, ingested: set[str]) -> list[Question]:
    """The set's generated queries whose expected letters (of any set) were all ingested."""
    from evals.cases import read_questions

    path = fixture.root / GENERATED_QUERIES
    if not path.is_file():
        return []
    return [q for q in read_questions(path) if set(q.expected_source_files) <= ingested]


def _retrieval_over(lib: Library, groups: list[tuple[str, list[Question], bool]], k_values: tuple[int, ...],
                    log: Log, pooled_name: str) -> dict:
    """Score each (name, questions, any_quote) group; `any_quote`: every question with an expected
    quote is also scored at passage level, whatever its kind. A pooled row when there are several."""
    depth = max(k_values)
    out: dict = {}
    pooled: dict[str, tuple[list, list]] = {mode: ([], []) for mode in SEARCH_MODES}
    for name, questions, any_quote in groups:
        if not questions:
            continue
        log(f"retrieval: {name} ({len(questions)} questions)")
        per_mode, rows = {}, {q.id: {"id": q.id, "question": q.question, "kind": q.kind} for q in questions}
        kinds = sorted({q.kind for q in questions})
        for mode in SEARCH_MODES:
            ranks, passage_ranks = [], []
            by_kind: dict[str, tuple[list, list]] = {kind: ([], []) for kind in kinds}
            for q in questions:
                hits = lib.search(q.question, k=depth, mode=mode)
                rank = metrics.first_relevant_rank(hits, q)
                ranks.append(rank)
                by_kind[q.kind][0].append(rank)
                rows[q.id][f"{mode}_rank"] = rank
                if metrics.is_passage_question(q) or (any_quote and q.expected_quote):
                    passage_rank = metrics.first_relevant_rank(hits, q, passage=True)
                    passage_ranks.append(passage_rank)
                    by_kind[q.kind][1].append(passage_rank)
                    rows[q.id][f"{mode}_passage_rank"] = passage_rank
            per_mode[mode] = retrieval_summary(ranks, passage_ranks, k_values)
            if len(kinds) > 1:
                per_mode[mode]["by_kind"] = {
                    kind: retrieval_summary(r, p, k_values) for kind, (r, p) in by_kind.items()
                }
            pooled[mode][0].extend(ranks)
            pooled[mode][1].extend(passage_ranks)
        per_mode["per_question"] = list(rows.values())
        out[name] = per_mode
    if len(out) > 1:
        out[pooled_name] = {mode: retrieval_summary(r, p, k_values) for mode, (r, p) in pooled.items()}
    return out


def retrieval_summary(ranks: list, passage_ranks: list, k_values: tuple[int, ...]) -> dict:
    summary: dict = {"questions": len(ranks), "passage_questions": len(passage_ranks)}
    for k in k_values:
        summary[f"recall@{k}"] = metrics.recall_at_k(ranks, k)
    summary["mrr"] = metrics.mean_reciprocal_rank(ranks)
    for k in k_values:
        summary[f"passage_recall@{k}"] = metrics.recall_at_k(passage_ranks, k)
    summary["passage_mrr"] = metrics.mean_reciprocal_rank(passage_ranks)
    return summary


# -- answers ---------------------------------------------------------------------------------
NOT_JUDGED = "n/a"


def run_answers(lib: Library, settings: Settings, sets: list[FixtureSet], doc_ids: dict[str, str | None],
                judge, log: Log) -> dict:
    """Per fixture set: answer metrics over the questions, with the answers themselves."""
    from imr_rag.ask.engine import Asker

    engine = Asker(lib, settings)
    texts = _DocTexts(lib)
    out: dict = {}
    pooled: list[metrics.AnswerScore] = []
    judged_any = False
    for fixture in sets:
        if not fixture.questions:
            continue
        log(f"answers: {fixture.name} ({len(fixture.questions)} questions)")
        by_name = {p.name: doc_ids.get(str(p)) for p in fixture.letters}
        scores, rows = [], []
        for q in fixture.questions:
            expected_docs = _expected_doc_ids(lib, q, by_name)
            spans = _expected_spans(q, expected_docs, texts)
            answer = engine.answer(q.question)
            cited_texts = {c.doc_id: texts.get(c.doc_id) for c in answer.citations}
            score = metrics.score_answer(answer.text, answer.citations, q, spans, expected_docs,
                                         {d: t for d, t in cited_texts.items() if t is not None},
                                         support_regions=_section_regions(lib, spans, texts))
            if judge is not None and answer.mode == "llm":
                score.faithfulness = _judge(judge, q, answer)
                judged_any = judged_any or score.faithfulness is not None
            scores.append(score)
            rows.append(_answer_row(q, answer, score))
        summary = metrics.summarize_answers(scores)
        summary["per_question"] = rows
        out[fixture.name] = summary
        pooled += scores
    if len(out) > 1:
        out[ALL] = metrics.summarize_answers(pooled)
    for summary in out.values():
        if summary["faithfulness"] is None:
            summary["faithfulness"] = NOT_JUDGED
    if not judged_any:
        log("answers: faithfulness n/a (no LLM answers or no judge model)")
    return out


class _DocTexts:
    """Document texts from the catalog, read once."""

    def __init__(self, lib: Library):
        self.lib = lib
        self.cache: dict[str, str | None] = {}

    def get(self, doc_id: str) -> str | None:
        if doc_id not in self.cache:
            doc = self.lib.catalog.document(doc_id)
            self.cache[doc_id] = doc.text if doc else None
        return self.cache[doc_id]


def _expected_doc_ids(lib: Library, q: Question, by_name: dict[str, str | None]) -> set[str]:
    found = {by_name[name] for name in q.expected_source_files if by_name.get(name)}
    for number in q.expected_case_numbers:
        rows = lib.catalog.db.execute("SELECT doc_id FROM documents WHERE case_number = ?", (number,))
        found.update(r["doc_id"] for r in rows)
    return found


def _expected_spans(q: Question, doc_ids: set[str], texts: _DocTexts) -> list[tuple[str, int, int]]:
    spans = []
    for doc_id in sorted(doc_ids):
        text = texts.get(doc_id)
        span = metrics.quote_span(text, q.expected_quote) if text and q.expected_quote else None
        if span:
            spans.append((doc_id, *span))
    return spans


def _section_regions(lib: Library, spans: list[tuple[str, int, int]], texts: _DocTexts) -> list[tuple[str, int, int]]:
    """For each expected span, the item section of its letter that holds it (else the span)."""
    from imr_rag.formats import split_sections

    regions = []
    for doc_id, start, end in spans:
        doc = lib.catalog.document(doc_id)
        sections = split_sections(doc.text, doc.letter_format) if doc else []
        holder = next((s for s in sections if s.item_index is not None and s.start <= start < s.end), None)
        regions.append((doc_id, holder.start, max(holder.end, end)) if holder else (doc_id, start, end))
    return regions


def _judge(judge, q: Question, answer) -> float | None:
    from evals.judge import answer_sentences

    try:
        return judge.faithfulness(q.question, answer_sentences(answer), [c.quote for c in answer.citations])
    except Exception:  # noqa: BLE001  a failed judgement is 'not judged', never a failed eval
        return None


def _answer_row(q: Question, answer, score: metrics.AnswerScore) -> dict:
    return {
        "id": q.id, "question": q.question, "kind": q.kind, "answer_kind": answer.kind, "mode": answer.mode,
        "correct": score.correct, "citations": score.citations, "valid_citations": score.valid_citations,
        "supporting_citations": score.supporting_citations,
        "section_supporting_citations": score.section_supporting_citations, "expected_cited": score.expected_cited,
        "faithfulness": score.faithfulness, "answer": answer.text[:500],
    }


# -- analyst questions -------------------------------------------------------------------------
def run_questions(lib: Library, settings: Settings, sets: list[FixtureSet], doc_ids: dict[str, str | None],
                  log: Log) -> dict:
    """The analyst questions of all the sets' gold records, asked of one library holding them all."""
    from evals import analyst_questions as aq
    from imr_rag.ask.engine import Asker

    files = {p.name: doc_ids.get(str(p)) for s in sets for p in s.letters}
    texts = _DocTexts(lib)
    letter_texts = {name: texts.get(d) or "" for name, d in files.items() if d}
    letters = aq.gold_letters((s.name, s.gold) for s in sets)
    questions = aq.generate(letters, letter_texts)
    regions = _item_regions(lib, letters, files, texts)
    engine = Asker(lib, settings)
    log(f"questions: {len(questions)} analyst questions over {len({q.kind for q in questions})} kinds")
    rows = []
    for q in questions:
        started = time.perf_counter()
        answer = engine.answer(q.question)
        seconds = time.perf_counter() - started
        verdict = aq.check(q, answer.text, answer.citations, regions)
        rows.append({"id": q.id, "kind": q.kind, "split": q.split, "question": q.question,
                     "expect": q.expect, "correct": verdict.correct, "cited": verdict.cited,
                     "reason": verdict.reason, "answer_kind": answer.kind, "seconds": round(seconds, 4),
                     "answer": answer.text[:600]})
    summary = aq.summarize(rows)
    summary["seconds_per_question"] = sum(r["seconds"] for r in rows) / len(rows) if rows else None
    summary["per_question"] = rows
    return summary


NOT_RATIONALE = ("services_in_dispute", "review_outcome")  # item sections that only name the item or outcome


def _item_regions(lib: Library, letters, files: dict[str, str | None], texts: _DocTexts) -> dict:
    """(letter file, gold item index) -> [(doc id, section start, end, heading start, end)]: the
    sections that hold the item's rationale (its heading, where found, excluded)."""
    from evals.make_questions import heading
    from imr_rag.formats import split_sections

    regions: dict = {}
    for letter in letters:
        doc_id = files.get(letter.source_file)
        doc = lib.catalog.document(doc_id) if doc_id else None
        if doc is None:
            continue
        sections = [s for s in split_sections(doc.text, doc.letter_format)
                    if s.item_index is not None and s.name not in NOT_RATIONALE]
        for item in letter.items:
            record_item = letter.record["items"][item.index]
            span = (metrics.quote_span(doc.text, heading(record_item))
                    if record_item["determination"] in ("upheld", "overturned") else None)
            holder = next((s for s in sections if s.start <= span[0] < s.end), None) if span else None
            if holder is not None:
                regions[(letter.source_file, item.index)] = [(doc_id, holder.start, holder.end, *span)]
            else:
                regions[(letter.source_file, item.index)] = [
                    (doc_id, s.start, s.end, s.start, s.start) for s in sections if s.item_index == item.index]
    return regions
