"""Year-scale ingest: the segmented lexical index, batched commits, extraction in the same pass,
worker processes, and what a kill in the middle of a lexical merge leaves."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import bm25s
import pytest

from helpers import SYNTHETIC_LETTERS, clean_env, make_settings

from imr_rag.extract.service import ExtractionService
from imr_rag.integrity import check_library
from imr_rag.index import lexical
from imr_rag.index.lexical import MERGE_AT, tokenize
from imr_rag.library import Library
from imr_rag.schema import SearchFilters

QUERIES = ["lumbar epidural steroid injection", "physical therapy visits", "Lyrica 75mg", "not medically necessary",
           "urine drug screen opioid", "MRI of the knee"]


def many_letters(folder: Path, n: int) -> Path:
    """n distinct letters (own case number and a sentence of their own) from the synthetic ones."""
    folder.mkdir(parents=True, exist_ok=True)
    templates = sorted(SYNTHETIC_LETTERS.glob("dwc_cm99_*.txt"))
    for i in range(n):
        text = re.sub(r"CM99-\d{7}", f"CM97-{i:07d}", templates[i % len(templates)].read_text())
        (folder / f"letter_{i:04d}.txt").write_text(text + f"\nCopy {i} of the scale test.\n")
    return folder


def one_index_over_everything(lib: Library) -> tuple[bm25s.BM25, list[str]]:
    """bm25s over every chunk of the catalog at once: what the segments must score like."""
    rows = list(lib.catalog.iter_index_rows(sorted(lib.catalog.doc_ids())))
    retriever = bm25s.BM25()
    retriever.index([tokenize(text) or ["_empty_"] for *_, text in rows], show_progress=False)
    return retriever, [r[0] for r in rows]


def test_segments_score_as_one_index_and_removed_letters_vanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = many_letters(tmp_path / "letters", 12)
    settings = make_settings(tmp_path / "data", lexical_segment_letters=5)
    with Library(settings) as lib:
        lib.ingest([folder], embed=False)
        assert lib.lexical.segment_count() == 3  # appended per 5 letters; too few to merge
        retriever, ids = one_index_over_everything(lib)
        for query in QUERIES:
            tokens = [t for t in tokenize(query) if t in retriever.vocab_dict]
            docs, scores = retriever.retrieve([tokens], k=5, show_progress=False)
            expected = [(ids[d], round(float(s), 4)) for d, s in zip(docs[0], scores[0])]
            ours = [(c, round(s, 4)) for c, s in lib.lexical.search(query, 5)]
            assert [s for _, s in ours] == [s for _, s in expected], query
            every = retriever.get_scores(tokens)  # each hit scores what one index gives it (ties aside)
            assert all(round(float(every[ids.index(c)]), 4) == score for c, score in ours), query
        # A changed file: its old chunks are tombstoned, the new ones appended; nothing drifts.
        path = folder / "letter_0003.txt"
        old_doc = lib.catalog.doc_for_path(str(path))
        path.write_text(path.read_text().replace("CM97-0000003", "CM96-0000003"))
        lib.ingest([folder], embed=False)
        lib.apply_dense_deletes()  # the embed stage's part (this library has no vectors)
        assert check_library(lib).drifts == []
        assert not [c for c in lib.lexical.chunk_ids() if c.startswith(old_doc)]
        hits = lib.search("CM96-0000003 requested treatment", k=3, mode="lexical")
        assert hits and all(h.case_number == "CM96-0000003" for h in hits)
        filtered = lib.search("requested treatment", k=50, mode="lexical",
                              filters=SearchFilters(case_number="CM97-0000005"))
        assert filtered and {h.case_number for h in filtered} == {"CM97-0000005"}
        # A filter that leaves few chunks scores just those (postings searched for them): the same
        # scores as scoring every chunk against one index and keeping the filter's.
        retriever, ids = one_index_over_everything(lib)
        for filters in (SearchFilters(case_number="CM97-0000007"), SearchFilters(section="item"),
                        SearchFilters(doc_id=lib.catalog.doc_for_path(str(folder / "letter_0001.txt")))):
            keep = {r.chunk.chunk_id for d in lib.catalog.documents() for r in lib.catalog.chunks_for_doc(d.doc_id)
                    if all(v is None or v == {"case_number": r.case_number, "section": r.chunk.section,
                                              "doc_id": r.chunk.doc_id, "letter_format": r.letter_format}[n]
                           for n, v in filters.model_dump().items())}
            for query, few in [(q, few) for q in QUERIES for few in (lexical.FEW_ALLOWED, 0)]:
                monkeypatch.setattr(lexical, "FEW_ALLOWED", few)  # 0: every chunk scored, then masked
                tokens = [t for t in tokenize(query) if t in retriever.vocab_dict]
                if not tokens:
                    continue
                every = retriever.get_scores(tokens)
                expected = sorted((round(float(every[ids.index(c)]), 4) for c in keep if every[ids.index(c)] > 0),
                                  reverse=True)[:5]
                mask = lib.lexical.mask(**filters.model_dump())
                ours = lib.lexical.search(query, 5, mask)
                assert [round(s, 4) for _, s in ours] == expected, (query, filters)
                assert {c for c, _ in ours} <= keep
                if filters.case_number or filters.doc_id:  # the library scores a case's chunks directly
                    hits = lib.search(query, k=5, filters=filters, mode="lexical")
                    assert [round(h.score, 4) for h in hits] == expected and {h.chunk_id for h in hits} <= keep


def test_extraction_in_the_ingest_pass_and_workers_give_the_same_catalog(tmp_path: Path) -> None:
    """Rules extraction on the text in memory stores what extracting the stored text stores, and
    two worker processes produce the same catalog and index as one."""
    folder = many_letters(tmp_path / "letters", 10)
    catalogs = {}
    for label, workers, extract in [("stored", 1, None), ("inline", 1, "rules"), ("workers", 2, "rules")]:
        with Library(make_settings(tmp_path / label, lexical_segment_letters=3)) as lib:
            report = lib.ingest([folder], embed=False, extract=extract, workers=workers)
            assert len(report.ingested) == 10 and report.failed == []
            if extract is None:
                docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
                list(ExtractionService(lib.settings, lib.catalog, "rules").run(iter(docs), len(docs)))
            else:
                assert report.extracted == 10
            assert check_library(lib).drifts == []
            catalogs[label] = (
                sorted(lib.catalog.chunk_ids()), sorted(lib.lexical.chunk_ids()),
                [(d, b, dec.model_dump_json()) for d, b, dec in lib.catalog.decisions()],
                lib.search("lumbar epidural steroid injection", k=5, mode="lexical"),
            )
    assert catalogs["stored"] == catalogs["inline"] == catalogs["workers"]


MERGE_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from imr_rag.library import Library
    from imr_rag.settings import Settings

    data, folder = sys.argv[1], sys.argv[2]

    def progress(stage, done, total):
        if stage == "merge" and done == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # the merged segment is written, not yet swapped in

    settings = Settings(_env_file=None, data_dir=Path(data), chroma_url=None, lexical_segment_letters=1)
    with Library(settings) as lib:
        lib.ingest([Path(folder)], embed=False, progress=progress)
    sys.exit(3)
""")


