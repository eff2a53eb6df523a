"""``python -m pooling``: the runner's command line (:mod:`pooling.runner.cli`)."""

import sys

from pooling.runner.cli import main

sys.exit(main())
