"""A model's inputs: the bundled files (the seed model, ten MNIST test digits), MNIST's
preprocessing, input files (``.npy``, ``.npz`` with ``x`` and ``y``) checked against the
model's input, and the cases the commands run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from armsim.errors import ArmsimError, DataError
from armsim.graph import Graph
from armsim.model import mnist

DEFAULT_MODEL = "default_model.keras"

DIGITS = "digits.npz"

#: How MNIST pixels v (0..255) become model inputs.
MNIST_SCALES = {"seed": "(v - 127.5) / 127.5", "unit": "v / 255", "raw": "v"}


def data_file(name: str) -> Path:
    """A file bundled in armsim/data."""
    return Path(str(resources.files("armsim") / "data" / name))


@dataclass
class Case:
    """One input: a name, its label if known, the array in the model's input shape."""

    name: str
    label: int | None
    x: np.ndarray


def load_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ten bundled MNIST test digits: images, labels, indices."""
    with np.load(data_file(DIGITS)) as z:
        return z["images"], z["labels"], z["indices"]


def mnist_scale(images: np.ndarray, how: str) -> np.ndarray:
    """uint8 images (N, 28, 28) -> model inputs (N, 28, 28, 1) by --mnist-scale."""
    x = np.asarray(images).astype(np.float32)
    if how == "seed":
        return mnist.scale(images)
    if how == "unit":
        x = x / np.float32(255.0)
    return x[..., np.newaxis]


def is_mnist_shaped(g: Graph) -> bool:
    """True for a one-input model taking 28x28x1 (MNIST is its default input)."""
    return len(g.inputs) == 1 and g.tensors[g.inputs[0]].shape in ((28, 28, 1), (28, 28))


def read_inputs(path: str, g: Graph) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs (N, *input shape) from .npy or .npz (keys x or inputs, optional y labels)."""
    p = Path(path)
    if p.is_dir() or not p.exists():
        raise DataError(f"--inputs {p}: {'is a directory' if p.is_dir() else 'not found'}")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.keys())
                key = next((k for k in ("x", "inputs", "X") if k in keys),
                           keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise DataError(f"--inputs {p}: an .npz needs an array named 'x' (and "
                                    f"optionally 'y'); it has {keys}")
                x = z[key]
                y = z["y"] if "y" in keys else None
        else:
            x, y = np.load(p, allow_pickle=False), None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"--inputs {p}: cannot read: {e}") from None
    shape = g.tensors[g.inputs[0]].shape
    if x.shape == shape:
        x = x[np.newaxis]
    if x.shape[1:] != shape:
        raise DataError(f"--inputs {p}: arrays of shape {x.shape[1:]} (file {x.shape}); the "
                        f"model's input is {shape} (one input per row)")
    if len(x) == 0:
        raise DataError(f"--inputs {p}: holds no inputs")
    if g.quantized:  # int8 rows are used as they are; float rows get quantized later
        if x.dtype != np.int8 and not np.issubdtype(x.dtype, np.floating):
            raise DataError(f"--inputs {p}: dtype {x.dtype}; an int8 model takes int8 inputs "
                            "(already quantized) or float inputs (quantized with the model's "
                            "input scale)")
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            raise DataError(f"--inputs {p}: holds NaN or infinity")
        rows = x
    else:
        rows = np.stack([check_input(g, row, f"--inputs {p}[{i}]")
                         for i, row in enumerate(x)])
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if len(y) != len(rows):
            raise DataError(f"--inputs {p}: {len(rows)} inputs but {len(y)} labels")
        y = y.astype(np.int64)
    return rows, y


def shared_mnist() -> str | None:
    """The MNIST directory when neither --data nor the variable names one: ../shared beside
    the checkout, if it is there (said in the error otherwise)."""
    if os.environ.get(mnist.ENV_VAR):
        return None
    here = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
    return str(here) if here.is_dir() else None


def check_input(g: Graph, x: np.ndarray, where: str = "input") -> np.ndarray:
    """``x`` as float32 of the model's input shape, or an ArmsimError naming the mismatch."""
    shape = g.tensors[g.inputs[0]].shape
    a = np.asarray(x)
    if a.shape != shape:
        raise ArmsimError(f"{where}: shape {a.shape}, the model's input is {shape}")
    if not np.issubdtype(a.dtype, np.number):
        raise ArmsimError(f"{where}: dtype {a.dtype} is not numeric")
    a = a.astype(np.float32)
    if not np.all(np.isfinite(a)):
        raise ArmsimError(f"{where}: holds NaN or infinity")
    return a


def cases(g: Graph, inputs: str | None = None, images: list[int] | int | None = None,
          data: str | None = None, how: str = "seed") -> tuple[list[Case], str]:
    """The inputs of simulate and profile, and how they were made: the file ``inputs``, the
    MNIST test ``images`` (from ``data``), or the bundled digits; MNIST pixels scaled by
    ``how`` (a key of :data:`MNIST_SCALES`)."""
    if isinstance(images, int):
        images = [images]
    if inputs:
        if images:
            raise ArmsimError("--inputs and --image both choose inputs: give one")
        x, y = read_inputs(inputs, g)
        return ([Case(f"{Path(inputs).name}[{i}]", None if y is None else int(y[i]), row)
                 for i, row in enumerate(x)], f"from {inputs}, used as given")
    if not is_mnist_shaped(g):
        shape = g.tensors[g.inputs[0]].shape
        raise ArmsimError(f"model '{g.name}' takes inputs of shape {shape}, not MNIST images: "
                          "give --inputs X.npy (one input per row)")
    shape = g.tensors[g.inputs[0]].shape
    prep = f"MNIST pixels v scaled {MNIST_SCALES[how]}"
    if images:
        split = mnist.load("test", data or shared_mnist())
        out = []
        for i in images:
            if not 0 <= i < len(split.images):
                raise DataError(f"--image {i} is out of range 0..{len(split.images) - 1}")
            x = mnist_scale(split.images[i:i + 1], how)[0].reshape(shape)
            out.append(Case(f"test #{i}", int(split.labels[i]), x))
        return out, prep
    imgs, labels, idx = load_digits()
    xs = mnist_scale(imgs, how)
    return ([Case(f"test #{int(i)}", int(lab), x.reshape(shape))
             for x, lab, i in zip(xs, labels, idx)], prep + " (bundled test digits)")
