"""``python -m pooling``: the one command line of the runner (the Makefile calls it).

Subcommands::

    python -m pooling notebooks [SOURCE ...] [--changed] [-p NAME VALUE] [-j N]
    python -m pooling stale SOURCE ...
    python -m pooling run --data my.csv --out my-analysis [-p NAME VALUE] [-j N]
    python -m pooling estimates --data my.csv --out my-estimates [-p NAME VALUE]
    python -m pooling lint [FILE ...]

``notebooks`` executes notebook sources in place (by default the collection's, without the
on-demand ones), ``stale`` says which on-demand notebooks are out of date, ``run`` runs every
notebook on another groups CSV into a directory of its own, ``estimates`` writes the table of
estimates alone (any number of groups, no notebooks), and ``lint`` checks the committed
notebooks (pre-commit calls it). A failed run ends with one line: which notebook, which cell,
what failed and what to try next.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pooling.paths import DEFAULT_DATA

__all__ = ["NEXT_STEPS", "main", "next_step"]

#: What to try when a check fails, by the words of its message.
NEXT_STEPS = {
    "divergent": "-p MARGINAL_TARGET_ACCEPT 0.98 (a smaller step size for the hierarchical fit)",
    "Convergence": "-p DRAWS 10000 -p TUNE 10000 (longer chains)",
    "Exact-posterior": "-p DRAWS 10000 (more draws), then compare the fit with the exact values",
}


def next_step(err: BaseException) -> str:
    """The part of the error line that says where to look and what to try next."""
    partial = getattr(err, "partial", None)
    look = f"the notebook as far as it ran: {partial}" if partial else "see the output above"
    detail = f"{getattr(err, 'ename', '')} {getattr(err, 'evalue', None) or err}"
    tries = [hint for key, hint in NEXT_STEPS.items() if key in detail]
    return f"{look}; next: {'try ' + tries[0] if tries else 'read the failing cell there'}"


def failure_line(err: BaseException, unchanged: Path | None = None) -> str:
    """One line for a failed notebook: where, what, and what to try next."""
    name = getattr(err, "ename", type(err).__name__)
    detail = (getattr(err, "evalue", None) or str(err)).strip().splitlines()
    where = f" in {err.notebook}" if hasattr(err, "notebook") else ""
    if getattr(err, "exec_count", None):
        where += f" (cell [{err.exec_count}])"
    kept = f", {unchanged} is unchanged" if unchanged else ""
    if _disk_full(err):
        # Libraries word it their own way (h5py: "Driver write request failed").
        device = f"the device of {unchanged}" if unchanged else "the device written to"
        return (f"error: run failed{where}{kept}: no space left on {device}; free space "
                "there (the run builds OUT beside it, then moves it in) or choose another "
                "OUT")  # fmt: skip
    return (
        f"error: run failed{where}{kept}: {name}: {detail[0] if detail else ''}; {next_step(err)}"
    )


def _disk_full(err: BaseException) -> bool:
    """Whether ``err``, or an error that led to it, says the disk is full (errno 28)."""
    import errno

    while err is not None:
        if getattr(err, "errno", None) == errno.ENOSPC:
            return True
        # A notebook's error reaches here as text (papermill's ename and evalue).
        text = f"{getattr(err, 'ename', '')} {getattr(err, 'evalue', '')} {err}"
        if "[Errno 28]" in text or "No space left on device" in text:
            return True
        err = err.__cause__ or err.__context__
    return False


def _parser() -> argparse.ArgumentParser:
    # Options that every executing subcommand shares, defined once.
    running = argparse.ArgumentParser(add_help=False)
    running.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="override a notebook parameter, e.g. -p MARGINAL_TARGET_ACCEPT 0.98 (repeatable)",
    )  # fmt: skip
    running.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1,
        help="notebooks executed at the same time (default: the number of CPUs)",
    )  # fmt: skip

    parser = argparse.ArgumentParser(
        prog="python -m pooling", description="Build the pooling notebook collection."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    notebooks = commands.add_parser(
        "notebooks", parents=[running], help="execute notebook sources into their .ipynb",
        description="Execute notebook sources (.py) into executed .ipynb files beside them.",
    )  # fmt: skip
    notebooks.add_argument("sources", nargs="*", type=Path,
                           help="notebook sources (default: the collection's)")  # fmt: skip
    notebooks.add_argument("--output", type=Path, help="executed notebook (one source only)")
    notebooks.add_argument("--figures", type=Path, help="directory for figures")
    notebooks.add_argument("--results", type=Path, help="directory for results")
    notebooks.add_argument("--changed", action="store_true",
                           help="only the sources whose outputs are out of date")  # fmt: skip

    stale = commands.add_parser(
        "stale", help="print one line per on-demand notebook that is out of date"
    )
    stale.add_argument("sources", nargs="+", type=Path, help="notebook sources")

    # The input and output of a run on the user's data, shared by `run` and `estimates`.
    own_data = argparse.ArgumentParser(add_help=False)
    own_data.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the groups CSV")
    own_data.add_argument("--out", type=Path, required=True, help="output directory")
    for key in ("group", "trials", "successes"):
        # The default (pooling.data.DEFAULT_COLUMNS) is filled in by the command only:
        # importing pooling.data here would make every `make` wait for pandas.
        column = f"name of the {key} column (default: the shipped data's)"
        own_data.add_argument(f"--{key}", help=column)

    run = commands.add_parser(
        "run", parents=[running, own_data],
        help="execute every notebook on a CSV, writing notebooks, figures/ and results/ to OUT",
        description=(
            "Execute every notebook with the given data. The executed notebooks go to OUT, "
            "figures to OUT/figures and results to OUT/results. The CSV is checked first; a "
            "failed or interrupted run leaves OUT exactly as it was."
        ),
    )  # fmt: skip
    run.add_argument("--draws", type=int, help="override the notebooks' DRAWS")
    run.add_argument("--seed", type=int, help="override the notebooks' SEED")

    table = commands.add_parser(
        "estimates", parents=[own_data],
        help="write the table of estimates to OUT, without notebooks, at any size",
        description=(
            "Fold the groups, fit the population by NUTS on the folded likelihood, check it "
            "against the exact posterior and write OUT/estimates.parquet (one file per model "
            "and part) and OUT/hyperparameters.csv. DATA may be a CSV or Parquet file, a "
            "directory of them or a glob. Settings default to the notebooks'; a failed run "
            "leaves OUT as it was."
        ),
    )  # fmt: skip
    table.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run the tasks on the Dask cluster at ADDRESS (tcp://host:port); default: here",
    )  # fmt: skip
    table.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="override a setting, e.g. -p THRESHOLD 0.3 (repeatable)",
    )  # fmt: skip

    lint = commands.add_parser("lint", help="check the committed notebooks (pre-commit)")
    lint.add_argument("files", nargs="*", help="notebook files (default: every notebook)")
    return parser


def _notebooks(args, parameters: dict) -> int:
    from pooling.runner.schedule import run_all
    from pooling.runner.staleness import changed, sources

    if args.output and len(args.sources) > 1:
        print("error: --output takes a single source", file=sys.stderr)
        return 2
    todo = args.sources or sources()
    todo = changed(todo) if args.changed else todo
    outputs = {
        key: value and value.resolve()
        for key, value in (("output", args.output), ("figures", args.figures),
                           ("results", args.results))
    }  # fmt: skip
    if todo:
        run_all(todo, lambda source: outputs, parameters, args.jobs)
    return 0


def _stale(args) -> int:
    from pooling.runner.staleness import changed

    for source in changed(args.sources):
        print(
            f"{source.with_suffix('.ipynb').name} is out of date: run `make "
            f"{source.stem.split('_', 1)[1]}` to refresh it (a few minutes)"
        )
    return 0


def _labels(args) -> dict[str, str]:
    from pooling.data import DEFAULT_COLUMNS

    return {key: getattr(args, key) or DEFAULT_COLUMNS[key] for key in DEFAULT_COLUMNS}


def _run(args, parameters: dict) -> int:
    from pooling.runner.own_data import run_collection

    labels = _labels(args)
    parameters.update(
        {k: v for k, v in (("DRAWS", args.draws), ("SEED", args.seed)) if v is not None}
    )
    run_collection(args.data, args.out, labels, parameters, args.jobs)
    print(f"done: notebooks in {args.out}, figures in {args.out / 'figures'}")
    return 0


def _estimates(args, parameters: dict) -> int:
    from pooling.pipeline.run import run_estimates

    # Nothing to compile: both fits are Numba functions, cached by Numba on the disk.
    path = run_estimates(args.data, args.out, _labels(args), parameters, args.scheduler)
    print(f"done: {path}")
    return 0


def _portable_or_again() -> None:
    """Start this command again with the portable settings, if it lacks them.

    They are read when a process starts, and an estimates run computes in this process what
    a cluster's workers compute in theirs (:data:`pooling.pipeline.cluster.PORTABLE`): both
    must have them for the same bytes.
    """
    from pooling.pipeline.cluster import PORTABLE, is_portable

    if not is_portable():
        command = [sys.executable, "-m", "pooling", *sys.argv[1:]]
        os.execve(sys.executable, command, {**os.environ, **PORTABLE})


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run; see ``python -m pooling --help``."""
    args = _parser().parse_args(argv)
    if args.command == "estimates" and argv is None:
        _portable_or_again()
    if args.command == "lint":
        from pooling.runner.lint import check_notebooks

        return check_notebooks(args.files)
    if args.command == "stale":
        return _stale(args)

    from pooling.runner.own_data import OutBusy, ParameterError, parse_value

    parameters = {name: parse_value(value) for name, value in args.parameter}
    unchanged = args.out if args.command in ("run", "estimates") else None
    commands = {"run": _run, "estimates": _estimates, "notebooks": _notebooks}
    try:
        return commands[args.command](args, parameters)
    except KeyboardInterrupt:
        print(f"interrupted{f': {unchanged} is unchanged' if unchanged else ''}", file=sys.stderr)
        return 130
    except Exception as err:
        from pooling.data import DataError  # here: pandas only when something went wrong
        from pooling.pipeline.cluster import ClusterError

        if isinstance(err, (DataError, ParameterError, OutBusy, ClusterError)):  # nothing ran
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(failure_line(err, unchanged), file=sys.stderr)  # a notebook failed
        return 1
