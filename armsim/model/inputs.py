"""A model's inputs: the bundled files (the seed model, ten MNIST test digits), MNIST's
preprocessing, input files (``.npy``, ``.npz`` with ``x`` and ``y``) checked against the
model's input, and the cases the commands run.

A model with several inputs takes one file per input (``--inputs a.npy --inputs b.npy``, in
the model's input order) or one ``.npz`` with an array per input, named after the input (the
Keras ``Input`` name, the TFLite signature's input name, the graph tensor's name) or ``x0``,
``x1``, ...; ``y`` holds labels. Its rows are :class:`Rows` (one array per input), and one
case's input is a tuple of arrays in the model's input order."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

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
    """One input: a name, its label if known, the array in the model's input shape (for a
    model with several inputs, a tuple of arrays in its input order)."""

    name: str
    label: int | None
    x: Any


@dataclass(frozen=True)
class Rows:
    """The rows of a model with several inputs: one (N, *shape) array per model input, in its
    input order. Indexed like one array of rows: ``rows[i]`` is one case's tuple of arrays,
    ``rows[a:b]`` the rows a..b."""

    arrays: tuple[np.ndarray, ...]
    #: how the arrays were matched to the inputs, where that needs saying ("" otherwise)
    note: str = ""

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, (int, np.integer)):
            return tuple(a[i] for a in self.arrays)
        return Rows(tuple(a[i] for a in self.arrays))

    @property
    def dtype(self) -> np.dtype:
        """The first input's dtype (int8 rows are used as given, float rows quantized)."""
        return self.arrays[0].dtype

    def astype(self, dtype: Any) -> "Rows":
        return Rows(tuple(a.astype(dtype) for a in self.arrays))


def stack(xs: list[Any]) -> Any:
    """Cases' inputs as a batch: (N, *shape) for a one-input model, else :class:`Rows`."""
    if xs and isinstance(xs[0], tuple):
        return Rows(tuple(np.stack(parts) for parts in zip(*xs)))
    return np.stack(xs)


def reorder(x: Any, src: Graph, dst: Graph) -> Any:
    """One case's input for graph ``src`` as graph ``dst`` takes it: the same inputs matched
    by name (a .keras model and the .tflite converted from it may order them otherwise)."""
    if not isinstance(x, tuple):
        return x
    by = {short_name(n): a for n, a in zip(src.inputs, x)}
    try:
        return tuple(by[short_name(n)] for n in dst.inputs)
    except KeyError:
        return x  # names that do not match: the same order


def short_name(tensor: str) -> str:
    """An input tensor's name without a TFLite signature's ``serving_default_`` prefix and
    ``:0`` suffix (the Keras ``Input`` name)."""
    return tensor.split(":")[0].removeprefix("serving_default_")


def input_names(g: Graph) -> list[list[str]]:
    """Per model input, the names an ``.npz`` array may have for it: the graph tensor's name,
    the same without a TFLite signature's ``serving_default_`` prefix and ``:0`` suffix, and
    ``x<k>``."""
    return [list(dict.fromkeys((name, short_name(name), f"x{k}")))
            for k, name in enumerate(g.inputs)]


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


def read_inputs(path: Any, g: Graph) -> tuple[Any, np.ndarray | None]:
    """Inputs (N, *input shape) from .npy or .npz (keys x or inputs, optional y labels); for
    a model with several inputs, :class:`Rows` from one file per input (``path`` a list) or
    one .npz naming each (:func:`input_names`)."""
    if isinstance(path, (list, tuple)):
        if len(path) == 1:
            path = path[0]
        elif len(path) != len(g.inputs):
            raise DataError(f"--inputs given {len(path)} times; model '{g.name}' has "
                            f"{len(g.inputs)} input{'s' if len(g.inputs) != 1 else ''} "
                            f"({', '.join(g.inputs)}): give one file per input, in that "
                            "order, or one .npz naming each")
    if len(g.inputs) > 1:
        return _read_multi(path, g)
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
    if g.quantized:  # integer rows are used as they are; float rows get quantized later
        if x.dtype != np.dtype(g.dtype) and not np.issubdtype(x.dtype, np.floating):
            kind = "a 16x8" if g.dtype == "int16" else "an int8"
            raise DataError(f"--inputs {p}: dtype {x.dtype}; {kind} model takes {g.dtype} "
                            "inputs (already quantized) or float inputs (quantized with the "
                            "model's input scale)")
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


