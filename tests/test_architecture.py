"""Which way the imports go (CONVENTIONS.md), read from the code itself (ast):

- ml/ imports neither Django nor an app; only ml/backends/ imports torch or
  ultralytics, and only inside functions;
- annotate never reaches models_mgmt (no import, no apps.get_model, no
  import_module, no dotted string naming a models_mgmt module);
- runs imports neither app; alweb imports no app (its urls name them as strings);
- an app touches another app's models only through that app's selectors and
  services (no `<OtherAppModel>.objects...`, no `.save()` / `.delete()` on one);
- no module uses another module's private (_underscore) name; no unittest.mock
  outside the tests; no import cycle between modules.

Each rule lists every violation it finds, with file and line.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("alweb", "annotate", "models_mgmt", "runs")
PACKAGES = (*APPS, "ml")
FRAMEWORKS = ("django", "rest_framework", "drf_spectacular", "django_q")
HEAVY = ("torch", "torchvision", "ultralytics")
ORM_WRITES = {
    "create",
    "get_or_create",
    "update_or_create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
}


@dataclass(frozen=True)
class Import:
    module: str  # the module imported (for "from a import b": a.b if a submodule)
    names: tuple[str, ...]  # names taken from it ("from a import x, y")
    line: int
    in_function: bool


@dataclass(frozen=True)
class Source:
    path: Path
    module: str  # dotted name, e.g. "annotate.services.queue"
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.module.split(".", 1)[0]

    @property
    def where(self) -> str:
        return str(self.path.relative_to(ROOT))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def sources() -> tuple[Source, ...]:
    """Every .py file of the apps and ml/ (migrations aside)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            found.append(Source(path, _module_name(path), tree))
    return tuple(found)


@cache
def module_names() -> frozenset[str]:
    return frozenset(s.module for s in sources())


def _resolve_from(source: Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.module.split(".")
    if source.path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _function_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if hasattr(sub, "lineno"):
                    lines.add(sub.lineno)
    return lines


def imports(source: Source) -> Iterator[Import]:
    """Every import statement of the file, top level or inside a function."""
    inside = _function_lines(source.tree)
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno, node.lineno in inside)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(source, node)
            names = tuple(alias.name for alias in node.names)
            yield Import(base, names, node.lineno, node.lineno in inside)
            for name in names:  # "from pkg import submodule"
                if f"{base}.{name}" in module_names():
                    yield Import(f"{base}.{name}", (), node.lineno, False)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _strings(tree: ast.AST) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def _report(problems: list[str]) -> str:
    return "\n" + "\n".join(sorted(problems))


# Layers -----------------------------------------------------------------------


def test_ml_imports_neither_django_nor_an_app():
    problems = [
        f"{s.where}:{i.line} imports {i.module}"
        for s in sources()
        if s.package == "ml"
        for i in imports(s)
        if _top(i.module) in (*FRAMEWORKS, *APPS)
    ]
    assert not problems, _report(problems)


def test_only_ml_backends_import_torch_or_ultralytics_and_only_in_functions():
    problems = []
    for s in sources():
        for i in imports(s):
            if _top(i.module) not in HEAVY:
                continue
            if not s.module.startswith("ml.backends."):
                problems.append(f"{s.where}:{i.line} imports {i.module}")
            elif not i.in_function:
                problems.append(f"{s.where}:{i.line} imports {i.module} at load")
    assert not problems, _report(problems)


def _app_references(s: Source, targets: tuple[str, ...]) -> Iterator[str]:
    """Imports of `targets`, and the ways around an import: apps.get_model(
    "<target>", ...), import_module / import_string of one, and any string
    naming one of its modules ("models_mgmt.tasks.run_training")."""
    for i in imports(s):
        if _top(i.module) in targets:
            yield f"{s.where}:{i.line} imports {i.module}"
    for node in _strings(s.tree):
        text = node.value
        if text in targets or any(text.startswith(f"{t}.") for t in targets):
            yield f"{s.where}:{node.lineno} names {text!r}"


def test_annotate_never_reaches_models_mgmt():
    problems = [
        problem
        for s in sources()
        if s.package == "annotate"
        for problem in _app_references(s, ("models_mgmt",))
    ]
    assert not problems, _report(problems)


def test_runs_imports_neither_app():
    problems = [
        f"{s.where}:{i.line} imports {i.module}"
        for s in sources()
        if s.package == "runs"
        for i in imports(s)
        if _top(i.module) in ("annotate", "models_mgmt")
    ]
    assert not problems, _report(problems)


