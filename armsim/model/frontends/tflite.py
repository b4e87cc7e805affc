"""TFLite frontend: a fully-int8 or a float32 ``.tflite`` flatbuffer (read with the ``tflite``
package) into the same :class:`Graph` the Keras frontend builds: with quantization on every
tensor (int8), or float tensors and constants as a Keras model's (float32, TFLiteConverter's
default output; the TFLite interpreter is then the host).

Each operator is read by the op kind that registers it (:mod:`armsim.ops.registry`), which
turns its constants into the Keras shapes the plan and the kernels already know (conv HWIO,
depthwise (kh, kw, c, m), dense (in, out)); the plan puts them back in CMSIS-NN's order.
Shape arithmetic the converter emits for Flatten (SHAPE, STRIDED_SLICE, PACK feeding a
RESHAPE) is dropped: shapes are static. QUANTIZE/DEQUANTIZE at the graph's edges are peeled
off, so the firmware's input and output are int8 and the host does the conversion.
Anything else is refused before any work, naming the op and its index.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import tflite

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, LayerInfo, Op, Tensor
from armsim.model.frontends import tflite_tables
from armsim.model.tflite_host import resolved_shapes
from armsim.ops import registry
from armsim.ops.activation import table_op
from armsim.quant import Quant

#: tflite.TensorType values armsim reads.
_DTYPES = {9: "int8", 2: "int32", 0: "float32", 3: "uint8", 7: "int16", 4: "int64",
           1: "float16"}
#: Ops armsim has no kernel for but runs where they are shape arithmetic: the reader folds
#: what feeds a RESHAPE's shape operand (_Builder.fold) and drops the rest (_live_ops).
SHAPE_OPS = {"SHAPE"}
#: The operands each operator computes with, where not all: the rest (shapes, sizes, axes,
#: permutations, indices) the handlers take as constants, folding shape arithmetic that
#: makes them (_Builder.fold), so nothing computes them on the chip.
DATA_INPUTS = {"FILL": (), "REVERSE_V2": (0,), "RESHAPE": (0,), "EXPAND_DIMS": (0,),
               "SQUEEZE": (0,), "TRANSPOSE_CONV": (1, 2, 3),
               "RESIZE_BILINEAR": (0,), "RESIZE_NEAREST_NEIGHBOR": (0,), "BROADCAST_TO": (0,),
               "TILE": (0,), "SLICE": (0,), "STRIDED_SLICE": (0,), "TRANSPOSE": (0,),
               "GATHER": (0,), "MEAN": (0,), "REDUCE_MAX": (0,), "SPLIT": (1,),
               "SPLIT_V": (0,)}


def _opnames(tfl: Any) -> dict[int, str]:
    return {v: k for k, v in vars(tfl.BuiltinOperator).items() if not k.startswith("_")}


def supported(int8: bool = False, int16: bool = False) -> list[str]:
    """TFLite builtin ops armsim runs (``int8``: in an int8 file; ``int16``: in a 16x8 one)."""
    ops = {n for n in registry.tflite_operators()
           if (not int8 or registry.tflite_int8(n)) and (not int16 or registry.tflite_int16(n))}
    return sorted(ops | SHAPE_OPS | {"DEQUANTIZE"})


class _Reader:
    """One subgraph of a flatbuffer: tensors with their data and quantization."""

    def __init__(self, buf: bytes, source: str) -> None:
        self.tfl = tflite
        self.source = source
        self.buf = buf
        try:
            self.model = self.tfl.Model.GetRootAsModel(buf, 0)
            if self.model.SubgraphsLength() < 1:
                raise ModelError(f"{source}: the model has no subgraph")
            self.sg = self.model.Subgraphs(0)
            self.names = _opnames(self.tfl)
        except ModelError:
            raise
        except Exception as e:  # a damaged flatbuffer raises anything
            raise ModelError(f"{source}: not a readable TFLite flatbuffer ({e})") from None

    def op_output_name(self, i: int) -> str:
        """The name of operator ``i``'s first output tensor (the layer it came from)."""
        op = self.sg.Operators(i)
        if op.OutputsLength() == 0:
            return ""
        t = self.sg.Tensors(int(op.Outputs(0)))
        return (t.Name() or b"").decode(errors="replace") if t is not None else ""

    def producer(self, idx: int) -> int | None:
        """The operator that writes tensor ``idx`` (None for constants and graph inputs)."""
        if not hasattr(self, "_producers"):
            self._producers: dict[int, int] = {}
            for k in range(self.sg.OperatorsLength()):
                for t in self.sg.Operators(k).OutputsAsNumpy():
                    self._producers[int(t)] = k
        return self._producers.get(idx)

    def op_name(self, i: int) -> str:
        op = self.sg.Operators(i)
        code = self.model.OperatorCodes(op.OpcodeIndex())
        n = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        return self.names.get(n, f"builtin {n}") if n != 32 else \
            f"CUSTOM ({(code.CustomCode() or b'').decode(errors='replace')})"

    def tensor_name(self, i: int) -> str:
        return (self.sg.Tensors(i).Name() or b"").decode(errors="replace") or f"t{i}"

    def dtype(self, i: int) -> str:
        t = self.sg.Tensors(i).Type()
        return _DTYPES.get(t, f"type {t}")

    def shape(self, i: int) -> tuple[int, ...]:
        """Tensor ``i``'s shape: the file's, or where the converter left dimensions past the
        batch axis dynamic, the one a run with batch 1 gives (tflite_host.resolved_shapes)."""
        if self._dynamic():
            got = self._resolved.get(i)
            if got is not None:
                return got
        s = self.sg.Tensors(i).ShapeAsNumpy()
        return tuple(int(x) for x in s) if not isinstance(s, int) else ()

    def _dynamic(self) -> bool:
        if not hasattr(self, "_resolved"):
            self._resolved: dict[int, tuple[int, ...]] = {}
            for k in range(self.sg.TensorsLength()):
                sig = self.sg.Tensors(k).ShapeSignatureAsNumpy()
                if not isinstance(sig, int) and any(int(d) < 0 for d in sig[1:]):
                    self._resolved = resolved_shapes(self.buf)
                    break
        return bool(self._resolved)

    def widened(self) -> dict[int, int]:
        """Float16 constants widened at load (TFLiteConverter's float16 quantization: a
        DEQUANTIZE of each float16 weight to float32 before the ops): output tensor ->
        the DEQUANTIZE operator. Their values are float32 constants; the operators go."""
        if not hasattr(self, "_widened"):
            self._widened: dict[int, int] = {}
            for k in range(self.sg.OperatorsLength()):
                op = self.sg.Operators(k)
                if self.op_name(k) == "DEQUANTIZE" and op.InputsLength() == 1:
                    src = int(op.Inputs(0))
                    if self.dtype(src) == "float16" and self.data(src) is not None:
                        self._widened[int(op.Outputs(0))] = k
        return self._widened

    def data(self, i: int) -> np.ndarray | None:
        if i in self.widened():  # a float16 weight, exactly as float32
            src = int(self.sg.Operators(self.widened()[i]).Inputs(0))
            return np.asarray(self.data(src), np.float32)
        t = self.sg.Tensors(i)
        b = self.model.Buffers(t.Buffer())
        if b is None or b.DataLength() == 0:
            if b is not None and b.Offset() > 1:
                raise ModelError(f"{self.source}: tensor {self.tensor_name(i)} keeps its data "
                                 "outside the flatbuffer (a >2 GB model); not supported")
            return None
        raw = b.DataAsNumpy().tobytes()
        dt = {"int8": "<i1", "int32": "<i4", "float32": "<f4", "uint8": "u1", "int16": "<i2",
              "int64": "<i8", "float16": "<f2"}.get(self.dtype(i))
        if dt is None:
            raise ModelError(f"{self.source}: tensor {self.tensor_name(i)} has type "
                             f"{self.dtype(i)}, which armsim does not read")
        return np.frombuffer(raw, dt).reshape(self.shape(i)).copy()

    def quant(self, i: int, axis_map: Callable[[int], int] | None = None) -> Quant | None:
        q = self.sg.Tensors(i).Quantization()
        if q is None or q.ScaleLength() == 0:
            return None
        scales = tuple(float(s) for s in q.ScaleAsNumpy())
        zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else \
            (0,) * len(scales)
        axis = int(q.QuantizedDimension()) if len(scales) > 1 else None
        if axis is not None and axis_map is not None:
            axis = axis_map(axis)
        return Quant(scales, zps, axis)

    def options(self, i: int, cls: str) -> Any:
        table = self.sg.Operators(i).BuiltinOptions()
        opts = getattr(self.tfl, cls)()
        if table is None:
            return None
        opts.Init(table.Bytes, table.Pos)
        return opts


