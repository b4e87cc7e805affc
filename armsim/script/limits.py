"""Caps on what a script may demand, so a hostile or broken file fails fast and clearly.
Each can be raised with an environment variable for a script that really needs more."""

from __future__ import annotations

import os


def _env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


#: bytes in one script file
MAX_BYTES = _env("ARMSIM_SCRIPT_MAX_BYTES", 128 * 1024 * 1024)
#: lines in one script file
MAX_LINES = _env("ARMSIM_SCRIPT_MAX_LINES", 4_000_000)
#: distinct 4 KiB pages a script's writes may touch (16 MiB at the default)
MAX_PAGES = _env("ARMSIM_SCRIPT_MAX_PAGES", 4096)
#: statements a script may execute (loops included) before it is stopped as endless
MAX_STEPS = _env("ARMSIM_SCRIPT_MAX_STEPS", 1_000_000)
