"""The host side of an int8 model: the TFLite interpreter with its reference kernels.

The interpreter runs with ``OpResolverType.BUILTIN_REF`` (TFLite's reference kernels, no
XNNPACK, no optimized kernels) and keeps every intermediate tensor, so each op's int8 output
can be compared with what the firmware wrote. LiteRT's ``ai_edge_litert`` interpreter is used
when installed, else TensorFlow's ``tf.lite.Interpreter`` (the same kernels).
:class:`TFLiteFile` runs a file by its inputs' positions: the second reference beside TFLM
(``armsim.model.tflm_host``).
"""

from __future__ import annotations

import faulthandler
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph
from armsim.model.forked import run_forked
from armsim.model.tfimport import import_keras


def _interpreter_class() -> tuple[Any, Any, str]:
    """(Interpreter class, OpResolverType, library name)."""
    try:
        from ai_edge_litert import interpreter as lite

        return lite.Interpreter, lite.OpResolverType, "ai_edge_litert"
    except ImportError:
        pass

    import_keras()  # quiet TensorFlow start-up
    import tensorflow as tf

    return tf.lite.Interpreter, tf.lite.experimental.OpResolverType, "tensorflow.lite"


def _probe(cls: Any, resolver: Any, path: Path, timeout_s: float = 120.0) -> bool:
    """Open the file in the interpreter, allocate and run once on zeros, in a forked child
    first: TensorFlow's interpreter crashes the process (SIGSEGV) on some damaged flatbuffers
    that pass armsim's own reading (model/forked.py), and its reference kernels abort
    (SIGABRT) on some valid files its builtin kernels run. True when the reference kernels
    ran; False when only the builtin ones did; a ModelError when neither."""
    def work(kind: Any) -> Any:
        def run() -> None:
            faulthandler.disable()  # a crash here is reported by the parent, not dumped
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                it = cls(model_path=str(path), experimental_op_resolver_type=kind)
                it.allocate_tensors()
                for d in it.get_input_details():
                    it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
                it.invoke()
        return run

    child = run_forked(work(resolver.BUILTIN_REF), timeout_s, f"{path}: the TFLite interpreter")
    if child is None or child.signal is None:
        return True
    first = child.signal
    child = run_forked(work(resolver.BUILTIN), timeout_s, f"{path}: the TFLite interpreter")
    if child is not None and child.signal is not None:
        raise ModelError(f"{path}: the TFLite interpreter crashed (signal {first}) on "
                         "this file: it is damaged, or not a model the interpreter can run")
    return False


def open_interpreter(cls: Any, resolver: Any, path: Path, reference: bool = True,
                     **kw: Any) -> tuple[Any, str]:
    """(the interpreter with ``path`` allocated, which kernels it runs): TFLite's reference
    kernels, or where they lack one of the file's operator versions (ELU v1, int8 TILE v3),
    or abort on the file (``reference`` False: _probe found so), its builtin kernels, said
    so. ValueError/RuntimeError when neither opens it."""
    def make(kind: Any) -> Any:
        it = cls(model_path=str(path), experimental_op_resolver_type=kind, **kw)
        it.allocate_tensors()
        return it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not reference:
            return make(resolver.BUILTIN), ("builtin kernels: the reference kernels abort on "
                                            "this file")
        try:
            return make(resolver.BUILTIN_REF), "reference kernels"
        except (ValueError, RuntimeError) as e:
            if "Didn't find op for builtin opcode" not in str(e):
                raise
            op = str(e).split("opcode '", 1)[-1].split("'", 1)[0]
            return make(resolver.BUILTIN), (f"builtin kernels: the reference set has no {op} "
                                            "of this version")


