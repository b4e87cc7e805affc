"""MNIST from the four IDX files in a directory given by a flag or an environment variable.

armsim never downloads at run time: without a directory the error says where it looked.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from armsim.errors import DataError

ENV_VAR = "ARMSIM_MNIST_DIR"
FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


@dataclass(frozen=True)
class Split:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 of one split."""

    images: np.ndarray
    labels: np.ndarray


def scale(images: np.ndarray) -> np.ndarray:
    """The seed's preprocessing: (x - 127.5) / 127.5 as float32, with a channel axis."""
    x = (np.asarray(images).astype(np.float32) - np.float32(127.5)) / np.float32(127.5)
    return x[..., np.newaxis]


def data_dir(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The directory chosen by the flag, else the environment variable, else None."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def load(split: str, directory: str | os.PathLike[str] | None = None) -> Split:
    """Load ``split`` ("train" or "test") from the IDX files of the chosen directory."""
    if split not in ("train", "test"):
        raise DataError(f"unknown MNIST split {split!r}; expected 'train' or 'test'")
    d = data_dir(directory)
    if d is None:
        raise DataError(f"no MNIST directory: give --data DIR or set ${ENV_VAR} to a folder "
                        "holding the four IDX files (t10k-images-idx3-ubyte.gz, ...); armsim "
                        "also looked for ../shared/data/mnist beside its checkout and does not "
                        "download at run time")
    if d.is_file():
        raise DataError(f"MNIST directory {d} is a file; give the folder holding the four IDX "
                        f"files (set by --data or ${ENV_VAR})")
    if not d.is_dir():
        raise DataError(f"MNIST directory {d} does not exist (set by --data or ${ENV_VAR})")
    images = read_idx(_find(d, FILES[(split, "images")]), IMAGE_MAGIC)
    labels = read_idx(_find(d, FILES[(split, "labels")]), LABEL_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"MNIST {split}: {len(images)} images but {len(labels)} labels in {d}")
    return Split(images, labels)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        p = directory / name
        if p.is_file():
            return p
    raise DataError(f"MNIST file {stem}.gz (or {stem}) not found in {directory}")


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file (gzip or plain), checking magic number and size."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read: {e}") from None
    ndim = 3 if magic == IMAGE_MAGIC else 1
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
    fields = struct.unpack(f">{1 + ndim}I", raw[:header])
    if fields[0] != magic:
        raise DataError(f"{path}: magic number {fields[0]}, expected {magic}")
    shape = fields[1:]
    need = int(np.prod(shape))
    if len(raw) - header != need:
        raise DataError(f"{path}: {len(raw) - header} data bytes, header says {need} "
                        f"(shape {'x'.join(map(str, shape))})")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