def _read_multi(path: Any, g: Graph) -> tuple[Rows, np.ndarray | None]:
    """A several-input model's rows: one .npy/.npz per input (``path`` a list, in the model's
    input order) or one .npz with an array per input."""
    names = input_names(g)
    y = None
    note = ""
    arrays: list[np.ndarray] = []
    if isinstance(path, (list, tuple)):
        for k, f in enumerate(path):
            sub_g = Graph(g.name, g.tensors, g.ops, [g.inputs[k]], g.outputs)
            a, yk = read_inputs(f, sub_g)
            arrays.append(a)
            y = yk if y is None else y
        where = " ".join(str(f) for f in path)
    else:
        p = Path(path)
        if p.is_dir() or not p.exists():
            raise DataError(f"--inputs {p}: {'is a directory' if p.is_dir() else 'not found'}")
        if p.suffix != ".npz":
            raise DataError(f"--inputs {p}: model '{g.name}' has {len(g.inputs)} inputs "
                            f"({', '.join(g.inputs)}): give --inputs once per input, in that "
                            "order, or one .npz with an array per input "
                            f"({'; '.join(' or '.join(n) for n in names)})")
        used: list[str] = []
        try:
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.keys())
                for k, cands in enumerate(names):
                    key = next((c for c in cands if c in keys), None)
                    if key is None:
                        raise DataError(f"--inputs {p}: no array for input {g.inputs[k]} "
                                        f"(name it {' or '.join(cands)}); the file has {keys}")
                    arrays.append(z[key])
                    used.append(key)
                y = z["y"] if "y" in keys else None
        except (OSError, ValueError, EOFError) as e:
            raise DataError(f"--inputs {p}: cannot read: {e}") from None
        where = str(p)
        arrays, note = _by_shape(g, arrays, used)
        checked = []
        for k, a in enumerate(arrays):
            shape = g.tensors[g.inputs[k]].shape
            if a.shape == shape:
                a = a[np.newaxis]
            if a.shape[1:] != shape:
                hint = (f"; {used[k]} is the model's input {k} in this file's order: name the "
                        f"arrays after the inputs ({', '.join(short_name(n) for n in g.inputs)})"
                        " to be sure" if used[k] == f"x{k}" else "")
                raise DataError(f"--inputs {p}: arrays of shape {a.shape[1:]} for input "
                                f"{g.inputs[k]}, which is {shape} (one input per row){hint}")
            if g.quantized and a.dtype == np.dtype(g.dtype):
                checked.append(a)
            else:
                checked.append(np.stack([check_input(g, row, f"--inputs {p}[{i}]", k)
                                         for i, row in enumerate(a)]))
        arrays = checked
    n = {len(a) for a in arrays}
    if len(n) != 1 or 0 in n:
        raise DataError(f"--inputs {where}: the inputs have {sorted(n)} rows; give the same "
                        "number of rows (at least one) for every input")
    if y is not None:
        y = np.asarray(y).reshape(-1).astype(np.int64)
        if len(y) != len(arrays[0]):
            raise DataError(f"--inputs {where}: {len(arrays[0])} inputs but {len(y)} labels")
    return Rows(tuple(arrays), note), y


