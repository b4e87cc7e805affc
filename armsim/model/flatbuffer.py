"""A ``.tflite`` file as a runtime that interprets it sees it: its subgraphs' operators (op
type, custom name, inputs and outputs), tensors (name, type, shape, quantization), and the
model's inputs and outputs. Read with the ``tflite`` flatbuffer package; nothing is converted
(TFLM runs the file itself, so it needs no armsim graph or plan).

Per the schema (tensorflow/compiler/mlir/lite/schema/schema.fbs): an operator code's
``builtin_code`` superseded the byte-wide ``deprecated_builtin_code`` (the larger of the two is
the operator); builtin 32 is CUSTOM, named by ``custom_code``; a buffer with ``offset > 1``
keeps its data outside the flatbuffer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import tflite

from armsim.errors import ModelError

#: TensorType (schema.fbs) -> numpy dtype, for the types a TFLM tensor can hold.
DTYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool",
          7: "int16", 9: "int8", 10: "float64", 12: "uint64", 15: "uint32", 16: "uint16",
          17: "int4"}
CUSTOM = 32


@lru_cache(maxsize=1)
def _builtin_names() -> dict[int, str]:
    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a subgraph."""

    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    #: per-tensor or per-channel scales and zero points (empty: not quantized)
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    constant: bool = False
    variable: bool = False

    @property
    def nbytes(self) -> int:
        """Bytes of its data (int4 packs two values per byte)."""
        n = int(np.prod(self.shape)) if self.shape else 1
        if self.dtype == "int4":
            return (n + 1) // 2
        return n * np.dtype(self.dtype).itemsize if self.dtype in np.sctypeDict else n

    @property
    def quantized(self) -> bool:
        """True for an integer tensor with a scale."""
        return bool(self.scales) and self.dtype not in ("float32", "float16", "float64")


