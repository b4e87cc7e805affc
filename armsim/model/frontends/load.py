"""Load a model file with the frontend its content calls for: a Keras archive, a legacy
HDF5 file (with --trust-model), or a TFLite flatbuffer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from armsim.errors import ModelError
from armsim.graph import Graph
from armsim.model.frontends import keras as K
from armsim.model.frontends import tflite as T


def sniff(path: str | os.PathLike[str]) -> str:
    """Which frontend reads ``path``, from its first bytes: "keras" (zip), "h5", or "unknown"."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError as e:
        raise ModelError(f"{p}: cannot read: {e.strerror or e}") from None
    if head[:4] == b"PK\x03\x04":
        return "keras"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "h5"
    if head[4:8] == b"TFL3":
        return "tflite"
    return "unknown"


def load_model(path: str | os.PathLike[str], trust: bool = False) -> tuple[Graph, Any]:
    """(graph, host model) for a model file; the frontend is picked by the file's content.

    The host model is the Keras model, or for a ``.tflite`` file its path (the TFLite
    interpreter is the host)."""
    p = Path(path)
    if p.is_dir():
        raise ModelError(f"{p} is a directory, not a model file (give a .keras file)")
    if not p.exists():
        raise ModelError(f"model file {p} not found")
    if p.stat().st_size == 0:
        raise ModelError(f"{p}: the file is empty (a .keras model is a zip archive)")
    kind = sniff(p)
    if kind == "tflite":
        return T.load(p), p
    model = K.load(p, trust=trust, kind=kind)
    return K.to_graph(model, str(p)), model
