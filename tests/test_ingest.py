"""Library.ingest / embed_pending / search with the real catalog, BM25 index, Chroma and embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import SYNTHETIC_LETTERS, gold_for, make_settings, synthetic_letter
from imr_rag import library as library_module
from imr_rag.index.boilerplate import count_skipped
from imr_rag.library import Library
from imr_rag.schema import SearchFilters

UNIQUE_PHRASE = "quokka hydrotherapy in a flotation tank"


@pytest.fixture
def three_letters(tmp_path: Path) -> Path:
    """A private folder with copies of three synthetic letters (one per layout family)."""
    folder = tmp_path / "letters"
    folder.mkdir()
    for name in ("dwc_cm99_0000001.txt", "dwc_cm99_0000004.md", "tx_iro_upheld.txt"):
        shutil.copy(synthetic_letter(name), folder / name)
    return folder


@pytest.fixture
def fresh_library(tmp_path: Path):
    lib = Library(make_settings(tmp_path / "data"))
    yield lib
    lib.close()


def _dense_ids(lib: Library, doc_id: str) -> list[str]:
    return lib.dense.collection.get(where={"doc_id": doc_id}, include=[])["ids"]


def _catalog_chunk_count(lib: Library) -> int:
    return lib.catalog.stats()["chunks"]


# -- the shared, read-only library of all synthetic letters ----------------------------------
def test_all_synthetic_letters_are_ingested_and_indexed(synthetic_library, synthetic_paths) -> None:
    lib, report = synthetic_library
    assert sorted(report.ingested) == sorted(str(p) for p in synthetic_paths)
    assert report.failed == [] and report.replaced == [] and report.unchanged == []
    stats = lib.stats()
    assert stats["documents"] == len(synthetic_paths)
    # Every chunk is embedded but boilerplate with nothing of its own (docs/embedders.md), which BM25 alone holds.
    left_out = count_skipped(lib.catalog.db)
    assert stats["chunks"] == report.chunks_added == report.chunks_embedded + left_out == stats["chunks_embedded"] + left_out
    assert lib.dense.count() == stats["chunks_embedded"]
    expected_formats: dict[str, int] = {}
    for p in synthetic_paths:
        fmt = gold_for(p)["letter_format"]
        expected_formats[fmt] = expected_formats.get(fmt, 0) + 1
    assert stats["formats"] == expected_formats


def test_identical_boilerplate_chunks_are_embedded_once(synthetic_library) -> None:
    lib, report = synthetic_library
    stats = lib.stats()
    assert report.vectors_computed < report.chunks_embedded
    embedded_texts = lib.catalog.db.execute("SELECT COUNT(DISTINCT text_hash) FROM chunks WHERE embedded = 1").fetchone()[0]
    assert report.vectors_computed == embedded_texts <= stats["unique_chunk_texts"]
    # Chunks with the same text got the same vector in Chroma.
    rows = lib.catalog.db.execute(
        "SELECT text_hash, GROUP_CONCAT(chunk_id) AS ids FROM chunks WHERE embedded = 1 GROUP BY text_hash HAVING COUNT(*) > 1"
    ).fetchall()
    assert rows, "expected some boilerplate chunk shared by several letters"
    for row in rows:
        got = lib.dense.collection.get(ids=row["ids"].split(","), include=["embeddings"])
        vectors = np.asarray(got["embeddings"])
        assert len(vectors) >= 2 and np.allclose(vectors, vectors[0])


def test_hits_point_at_exact_spans_of_the_document(synthetic_library) -> None:
    lib, _ = synthetic_library
    hits = lib.search("physical therapy sessions guidelines", k=10)
    assert len(hits) == 10
    for h in hits:
        doc = lib.catalog.document(h.doc_id)
        assert doc.text[h.start : h.end] == h.text
        assert h.source == doc.path
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def _case_letters() -> list[Path]:
    return [p for p in sorted(SYNTHETIC_LETTERS.glob("*")) if p.suffix in {".txt", ".md", ".html"}
            and (p.parent.parent / "gold" / f"{p.stem}.json").exists() and gold_for(p)["case_number"]]


@pytest.mark.parametrize("letter", _case_letters(), ids=lambda p: p.stem)
def test_searching_a_case_number_returns_only_that_letter(synthetic_library, letter: Path) -> None:
    lib, _ = synthetic_library
    case = gold_for(letter)["case_number"]
    doc_chunks = lib.catalog.db.execute(
        "SELECT COUNT(*) FROM chunks c JOIN documents d USING (doc_id) WHERE d.case_number = ?", (case,)
    ).fetchone()[0]
    assert doc_chunks > 0, f"{case} is not in the catalog as a case number"
    hits = lib.search(case, k=5)
    assert len(hits) == min(5, doc_chunks)
    assert [h.case_number for h in hits] == [case] * len(hits)
    assert Path(hits[0].source).name == letter.name


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_format_filter(synthetic_library, mode: str) -> None:
    lib, _ = synthetic_library
    hits = lib.search("physical therapy was medically necessary", k=8, mode=mode,
                      filters=SearchFilters(letter_format="tx_iro"))
    assert hits and all(h.letter_format == "tx_iro" for h in hits)
    unknown = lib.search("appeal", k=8, mode=mode, filters=SearchFilters(letter_format="unknown"))
    assert unknown and all(h.letter_format == "unknown" for h in unknown)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_section_and_combined_filters(synthetic_library, mode: str) -> None:
    lib, _ = synthetic_library
    items = lib.search("medication refill denied", k=10, mode=mode, filters=SearchFilters(section="item"))
    assert items and all(h.section == "item" and h.item_index is not None for h in items)
    both = lib.search("medication refill denied", k=10, mode=mode,
                      filters=SearchFilters(section="item", letter_format="ca_dwc_imr"))
    assert both and all(h.section == "item" and h.letter_format == "ca_dwc_imr" for h in both)
    nothing = lib.search("medication", k=5, mode=mode, filters=SearchFilters(section="no-such-section"))
    assert nothing == []


def test_doc_id_filter_and_bad_mode(synthetic_library) -> None:
    lib, _ = synthetic_library
    doc = lib.catalog.documents()[0]
    hits = lib.search("the request", k=5, filters=SearchFilters(doc_id=doc.doc_id))
    assert hits and {h.doc_id for h in hits} == {doc.doc_id}
    with pytest.raises(ValueError):
        lib.search("x", mode="fuzzy")


def test_search_finds_the_letter_about_a_treatment(synthetic_library) -> None:
    lib, _ = synthetic_library
    hits = lib.search("semi-electric hospital bed rental", k=3)
    assert hits[0].case_number == "CM99-0000008"
    hits = lib.search("carpal tunnel release", k=3)
    assert Path(hits[0].source).name == "tx_iro_upheld.txt"


# -- libraries of their own (these tests change state) ---------------------------------------
def test_reingest_of_the_same_files_changes_nothing(fresh_library: Library, three_letters: Path) -> None:
    first = fresh_library.ingest([three_letters])
    assert len(first.ingested) == 3 and not first.failed
    chunks, dense = _catalog_chunk_count(fresh_library), fresh_library.dense.count()
    assert chunks == dense == first.chunks_added > 0

    again = fresh_library.ingest([three_letters])
    assert sorted(again.unchanged) == sorted(first.ingested)
    assert again.ingested == again.replaced == again.failed == []
    assert (again.chunks_added, again.chunks_embedded, again.vectors_computed) == (0, 0, 0)
    assert _catalog_chunk_count(fresh_library) == chunks
    assert fresh_library.dense.count() == dense

    # A new Library on the same data dir (another process, say) sees the same state.
    with Library(fresh_library.settings) as reopened:
        third = reopened.ingest([three_letters])
        assert len(third.unchanged) == 3 and third.chunks_added == 0
        assert reopened.dense.count() == dense


def test_modified_file_is_replaced_everywhere(fresh_library: Library, three_letters: Path) -> None:
    fresh_library.ingest([three_letters])
    target = three_letters / "dwc_cm99_0000001.txt"
    old_id = fresh_library.catalog.doc_for_path(str(target))
    old_chunks = [r.chunk.chunk_id for r in fresh_library.catalog.chunks_for_doc(old_id)]
    assert old_chunks and len(_dense_ids(fresh_library, old_id)) == len(old_chunks)

    target.write_text(target.read_text(encoding="utf-8") + f"\nAddendum: the reviewer noted {UNIQUE_PHRASE}.\n",
                      encoding="utf-8")
    report = fresh_library.ingest([three_letters])
    assert report.replaced == [str(target)]
    assert len(report.unchanged) == 2 and report.ingested == []

    new_id = fresh_library.catalog.doc_for_path(str(target))
    assert new_id != old_id
    assert fresh_library.catalog.document(old_id) is None
    assert fresh_library.catalog.chunks_for_doc(old_id) == []
    assert _dense_ids(fresh_library, old_id) == []
    assert fresh_library.catalog.chunks_by_id(old_chunks) == {}
    assert fresh_library.dense.count() == _catalog_chunk_count(fresh_library)
    assert fresh_library.stats()["documents"] == 3

    for mode in ("lexical", "dense", "hybrid"):
        hits = fresh_library.search(UNIQUE_PHRASE, k=3, mode=mode)
        assert hits[0].doc_id == new_id, mode
        assert all(h.doc_id != old_id for h in hits)
    assert UNIQUE_PHRASE in fresh_library.search(UNIQUE_PHRASE, k=1, mode="lexical")[0].text


def test_same_content_at_two_paths_is_one_document(fresh_library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    (folder / "sub").mkdir(parents=True)
    letter = synthetic_letter("dwc_cm99_0000002.txt")
    shutil.copy(letter, folder / "a.txt")
    shutil.copy(letter, folder / "sub" / "b.txt")
    report = fresh_library.ingest([folder])
    assert not report.failed
    stats = fresh_library.stats()
    assert (stats["documents"], stats["paths"]) == (1, 2)
    assert len(report.ingested) == 1
    assert report.chunks_added == stats["chunks"] == fresh_library.dense.count()
    doc_ids = {fresh_library.catalog.doc_for_path(str(folder / "a.txt")),
               fresh_library.catalog.doc_for_path(str(folder / "sub" / "b.txt"))}
    assert len(doc_ids) == 1

    # Changing one copy keeps the other copy's document intact.
    (old_id,) = doc_ids
    (folder / "a.txt").write_text(letter.read_text(encoding="utf-8") + f"\n{UNIQUE_PHRASE}\n", encoding="utf-8")
    report = fresh_library.ingest([folder])
    assert report.replaced == [str(folder / "a.txt")]
    assert fresh_library.catalog.document(old_id) is not None
    assert len(_dense_ids(fresh_library, old_id)) == len(fresh_library.catalog.chunks_for_doc(old_id)) > 0
    assert fresh_library.stats()["documents"] == 2
    assert fresh_library.dense.count() == _catalog_chunk_count(fresh_library)


def test_no_embed_then_embed_pending(fresh_library: Library, three_letters: Path) -> None:
    report = fresh_library.ingest([three_letters], embed=False)
    assert len(report.ingested) == 3 and report.chunks_embedded == 0
    stats = fresh_library.stats()
    assert stats["chunks_embedded"] == 0
    assert fresh_library.catalog.count_pending() == stats["chunks"] > 0
    # Lexical search works before any embedding, and hybrid search falls back to it.
    assert fresh_library.search("Lyrica", k=3, mode="lexical")[0].case_number == "CM99-0000001"
    assert fresh_library.search("Lyrica", k=3)[0].case_number == "CM99-0000001"
    assert not fresh_library.settings.chroma_path.exists() or fresh_library.dense.count() == 0

    stored, computed = fresh_library.embed_pending()
    assert stored == stats["chunks"] and 0 < computed <= stored
    assert fresh_library.catalog.count_pending() == 0
    assert fresh_library.dense.count() == stats["chunks"]
    assert fresh_library.search("Lyrica", k=3, mode="dense")[0].case_number == "CM99-0000001"
    assert fresh_library.embed_pending() == (0, 0)


def test_embedding_resumes_after_an_interruption(
    fresh_library: Library, three_letters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library_module, "EMBED_BATCH", 4)  # small batches, so a run can stop midway
    fresh_library.ingest([three_letters], embed=False)
    total = fresh_library.catalog.count_pending()
    assert total > 8

    class Interrupted(Exception):
        pass

    def stop_after_two_batches(stage: str, done: int, total_: int) -> None:
        if stage == "embed" and done >= 8:
            raise Interrupted

    with pytest.raises(Interrupted):
        fresh_library.embed_pending(stop_after_two_batches)
    assert fresh_library.catalog.count_pending() == total - 8
    assert fresh_library.dense.count() == 8

    with Library(fresh_library.settings) as resumed:
        stored, _ = resumed.embed_pending()
        assert stored == total - 8
        assert resumed.catalog.count_pending() == 0
        assert resumed.dense.count() == total


def test_second_batch_embeds_only_its_own_chunks(fresh_library: Library, three_letters: Path, tmp_path: Path) -> None:
    fresh_library.ingest([three_letters])
    before = fresh_library.dense.count()
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(synthetic_letter("dwc_cm99_0000009.txt"), more / "dwc_cm99_0000009.txt")
    report = fresh_library.ingest([more], embed=False)
    assert fresh_library.catalog.count_pending() == report.chunks_added > 0
    stored, computed = fresh_library.embed_pending()
    assert stored == report.chunks_added
    # The 'IMR ISSUES, DECISIONS AND RATIONALES' boilerplate chunk was embedded in the first batch.
    assert computed < stored
    assert fresh_library.dense.count() == before + stored
