"""The one adapter between the question bank and the engine under test.

`open_engine(data_dir)` returns a callable: question -> answer dict. The engine maintainers may
rewrite this file for a new engine; the rest of the bank only relies on the returned dict, which
should carry (new contract) "status", "value", "reading", "text", "citations", "kind". The current
tool returns `schema.Answer` (text, kind, citations, counted, plan ...), so the dict is its
`model_dump()`, with "status"/"value"/"reading" copied in only when the answer object has them.
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
    from imr_rag.chat import ChatEngine
    from imr_rag.library import Library

    settings = make_settings(data_dir)
    engine = ChatEngine(Library(settings), settings)

    def ask(question: str) -> dict:
        answer = engine.answer(question)
        out = answer.model_dump(mode="json") if hasattr(answer, "model_dump") else dict(answer)
        if "text" in out and "answer" not in out:
            out["answer"] = out["text"]
        for key in ("status", "value", "reading"):
            if key not in out and hasattr(answer, key):
                out[key] = getattr(answer, key)
        return out

    return ask
