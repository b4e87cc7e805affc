"""``python -m armsim``."""

import sys

from armsim.cli.app import main

sys.exit(main())
