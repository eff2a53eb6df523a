"""``python -m pooling``: the build tool's command line (:mod:`pooling.build.cli`)."""

import sys

from pooling.build.cli import main

sys.exit(main())
