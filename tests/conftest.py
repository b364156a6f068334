"""Session fixtures shared by the test modules.

Expensive state (an ingested, embedded library of the synthetic letters; the parsed real
letters) is built once per session and must only be read by the tests that use it. Tests that
change a library build their own under tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import dev_pdfs, make_settings, seed_files, synthetic_letters
from imr_rag.ingest.documents import read_document
from imr_rag.schema import Document


@pytest.fixture(scope="session")
def synthetic_paths() -> list[Path]:
    letters = synthetic_letters()
    if not letters:
        pytest.skip("no synthetic letters with gold files in evals/fixtures/synthetic yet")
    return letters


@pytest.fixture(scope="session")
def synthetic_library(tmp_path_factory: pytest.TempPathFactory, synthetic_paths: list[Path]) -> Iterator:
    """(Library, IngestReport) of all synthetic letters, embedded. Read-only for tests."""
    from imr_rag.library import Library

    data_dir = tmp_path_factory.mktemp("synthetic-library")
    lib = Library(make_settings(data_dir))
    report = lib.ingest(list(synthetic_paths))
    try:
        yield lib, report
    finally:
        lib.close()


@pytest.fixture(scope="session")
def real_documents() -> dict[str, Document]:
    """Seeds and real dev PDFs, read once: file name -> Document."""
    paths = seed_files() + dev_pdfs()
    if not paths:
        pytest.skip("shared seeds/corpus not found (set IMR_SHARED_DIR or provide ../shared)")
    return {p.name: read_document(p) for p in paths}


@pytest.fixture(scope="session")
def synthetic_documents(synthetic_paths: list[Path]) -> dict[str, Document]:
    return {p.name: read_document(p) for p in synthetic_paths}