@dataclass(frozen=True)
class OperatorInfo:
    """One operator of a subgraph: its type (a builtin name, or the custom op's name)."""

    index: int
    op_type: str
    custom: bool
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class SubgraphInfo:
    """One subgraph: tensors, operators in execution order, inputs, outputs."""

    index: int
    name: str
    tensors: tuple[TensorInfo, ...]
    operators: tuple[OperatorInfo, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class FlatbufferModel:
    """A ``.tflite`` file: its bytes, subgraphs and the operator types it uses."""

    path: Path
    data: bytes
    subgraphs: tuple[SubgraphInfo, ...]
    description: str = ""

    @property
    def name(self) -> str:
        """The file's stem."""
        return self.path.stem

    @property
    def main(self) -> SubgraphInfo:
        """Subgraph 0, the one the interpreter invokes."""
        return self.subgraphs[0]

    @property
    def inputs(self) -> list[TensorInfo]:
        """The model's input tensors, in order."""
        return [self.main.tensors[i] for i in self.main.inputs]

    @property
    def outputs(self) -> list[TensorInfo]:
        """The model's output tensors, in order."""
        return [self.main.tensors[i] for i in self.main.outputs]

    def op_types(self) -> list[tuple[str, bool]]:
        """Every (op type, custom) the model uses, over all subgraphs, in first-use order."""
        seen: dict[tuple[str, bool], None] = {}
        for sg in self.subgraphs:
            for op in sg.operators:
                seen.setdefault((op.op_type, op.custom), None)
        return list(seen)

    def count(self, op_type: str) -> int:
        """How many operators of a type the model has, over all subgraphs."""
        return sum(op.op_type == op_type for sg in self.subgraphs for op in sg.operators)

    def output_name(self, op: OperatorInfo) -> str:
        """The name of an operator's first output (its row label in per-op tables)."""
        return self.main.tensors[op.outputs[0]].name if op.outputs else ""


def _quant(t: Any) -> tuple[tuple[float, ...], tuple[int, ...]]:
    q = t.Quantization()
    if q is None or q.ScaleLength() == 0:
        return (), ()
    scales = tuple(float(s) for s in q.ScaleAsNumpy())
    zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else \
        (0,) * len(scales)
    return scales, zps


def _subgraph(model: Any, k: int, names: dict[int, str]) -> SubgraphInfo:
    sg = model.Subgraphs(k)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        shape = t.ShapeAsNumpy()
        buf = model.Buffers(t.Buffer()) if t.Buffer() < model.BuffersLength() else None
        constant = buf is not None and (buf.DataLength() > 0 or buf.Offset() > 1)
        code = t.Type()
        tensors.append(TensorInfo(
            i, (t.Name() or b"").decode(errors="replace") or f"tensor {i}",
            DTYPES.get(code, f"type {code}"),
            tuple(int(x) for x in shape) if not isinstance(shape, int) else (),
            *_quant(t), constant=constant, variable=bool(t.IsVariable())))
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        if op.OpcodeIndex() >= model.OperatorCodesLength():
            raise ModelError(f"operator {i} of subgraph {k} names operator code "
                             f"{op.OpcodeIndex()}; the model has {model.OperatorCodesLength()}")
        code = model.OperatorCodes(op.OpcodeIndex())
        n = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        custom = n == CUSTOM
        name = (code.CustomCode() or b"").decode(errors="replace") if custom else \
            names.get(n, f"builtin {n}")
        ins = op.InputsAsNumpy()
        outs = op.OutputsAsNumpy()
        ops.append(OperatorInfo(i, name, custom,
                                tuple(int(x) for x in ins) if not isinstance(ins, int) else (),
                                tuple(int(x) for x in outs) if not isinstance(outs, int)
                                else ()))
    ins = sg.InputsAsNumpy()
    outs = sg.OutputsAsNumpy()
    return SubgraphInfo(k, (sg.Name() or b"").decode(errors="replace"), tuple(tensors),
                        tuple(ops), tuple(int(x) for x in ins) if not isinstance(ins, int)
                        else (), tuple(int(x) for x in outs) if not isinstance(outs, int)
                        else ())


def read(data: bytes, path: str | os.PathLike[str] = "model.tflite") -> FlatbufferModel:
    """Describe a ``.tflite`` held in ``data``; a ModelError names what is wrong with it."""
    p = Path(path)
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{p}: not a TFLite flatbuffer (no 'TFL3' identifier at byte 4)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        if model.SubgraphsLength() < 1:
            raise ModelError(f"{p}: the model has no subgraph")
        names = _builtin_names()
        subgraphs = tuple(_subgraph(model, k, names) for k in range(model.SubgraphsLength()))
        desc = (model.Description() or b"").decode(errors="replace")
    except ModelError as e:
        raise ModelError(str(e) if str(e).startswith(str(p)) else f"{p}: {e}") from None
    except Exception as e:  # a damaged flatbuffer raises anything
        raise ModelError(f"{p}: not a readable TFLite flatbuffer ({type(e).__name__}: {e})") \
            from None
    if not subgraphs[0].inputs or not subgraphs[0].outputs:
        raise ModelError(f"{p}: subgraph 0 has no inputs or no outputs")
    for t in subgraphs[0].inputs + subgraphs[0].outputs:
        if not 0 <= t < len(subgraphs[0].tensors):
            raise ModelError(f"{p}: subgraph 0 names tensor {t} as an input or output; it has "
                             f"{len(subgraphs[0].tensors)} tensors")
    return FlatbufferModel(p, bytes(data), subgraphs, desc)


def load(path: str | os.PathLike[str]) -> FlatbufferModel:
    """Read and describe a ``.tflite`` file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ModelError(f"{p}: cannot read the model ({e.strerror})") from None
    return read(data, p)


def work(model: FlatbufferModel) -> tuple[int, int]:
    """(multiply-accumulates, output elements) of subgraph 0, for sizing run limits: each
    constant input of two or more dimensions (a weight) is applied once per row of the data
    input along its last dimension (a convolution's positions, a dense layer's batch, a
    recurrent layer's time steps)."""
    sg = model.main
    macs = elements = 0
    for op in sg.operators:
        data = next((sg.tensors[t] for t in op.inputs if 0 <= t < len(sg.tensors)
                     and not sg.tensors[t].constant), None)
        n_in = int(np.prod(data.shape)) if data is not None and data.shape else 1
        for t in op.inputs:
            if not 0 <= t < len(sg.tensors):
                continue
            w = sg.tensors[t]
            if w.constant and len(w.shape) >= 2 and w.shape[-1] > 0:
                macs += int(np.prod(w.shape)) * max(1, -(-n_in // w.shape[-1]))
        for t in op.outputs:
            if 0 <= t < len(sg.tensors) and sg.tensors[t].shape:
                elements += int(np.prod(sg.tensors[t].shape))
    return macs, elements
