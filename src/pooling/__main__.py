"""``python -m pooling run``: run the whole collection on any groups CSV."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pooling.data import DEFAULT_COLUMNS, DataError
from pooling.paths import DEFAULT_DATA

#: What to try when a check fails, by the words of its message.
NEXT_STEPS = {
    "divergent": "-p MARGINAL_TARGET_ACCEPT 0.95 (a smaller step size for the hierarchical fit)",
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


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run; see ``python -m pooling run --help``."""
    parser = argparse.ArgumentParser(
        prog="python -m pooling",
        description="Run the pooling notebooks on a groups CSV (one row per group).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="execute every notebook on a CSV, writing notebooks, figures/ and results/ to OUT",
        description=(
            "Execute every notebook with the given data. The executed notebooks go to OUT, "
            "figures to OUT/figures and results to OUT/results. The CSV is checked first; a "
            "failed or interrupted run leaves OUT exactly as it was."
        ),
    )
    run.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the groups CSV")
    run.add_argument("--out", type=Path, required=True, help="output directory")
    for key in ("group", "trials", "successes"):
        run.add_argument(
            f"--{key}", default=DEFAULT_COLUMNS[key],
            help=f"name of the {key} column (default: {DEFAULT_COLUMNS[key]})",
        )  # fmt: skip
    run.add_argument("--draws", type=int, help="override the notebooks' DRAWS")
    run.add_argument("--seed", type=int, help="override the notebooks' SEED")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="override any other parameter of the notebooks, e.g. -p MARGINAL_TARGET_ACCEPT 0.95",
    )  # fmt: skip
    run.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1,
        help="notebooks executed at the same time (default: the number of CPUs)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    from pooling.run import ParameterError, parse_value, run_collection

    labels = {"group": args.group, "trials": args.trials, "successes": args.successes}
    extra = {name: parse_value(value) for name, value in args.parameter}
    extra.update({k: v for k, v in (("DRAWS", args.draws), ("SEED", args.seed)) if v is not None})
    try:
        run_collection(args.data, args.out, labels, extra, args.jobs)
    except (DataError, ParameterError) as err:  # bad input: nothing was run
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: {args.out} is unchanged", file=sys.stderr)
        return 130
    except Exception as err:  # a notebook failed: name the error, not the whole traceback
        name = getattr(err, "ename", type(err).__name__)
        detail = (getattr(err, "evalue", None) or str(err)).strip().splitlines()
        where = f" in {err.notebook}" if hasattr(err, "notebook") else ""
        if getattr(err, "exec_count", None):
            where += f" (cell [{err.exec_count}])"
        print(
            f"error: run failed{where}, {args.out} is unchanged: "
            f"{name}: {detail[0] if detail else ''}; {next_step(err)}",
            file=sys.stderr,
        )
        return 1
    print(f"done: notebooks in {args.out}, figures in {args.out / 'figures'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
