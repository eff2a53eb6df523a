"""How often leaving an estimates run's side process on an error leaves debris on stderr.

A failed estimates run prints one line. Its side process had been fed through two
``multiprocessing.Queue`` objects, whose named semaphores the resource tracker unlinks and
warns of when a process exits without unlinking them itself. Each run here starts a Python
process that does what a failed run does: a side process, a call sent, an error that
leaves the context manager inside a function (so the side process's objects are dropped
when the error has been handled), and the interpreter's exit. Counted: the runs with
anything on stderr. *Queues* is the former design, written out again below;
*pipes* is :class:`pooling.pipeline.side.SideProcess` as it is. Writes the ``side_exit``
section of RESULTS.md (``make bench BENCH=side_exit``, about 4 minutes with 60 runs each).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

from common import write_section

#: Each run: a side process left on an error raised in a function, then the exit.
_RUN = textwrap.dedent("""
    import multiprocessing
    import sys
    import time

    from pooling.pipeline.side import SideProcess

    class QueueSide:
        # The former design: two spawn-context queues, the calls' feeder thread not joined.
        def __init__(self):
            context = multiprocessing.get_context("spawn")
            self.calls, self.answers = context.Queue(), context.Queue()
            self.process = context.Process(target=time.sleep, args=(60,), daemon=True)
            self.process.start()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.calls.cancel_join_thread()
            self.process.terminate()
            self.process.join()

        def submit(self, function, *args):
            self.calls.put((function, args))

    def failing_run(design):
        with design() as side:
            side.submit(time.sleep, 5)
            time.sleep(0.3)
            raise RuntimeError("a check failed")

    if __name__ == "__main__":
        try:
            failing_run(QueueSide if sys.argv[1] == "queues" else SideProcess)
        except RuntimeError:
            sys.exit(1)
""")


def runs_with_debris(design: str, runs: int) -> tuple[int, str]:
    """How many of ``runs`` runs wrote to stderr, and the last such text."""
    count, last = 0, ""
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _RUN, design], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        if done.returncode != 1:
            raise RuntimeError(f"a run ended with {done.returncode}: {done.stderr}")
        if done.stderr:
            count, last = count + 1, done.stderr
    return count, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="runs of each design")
    args = parser.parse_args()
    lines = ["| design | runs | runs with stderr |", "|---|---:|---:|"]
    example = ""
    for design in ("queues", "pipes"):
        count, last = runs_with_debris(design, args.runs)
        if last and not example:
            example = last.strip().splitlines()[0].split(": ", 1)[-1]
        lines.append(f"| {design} | {args.runs} | {count} |")
        print(lines[-1], flush=True)
    write_section(
        "side_exit",
        "## Leaving the side process on an error\n\n"
        "Runs that each leave a side process on an error, as a failed estimates run does, "
        "and exit; counted, those that wrote anything to stderr. *Queues*: the former "
        "design (two `multiprocessing.Queue`); *pipes*: `SideProcess` now.\n\n"
        + "\n".join(lines)
        + (f"\n\nWhat a run wrote, first line: `{example}`" if example else ""),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
