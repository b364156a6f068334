"""The one adapter between the question bank and the engine under test.

`open_engine(data_dir)` returns a callable: question -> answer dict. The engine maintainers may
rewrite this file for a new engine; the rest of the bank only relies on the returned dict, which
should carry (new contract) "status", "value", "reading", "text", "citations", "kind": the
`schema.Answer` of `imr_rag.ask.engine.Asker` (the offline engine), dumped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def make_settings(data_dir: Path):
    from imr_rag.settings import Settings

    # isolated from the machine: no .env file, explicit data dir, embedded Chroma (as tests/helpers.py)
    return Settings(_env_file=None, data_dir=Path(data_dir), chroma_url=None)


def build_library(data_dir: Path, paths: list[Path]) -> None:
    """Ingest `paths` into a fresh library at `data_dir` (rules extraction, no embeddings)."""
    from imr_rag.library import Library

    lib = Library(make_settings(data_dir))
    lib.ingest([Path(p) for p in paths], embed=False, extract="rules")


def open_engine(data_dir: Path) -> Callable[[str], dict]:
    from imr_rag.ask.engine import Asker
    from imr_rag.library import Library

    settings = make_settings(data_dir)
    asker = Asker(Library(settings), settings)

    def ask(question: str) -> dict:
        out = asker.answer(question).model_dump(mode="json")
        out["answer"] = out["text"]
        return out

    return ask