def fold_op(r: Any, i: int, name: str, vals: list[np.ndarray]) -> np.ndarray | None:
    """Operator ``name`` (op ``i``) on constant integer values, for shape arithmetic; None
    for an operator this does not evaluate."""
    if name == "GATHER":
        o = r.options(i, "GatherOptions")
        return np.take(vals[0], vals[1], axis=o.Axis() if o is not None else 0)
    if name in ("REDUCE_PROD", "SUM", "REDUCE_MAX", "REDUCE_MIN"):
        o = r.options(i, "ReducerOptions")
        f = {"REDUCE_PROD": np.prod, "SUM": np.sum, "REDUCE_MAX": np.max,
             "REDUCE_MIN": np.min}[name]
        axes = tuple(int(a) for a in np.asarray(vals[1]).reshape(-1))
        return np.asarray(f(vals[0], axis=axes, keepdims=bool(o is not None and o.KeepDims())))
    if name == "PACK":
        o = r.options(i, "PackOptions")
        return np.stack(vals, axis=o.Axis() if o is not None else 0)
    if name == "CONCATENATION":
        o = r.options(i, "ConcatenationOptions")
        return np.concatenate([np.atleast_1d(v) for v in vals],
                              axis=o.Axis() if o is not None else 0)
    if name == "CAST":
        return vals[0]
    if name in ("MUL", "ADD", "SUB", "FLOOR_DIV"):
        f = {"MUL": np.multiply, "ADD": np.add, "SUB": np.subtract,
             "FLOOR_DIV": np.floor_divide}[name]
        return f(vals[0], vals[1])
    if name in ("STRIDED_SLICE", "SLICE") and vals[0].ndim == 1:
        x = vals[0]
        if name == "SLICE":
            b0, n = int(vals[1][0]), int(vals[2][0])
            return x[b0:] if n < 0 else x[b0:b0 + n]
        o = r.options(i, "StridedSliceOptions")
        b0, e0, s0 = int(vals[1][0]), int(vals[2][0]), int(vals[3][0])
        if o is not None and o.BeginMask() & 1:
            b0 = None  # type: ignore[assignment]
        if o is not None and o.EndMask() & 1:
            e0 = None  # type: ignore[assignment]
        if o is not None and o.ShrinkAxisMask() & 1:
            return np.asarray(x[b0 if b0 is not None else 0])
        return x[b0:e0:s0]
    return None


