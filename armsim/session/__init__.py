"""Running firmware: a build on one engine (``session``: Session, Result), profiles
(``profile``), any firmware image to its first stop (``image_run``), the regression gate
(``regress``), the result types and their JSON (``results``), and the versions reports
record (``versions``).

``from armsim.session import Session`` (the module's names before the package) resolves
lazily."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = ("Session", "Result", "default_limits", "output_spec")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("armsim.session.session"), name)
    raise AttributeError(f"module 'armsim.session' has no attribute {name!r}")