def resolved_shapes(buf: bytes) -> dict[int, tuple[int, ...]]:
    """Every tensor's shape in a run of the file with batch 1, by tensor index: what a file
    whose converter left dimensions dynamic (``shape_signature`` -1 past the batch axis:
    ops.repeat, dynamic reshapes) computes at run time, where its static shapes are
    placeholders. One invoke on zero inputs with the builtin kernels; {} when the
    interpreter cannot run the file (the static shapes then stand)."""
    try:
        cls, resolver, _lib = _interpreter_class()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            it = cls(model_content=bytes(buf), experimental_op_resolver_type=resolver.BUILTIN,
                     experimental_preserve_all_tensors=True)
            it.allocate_tensors()
            for d in it.get_input_details():
                it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
            it.invoke()
            out = {}
            for d in it.get_tensor_details():
                try:
                    out[int(d["index"])] = tuple(int(x) for x in it.get_tensor(d["index"]).shape)
                except ValueError:
                    out[int(d["index"])] = tuple(int(x) for x in d["shape"])
            return out
    except (ValueError, RuntimeError):
        return {}


class GraphReference:
    """A host reference of an int8 graph read from a ``.tflite``: what armsim compares the
    firmware with, tensor by tensor. A subclass runs one input (:meth:`invoke`) and reads
    a tensor of the file by index (:meth:`_read`); this class maps armsim's graph onto it.

    Attributes:
        path: the model file
        graph: armsim's graph of it (tensor names are the file's)
        library: which interpreter runs it
    """

    path: Path
    graph: Graph
    library: str
    _index: dict[str, int]

    def invoke(self, x: np.ndarray) -> None:
        """Run one input (the graph's input shape)."""
        raise NotImplementedError

    def _read(self, index: int) -> np.ndarray | None:
        """The file's tensor ``index`` after the last invoke (None: not available)."""
        raise NotImplementedError

    def _tensor_index(self, name: str) -> int | None:
        t = self.graph.tensors.get(name)
        if t is not None and t.index is not None:
            return t.index  # the file's own index: names need not be unique
        return self._index.get(name)

    def tensor(self, name: str) -> np.ndarray | None:
        """A graph tensor's value after the last invoke (None if the interpreter has none)."""
        i = self._tensor_index(name)
        if i is None:
            return None
        v = self._read(i)
        if v is None:
            return None
        shape = self.graph.tensors[name].shape
        return np.asarray(v).reshape(shape) if v.size == int(np.prod(shape or (1,))) else None

    def outputs_q(self) -> np.ndarray:
        """The graph's integer outputs (int8; int16 in a 16x8 model) after the last invoke,
        flat and joined."""
        vals = []
        for name in self.graph.outputs:
            v = self.tensor(name)
            if v is None:
                raise ModelError(f"{self.path}: the interpreter has no tensor {name}")
            vals.append(v.reshape(-1))
        return np.concatenate(vals).astype(self.graph.output_dtype)

    def input_q(self) -> Any:
        """The int8 input the graph starts from after the last invoke (after the file's own
        QUANTIZE, for a float-input file); a tuple for a model with several inputs."""
        vals = []
        for name in self.graph.inputs:
            v = self.tensor(name)
            assert v is not None
            vals.append(v.astype(self.graph.dtype))
        return tuple(vals) if len(vals) > 1 else vals[0]

    def predict_q(self, xs: np.ndarray, progress: Callable[[int], None] | None = None
                  ) -> np.ndarray:
        """(N, outputs) int8 for N inputs."""
        rows = []
        for i in range(len(xs)):
            self.invoke(xs[i])
            rows.append(self.outputs_q())
            if progress:
                progress(1)
        return np.stack(rows) if rows else np.zeros((0, 0), self.graph.output_dtype)

    def op_outputs(self) -> dict[str, np.ndarray]:
        """Every op's int8 output after the last invoke, by graph tensor."""
        out = {}
        for op in self.graph.ops:
            v = self.tensor(op.outputs[0])
            if v is not None:
                out[op.outputs[0]] = v.astype(self.graph.tensors[op.outputs[0]].dtype)
        return out