def _by_shape(g: Graph, arrays: list[np.ndarray], used: list[str]
              ) -> tuple[list[np.ndarray], str]:
    """Positional arrays (x0, x1, ...) whose shapes do not fit the inputs in the graph's
    order but fit exactly one other order: that order, and a note saying so (a .tflite
    keeps its inputs in an order of its own, not the Keras model's). Otherwise as given."""
    if not all(k == f"x{i}" for i, k in enumerate(used)) or len(arrays) > 6:
        return arrays, ""
    shapes = [g.tensors[n].shape for n in g.inputs]

    def fits(a: np.ndarray, shape: tuple[int, ...]) -> bool:
        return a.shape == shape or a.shape[1:] == shape

    if all(fits(a, s) for a, s in zip(arrays, shapes)):
        return arrays, ""
    orders = [p for p in itertools.permutations(range(len(arrays)))
              if all(fits(arrays[p[k]], shapes[k]) for k in range(len(shapes)))]
    if len(orders) != 1:
        return arrays, ""
    p = orders[0]
    pairs = ", ".join(f"x{p[k]} -> {short_name(n)}" for k, n in enumerate(g.inputs))
    return [arrays[p[k]] for k in range(len(arrays))], (
        f"x0, x1, ... matched to the inputs by shape ({pairs}): this file lists its inputs "
        "in another order; name the arrays after the inputs to choose")


def shared_mnist() -> str | None:
    """The MNIST directory when neither --data nor the variable names one: ../shared beside
    the checkout, if it is there (said in the error otherwise)."""
    if os.environ.get(mnist.ENV_VAR):
        return None
    here = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
    return str(here) if here.is_dir() else None


def check_input(g: Graph, x: np.ndarray, where: str = "input", k: int = 0) -> np.ndarray:
    """``x`` as float32 of the model's (``k``-th) input shape, or an ArmsimError naming the
    mismatch."""
    shape = g.tensors[g.inputs[k]].shape
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
        files = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        label = "+".join(Path(f).name for f in files)
        note = f"; {x.note}" if isinstance(x, Rows) and x.note else ""
        return ([Case(f"{label}[{i}]", None if y is None else int(y[i]), x[i])
                 for i in range(len(x))], f"from {' and '.join(str(f) for f in files)}, "
                f"used as given{note}")
    if len(g.inputs) > 1:
        raise ArmsimError(f"model '{g.name}' has {len(g.inputs)} inputs "
                          f"({', '.join(g.inputs)}): give --inputs once per input, in that "
                          "order, or one .npz with an array per input")
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


@dataclass
class TensorCase:
    """One input of a model run as a file (TFLM): one array per model input, each in its
    tensor's shape and dtype."""

    name: str
    label: int | None
    xs: list[np.ndarray]


#: Random inputs made for a model whose inputs armsim cannot guess (seeded: reproducible).
RANDOM_INPUTS, RANDOM_SEED = 3, 0


def model_input(x: np.ndarray, t: Any) -> np.ndarray:
    """One input row (a graph's input shape, float or integer) as model-file tensor ``t``
    takes it: reshaped, and quantized with its scale for an integer tensor."""
    a = np.asarray(x).reshape(t.shape or (1,))
    return _to_tensor(_clamped(a, t), t, f"input {t.name}")


def _to_tensor(a: np.ndarray, t: Any, where: str) -> np.ndarray:
    """``a`` in tensor ``t``'s dtype: float values quantized with its scale and zero point
    (integer tensors), integers checked against its range."""
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.number) and a.dtype != np.bool_:
        raise DataError(f"{where}: dtype {a.dtype} is not numeric")
    if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        raise DataError(f"{where}: holds NaN or infinity")
    want = np.dtype(t.dtype) if t.dtype in np.sctypeDict else None
    if want is None:
        raise DataError(f"{where}: the model's input {t.name} is {t.dtype}, which armsim "
                        "cannot write")
    if np.issubdtype(want, np.integer):
        info = np.iinfo(want)
        if np.issubdtype(a.dtype, np.floating):
            if not t.scales:
                raise DataError(f"{where}: float values for the {t.dtype} input {t.name}, "
                                "which has no quantization scale: give integers")
            # TFLite's QUANTIZE: a float32 quotient rounded half away from zero
            v = a.astype(np.float32) / np.float32(t.scales[0])
            a = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5)) + \
                (t.zero_points[0] if t.zero_points else 0)
        if a.size and (a.min() < info.min or a.max() > info.max):
            raise DataError(f"{where}: values {a.min()}..{a.max()} do not fit the {t.dtype} "
                            f"input {t.name}")
        return a.astype(want)
    return a.astype(want)


