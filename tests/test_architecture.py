"""The layers you can see: read the code (every import, function-level ones included, those
under TYPE_CHECKING left out) and check the package's shape — no import cycle between armsim
modules, nothing outside armsim.cli importing it, at most 8 modules directly in armsim/,
function-level imports only for the heavy optional libraries, the import-linter contract, and
the op registry as the one place that knows op kinds."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "armsim"
#: Libraries imported inside functions only: heavy and not needed by every command.
HEAVY = {"tensorflow", "keras", "dask", "distributed", "matplotlib", "ai_edge_litert",
         "tflite_micro"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or \
        (isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def imports(name: str) -> list[tuple[str, bool, int]]:
    """(imported module, inside a function, line) of every import statement of ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for n in node.orelse:
                visit(n, in_function)
            return
        if isinstance(node, ast.Import):
            out.extend((a.name, in_function, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            out.append((base, in_function, node.lineno))
            for a in node.names:  # `from armsim.x import y` where y is a module
                if f"{base}.{a.name}" in MODULES:
                    out.append((f"{base}.{a.name}", in_function, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or isinstance(node, (ast.FunctionDef,
                                                          ast.AsyncFunctionDef)))

    visit(tree, False)
    return out


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name in MODULES:
        deps = set()
        for mod, _f, _l in imports(name):
            while mod not in MODULES and "." in mod:
                mod = mod.rpartition(".")[0]
            if mod in MODULES and mod != name:
                deps.add(mod)
        edges[name] = deps
    return edges


def test_no_import_cycle_between_armsim_modules():
    edges = graph()
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            strongconnect(v)
    assert not cycles, cycles


def test_only_main_imports_the_cli():
    bad = [(name, mod, line) for name in MODULES
           if not name.startswith("armsim.cli") and name != "armsim.__main__"
           for mod, _f, line in imports(name) if mod == "armsim.cli"
           or mod.startswith("armsim.cli.")]
    assert not bad, bad


def test_at_most_eight_modules_directly_in_the_package():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= 8, top


def test_function_level_imports_only_for_heavy_libraries():
    bad = [(name, mod, line) for name in MODULES for mod, inside, line in imports(name)
           if inside and mod.split(".")[0] not in HEAVY]
    assert not bad, bad


def test_package_inits_import_nothing_of_their_own():
    """A package __init__ only documents (and resolves public names lazily): importing one
    module never drags in its siblings, and no cycle can hide behind a parent package."""
    allowed = {"armsim.plan"}  # the callable package: armsim.plan(graph) is make_plan
    bad = [(name, mod) for name, path in MODULES.items()
           if path.name == "__init__.py" and name not in allowed
           for mod, _f, _l in imports(name) if mod.startswith("armsim")
           and not (name == "armsim" and mod in ("armsim", "armsim._compat"))]
    assert not bad, bad


def test_op_kinds_are_named_only_by_the_registry():
    """No module outside armsim/ops switches on an op kind's name (the seed preset, which
    is one fixed architecture, excepted)."""
    from armsim.ops import registry

    kinds = set(registry.summaries())
    exempt = {"armsim.plan.seed"}
    found = []
    for name, path in MODULES.items():
        if name.startswith("armsim.ops") or name in exempt:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                    isinstance(c, ast.Constant) and c.value in kinds
                    for c in [node.left, *node.comparators]) and "kind" in ast.unparse(node):
                found.append((name, node.lineno, ast.unparse(node)))
    assert not found, found


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent))
                    is None and shutil.which("lint-imports") is None,
                    reason="import-linter is not installed (pip install -e '.[dev]')")
def test_import_linter_layers_contract_is_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or \
        shutil.which("lint-imports")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and "0 broken" in proc.stdout
