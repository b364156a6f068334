"""The tree is the architecture (see README, docs/architecture.md): the parts of imr_rag are its
subpackages and a few top modules, and their imports point one way, checked on the import
statements themselves. Every import counts, type-only ones under `if TYPE_CHECKING:` included:
a back-import for an annotation still ties two parts together."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imr_rag"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_TOP_MODULES = 10
MAX_LINES = 600

# Which parts each part may import (a part is a subpackage or a top module; the package's own
# __init__ and a part's own modules are always allowed). faces (CLI, app service, doctor) is the
# outermost layer and may import anything; no other part may import it.
ALLOWED = {
    "schema": set(),
    "settings": set(),
    "errors": set(),
    "textutil": set(),
    "layout": set(),
    "prompts": {"errors", "layout"},
    "formats": {"schema", "errors", "textutil"},
    "filters": {"schema", "errors", "textutil", "formats"},
    "catalog": {"schema", "errors", "textutil"},
    "index": {"schema", "errors", "textutil", "settings"},
    "extract": {"schema", "errors", "textutil", "settings", "prompts", "formats", "catalog"},
    "ingest": {"schema", "errors", "textutil", "settings", "formats", "catalog", "index", "extract"},
    "library": {"schema", "errors", "textutil", "settings", "catalog", "index", "ingest"},
    "integrity": {"library", "schema", "errors"},
    "ask": {"schema", "errors", "textutil", "settings", "prompts", "filters", "catalog", "index", "extract", "library"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """imr_rag.catalog.documents -> catalog; imr_rag.library -> library; imr_rag -> imr_rag."""
    names = module.split(".")
    return names[1] if len(names) > 1 else names[0]


def imports_of(path: Path) -> set[str]:
    """Full names of every module a file imports (at any depth of the file), absolute imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _internal_imports(path: Path, known: set[str]) -> set[str]:
    """The imr_rag modules a file imports, at any depth (a lazy import inside a function and a
    type-only import count), plus the packages that importing them runs first."""
    return _imports_in(path.read_text(), _module_name(path), path.name == "__init__.py", known)


def _imports_in(source: str, name: str, is_package: bool, known: set[str]) -> set[str]:
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    ancestors = {".".join(name.split(".")[:n]) for n in range(1, len(name.split(".")))}
    found = set()
    for target in targets:
        parts = target.split(".")
        for n in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first...
            prefix = ".".join(parts[:n])
            if prefix in ancestors and n < len(parts):
                continue  # ...except the packages this module is in: they are already running
            if prefix in known:
                found.add(prefix)
    return found - {name}


def import_graph() -> dict[str, set[str]]:
    known = {_module_name(p) for p in MODULES}
    return {_module_name(p): _internal_imports(p, known) for p in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_a_sibling_import_does_not_count_the_package_it_is_in() -> None:
    """Importing a sibling (catalog.documents -> catalog.decisions) does not re-run the package the
    module is in; importing the package itself (catalog.documents -> catalog) does."""
    known = {"imr_rag", "imr_rag.catalog", "imr_rag.catalog.decisions", "imr_rag.catalog.documents"}
    path = PACKAGE / "catalog" / "documents.py"
    assert _internal_imports(path, known) >= {"imr_rag.catalog.decisions"}
    assert "imr_rag.catalog" not in _internal_imports(path, known)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_type_only_imports_are_counted() -> None:
    """An import under `if TYPE_CHECKING:` is an edge of the graph like any other."""
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from imr_rag.catalog import Catalog\n"
    assert _imports_in(source, "imr_rag.index.x", False, {"imr_rag", "imr_rag.catalog"}) == {"imr_rag.catalog"}


def test_no_import_cycles_in_the_package() -> None:
    """Counting every import, type-only and lazy ones included: a cycle hidden in a function or
    an annotation is still one."""
    graph = import_graph()
    assert "imr_rag.formats.ca_dwc" in graph and graph["imr_rag.index.store"]  # the graph was read
    assert cycles(graph) == []


def test_every_part_is_in_the_table() -> None:
    parts = {part_of(_module_name(p)) for p in MODULES} - {"imr_rag"}
    assert parts - set(ALLOWED) == {"faces"}


def test_parts_import_only_in_the_allowed_directions() -> None:
    """formats imports only the data model and text helpers; index never imports catalog; nothing
    outside faces imports faces; schema and settings import nothing of ours."""
    wrong = []
    for module, imports in import_graph().items():
        part = part_of(module)
        if part in ("faces", "imr_rag"):
            continue
        for target in imports:
            other = part_of(target)
            if other not in (part, "imr_rag") and other not in ALLOWED[part]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_nothing_but_faces_imports_faces() -> None:
    graph = import_graph()
    assert any(part_of(m) == "faces" for m in graph)
    assert [m for m, imports in graph.items() if part_of(m) != "faces" and any(part_of(t) == "faces" for t in imports)] == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_package_never_imports_the_ui_the_evals_or_the_app(path: Path) -> None:
    """Only the command line (faces, the outermost layer) reaches for evals/ and app.py, lazily."""
    if part_of(_module_name(path)) == "faces":
        return
    forbidden = {"gradio", "evals", "app", "playwright"}
    assert {name.split(".")[0] for name in imports_of(path)} & forbidden == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_store_imports_chromadb(path: Path) -> None:
    uses_chroma = any(name.split(".")[0] == "chromadb" for name in imports_of(path))
    assert uses_chroma == (_module_name(path) == "imr_rag.index.store")


@pytest.mark.parametrize("name", ["schema.py", "settings.py"])
def test_data_model_and_settings_import_nothing_of_ours(name: str) -> None:
    assert not any(n.split(".")[0] == "imr_rag" for n in imports_of(PACKAGE / name))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_faces_read_the_environment(path: Path) -> None:
    """Settings are passed in; the command line and the settings are where os.environ is read."""
    if part_of(_module_name(path)) in {"faces", "settings"}:
        return
    assert "os.environ" not in path.read_text()


def test_at_most_ten_modules_at_the_package_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_MODULES, top


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_600_lines(path: Path) -> None:
    """Small modules: a longer one is split by responsibility."""
    assert len(path.read_text().splitlines()) <= MAX_LINES
