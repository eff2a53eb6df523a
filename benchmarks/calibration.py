"""How long the calibration notebook takes: all three models at 1000 replicates.

``make bench BENCH=calibration``. Notebook 05 is executed as ``make calibration`` runs it
(1000 replicates per model, plus the positive and negative controls: 6000 simulated data
sets, 4000 of them fitted with NUTS), but into a scratch directory, so nothing in the
repository changes. The budget is 10 minutes on the 2-core development machine. The first
run on a machine also compiles the three models (kept in the compile cache afterwards); the
timed run comes after one untimed warm-up with 20 replicates.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, timed, write_section

SOURCE = ROOT / "notebooks" / "05_calibration.py"
BUDGET_MINUTES = 10.0


def run(scratch: Path, name: str, *parameters: str) -> float:
    return timed(
        [sys.executable, "-m", "pooling", "notebooks", str(SOURCE), "--output",
         str(scratch / name / "05.ipynb"), "--figures", str(scratch / name / "figures"),
         "--results", str(scratch / name / "results"), "-j", "1", *parameters],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-calibration-") as scratch:
        scratch = Path(scratch)
        run(scratch, "warm-up", "-p", "REPLICATES", "20")
        seconds = run(scratch, "timed")
    minutes = seconds / 60
    verdict = "within" if minutes <= BUDGET_MINUTES else "over"
    body = f"""## Calibration notebook (`make bench BENCH=calibration`)

Notebook 05 at its defaults (1000 replicates for each of no pooling, full pooling and the
hierarchical model, plus the two positive controls and the negative control), executed
once after a 20-replicate warm-up: **{minutes:.1f} min**, {verdict} the
{BUDGET_MINUTES:.0f}-minute budget.
"""
    write_section("calibration", body)
    print(body)
    return 0 if minutes <= BUDGET_MINUTES else 1


if __name__ == "__main__":
    sys.exit(main())
