"""``python -m armsim``."""

import sys

from armsim.cli import main

sys.exit(main())
