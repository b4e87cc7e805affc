"""The host that deploys: TensorFlow Lite Micro itself on the host, through the
``tflite-micro`` Python package (its reference kernels), running the ``.tflite`` file as the
chip does. Every tensor is preserved (``kPreserveAllTensors``), so each operator's output can
be compared with the emulated arena's.

The package ships x86-64 Linux wheels only: elsewhere :func:`available` says why, and the
callers fall back to the TFLite interpreter. TFLM is C++ that ends the process on some damaged
files, so a model is first opened and run once in a forked child (:func:`check`); a model TFLM
refuses (a hybrid model, an operator it lacks) is refused with TFLM's own log lines.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph
from armsim.model import flatbuffer
from armsim.model.flatbuffer import FlatbufferModel
from armsim.model.forked import run_forked
from armsim.model.tflite_host import GraphReference

PACKAGE = "tflite-micro"
#: Host arena: TFLM preserves every tensor here (so it is the sum of them all), and the host
#: is 64-bit (pointers and structs are larger than on the chip).
MIN_ARENA = 16 << 20
_COMMIT = re.compile(r"g([0-9a-f]{7,40})")


def _runtime() -> Any:
    from tflite_micro.python.tflite_micro import runtime  # noqa: PLC0415 -- optional wheel

    return runtime


def available() -> str | None:
    """None when the tflite-micro package imports, else why it does not."""
    try:
        _runtime()
    except Exception as e:  # an ImportError, or a wheel for another platform
        return (f"the {PACKAGE} package does not import here ({type(e).__name__}: {e}); it "
                "ships x86-64 Linux wheels only")
    return None


def version() -> str | None:
    """``tflite-micro <version>`` (None: not installed)."""
    try:
        import tflite_micro  # noqa: PLC0415 -- optional wheel

        return f"{PACKAGE} {tflite_micro.__version__}"
    except Exception:
        return None


def commit() -> str | None:
    """The TFLM commit the installed wheel was built from (its version's g<hash>)."""
    v = version()
    m = _COMMIT.search(v or "")
    return m.group(1) if m else None


class _CapturedOutput:
    """The process's own stdout and stderr (file descriptors 1 and 2, where TFLM's C++
    writes) captured into a temporary file."""

    def __enter__(self) -> "_CapturedOutput":
        sys.stdout.flush()
        sys.stderr.flush()
        self._file = tempfile.TemporaryFile()
        self._saved = (os.dup(1), os.dup(2))
        os.dup2(self._file.fileno(), 1)
        os.dup2(self._file.fileno(), 2)
        self.text = ""
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self._file.seek(0)
        self.text = self._file.read().decode(errors="replace")
        self._file.close()


def _reason(log: str) -> str:
    """TFLM's own lines from its log (the allocation table it prints left out); failing
    those, the error the child raised (model/forked.py)."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    own = [ln for ln in lines if not ln.startswith(("[RecordingMicroAllocator]",
                                                   "Number of resource variables",
                                                   "ARMSIM-ERROR"))]
    if not own:
        own = [ln.split(": TFLM cannot run this model: ", 1)[-1].removeprefix("ARMSIM-ERROR ")
               for ln in lines if ln.startswith("ARMSIM-ERROR")]
    return "; ".join(dict.fromkeys(own))[:2000]


def zeros_like_inputs(model: FlatbufferModel) -> list[np.ndarray]:
    """One all-zero input per model input (a quick run that every model accepts)."""
    return [np.zeros(t.shape or (1,), t.dtype) for t in model.inputs]


def check(model: FlatbufferModel, timeout_s: float = 300.0) -> None:
    """Open ``model`` in TFLM on the host and run it once on zeros, in a forked child; a
    ModelError with TFLM's reason when it cannot (a crash included)."""
    if available() is not None:
        return

    def work() -> None:
        TflmHost(model, check_first=False).run(zeros_like_inputs(model))

    child = run_forked(work, timeout_s, f"{model.path}: TFLM on the host")
    if child is None:
        return
    reason = _reason(child.output)
    if child.signal is not None:
        raise ModelError(f"{model.path}: TFLM crashed (signal {child.signal}) opening this "
                         "model: it is damaged, or not a model TFLM can run"
                         + (f" ({reason})" if reason else ""))
    if child.code != 0:
        raise ModelError(f"{model.path}: TFLM cannot run this model: {reason}")


class TflmHost:
    """One model in TFLM on the host, every tensor preserved.

    Attributes:
        model: the file
    """

    def __init__(self, model: FlatbufferModel, check_first: bool = True) -> None:
        self.model = model
        why = available()
        if why is not None:
            raise ModelError(why)
        if check_first:
            check(model)
        rt = _runtime()
        arena = max(MIN_ARENA, 10 * len(model.data))
        with _CapturedOutput() as out:
            try:
                self._it = rt.Interpreter.from_bytes(
                    model.data, arena_size=arena,
                    intrepreter_config=rt.InterpreterConfig.kPreserveAllTensors)
                err = None
            except (RuntimeError, ValueError) as e:
                err = e
        if err is not None:
            raise ModelError(f"{model.path}: TFLM cannot run this model: "
                             f"{_reason(out.text) or err}")
        self.log = out.text

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """One inference from the state after AllocateTensors (variable tensors cleared):
        the model's outputs, in its dtypes and shapes."""
        m = self.model
        if len(inputs) != len(m.inputs):
            raise ModelError(f"{m.path}: the model has {len(m.inputs)} inputs; got "
                             f"{len(inputs)}")
        with _CapturedOutput() as out:
            try:
                self._it.reset()
                for k, (x, t) in enumerate(zip(inputs, m.inputs)):
                    self._it.set_input(np.asarray(x, t.dtype).reshape(t.shape), k)
                self._it.invoke()
                err = None
            except (RuntimeError, ValueError) as e:
                err = e
        if err is not None:
            raise ModelError(f"{m.path}: TFLM on the host failed: {_reason(out.text) or err}")
        return [np.asarray(self._it.get_output(k)).copy() for k in range(len(m.outputs))]

    def tensor(self, index: int) -> np.ndarray | None:
        """Subgraph 0's tensor ``index`` after the last run (None: it holds no data)."""
        try:
            d = self._it.GetTensor(index, 0)
        except (RuntimeError, ValueError, TypeError):
            return None
        if d is None:
            return None
        data = d.get("tensor_data") if isinstance(d, dict) else None
        if data is None:
            return None
        return np.asarray(data).copy()

    def operator_outputs(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """(operator index, tensor index, value) of every operator output of subgraph 0."""
        for op in self.model.main.operators:
            for t in op.outputs:
                v = self.tensor(t)
                if v is not None:
                    yield op.index, t, v


class TflmGraphHost(GraphReference):
    """An int8 graph's host reference computed by TFLM on the host: TFLM's integer
    arithmetic (what CMSIS-NN reproduces bit for bit), with every tensor preserved for the
    per-op comparison."""

    def __init__(self, path: str | Path, graph: Graph) -> None:
        self.path = Path(path)
        self.graph = graph
        self.model = flatbuffer.load(self.path)
        self._host = TflmHost(self.model)
        self.library = version() or PACKAGE
        self._index = {t.name: t.index for t in self.model.main.tensors}

    @property
    def source(self) -> str:
        """What the host is."""
        return f"TFLM on the host ({self.library}, reference kernels)"

    def invoke(self, x: Any) -> None:
        """Run one input (int8, or float for a file that quantizes its own input); a tuple
        in the graph's input order for a model with several inputs."""
        xs = x if isinstance(x, tuple) else (x,)
        given = dict(zip(self.graph.inputs, xs))
        arrays = []
        for k, t in enumerate(self.model.inputs):  # TFLM takes them in the file's order
            a = np.asarray(given[t.name] if t.name in given else xs[k])
            if np.issubdtype(np.dtype(t.dtype), np.integer) and not np.issubdtype(
                    a.dtype, np.integer):
                raise ModelError(f"{self.path}: TFLM takes {t.dtype} inputs, got {a.dtype}")
            arrays.append(a.astype(t.dtype).reshape(t.shape))
        self._host.run(arrays)

    def _read(self, index: int) -> np.ndarray | None:
        return self._host.tensor(index)
