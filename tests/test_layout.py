"""The package's shape: stage folders, no import circle, no oversized module."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "augment"


def _modules() -> dict[str, Path]:
    """Map every module's dotted name to its file."""
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the augment modules a file imports anywhere (type-only and function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("augment"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """Return one import circle as a list of modules, or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_circle():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycle(graph) == []


def test_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_no_module_over_420_lines():
    long = {str(path.relative_to(ROOT)): n for path in ROOT.rglob("*.py") if (n := len(path.read_text("utf-8").splitlines())) > 420}
    assert long == {}


def test_top_level_is_small_and_stages_are_folders():
    top = [p.name for p in ROOT.glob("*.py") if p.name not in {"__init__.py", "__main__.py"}]
    stages = [p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "__pycache__"]
    assert len(top) <= 8, top
    assert {"knowledge", "generators", "quality", "dataset"} <= set(stages)


def test_only_the_sdk_module_imports_google_genai():
    users = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any("google" in (name or "") for name in [getattr(node, "module", None), *(a.name for a in node.names)])
    }
    assert users == {"generators/gemini/sdk.py"}
