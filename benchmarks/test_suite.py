"""How long ``make test`` (and ``make check``) take on a fresh clone, and where the time goes.

Clones the repository's committed ``HEAD`` into a scratch directory, creates its
environment (``make venv``, not timed), then times ``make test`` there with pytest's
``--durations`` and sums the test phases by file. Writes the ``test_suite`` section of
RESULTS.md, with the sum of all phases beside the wall time: under pytest-xdist's processes
their ratio is how well the units of work (``conftest.py``) fill the processes. A
measurement, not a timed test: ``make bench BENCH=test_suite`` (as long as the suite itself).
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, write_section

#: Test phases timed: ``0``, every one (pytest lists those of 5 ms and more).
DURATIONS = 0
_DURATION = re.compile(r"^(\d+\.\d+)s (call|setup|teardown) +(\S+)")
_WORKERS = re.compile(r"^created: (\d+)/\d+ workers")


def plain_id(nodeid: str) -> str:
    """A test's id without the ``@unit`` suffix that pytest-xdist's groups add."""
    return nodeid.split("@")[0]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="test-suite-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        subprocess.run(["make", "-s", "venv"], cwd=clone, check=True, capture_output=True)
        start = time.perf_counter()
        env = {**os.environ, "PYTEST_ADDOPTS": f"--durations={DURATIONS} -p no:cacheprovider"}
        done = subprocess.run(["make", "test"], cwd=clone, env=env, capture_output=True,
                              text=True)  # fmt: skip
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        check = subprocess.run(["make", "check"], cwd=clone, capture_output=True, text=True)
        check_seconds = time.perf_counter() - start
    lines = done.stdout.splitlines()
    if done.returncode != 0:
        print("\n".join(lines[-40:]), file=sys.stderr)
        raise SystemExit(f"test_suite: make test failed (exit status {done.returncode})")
    if check.returncode != 0:
        print("\n".join(check.stdout.splitlines()[-40:]), file=sys.stderr)
        raise SystemExit(f"test_suite: make check failed (exit status {check.returncode})")
    summary = next(line for line in reversed(lines) if " passed" in line)
    check_summary = next(line for line in reversed(check.stdout.splitlines()) if " passed" in line)
    workers = next((m.group(1) for line in lines if (m := _WORKERS.match(line))), "1")
    phases = [m.groups() for line in lines if (m := _DURATION.match(line))]
    by_file = collections.Counter()
    for secs, _, test in phases:
        by_file[plain_id(test).split("::")[0]] += float(secs)
    total = sum(by_file.values())
    rows = "\n".join(
        f"| `{name}` | {secs:.0f} |" for name, secs in by_file.most_common() if secs >= 5
    )
    slowest = "\n".join(
        f"| `{plain_id(test)}` | {phase} | {float(secs):.1f} |" for secs, phase, test in phases[:15]
    )
    print(f"make test: {seconds:.0f} s; {summary.strip('= ')}", flush=True)
    write_section(
        "test_suite",
        "## `make test` on a fresh clone (`make bench BENCH=test_suite`)\n\n"
        f"`make test` took **{seconds / 60:.1f} minutes** ({summary.strip('= ')}), after "
        f"`make venv`, in {workers} pytest-xdist processes. Its tests' phases add up to "
        f"{total / 60:.1f} minutes ({total / seconds:.2f} times the wall time). Where the "
        "time goes, from pytest's `--durations`, summed by file (files of 5 s and more):\n\n"
        "| file | seconds |\n|---|---:|\n" + rows + "\n\nThe 15 slowest phases:\n\n"
        "| test | phase | seconds |\n|---|---|---:|\n" + slowest + "\n\n"
        f"`make check`, the quick subset, then took **{check_seconds:.0f} s** in the same clone "
        f"({check_summary.strip('= ')}).",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