@pytest.mark.slow
def test_a_kill_in_the_middle_of_a_merge_leaves_a_usable_index_that_the_rerun_merges(tmp_path: Path) -> None:
    folder = many_letters(tmp_path / "letters", MERGE_AT)
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, "-c", MERGE_KILLER, str(data), str(folder)], env=clean_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr[-2000:]
    settings = make_settings(data, lexical_segment_letters=1)
    with Library(settings) as lib:
        # The manifest still lists the unmerged segments: every letter is found, nothing drifts.
        assert lib.lexical.segment_count() == MERGE_AT
        listed = {e["name"] for e in lib.lexical.manifest()["segments"]}
        leftovers = [p.name for p in lib.settings.lexical_path.glob("seg-*") if p.name not in listed]
        assert leftovers, "the merged segment the kill left behind"
        assert check_library(lib).drifts == []
        for path in sorted(folder.glob("*.txt")):
            case = re.search(r"CM97-\d{7}", path.read_text()).group(0)
            hits = lib.search(f"{case} request", k=1, mode="lexical")
            assert hits and hits[0].case_number == case
        report = lib.ingest([folder], embed=False)
        assert len(report.unchanged) == MERGE_AT
        assert lib.lexical.segment_count() == 1
        assert [p.name for p in lib.settings.lexical_path.glob("seg-*")] == [e["name"] for e in lib.lexical.manifest()["segments"]]
        assert check_library(lib).drifts == []
        assert len(lib.lexical.chunk_ids()) == lib.stats()["chunks"]


def test_offset_maps_are_stored_as_differences_and_old_blobs_still_read(tmp_path: Path) -> None:
    import zlib

    import numpy as np

    from imr_rag.catalog import pack_offsets, unpack_offsets
    from imr_rag.ingest.textmap import normalise

    mapped = normalise("Case  Number:\r\nCM97-0000001\f\n\n\nDecision\t rationale: upheld &amp; more")
    blob = pack_offsets(mapped.offsets, mapped.ends)
    offsets, ends = unpack_offsets(blob, len(mapped.text))
    assert np.array_equal(offsets, mapped.offsets) and np.array_equal(ends, mapped.ends)
    old = zlib.compress(np.concatenate([mapped.offsets, mapped.ends]).astype(np.int64).tobytes())
    offsets, ends = unpack_offsets(old, len(mapped.text))  # a catalog written before
    assert np.array_equal(offsets, mapped.offsets) and np.array_equal(ends, mapped.ends)
    folder = many_letters(tmp_path / "letters", 2)
    with Library(make_settings(tmp_path / "data")) as lib:
        lib.ingest([folder], embed=False)
        for stored in lib.catalog.documents():
            doc = lib.catalog.load_document(stored.doc_id)
            assert len(doc.offsets) == len(doc.text) + 1 and doc.source_span(0, 12) == (0, 12)
