"""What every benchmark shares: the machine's description and the results file.

Each benchmark writes one section of ``benchmarks/RESULTS.md``, between
``<!-- NAME -->`` and ``<!-- /NAME -->`` markers, and leaves the other sections as they are,
so the benchmarks can be rerun one at a time.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "papermill")
#: The shipped tables of ``data/``: file stem to its (group, trials, successes) columns.
SHIPPED = {
    "spacex_launches": ("vehicle", "launches", "successes"),
    "rat_tumours": ("experiment", "rats", "tumours"),
    "baseball_hits": ("player", "at_bats", "hits"),
    "surgical_mortality": ("hospital", "operations", "deaths"),
    "career_batting": ("player", "at_bats", "hits"),
}


def shipped_groups(name: str):
    """The validated groups frame of the shipped table ``data/<name>.csv``."""
    from pooling.data import load_groups

    group, trials, successes = SHIPPED[name]
    return load_groups(ROOT / "data" / f"{name}.csv", group=group, trials=trials,
                       successes=successes)  # fmt: skip


def machine() -> str:
    """One line naming the CPU, cores, memory, Python and the packages that matter."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = Path("/proc/meminfo").read_text().split()[1]
        memory = f"{int(memory) / 2**20:.0f} GiB"
    except OSError:
        memory = "unknown memory"
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {versions}"
    )


def timed(command: list[str], **kwargs) -> float:
    """Wall time of a command, in seconds; the command must succeed."""
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section ``name`` of RESULTS.md, stamped with date and machine."""
    stamp = f"Measured {datetime.date.today().isoformat()} on: {machine()}."
    block = f"<!-- {name} -->\n{body.strip()}\n\n{stamp}\n<!-- /{name} -->"
    text = RESULTS.read_text() if RESULTS.exists() else _HEADER
    pattern = re.compile(rf"<!-- {name} -->.*?<!-- /{name} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    RESULTS.write_text(text)


_HEADER = """# Benchmark results

Written by `make bench` (`benchmarks/*.py`); each section is replaced when its benchmark
runs again. Where two things are compared the figure that matters is the ratio: absolute
times depend on the machine named under each section.
"""


class PeakMemory:
    """Largest total proportional set size of a process and its descendants, while running."""

    def __init__(self, pid: int, every: float = 2.0):
        self.peak, self._process, self._every = 0, psutil.Process(pid), every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(self._every):
            total = 0
            for process in [self._process, *self._process.children(recursive=True)]:
                try:
                    total += process.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass  # ended between listing and reading: its memory is gone
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def measured(command: list) -> tuple[int, float, int]:
    """Run a command from the repository root: exit status, wall seconds, peak memory (bytes).

    The peak is that of the whole process tree (:class:`PeakMemory`), forked kernels included.
    """
    start = time.perf_counter()
    process = psutil.Popen([str(arg) for arg in command], cwd=ROOT)
    memory = PeakMemory(process.pid)
    status = process.wait()
    return status, time.perf_counter() - start, memory.stop()
