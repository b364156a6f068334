"""Dependencies point one way (see STYLE.md): checked on the import statements themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imr_rag"


def imports_of(path: Path) -> set[str]:
    """Top-level names of every module a file imports (at any depth of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_package_never_imports_the_ui_the_evals_or_the_app(path: Path) -> None:
    """Only the command line (the outermost layer) reaches for evals/ and app.py, lazily."""
    if path.name == "cli.py" and path.parent == PACKAGE:
        return
    forbidden = {"gradio", "evals", "app", "playwright"}
    assert {name.split(".")[0] for name in imports_of(path)} & forbidden == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_store_imports_chromadb(path: Path) -> None:
    uses_chroma = any(name.split(".")[0] == "chromadb" for name in imports_of(path))
    assert uses_chroma == (path.name == "store.py" and path.parent == PACKAGE)


@pytest.mark.parametrize("name", ["schema.py", "settings.py"])
def test_data_model_and_settings_import_nothing_of_ours(name: str) -> None:
    assert not any(n.split(".")[0] == "imr_rag" for n in imports_of(PACKAGE / name))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cli_reads_the_environment(path: Path) -> None:
    """Settings are passed in; the CLI is the one place that may look at os.environ."""
    if path.name in {"cli.py", "settings.py"}:
        return
    assert "os.environ" not in path.read_text()
