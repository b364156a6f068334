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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (annotations only, never executed)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _internal_imports(path: Path, known: set[str]) -> set[str]:
    """The imr_rag modules a file imports when it runs (at any depth: a lazy import inside a
    function counts), plus the packages that importing them runs first."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for target in targets:
        parts = target.split(".")
        for n in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            if (prefix := ".".join(parts[:n])) in known:
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


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_package() -> None:
    """Counting every import that runs: a cycle hidden in a function is still one."""
    graph = import_graph()
    assert "imr_rag.formats.ca_dwc" in graph and graph["imr_rag.index.store"]  # the graph was read
    assert cycles(graph) == []


def test_format_plugins_depend_on_the_data_model_and_text_utilities_only() -> None:
    """A format plugin is self-contained: detection, sections, case number and its parser."""
    allowed = {"imr_rag", "imr_rag.schema", "imr_rag.errors", "imr_rag.formats", "imr_rag.textutil"}
    graph = import_graph()
    for module, imports in graph.items():
        if module.startswith("imr_rag.formats"):
            outside = {m for m in imports if not m.startswith("imr_rag.formats.") and m not in allowed}
            assert outside == set(), f"{module} imports {sorted(outside)}"