class _Builder:
    """Tensors and ops collected while reading the operators."""

    def __init__(self, r: _Reader, float32: bool = False, int16: bool = False,
                 mixed: bool = False) -> None:
        self.r = r
        #: a float32 file: float activations and constants, no quantization
        self.float32 = float32
        #: a 16x8 file: int16 activations (zero point 0), int8 weights, int64 biases of
        #: convolutions and dense layers
        self.int16 = int16
        #: the activations' type
        self.act_dtype = "float32" if float32 else "int16" if int16 else "int8"
        #: the type of a convolution's or dense layer's bias
        self.bias_dtype = "int64" if int16 else "int32"
        #: an int8 file with int16 (or int32) activations too, at its edges or around its
        #: softmax: each tensor keeps its type, each op runs on its input's kernels
        self.mixed = mixed
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.names: dict[int, str] = {}
        #: file tensors whose batch axis is not first (a recurrent layer's time-major
        #: sequence: TRANSPOSE to [T, 1, F], PACK along axis 0), kept as a permutation of a
        #: graph tensor: file tensor = transpose((1, *graph shape), perm)
        self.views: dict[int, tuple[str, tuple[int, ...]]] = {}

    def where(self, i: int) -> str:
        return f"{self.r.source}: op {i} ({self.r.op_name(i)})"

    def view(self, idx: int) -> tuple[str, tuple[int, ...]] | None:
        """(graph tensor, permutation) when file tensor ``idx`` is a batch-not-first view."""
        return self.views.get(idx)

    def alias(self, idx: int, name: str) -> None:
        """File tensor ``idx`` is graph tensor ``name`` (a permutation undone)."""
        self.names[idx] = name

    def derived(self, base: str, like: str, shape: tuple[int, ...],
                quant_of: int | None = None) -> str:
        """A new activation tensor (no file tensor of this shape) of ``like``'s type, with the
        quantization of file tensor ``quant_of`` (default: ``like``'s)."""
        t = self.tensors[like]
        name, k = base, 1
        while name in self.tensors:
            k += 1
            name = f"{base}#{k}"
        q = t.quant if quant_of is None or self.float32 else self.r.quant(quant_of)
        self.tensors[name] = Tensor(name, shape, t.dtype, "activation", quant=q)
        return name

    def fold(self, idx: int, depth: int = 0) -> np.ndarray | None:
        """The value of tensor ``idx`` when it is a constant or shape arithmetic on static
        shapes (SHAPE of a tensor armsim has read, then GATHER, REDUCE_PROD, PACK,
        CONCATENATION, STRIDED_SLICE, CAST ... on such values): what a dynamic-batch model
        computes at run time for a RESHAPE's shape, known here with batch 1. None otherwise."""
        data = self.r.data(idx)
        if data is not None or depth > 32:
            return data
        i = self.r.producer(idx)
        if i is None:
            return None
        op = self.r.sg.Operators(i)
        name = self.r.op_name(i)
        ins = [int(t) for t in op.InputsAsNumpy()]
        if name == "SHAPE":
            t = self.names.get(ins[0])
            shape = (1, *self.tensors[t].shape) if t in self.tensors else self.r.shape(ins[0])
            return np.array(shape, np.int32)
        vals = [self.fold(t, depth + 1) if t >= 0 else None for t in ins]
        if any(v is None for v in vals):
            return None
        return fold_op(self.r, i, name, vals)

    def name(self, idx: int) -> str:
        if idx not in self.names:
            base = self.r.tensor_name(idx)
            name, k = base, 1
            while name in self.tensors or name in self.names.values():
                k += 1
                name = f"{base}#{k}"
            self.names[idx] = name
        return self.names[idx]

    def activation(self, i: int, idx: int, role: str = "activation",
                   shape: tuple[int, ...] | None = None) -> str:
        """An activation tensor (batch axis of 1 dropped); ``shape`` (batch included)
        where the file's static shape is not the tensor's (a dynamic-shape RESHAPE's
        output, resolved by :meth:`fold`)."""
        name = self.name(idx)
        if name in self.tensors:
            return name
        dt = self.r.dtype(idx)
        want = dt if self.mixed and dt in ("int8", "int16", "int32") else self.act_dtype
        if dt != want:
            kind = {"float32": "float32", "int8": "fully-int8", "int16": "16x8"}[want]
            raise ModelError(f"{self.where(i)}: tensor {name} is {dt}; in this {kind} model "
                             f"armsim expects {want} activations")
        shape = shape if shape is not None else self.r.shape(idx)
        if not shape or (shape[0] != 1 and (role == "input" or not self._rows(idx))):
            raise ModelError(f"{self.where(i)}: tensor {name} has shape {list(shape)}; "
                             "armsim needs a batch axis of 1 first")
        if any(d <= 0 for d in shape):
            raise ModelError(f"{self.where(i)}: tensor {name} has shape {list(shape)}")
        # the batch axis is dropped; a tensor whose first axis folds the batch into rows
        # (Dense on a sequence: RESHAPE to [batch * T, F], FULLY_CONNECTED, RESHAPE back)
        # keeps its whole shape, batch 1
        shape = shape[1:] if shape[0] == 1 else shape
        if self.float32:
            self.tensors[name] = Tensor(name, shape, "float32", role, layer=name,
                                        index=idx)
            return name
        q = self.r.quant(idx)
        if q is None or q.per_channel:
            raise ModelError(f"{self.where(i)}: tensor {name} has no per-tensor quantization")
        if self.int16:  # TFLite's int16 activations are symmetric; CMSIS-NN's s16 kernels
            _check_quant(self.where(i), name, q, 0, 0)  # take no offsets
        else:  # (in a mixed file, an op that needs zero point 0 checks its own)
            _check_quant(self.where(i), name, q, *Q.RANGES[want])
        self.tensors[name] = Tensor(name, shape, want, role, quant=q, layer=name,
                                    index=idx)
        return name

    def _rows(self, idx: int) -> bool:
        """Whether file tensor ``idx``'s first axis holds the batch folded into rows: its
        shape signature starts with a dynamic dimension (-1) and a run with batch 1 gives
        more than one there (RESHAPE/FULLY_CONNECTED's [batch * T, F])."""
        sig = self.r.sg.Tensors(idx).ShapeSignatureAsNumpy()
        return not isinstance(sig, int) and len(sig) > 0 and int(sig[0]) < 0

    def const(self, i: int, idx: int, role: str, want: str,
              transform: Callable[[np.ndarray], np.ndarray] = lambda a: a,
              axis_map: Callable[[int], int] | None = None, symmetric: bool = True) -> str:
        """A constant operand; ``symmetric``: an int8 one must have zero point 0 (weights;
        False for a constant operand of an element-wise or matrix product)."""
        name = self.name(idx)
        data = self.r.data(idx)
        dt = self.r.dtype(idx)
        if data is None:
            raise ModelError(f"{self.where(i)}: {role} {name} is not a constant")
        if self.float32:  # float weights and biases, as the Keras frontend gives them
            if dt != "float32":
                raise ModelError(f"{self.where(i)}: {role} {name} is {dt} in a float32 model")
            arr = np.asarray(transform(data), np.float32)
            self.tensors[name] = Tensor(name, tuple(arr.shape), "float32", role, data=arr)
            return name
        if dt != want:
            raise ModelError(f"{self.where(i)}: {role} {name} is {dt}, expected {want} "
                             + ("(a 16x8 model has int8 weights and int64 biases)" if self.int16
                                else "(a fully-int8 model has int8 weights and int32 biases)"))
        q = self.r.quant(idx, axis_map)
        if q is None:
            raise ModelError(f"{self.where(i)}: {role} {name} has no quantization")
        _check_quant(self.where(i), name, q, -2**31, 2**31 - 1)
        if symmetric and any(z != 0 for z in q.zero_points) and role == "weight":
            raise ModelError(f"{self.where(i)}: weight {name} has a non-zero zero point; "
                             "TFLite int8 weights are symmetric")
        self.tensors[name] = Tensor(name, tuple(transform(data).shape), dt, role,
                                    data=transform(data), quant=q)
        return name


