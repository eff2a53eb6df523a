"""The estimates run's side process: answers in order, errors raised here, a stopped process
said in one line rather than waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from pooling.paths import DEFAULT_DATA
from pooling.pipeline import side


def test_answers_and_errors_come_back_in_the_caller():
    with side.SideProcess() as process:
        process.preload("json", "fractions")  # answered with nothing, in turn
        first = process.submit(divmod, 17, 5)
        failing = process.submit(int, "not a number")
        last = process.submit(pow, 2, 10)
        # Asked for out of order: each gets its own answer.
        assert last.get() == 1024
        assert first.get() == (3, 2)
        with pytest.raises(ValueError, match="not a number"):
            failing.get()
        pid = process.pid
    with pytest.raises(ProcessLookupError):  # leaving the context stopped it
        os.kill(pid, 0)


def test_a_process_that_stops_is_an_error_not_a_wait():
    with side.SideProcess() as process:
        with pytest.raises(side.SideProcessError, match="exit code 3"):
            process.submit(os._exit, 3).get()


def test_the_exchangeable_grid_is_the_one_computed_here():
    import pandas as pd

    from pooling import exact
    from pooling.data import load_groups

    groups = load_groups(DEFAULT_DATA, "vehicle", "launches", "successes")
    with side.SideProcess() as process:
        there = process.submit(side.exchangeable, groups, 10.0, groups.index[:2]).get()
    here = exact.HierarchicalPosterior(groups, sigma=10.0).summary(groups.index[:2])
    pd.testing.assert_frame_equal(there, here)


def test_a_script_without_a_main_guard_gets_one_line(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent("""
        from pooling.pipeline import side

        with side.SideProcess() as process:
            print(process.submit(abs, -2).get())
    """)
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)  # fmt: skip
    assert done.returncode != 0
    assert "needs if __name__ == '__main__':" in done.stderr.splitlines()[-1]


def test_nothing_is_left_for_the_resource_tracker(monkeypatch):
    # Named semaphores (a multiprocessing.Queue's) are unlinked by whichever thread drops
    # them last; at the interpreter's exit that thread could be stopped half-way, and the
    # tracker then warned of a leak on stderr, after the run's own one line.
    from multiprocessing import resource_tracker

    tracked = []
    monkeypatch.setattr(resource_tracker, "register", lambda *args: tracked.append(args))
    with side.SideProcess() as process:
        assert process.submit(abs, -2).get() == 2
    assert tracked == []


def test_leaving_stops_a_call_still_being_sent():
    import threading
    import time

    start = time.perf_counter()
    with side.SideProcess() as process:
        process.submit(time.sleep, 60)
        # Far larger than a pipe's buffer: it waits for a process that is sleeping.
        process.submit(len, b"x" * 50_000_000)
    assert time.perf_counter() - start < 30
    assert "pooling side sender" not in [thread.name for thread in threading.enumerate()]