def test_alweb_imports_no_app():
    problems = [
        f"{s.where}:{i.line} imports {i.module}"
        for s in sources()
        if s.package == "alweb"
        for i in imports(s)
        if _top(i.module) in ("annotate", "models_mgmt", "runs")
    ]
    assert not problems, _report(problems)


# Ownership of tables --------------------------------------------------------


@cache
def model_owners() -> dict[str, str]:
    """Model class name -> the app whose models.py defines it."""
    owners = {}
    for s in sources():
        if s.module.endswith(".models") and s.package in APPS:
            for node in s.tree.body:
                if isinstance(node, ast.ClassDef) and any(
                    ast.unparse(b).endswith("Model") for b in node.bases
                ):
                    owners[node.name] = s.package
    return owners


def _foreign_models(s: Source) -> dict[str, str]:
    """Names bound in `s` to another app's models: {local name: owner app}."""
    foreign = {}
    for i in imports(s):
        if i.module.endswith(".models") and _top(i.module) != s.package:
            for name in i.names:
                if model_owners().get(name) == _top(i.module):
                    foreign[name] = _top(i.module)
    return foreign


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _uses_manager(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Attribute) and node.attr in (
            "objects",
            "_default_manager",
        ):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def test_no_app_touches_another_apps_models_but_through_its_services():
    """Reads go through the owner's selectors, writes through its services: no
    `<OtherAppModel>.objects...` at all, and no `.save()` / `.delete()` on an
    instance made from another app's model (a conservative, static check)."""
    problems = []
    for s in sources():
        foreign = _foreign_models(s)
        if not foreign:
            continue
        made: set[str] = set()  # local names assigned from a foreign model
        for node in ast.walk(s.tree):
            if isinstance(node, ast.Assign) and _root_name(node.value) in foreign:
                made.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(s.tree):
            if not isinstance(node, ast.Attribute):
                continue
            root = _root_name(node)
            if root in foreign and node.attr == "objects":
                problems.append(
                    f"{s.where}:{node.lineno} uses {root}.objects "
                    f"({foreign[root]}'s table)"
                )
            elif (
                root in made
                and node.attr in ("save", "delete", *ORM_WRITES)
                and not _uses_manager(node.value)
            ):
                problems.append(f"{s.where}:{node.lineno} calls {root}.{node.attr}()")
    assert not problems, _report(problems)


# Names and tools --------------------------------------------------------------


def test_no_module_uses_another_modules_private_names():
    problems = []
    for s in sources():
        aliases = {}  # local name -> project module it stands for
        for i in imports(s):
            if _top(i.module) not in PACKAGES:
                continue
            for name in i.names:
                if name.startswith("_") and not name.startswith("__"):
                    problems.append(f"{s.where}:{i.line} imports {i.module}.{name}")
            if not i.names:
                aliases[i.module.rsplit(".", 1)[-1]] = i.module
        for node in s.tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(s.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr != "_meta"
            ):
                problems.append(
                    f"{s.where}:{node.lineno} uses {node.value.id}.{node.attr}"
                )
    assert not problems, _report(problems)


def test_no_mock_outside_the_tests():
    problems = [
        f"{s.where}:{i.line} imports {i.module}"
        for s in sources()
        for i in imports(s)
        if i.module in ("mock", "unittest.mock")
        or (i.module == "unittest" and "mock" in i.names)
    ]
    assert not problems, _report(problems)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (at load or inside a function; a
    package's __init__ counts as itself, not as its submodules)."""
    known = module_names()
    graph: dict[str, set[str]] = {}
    for s in sources():
        targets = graph.setdefault(s.module, set())
        for i in imports(s):
            if i.module in known and i.module != s.module:
                targets.add(i.module)
    return graph


def test_no_import_cycles_between_modules():
    cycles = _cycles(import_graph())
    assert not cycles, _report([" <-> ".join(c) for c in cycles])


# The rules themselves ---------------------------------------------------------


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_the_rules_see_the_code():
    assert len(sources()) > 80
    assert {"Project", "Item", "ModelVersion", "Job", "TrainingSettings"} <= set(
        model_owners()
    )
    assert model_owners()["TrainingSettings"] == "models_mgmt"
    assert "annotate.services.queue" in import_graph()["annotate.services.labeling"]


def test_job_lives_only_in_runs():
    assert not (ROOT / "annotate/services/jobs.py").exists()
    assert not (ROOT / "models_mgmt/services/reaper.py").exists()
    import annotate.models

    assert not hasattr(annotate.models, "Job")