def _check_quant(where: str, name: str, q: Quant, lo: int, hi: int) -> None:
    """Scales finite and positive, zero points in the type's range."""
    if not all(np.isfinite(v) and v > 0 for v in q.scales):
        raise ModelError(f"{where}: tensor {name} has scale(s) {list(q.scales)[:4]}: a scale "
                         "must be finite and positive")
    if not all(lo <= z <= hi for z in q.zero_points):
        raise ModelError(f"{where}: tensor {name} has zero point(s) "
                         f"{list(q.zero_points)[:4]}, outside {lo}..{hi}" if lo < hi else
                         f"{where}: tensor {name} has zero point(s) {list(q.zero_points)[:4]}; "
                         f"a 16x8 model's int16 activations have zero point {lo}")
    if len(q.zero_points) != len(q.scales):
        raise ModelError(f"{where}: tensor {name} has {len(q.scales)} scales but "
                         f"{len(q.zero_points)} zero points")


def _edges(r: _Reader) -> tuple[list[int], dict[int, int], dict[int, int], set[int]]:
    """Operators to read, graph input/output tensor remaps across edge QUANTIZE/DEQUANTIZE,
    and the edge ops peeled off."""
    n = r.sg.OperatorsLength()
    inputs = {int(t) for t in r.sg.InputsAsNumpy()}
    outputs = {int(t) for t in r.sg.OutputsAsNumpy()}
    in_map: dict[int, int] = {}
    out_map: dict[int, int] = {}
    peeled: set[int] = set()
    for i in range(n):
        op = r.sg.Operators(i)
        name = r.op_name(i)
        src, dst = int(op.Inputs(0)), int(op.Outputs(0))
        if name == "QUANTIZE" and src in inputs and r.dtype(src) == "float32":
            in_map[src] = dst
            peeled.add(i)
        elif name == "DEQUANTIZE" and dst in outputs:
            out_map[dst] = src
            peeled.add(i)
    return [i for i in range(n) if i not in peeled], in_map, out_map, peeled


