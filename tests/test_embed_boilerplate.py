"""The dense stage embeds only what is letter-specific: of a paragraph most letters of a format carry
(near-duplicates) only its own words (specialty, dates), and a chunk with none is left out of the
dense store, still found lexically (and so in hybrid search), never in dense search."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import SYNTHETIC_LETTERS

from imr_rag.index import boilerplate
from imr_rag.index.boilerplate import MIN_LETTERS, BoilerplateFilter, count_skipped, shingles
from imr_rag.integrity import check_library
from imr_rag.library import Library
from imr_rag.settings import Settings

BOILERPLATE = ("HOW THE IMR FINAL DETERMINATION WAS MADE MAXIMUS Federal Services sent the complete case file "
               "to an expert reviewer. He/she has no affiliation with the employer, employee, providers or the "
               "claims administrator.")


def test_shingles_read_every_digit_alike_and_keep_short_texts() -> None:
    assert shingles("Date of Injury: 10/25/2016 Decision Date: 01/12/2017") == \
        shingles("Date of Injury: 03/14/2021 Decision Date: 11/30/2022")
    assert shingles("Date of Injury: 10/25/2016") != shingles("Date Assigned: 10/25/2016")
    assert len(shingles("Pepcid 20mg")) == 1 and shingles("") == set()


def _letter(n: int, fmt: str = "ca_dwc_imr") -> tuple[str, str, list[str]]:
    specific = f"The injured worker number {n} has {['knee', 'neck', 'wrist', 'hip', 'ankle', 'elbow'][n % 6]} pain after a fall from ladder {n}."
    return str(n), fmt, [BOILERPLATE + f" He/she is licensed in state {n}.", specific]


def test_a_paragraph_most_letters_repeat_is_boilerplate_the_letter_specific_text_is_not() -> None:
    skip = BoilerplateFilter.learn([_letter(n) for n in range(8)])
    assert skip.is_boilerplate(BOILERPLATE + " He/she is licensed in Ohio.", "ca_dwc_imr")
    assert not skip.is_boilerplate(_letter(3)[2][1], "ca_dwc_imr")
    assert not skip.is_boilerplate(BOILERPLATE, "tx_iro")  # learned per format
    few = BoilerplateFilter.learn([_letter(n) for n in range(MIN_LETTERS - 1)])
    assert not few.is_boilerplate(BOILERPLATE, "ca_dwc_imr")  # too few letters to call anything common


def test_of_a_boilerplate_chunk_only_its_own_words_are_kept() -> None:
    skip = BoilerplateFilter.learn([_letter(n) for n in range(8)])
    assert skip.specific_text(BOILERPLATE + " He/she is licensed in state Ohio.", "ca_dwc_imr") == "Ohio"
    assert skip.specific_text(BOILERPLATE + " He/she is licensed in state 12.", "ca_dwc_imr") == "12"
    assert skip.specific_text(BOILERPLATE, "ca_dwc_imr") == ""  # nothing of its own: not embedded at all
    assert skip.specific_text(_letter(3)[2][1], "ca_dwc_imr") is None  # not boilerplate: embedded whole


def _dwc_letters(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "letters"
    folder.mkdir()
    for path in SYNTHETIC_LETTERS.glob("dwc_*"):
        shutil.copy(path, folder / path.name)
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def skipped_library(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("boilerplate")
    settings = Settings(_env_file=None, data_dir=tmp / "data", embedding_backend="static", embed_skip_boilerplate=True)
    lib = Library(settings)
    lib.ingest(_dwc_letters(tmp))
    yield lib
    lib.close()


def _skipped_rows(lib: Library) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in lib.catalog.db.execute(
        "SELECT chunk_id, section, text FROM chunks WHERE embedded = ?", (boilerplate.SKIPPED,))]


def test_boilerplate_chunks_are_left_out_of_the_dense_store_only(skipped_library: Library) -> None:
    lib = skipped_library
    skipped = _skipped_rows(lib)
    assert skipped and count_skipped(lib.catalog.db) == len(skipped)
    assert {section for _, section, _ in skipped} == {"decisions"}  # the others name a specialty, dates
    embedded = lib.catalog.chunk_ids(embedded=True)
    assert lib.dense.ids() == embedded and not embedded & {cid for cid, _, _ in skipped}
    assert lib.catalog.count_pending() == 0 and lib.embed_pending() == (0, 0)  # nothing left to redo
    assert not check_library(lib).drifts  # a skipped chunk is not a missing vector


def test_a_skipped_chunk_is_found_lexically_and_in_hybrid_search_never_by_dense(skipped_library: Library) -> None:
    lib = skipped_library
    skipped = {cid for cid, _, _ in _skipped_rows(lib)}
    query = "IMR issues, decisions and rationales: the final determination was based on decisions for the disputed items"
    lexical = lib.search(query, k=5, mode="lexical")
    hybrid = lib.search(query, k=5, mode="hybrid")
    dense = lib.search(query, k=20, mode="dense")
    assert lexical and lexical[0].chunk_id in skipped
    assert any(h.chunk_id in skipped for h in hybrid)
    assert dense and not any(h.chunk_id in skipped for h in dense)
    one_case = lib.search(f"{query} CM99-0000001", k=20, mode="dense")  # exact search over one letter's vectors
    assert one_case and not any(h.chunk_id in skipped for h in one_case)


def test_with_the_skip_off_every_chunk_is_embedded(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", embedding_backend="static", embed_skip_boilerplate=False)
    with Library(settings) as lib:
        lib.ingest(_dwc_letters(tmp_path))
        assert lib.catalog.chunk_ids(embedded=True) == lib.catalog.chunk_ids() == lib.dense.ids()
        assert count_skipped(lib.catalog.db) == 0


def test_the_skip_is_on_by_default() -> None:
    assert Settings(_env_file=None).embed_skip_boilerplate is True


def test_what_each_chunk_is_embedded_as(skipped_library: Library) -> None:
    """A letter-specific chunk's vector is its whole text's; a boilerplate chunk's is its own words'."""
    lib = skipped_library
    rows = lib.catalog.chunks_by_id(sorted(lib.catalog.chunk_ids(embedded=True)))
    ids, vectors = lib.catalog.embedded_vectors(lib.embedder.name, list(rows))
    skip = lib._boilerplate()
    seen = set()
    for cid, vector in zip(ids, vectors):
        row = rows[cid]
        own = skip.specific_text(row.chunk.text, row.letter_format)
        seen.add(row.chunk.section if own is not None else "whole")
        assert np.allclose(vector, lib.embedder.embed([own or row.chunk.text])[0], atol=1e-6)
    assert {"whole", "how_determination_made"} <= seen
