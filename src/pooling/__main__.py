"""``python -m pooling``: the runner's command line (:mod:`pooling.runner.cli`)."""

import sys

from pooling.runner.cli import main

# Guarded: a spawned process (pooling.pipeline.side) imports the main module again.
if __name__ == "__main__":
    sys.exit(main())