def _float_islands(r: _Reader, order: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """In an int8 file, the element-wise operators the converter kept in float32 between a
    DEQUANTIZE and a QUANTIZE (ELU; the NEG of a LayerNormalization): operator -> (the
    DEQUANTIZE, the QUANTIZE, the int8 tensor in, the int8 tensor out)."""
    readers: dict[int, list[int]] = {}
    for i in order:
        for t in r.sg.Operators(i).InputsAsNumpy():
            readers.setdefault(int(t), []).append(i)
    outputs = {int(t) for t in r.sg.OutputsAsNumpy()}
    found = {}
    for d in order:
        if r.op_name(d) != "DEQUANTIZE":
            continue
        src, mid = int(r.sg.Operators(d).Inputs(0)), int(r.sg.Operators(d).Outputs(0))
        if r.dtype(src) != "int8" or len(readers.get(mid, [])) != 1 or mid in outputs:
            continue
        x = readers[mid][0]
        if registry.tflite_island(r.op_name(x)) is None or \
                r.sg.Operators(x).InputsLength() != 1:
            continue
        out = int(r.sg.Operators(x).Outputs(0))
        q = readers.get(out, [])
        if len(q) != 1 or out in outputs or r.op_name(q[0]) != "QUANTIZE":
            continue
        dst = int(r.sg.Operators(q[0]).Outputs(0))
        if r.dtype(dst) == "int8":
            found[x] = (d, q[0], src, dst)
    return found


def _live_ops(r: _Reader, order: list[int], keep: set[int]) -> list[int]:
    """The ops the outputs ``keep`` depend on, walking back from them: shape arithmetic
    (SHAPE, GATHER, REDUCE_PROD, PACK ...) whose results only feed a RESHAPE's shape operand
    drops out, as does any op nothing reads."""
    needed = set(keep)
    live: set[int] = set()
    for i in reversed(order):
        op = r.sg.Operators(i)
        if not {int(t) for t in op.OutputsAsNumpy()} & needed:
            continue
        live.add(i)
        ins = [int(t) for t in op.InputsAsNumpy()]
        keep_at = DATA_INPUTS.get(r.op_name(i))
        reads = [t for k, t in enumerate(ins) if keep_at is None or k in keep_at]
        needed.update(t for t in reads if t >= 0)
    return [i for i in order if i in live]


def read(buf: bytes, source: str = "model.tflite") -> Graph:
    """The graph of a fully-int8 or float32 TFLite flatbuffer, or a ModelError naming what
    is not."""
    try:
        return _read(buf, source)
    except ModelError:
        raise
    except Exception as e:  # the flatbuffer accessors read lazily: a damaged file fails late
        raise ModelError(f"{source}: not a readable TFLite flatbuffer ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else 'damaged'}; "
                         f"{len(buf):,} bytes)") from None


def _flavour(r: _Reader) -> str:
    """What kind of TFLite file this is, from its tensors' types: "int8" (int8 activations),
    "float32" (float activations and weights: TFLiteConverter's default output), "hybrid"
    (float activations, int8 weights: dynamic-range quantization), "int16" (16x8),
    "mixed" (int8 and int16 activations: an int8 body with int16 edges, TFLM's keyword
    models), "uint8" (TF1-era uint8 quantization), or "edges" (int8 inside, a uint8 input
    or output converted by a QUANTIZE at the edge)."""
    acts, weights = set(), set()
    ins, outs = {int(t) for t in r.sg.InputsAsNumpy()}, {int(t) for t in r.sg.OutputsAsNumpy()}
    edges: set[int] = set()  # a model input or output a QUANTIZE converts
    for k in range(r.sg.OperatorsLength()):
        if r.op_name(k) == "QUANTIZE":
            src, dst = int(r.sg.Operators(k).Inputs(0)), int(r.sg.Operators(k).Outputs(0))
            edges.update(t for t in (src, dst) if t in ins | outs)
    # an int8 LSTM's state and scratch tensors (variables, intermediates) are int16 in an
    # int8 file: the activations that flow between operators decide
    internal: set[int] = set()
    for k in range(r.sg.OperatorsLength()):
        mid = r.sg.Operators(k).IntermediatesAsNumpy()
        internal.update(int(t) for t in ([] if isinstance(mid, int) else mid))
    for i in range(r.sg.TensorsLength()):
        if r.sg.Tensors(i).IsVariable() or i in internal or i in edges:
            continue
        (weights if r.data(i) is not None else acts).add(r.dtype(i))
    at_edges = {r.dtype(t) for t in edges}
    if "int16" in acts:
        return "mixed" if "int8" in acts or at_edges - {"int16", "float32"} else "int16"
    if "int8" in acts:
        if at_edges - {"int8", "int16", "int32", "float32"}:
            return "edges"
        return "mixed" if at_edges & {"int16", "int32"} else "int8"
    if "float32" in acts:
        return "hybrid" if "int8" in weights else "float32"
    return "uint8" if "uint8" in acts else "int8"


#: What each refused kind of file is and what to do instead.
_FLAVOURS = {
    "hybrid": ("a dynamic-range (\"hybrid\") .tflite: int8 weights with float32 activations, "
               "what TFLiteConverter makes with Optimize.DEFAULT and no representative "
               "dataset. armsim runs float32 models (convert without optimizations, or give "
               "the .keras) and fully-int8 ones (`armsim quantize M.keras`, or a "
               "representative dataset with inference_input_type=tf.int8)"),
    "uint8": ("a uint8-quantized .tflite (TF1-era quantization-aware training): armsim runs "
              "int8 and float32 models; convert the model again with TFLiteConverter's int8 "
              "quantization (`armsim quantize M.keras`)"),
    "edges": ("an int8 model whose input or output is uint8 (a QUANTIZE at the edge): "
              "armsim feeds int8, int16 or float32; convert with inference_input_type and "
              "inference_output_type tf.int8 or tf.float32, or run it with `--runtime tflm`"),
}


#: The operators whose input and output types may differ in a mixed int8/int16 file
#: (QUANTIZE from one to the other; SOFTMAX int8 -> int16, CMSIS-NN's arm_softmax_s8_s16).
_CROSS_TYPE = ("QUANTIZE", "SOFTMAX")


def _check_types(source: str, tensors: dict[str, Tensor], ops: list[Op]) -> None:
    """In a file of int8 and int16 activations, each op reads and writes one type (but a
    QUANTIZE or an int8 -> int16 SOFTMAX), and one on int16 has zero points 0 (CMSIS-NN's
    s16 kernels take no offsets)."""
    for op in ops:
        acts = [tensors[n] for n in (*op.inputs, *op.outputs) if not tensors[n].is_constant]
        types = {t.dtype for t in acts}
        if len(types) > 1 and op.layer not in _CROSS_TYPE:
            raise ModelError(f"{source}: op {op.name} ({op.layer}) reads and writes "
                             f"{' and '.join(sorted(types))} activations; armsim's kernels "
                             "take one type per operator (but QUANTIZE and SOFTMAX)")
        if op.layer != "QUANTIZE" and tensors[op.inputs[0]].dtype == "int16":
            bad = [t.name for t in acts if t.quant is not None and t.dtype == "int16"
                   and t.quant.zero_point != 0]
            if bad:
                raise ModelError(f"{source}: op {op.name} ({op.layer}) on int16 tensors with a "
                                 f"zero point ({', '.join(bad)}): CMSIS-NN's s16 kernels "
                                 "take symmetric int16 (zero point 0)")


def _reads_int16(r: _Reader, i: int) -> bool:
    """Whether operator ``i``'s first input is an int16 tensor."""
    op = r.sg.Operators(i)
    return op.InputsLength() > 0 and op.Inputs(0) >= 0 and r.dtype(int(op.Inputs(0))) == "int16"


def _read(buf: bytes, source: str) -> Graph:
    r = _Reader(buf, source)
    kind = _flavour(r)
    if kind not in ("int8", "int16", "mixed", "float32"):
        raise ModelError(f"{source}: {_FLAVOURS[kind]}", (kind,), "tflite-" + kind)
    order, in_map, out_map, _peeled = _edges(r)
    graph_outs = [out_map.get(int(t), int(t)) for t in r.sg.OutputsAsNumpy()]
    order = _live_ops(r, order, set(graph_outs))
    order = [i for i in order if i not in set(r.widened().values())]
    mixed = kind == "mixed"  # int8 and int16 activations: each operator by its input's type
    kind = "int8" if mixed else kind
    islands = _float_islands(r, order) if kind == "int8" else {}
    order = [i for i in order if not any(i in (d, q) for d, q, _s, _t in islands.values())]
    chains: dict[int, tflite_tables.Chain] = {}
    if kind == "int8":  # element-wise chains of one tensor with no int8 kernel: one table
        need = {i for i in order if i not in islands and not registry.tflite_int8(r.op_name(i))}
        chains = tflite_tables.find(r, order, need)
        inside = {k for c in chains.values() for k in c.ops if k != c.last and k not in c.kept}
        order = [i for i in order if i not in inside]
    bad = [(i, r.op_name(i)) for i in order
           if registry.tflite_handler(r.op_name(i)) is None and i not in chains]
    if kind == "int8":  # operators armsim runs in float32 files only
        bad += [(i, r.op_name(i)) for i in order if registry.tflite_handler(r.op_name(i))
                is not None and not registry.tflite_int8(r.op_name(i)) and i not in islands
                and i not in chains and not (mixed and _reads_int16(r, i))]
        if mixed:  # an operator on int16 activations needs an s16 kernel
            bad += [(i, r.op_name(i)) for i in order if registry.tflite_handler(r.op_name(i))
                    is not None and _reads_int16(r, i) and r.op_name(i) not in SHAPE_OPS
                    and not registry.tflite_int16(r.op_name(i))]
        bad.sort()
    if kind == "int16":  # 16x8: the operators with an s16 kernel
        bad += [(i, r.op_name(i)) for i in order if registry.tflite_handler(r.op_name(i))
                is not None and not registry.tflite_int16(r.op_name(i))
                and r.op_name(i) not in SHAPE_OPS]
        bad.sort()
    # shape arithmetic (SHAPE, STRIDED_SLICE, PACK) armsim runs where it feeds a RESHAPE: it is
    # named only when nothing else is wrong (it then feeds an operator armsim drops it for)
    culprits = [(i, n) for i, n in bad if n not in SHAPE_OPS] or bad
    if culprits:
        listed = "; ".join(f"op {i} {n}" + (f" ({r.op_output_name(i)})"
                                            if r.op_output_name(i) else "")
                           for i, n in culprits)
        names = tuple(sorted({n for _i, n in culprits}))
        int8_note = ""
        if kind == "int16":
            int8_note = (" (a 16x8 model: int16 activations, int8 weights; armsim runs "
                         "these operators on int16 only where it has an s16 kernel; "
                         "`--runtime tflm` runs 16x8 models on TFLM's kernels)")
        elif kind == "int8":
            floats = sorted({n for _i, n in culprits if registry.tflite_handler(n)})
            if floats:
                int8_note = (f" ({', '.join(floats)}: armsim runs "
                             f"{'it' if len(floats) == 1 else 'them'} in float32 models only)")
        where = " in an int8 model" if kind == "int8" and int8_note else ""
        raise ModelError(f"{source}: {len(culprits)} operator(s) armsim's generated firmware "
                         f"does not run{where}: {listed}{int8_note}. It runs: "
                         f"{', '.join(supported(kind == 'int8', kind == 'int16'))}",
                         names, "tflite-int16" if kind == "int16" else "tflite")
    b = _Builder(r, float32=kind == "float32", int16=kind == "int16", mixed=mixed)
    graph_ins = [in_map.get(int(t), int(t)) for t in r.sg.InputsAsNumpy()]
    ins = [b.activation(order[0] if order else 0, t, "input") for t in graph_ins]
    layers = []
    for i in order:
        op = r.sg.Operators(i)
        name = r.op_name(i)
        tin = [int(t) for t in op.InputsAsNumpy()]
        tout = [int(t) for t in op.OutputsAsNumpy()]
        handler = registry.tflite_handler(name)
        if i in chains:  # a chain of int8 operators of one tensor: one table look-up
            made = table_op(b, chains[i])
        elif i in islands:  # DEQUANTIZE, this operator in float32, QUANTIZE: one int8 op
            made = registry.tflite_island(name)(b, i, islands[i][2], islands[i][3])
        else:
            assert handler is not None
            made = handler(b, i, tin, tout)  # one op, or several (a broadcast, then the op)
        made = made if isinstance(made, list) else [made]
        if not made:  # a constant the handler made (FILL)
            continue
        for g_op in made:
            g_op.attrs["tflite_index"] = i
            b.ops.append(g_op)
        layers.append(LayerInfo(made[-1].name, name, tuple(o.name for o in made)))
    if mixed:
        _check_types(source, b.tensors, b.ops)
    outs = [b.name(t) for t in graph_outs]
    for t in outs:
        if t not in b.tensors:
            raise ModelError(f"{source}: output tensor {t} is not computed by any op")
        old = b.tensors[t]
        b.tensors[t] = Tensor(old.name, old.shape, old.dtype, "output", quant=old.quant,
                              layer=old.layer, index=old.index)
    desc = r.model.Description()
    name = Path(source).stem if source else (desc.decode() if desc else "tflite")
    return Graph(name, b.tensors, b.ops, ins, outs, layers, source,
                 float_edges=(bool(in_map), bool(out_map)))


def load(path: str | os.PathLike[str]) -> Graph:
    """Read a ``.tflite`` file."""
    p = Path(path)
    return read(p.read_bytes(), str(p))