class TFLiteHost(GraphReference):
    """One ``.tflite`` file in the TFLite interpreter's reference kernels (every tensor
    preserved)."""

    def __init__(self, path: str | Path, graph: Graph) -> None:
        self.path = Path(path)
        self.graph = graph
        cls, resolver, self.library = _interpreter_class()
        ref = _probe(cls, resolver, self.path)
        try:
            #: which of the interpreter's kernel sets runs the file (see open_interpreter)
            self._it, self.kernels = open_interpreter(cls, resolver, self.path, ref,
                                                      experimental_preserve_all_tensors=True)
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{self.path}: the TFLite interpreter refuses it: {e}") from None
        details = self._it.get_tensor_details()
        self._index = {d["name"]: d["index"] for d in details}
        ins = self._it.get_input_details()
        by_name = {d["name"]: d for d in ins}
        # the graph's inputs in its order (by tensor name; the file's order otherwise)
        self._ins = [by_name.get(n, ins[k] if k < len(ins) else ins[0])
                     for k, n in enumerate(graph.inputs)] or ins[:1]
        self._in = self._ins[0]
        self._outs = self._it.get_output_details()

    @property
    def source(self) -> str:
        """What the host is."""
        return f"TFLite interpreter ({self.library}, {self.kernels})"

    def invoke(self, x: Any) -> None:
        """Run one input: int8 in the graph's input shape, or float for a model whose file
        takes float (quantized by its own QUANTIZE op); a tuple for a model with several
        inputs, in the graph's input order."""
        for d, a in zip(self._ins, x if isinstance(x, tuple) else (x,)):
            a = np.asarray(a)
            want = d["dtype"]
            if np.issubdtype(want, np.integer) and a.dtype != want:
                raise ModelError(f"{self.path}: the interpreter takes {np.dtype(want)} inputs, "
                                 f"got {a.dtype}")
            self._it.set_tensor(d["index"], a.astype(want).reshape(d["shape"]))
        # variable tensors (an LSTM's state) start from the file's values on every input:
        # the firmware runs each inference from them, as a stateless Keras layer does
        self._it.reset_all_variables()
        try:
            self._it.invoke()
        except RuntimeError as e:  # a kernel's check failed on this input
            raise ModelError(f"{self.path}: the TFLite interpreter fails on this input: "
                             f"{' '.join(str(e).split())}") from None

    def _read(self, index: int) -> np.ndarray | None:
        try:
            return np.asarray(self._it.get_tensor(index))
        except ValueError:
            return None


class TFLiteFile:
    """A ``.tflite`` file in the TFLite interpreter (reference kernels) as a second reference
    beside TFLM: inputs and outputs by position, in the file's own dtypes.

    Attributes:
        refused: why the interpreter does not run the file (None: it does)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.refused: str | None = None
        self.library = ""
        self.kernels = "reference kernels"
        try:
            cls, resolver, self.library = _interpreter_class()
            ref = _probe(cls, resolver, self.path)
            self._it, self.kernels = open_interpreter(cls, resolver, self.path, ref)
        except (ModelError, ValueError, RuntimeError) as e:
            self.refused = str(e).replace(f"{self.path}: ", "")
            return
        self._in = self._it.get_input_details()
        self._outs = self._it.get_output_details()

    @property
    def source(self) -> str:
        """What ran: the library and its kernels."""
        return f"TFLite interpreter ({self.library}, {self.kernels})"

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray] | str:
        """The outputs for one set of inputs, or why the interpreter failed."""
        if self.refused is not None:
            return self.refused
        try:
            for d, x in zip(self._in, inputs):
                self._it.set_tensor(d["index"], np.asarray(x, d["dtype"]).reshape(d["shape"]))
            self._it.reset_all_variables()  # each inference from the file's initial state
            self._it.invoke()
            return [np.asarray(self._it.get_tensor(d["index"])).copy() for d in self._outs]
        except (ValueError, RuntimeError) as e:
            return f"the TFLite interpreter failed: {e}"


def version() -> str:
    """The interpreter library and its version."""
    cls, _r, lib = _interpreter_class()
    if lib == "ai_edge_litert":
        import ai_edge_litert

        return f"ai_edge_litert {getattr(ai_edge_litert, '__version__', '?')}"
    import tensorflow as tf

    return f"tensorflow.lite {tf.__version__} (BUILTIN_REF)"