def _file_arrays(path: str, model: Any) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Per model input, the (N, *shape) rows of an .npy/.npz file, and its labels."""
    p = Path(path)
    if p.is_dir() or not p.exists():
        raise DataError(f"--inputs {p}: {'is a directory' if p.is_dir() else 'not found'}")
    ins = model.inputs
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.keys())
                y = z["y"] if "y" in keys else None
                if len(ins) == 1:
                    key = next((k for k in ("x", "inputs", "X", ins[0].name) if k in keys),
                               keys[0] if len(keys) == 1 else None)
                    if key is None:
                        raise DataError(f"--inputs {p}: an .npz needs an array named 'x' (and "
                                        f"optionally 'y'); it has {keys}")
                    arrays = [z[key]]
                else:
                    arrays = []
                    for k, t in enumerate(ins):
                        key = next((c for c in (t.name, short_name(t.name), f"x{k}")
                                    if c in keys), None)
                        if key is None:
                            raise DataError(
                                f"--inputs {p}: the model has {len(ins)} inputs; name one array "
                                f"per input by its tensor's name ({', '.join(t.name for t in ins)})"
                                f" or x0..x{len(ins) - 1}; the file has {keys}")
                        arrays.append(z[key])
        else:
            if len(ins) != 1:
                raise DataError(f"--inputs {p}: the model has {len(ins)} inputs; give an .npz "
                                "with one array per input (x0, x1, ... or the tensors' names)")
            arrays, y = [np.load(p, allow_pickle=False)], None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"--inputs {p}: cannot read: {e}") from None
    rows = []
    for a, t in zip(arrays, ins):
        shape = tuple(t.shape)
        if a.shape == shape or (shape[:1] == (1,) and a.shape == shape[1:]):
            a = a.reshape((1, *shape))
        elif shape[:1] == (1,) and a.shape[1:] == shape[1:]:
            a = a.reshape((len(a), *shape))  # a batch of rows of a batch-1 input
        elif a.shape[1:] != shape:
            raise DataError(f"--inputs {p}: arrays of shape {a.shape[1:]} (file {a.shape}) "
                            f"for input {t.name}, which is {shape} (one input per row)")
        rows.append(a)
    n = {len(a) for a in rows}
    if len(n) != 1 or 0 in n:
        raise DataError(f"--inputs {p}: the inputs have {sorted(n)} rows; give the same "
                        "number of rows (at least one) for every input")
    if y is not None:
        y = np.asarray(y).reshape(-1).astype(np.int64)
        if len(y) != len(rows[0]):
            raise DataError(f"--inputs {p}: {len(rows[0])} inputs but {len(y)} labels")
    return rows, y


def model_file_cases(model: Any, inputs: str | None = None,
                     images: list[int] | int | None = None, data: str | None = None,
                     how: str = "seed", count: int | None = None
                     ) -> tuple[list[TensorCase], str]:
    """The inputs of a model run from its file (``model``: a flatbuffer.FlatbufferModel):
    ``inputs`` (.npy, or .npz with one array per input), MNIST digits for a 28x28x1 model
    (quantized with the input's scale for an integer input), else reproducible random inputs
    over each input's range (said so)."""
    if isinstance(images, int):
        images = [images]
    ins = model.inputs
    if inputs:
        if images:
            raise ArmsimError("--inputs and --image both choose inputs: give one")
        rows, y = _file_arrays(inputs, model)
        cases = []
        for i in range(len(rows[0])):
            xs = [_to_tensor(_clamped(r[i], t), t, f"--inputs {Path(inputs).name}[{i}]")
                  for r, t in zip(rows, ins)]
            cases.append(TensorCase(f"{Path(inputs).name}[{i}]",
                                    None if y is None else int(y[i]), xs))
        quantized = any(np.issubdtype(r.dtype, np.floating) and t.scales and
                        np.issubdtype(np.dtype(t.dtype), np.integer) for r, t in zip(rows, ins))
        return cases[:count] if count else cases, f"from {inputs}" + (
            "; float values quantized with each input's scale and zero point, clamped to its "
            "range" if quantized else "")
    mnist_like = len(ins) == 1 and tuple(d for d in ins[0].shape if d != 1) == (28, 28)
    if mnist_like:
        prep = f"MNIST pixels v scaled {MNIST_SCALES[how]}"
        if images:
            split = mnist.load("test", data or shared_mnist())
            bad = [i for i in images if not 0 <= i < len(split.images)]
            if bad:
                raise DataError(f"--image {bad[0]} is out of range 0..{len(split.images) - 1}")
            imgs, labels, idx = split.images[images], split.labels[images], np.array(images)
        else:
            imgs, labels, idx = load_digits()
            prep += " (bundled test digits)"
        xs = mnist_scale(imgs, how)
        t = ins[0]
        if np.issubdtype(np.dtype(t.dtype), np.integer) and t.scales:
            prep += f", quantized with the input's scale {t.scales[0]:g} and zero point " \
                    f"{t.zero_points[0] if t.zero_points else 0}"
        cases = [TensorCase(f"test #{int(i)}", int(lab),
                            [_to_tensor(_clamped(x, t), t, f"test #{int(i)}").reshape(t.shape)])
                 for x, lab, i in zip(xs, labels, idx)]
        return cases[:count] if count else cases, prep
    if images:
        raise ArmsimError(f"--image: model '{model.name}' does not take MNIST images "
                          f"(its inputs are {[tuple(t.shape) for t in ins]}); give --inputs")
    rng = np.random.default_rng(RANDOM_SEED)
    n = count or RANDOM_INPUTS
    cases = []
    for i in range(n):
        xs = []
        for t in ins:
            dt = np.dtype(t.dtype) if t.dtype in np.sctypeDict else None
            if dt is None:
                raise DataError(f"model '{model.name}': input {t.name} is {t.dtype}; give "
                                "--inputs")
            shape = t.shape or (1,)
            if np.issubdtype(dt, np.integer):
                info = np.iinfo(dt)
                xs.append(rng.integers(info.min, int(info.max) + 1, size=shape, dtype=dt))
            elif dt == np.bool_:
                xs.append(rng.integers(0, 2, size=shape).astype(np.bool_))
            else:
                xs.append(rng.uniform(-1.0, 1.0, size=shape).astype(dt))
        cases.append(TensorCase(f"random #{i}", None, xs))
    return cases, (f"random inputs (seed {RANDOM_SEED}: integers over each input's whole "
                   "range, floats in -1..1); give --inputs for real ones")


def _clamped(a: np.ndarray, t: Any) -> np.ndarray:
    """Float values for an integer tensor clamped to what it represents (as its QUANTIZE
    clamps); anything else as given."""
    a = np.asarray(a)
    if t.scales and np.issubdtype(np.dtype(t.dtype), np.integer) and \
            np.issubdtype(a.dtype, np.floating):
        return np.clip(a, *_float_range(t))
    return a


def _float_range(t: Any) -> tuple[float, float]:
    """The real values an integer tensor can represent."""
    info = np.iinfo(np.dtype(t.dtype))
    s, z = t.scales[0], t.zero_points[0] if t.zero_points else 0
    return (info.min - z) * s, (info.max - z) * s
