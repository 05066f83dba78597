"""Which way the imports go (CONVENTIONS.md): runs is a base app that imports
neither annotate's nor models_mgmt's services; annotate never imports
models_mgmt; the old Job homes are gone."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(app: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_runs_imports_neither_apps_code():
    bad = {
        path: sorted(n for n in names if n.split(".")[0] in {"annotate", "models_mgmt"})
        for path, names in _imports("runs").items()
    }
    assert not {path: names for path, names in bad.items() if names}


def test_annotate_never_imports_models_mgmt():
    bad = {
        path: sorted(n for n in names if n.split(".")[0] == "models_mgmt")
        for path, names in _imports("annotate").items()
    }
    assert not {path: names for path, names in bad.items() if names}


def test_job_lives_only_in_runs():
    assert not (ROOT / "annotate/services/jobs.py").exists()
    assert not (ROOT / "models_mgmt/services/reaper.py").exists()
    import annotate.models

    assert not hasattr(annotate.models, "Job")
