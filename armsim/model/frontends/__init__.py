"""Model frontends: read a model file into an :class:`armsim.graph.Graph`. ``load`` picks the
frontend by the file's first bytes (``keras`` for .keras/.h5 archives, ``tflite`` for
flatbuffers); each frontend reads a layer or operator through the op kind that registers it
(:mod:`armsim.ops.registry`).

``from armsim.model.frontends import load_model`` is resolved lazily."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("load_model", "sniff"):
        return getattr(importlib.import_module("armsim.model.frontends.load"), name)
    raise AttributeError(f"module 'armsim.model.frontends' has no attribute {name!r}")
