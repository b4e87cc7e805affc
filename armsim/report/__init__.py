"""Rendering, kept apart from the work: terminal tables (``tables``), self-contained HTML
pages (``html``). It takes result objects and imports no command.

The HTML functions of the module this package was (``armsim.report.write`` ...) resolve
lazily."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    module = importlib.import_module("armsim.report.html")
    if not name.startswith("_") and hasattr(module, name):
        return getattr(module, name)
    raise AttributeError(f"module 'armsim.report' has no attribute {name!r}")
