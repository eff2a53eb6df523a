"""Repository files that nothing executes here: the GitHub workflow, the citation file and
the pre-commit configuration, validated against their published schemas (vendored in
check-jsonschema, so no network is needed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pooling.paths import ROOT

CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (".github/workflows/ci.yml", "vendor.github-workflows"),
        ("CITATION.cff", "vendor.citation-file-format"),
    ],
)
def test_file_matches_its_schema(path, schema):
    assert CHECK_JSONSCHEMA, "check-jsonschema is part of the lock (dev extra)"
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", schema, str(ROOT / path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_mirrors_ci_and_builds_the_conda_environment():
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    steps = {
        name: [s.get("run", "") for s in job["steps"]] for name, job in workflow["jobs"].items()
    }
    assert "bash .ci/run" in steps["pip"]
    conda = workflow["jobs"]["conda"]["steps"]
    assert any(s.get("with", {}).get("environment-file") == "environment.yml" for s in conda)


def test_pre_commit_hooks_clone_nothing():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    for hook in (h for repo in config["repos"] for h in repo["hooks"]):
        if hook["language"] == "python":
            assert all("==" in dep for dep in hook["additional_dependencies"]), hook["id"]
