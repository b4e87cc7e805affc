"""The ``armsim`` command line: one thin module per subcommand (``simulate``, ``validate``,
``profile``, ...) over the library layers. ``app`` builds the parser and maps errors to exit
statuses, ``options`` holds the option groups, ``common`` turns options into models, plans,
targets and inputs. Nothing outside this package imports it (bar ``armsim.__main__``).

``from armsim.cli import main`` gives ``app.main`` (resolved lazily)."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("main", "build_parser"):
        return getattr(importlib.import_module("armsim.cli.app"), name)
    raise AttributeError(f"module 'armsim.cli' has no attribute {name!r}")
