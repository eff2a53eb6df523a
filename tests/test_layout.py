"""The tree shows the architecture: the analysis library, the runner, and the estimates pipeline.

No module that a notebook can import reaches the runner or another library's internals,
directly or through the modules it imports, and every module declares its public surface. The
estimates pipeline is analysis that no notebook imports: it uses no other library's internals
either, and of the runner only what publishes an output directory and reads the notebooks'
parameters, as an own-data run does.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from pooling.paths import PACKAGE_DIR, ROOT

RUNNER = PACKAGE_DIR / "runner"
PIPELINE = PACKAGE_DIR / "pipeline"
ANALYSIS = sorted(
    p for p in PACKAGE_DIR.rglob("*.py")
    if RUNNER not in p.parents and PIPELINE not in p.parents and p.name != "__main__.py"
)  # fmt: skip
#: What the pipeline may use of the runner.
PIPELINE_USES = ("pooling.runner.own_data", "pooling.runner.staleness")


def module_name(path):
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path):
    """Every module name a file imports, and every ``from X import _private`` name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("path", ANALYSIS, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_analysis_modules_use_no_runner_and_no_private_api(path):
    for name in imported_names(path):
        assert not name.startswith("pooling.runner"), name
        assert not any(part.startswith("_") and part != "__future__" for part in name.split("."))
        assert not name.startswith(("numba.core", "jupyter_client", "nbclient", "papermill")), name


@pytest.mark.parametrize("path", sorted(PIPELINE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE_DIR)))  # fmt: skip
def test_the_pipeline_uses_no_private_api_and_little_of_the_runner(path):
    for name in imported_names(path):
        if name.startswith("pooling.runner"):
            assert name.startswith(PIPELINE_USES), name
        assert not any(part.startswith("_") and part != "__future__" for part in name.split("."))
        assert not name.startswith(("numba.core", "jupyter_client", "nbclient", "papermill")), name


def test_importing_the_analysis_patches_nothing():
    # In a fresh interpreter: Numba's cache classes and callbacks are as Numba and PyTensor
    # (which adds a cache locator of its own) made them, and no runner module was pulled in,
    # after importing every analysis module.
    names = [module_name(p) for p in ANALYSIS]
    script = f"""
import sys
import pytensor.link.numba.dispatch
from numba.core import caching, ccallback
before = (list(caching.CacheImpl._locator_classes), ccallback.CFunc.enable_caching)
for name in {names!r}:
    __import__(name)
after = (list(caching.CacheImpl._locator_classes), ccallback.CFunc.enable_caching)
assert before == after, "an analysis module patched Numba"
runner = sorted(m for m in sys.modules if m.startswith("pooling.runner"))
assert not runner, runner
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE_DIR.rglob("*.py") if p.name != "__main__.py"),
    ids=lambda p: str(p.relative_to(PACKAGE_DIR)),
)
def test_every_module_declares_its_public_surface(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    declared = [
        node for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "__all__" for t in node.targets)
    ]  # fmt: skip
    if path.name == "__init__.py" and path.parent in (RUNNER, PIPELINE):
        return  # these packages only document their modules
    assert declared, f"{path.relative_to(PACKAGE_DIR)} has no __all__"
    names = ast.literal_eval(declared[0].value)
    defined = {
        getattr(node, "name", None) for node in tree.body
    } | {
        t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        for t in ast.walk(target) if isinstance(t, ast.Name)
    } | {
        (alias.asname or alias.name).split(".")[0] for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names
    }  # fmt: skip
    submodules = {p.stem for p in path.parent.glob("*.py")} | {
        p.name for p in path.parent.iterdir() if p.is_dir()
    }
    missing = [n for n in names if n not in defined and n not in submodules]
    assert not missing, missing


def test_tests_mirror_the_modules():
    tests = ROOT / "tests"
    missing = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.name.startswith("__"):
            continue
        relative = path.relative_to(PACKAGE_DIR)
        expected = tests / relative.parent / f"test_{relative.name}"
        if not expected.exists():
            missing.append(f"{relative} has no {expected.relative_to(ROOT)}")
    assert not missing, missing


def test_the_package_imports_form_floors_without_circles():
    # Every import of one pooling module by another, at the top or inside a function: a
    # circle (a imports b, b imports a, directly or further round) has no floor to stand on.
    modules = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {
            target for target in imported_names(path) if target in modules and target != name
        }
    path, done = [], set()

    def visit(name):
        if name in path:
            circle = path[path.index(name) :] + [name]
            raise AssertionError(f"import circle: {' -> '.join(circle)}")
        if name in done:
            return
        path.append(name)
        for target in sorted(graph[name]):
            # A package's __init__ gathers its modules; a module of it importing a sibling
            # reaches the sibling, not the package, so only edges out of __init__ go down.
            if name.startswith(target + "."):
                continue
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
