"""``python -m armsim``."""

import sys

from .cli import main

sys.exit(main())
