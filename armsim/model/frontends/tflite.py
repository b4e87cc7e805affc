"""TFLite frontend: a fully-int8 ``.tflite`` flatbuffer (read with the ``tflite`` package)
into the same :class:`Graph` the Keras frontend builds, with quantization on every tensor.

Constants are turned into the Keras shapes the plan and the kernels already know (conv
HWIO, depthwise (kh, kw, c, m), dense (in, out)); the plan puts them back in CMSIS-NN's
order. Shape arithmetic the converter emits for Flatten (SHAPE, STRIDED_SLICE, PACK feeding
a RESHAPE) is dropped: shapes are static. QUANTIZE/DEQUANTIZE at the graph's edges are
peeled off, so the firmware's input and output are int8 and the host does the conversion.
Anything else is refused before any work, naming the op and its index.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.errors import ModelError
from armsim.graph import LINEAR, Activation, Graph, LayerInfo, Op, Tensor, same_padding
from armsim.quant import Quant

#: tflite.TensorType values armsim reads.
_DTYPES = {9: "int8", 2: "int32", 0: "float32", 3: "uint8", 7: "int16", 4: "int64"}
#: Fused activations (tflite.ActivationFunctionType) armsim turns into clamps.
_FUSED = {0: LINEAR, 1: Activation("relu"), 3: Activation("relu6"),
          2: Activation("relu_n1_to_1")}
#: Ops whose only job is computing a RESHAPE's shape operand.
SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK"}
#: Ops that keep the bytes and change the shape.
RESHAPES = {"RESHAPE", "EXPAND_DIMS", "SQUEEZE"}


def _import() -> Any:
    try:
        import tflite
    except ImportError:  # pragma: no cover - a dependency
        raise ModelError("reading .tflite files needs the 'tflite' package "
                         "(pip install tflite)") from None
    return tflite


def _opnames(tfl: Any) -> dict[int, str]:
    return {v: k for k, v in vars(tfl.BuiltinOperator).items() if not k.startswith("_")}


def supported() -> list[str]:
    """TFLite builtin ops armsim runs on int8 tensors."""
    return sorted(set(_HANDLERS) | SHAPE_OPS | RESHAPES | {"QUANTIZE", "DEQUANTIZE"})


class _Reader:
    """One subgraph of a flatbuffer: tensors with their data and quantization."""

    def __init__(self, buf: bytes, source: str) -> None:
        self.tfl = _import()
        self.source = source
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
        s = self.sg.Tensors(i).ShapeAsNumpy()
        return tuple(int(x) for x in s) if not isinstance(s, int) else ()

    def data(self, i: int) -> np.ndarray | None:
        t = self.sg.Tensors(i)
        b = self.model.Buffers(t.Buffer())
        if b is None or b.DataLength() == 0:
            if b is not None and b.Offset() > 1:
                raise ModelError(f"{self.source}: tensor {self.tensor_name(i)} keeps its data "
                                 "outside the flatbuffer (a >2 GB model); not supported")
            return None
        raw = b.DataAsNumpy().tobytes()
        dt = {"int8": "<i1", "int32": "<i4", "float32": "<f4", "uint8": "u1", "int16": "<i2",
              "int64": "<i8"}[self.dtype(i)]
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


class _Builder:
    """Tensors and ops collected while reading the operators."""

    def __init__(self, r: _Reader) -> None:
        self.r = r
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.names: dict[int, str] = {}

    def where(self, i: int) -> str:
        return f"{self.r.source}: op {i} ({self.r.op_name(i)})"

    def name(self, idx: int) -> str:
        if idx not in self.names:
            base = self.r.tensor_name(idx)
            name, k = base, 1
            while name in self.tensors or name in self.names.values():
                k += 1
                name = f"{base}#{k}"
            self.names[idx] = name
        return self.names[idx]

    def activation(self, i: int, idx: int, role: str = "activation") -> str:
        """An int8 activation tensor (batch axis of 1 dropped)."""
        name = self.name(idx)
        if name in self.tensors:
            return name
        dt = self.r.dtype(idx)
        if dt != "int8":
            raise ModelError(f"{self.where(i)}: tensor {name} is {dt}; armsim runs fully-int8 "
                             "models (convert with inference_input_type=tf.int8 and a "
                             "representative dataset)")
        shape = self.r.shape(idx)
        if not shape or shape[0] != 1:
            raise ModelError(f"{self.where(i)}: tensor {name} has shape {list(shape)}; "
                             "armsim needs a batch axis of 1 first")
        q = self.r.quant(idx)
        if q is None or q.per_channel:
            raise ModelError(f"{self.where(i)}: tensor {name} has no per-tensor quantization")
        _check_quant(self.where(i), name, q, -128, 127)
        if any(d <= 0 for d in shape):
            raise ModelError(f"{self.where(i)}: tensor {name} has shape {list(shape)}")
        self.tensors[name] = Tensor(name, shape[1:], "int8", role, quant=q, layer=name,
                                    index=idx)
        return name

    def const(self, i: int, idx: int, role: str, want: str,
              transform: Callable[[np.ndarray], np.ndarray] = lambda a: a,
              axis_map: Callable[[int], int] | None = None) -> str:
        name = self.name(idx)
        data = self.r.data(idx)
        dt = self.r.dtype(idx)
        if data is None:
            raise ModelError(f"{self.where(i)}: {role} {name} is not a constant")
        if dt != want:
            raise ModelError(f"{self.where(i)}: {role} {name} is {dt}, expected {want} "
                             "(a fully-int8 model has int8 weights and int32 biases)")
        q = self.r.quant(idx, axis_map)
        if q is None:
            raise ModelError(f"{self.where(i)}: {role} {name} has no quantization")
        _check_quant(self.where(i), name, q, -2**31, 2**31 - 1)
        if any(z != 0 for z in q.zero_points) and role == "weight":
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
        raise ModelError(f"{where}: tensor {name} has zero point(s) outside {lo}..{hi}")
    if len(q.zero_points) != len(q.scales):
        raise ModelError(f"{where}: tensor {name} has {len(q.scales)} scales but "
                         f"{len(q.zero_points)} zero points")


# -- op handlers ------------------------------------------------------------------------------
Handler = Callable[[_Builder, int, list[int], list[int]], Op]


def _pads(_r: _Reader, padding: int, in_hw: tuple[int, int], k: tuple[int, int],
          strides: tuple[int, int], dil: tuple[int, int], out_hw: tuple[int, int]
          ) -> tuple[int, int]:
    """(top, left) padding: TFLite's SAME (0) puts the extra cell bottom/right; VALID (1)."""
    if padding == 1:
        return 0, 0
    return same_padding(in_hw, k, strides, dil, out_hw)


def _hw(shape: tuple[int, ...]) -> tuple[int, int]:
    return (shape[0], shape[1]) if len(shape) == 3 else (1, shape[0])


def _conv(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "Conv2DOptions")
    x = b.activation(i, ins[0])
    w = b.const(i, ins[1], "weight", "int8", lambda a: a.transpose(1, 2, 3, 0),
                lambda ax: {0: 3}.get(ax, ax))
    kh, kw, cin, cout = b.tensors[w].shape
    if b.tensors[x].shape[-1] != cin:
        raise ModelError(f"{b.where(i)}: grouped convolution is not supported")
    inputs = [x, w]
    if len(ins) > 2 and ins[2] >= 0:
        inputs.append(b.const(i, ins[2], "bias", "int32"))
    y = b.activation(i, outs[0])
    strides, dil = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    attrs = {"kernel": (kh, kw, cin, cout), "strides": strides, "dilation": dil,
             "padding": _pads(b.r, o.Padding(), _hw(b.tensors[x].shape), (kh, kw), strides,
                              dil, _hw(b.tensors[y].shape)),
             "activation": _fused(b, i, o.FusedActivationFunction())}
    return Op(f"conv_{i}", "conv2d", tuple(inputs), (y,), attrs, b.r.op_name(i))


def _depthwise(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "DepthwiseConv2DOptions")
    x = b.activation(i, ins[0])
    cin = b.tensors[x].shape[-1]

    def to_keras(a: np.ndarray) -> np.ndarray:  # (1, kh, kw, c*m) -> (kh, kw, c, m)
        return a.reshape(a.shape[1], a.shape[2], cin, a.shape[3] // cin)

    # per-channel scales run over the c*m output channels (the last two axes, flattened)
    w = b.const(i, ins[1], "weight", "int8", to_keras, lambda ax: 3)
    wt = b.tensors[w]
    kh, kw, c, m = wt.shape
    inputs = [x, w]
    if len(ins) > 2 and ins[2] >= 0:
        inputs.append(b.const(i, ins[2], "bias", "int32"))
    y = b.activation(i, outs[0])
    strides, dil = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    attrs = {"kernel": (kh, kw, c, m), "multiplier": m, "strides": strides, "dilation": dil,
             "padding": _pads(b.r, o.Padding(), _hw(b.tensors[x].shape), (kh, kw), strides,
                              dil, _hw(b.tensors[y].shape)),
             "activation": _fused(b, i, o.FusedActivationFunction())}
    return Op(f"depthwise_{i}", "depthwise_conv2d", tuple(inputs), (y,), attrs,
              b.r.op_name(i))


def _dense(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "FullyConnectedOptions")
    if o is not None and o.KeepNumDims():
        raise ModelError(f"{b.where(i)}: keep_num_dims is not supported")
    x = b.activation(i, ins[0])
    w = b.const(i, ins[1], "weight", "int8", lambda a: a.T, lambda ax: 1 - ax)
    n_in, _n_out = b.tensors[w].shape
    if b.tensors[x].size % n_in:
        raise ModelError(f"{b.where(i)}: input of {b.tensors[x].size} values is not a "
                         f"multiple of the weights' {n_in} inputs")
    inputs = [x, w]
    if len(ins) > 2 and ins[2] >= 0:
        inputs.append(b.const(i, ins[2], "bias", "int32"))
    y = b.activation(i, outs[0])
    act = _fused(b, i, o.FusedActivationFunction() if o is not None else 0)
    return Op(f"fc_{i}", "fully_connected", tuple(inputs), (y,), {"activation": act},
              b.r.op_name(i))


def _pool(kind: str) -> Handler:
    def handler(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
        o = b.r.options(i, "Pool2DOptions")
        x = b.activation(i, ins[0])
        y = b.activation(i, outs[0])
        _same_quant(b, i, x, y)
        pool, strides = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
        attrs = {"pool": pool, "strides": strides,
                 "padding": _pads(b.r, o.Padding(), _hw(b.tensors[x].shape), pool, strides,
                                  (1, 1), _hw(b.tensors[y].shape)),
                 "activation": _fused(b, i, o.FusedActivationFunction())}
        return Op(f"{kind.split('_')[0]}pool_{i}", kind, (x,), (y,), attrs, b.r.op_name(i))
    return handler


def _binary(kind: str, cls: str) -> Handler:
    def handler(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
        o = b.r.options(i, cls)
        y = b.activation(i, outs[0])
        xs = [b.activation(i, k) if b.r.data(k) is None else _broadcast_const(b, i, k, y)
              for k in ins]
        shapes = {b.tensors[x].shape for x in xs}
        if len(shapes) != 1 or b.tensors[y].shape not in shapes:
            raise ModelError(f"{b.where(i)}: broadcasting {kind.upper()} "
                             f"({' and '.join(str(list(b.tensors[x].shape)) for x in xs)}) is "
                             "not supported; both inputs must have the output's shape")
        act = _fused(b, i, o.FusedActivationFunction() if o is not None else 0)
        return Op(f"{kind}_{i}", kind, tuple(xs), (y,), {"activation": act}, b.r.op_name(i))
    return handler


def _broadcast_const(b: _Builder, i: int, idx: int, like: str) -> str:
    """A constant operand of ADD/MUL (a Rescaling's scalar, say) spelled out to the other
    operand's shape, so the element-wise kernel reads it like an activation."""
    data = b.r.data(idx)
    q = b.r.quant(idx)
    assert data is not None
    name = b.name(idx)
    if b.r.dtype(idx) != "int8" or q is None or q.per_channel:
        raise ModelError(f"{b.where(i)}: constant operand {name} must be per-tensor int8")
    shape = b.tensors[like].shape
    try:
        full = np.broadcast_to(data, (1,) + shape)[0] if data.ndim else np.full(shape, data)
    except ValueError:
        raise ModelError(f"{b.where(i)}: constant {name} of shape {list(data.shape)} does not "
                         f"broadcast to {list(shape)}") from None
    b.tensors[name] = Tensor(name, shape, "int8", "weight", data=np.array(full, np.int8),
                             quant=q)
    return name


def _concat(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "ConcatenationOptions")
    xs = [b.activation(i, k) for k in ins]
    y = b.activation(i, outs[0])
    for x in xs:
        _same_quant(b, i, x, y)
    rank = len(b.tensors[y].shape) + 1
    axis = o.Axis() % rank
    if axis == 0:
        raise ModelError(f"{b.where(i)}: concatenation along the batch axis")
    if o.FusedActivationFunction():
        raise ModelError(f"{b.where(i)}: a fused activation on CONCATENATION")
    return Op(f"concat_{i}", "concat", tuple(xs), (y,), {"axis": axis - 1}, b.r.op_name(i))


def _pad(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    x = b.activation(i, ins[0])
    pads = b.r.data(ins[1])
    if pads is None:
        raise ModelError(f"{b.where(i)}: the paddings are not constant")
    y = b.activation(i, outs[0])
    _same_quant(b, i, x, y)
    pads = [tuple(int(v) for v in p) for p in pads.reshape(-1, 2)]
    if pads[0] != (0, 0) or len(pads) != 4 or pads[3] != (0, 0):
        raise ModelError(f"{b.where(i)}: only padding of height and width is supported "
                         f"(got {pads})")
    return Op(f"pad_{i}", "pad", (x,), (y,),
              {"pads": (pads[1][0], pads[1][1], pads[2][0], pads[2][1])}, b.r.op_name(i))


def _reduce(kind: str) -> Handler:
    def handler(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
        x = b.activation(i, ins[0])
        axes = b.r.data(ins[1])
        if axes is None:
            raise ModelError(f"{b.where(i)}: the reduction axes are not constant")
        rank = len(b.tensors[x].shape) + 1
        axes = sorted({int(a) % rank for a in np.asarray(axes).reshape(-1)})
        if 0 in axes or axes != list(range(axes[0], axes[-1] + 1)):
            raise ModelError(f"{b.where(i)}: reducing axes {axes}: only consecutive "
                             "non-batch axes are supported")
        y = b.activation(i, outs[0])
        if kind == "reduce_max":
            _same_quant(b, i, x, y)
        shape = b.tensors[x].shape
        a0, a1 = axes[0] - 1, axes[-1]
        outer = int(np.prod(shape[:a0], dtype=np.int64))
        span = int(np.prod(shape[a0:a1], dtype=np.int64))
        inner = int(np.prod(shape[a1:], dtype=np.int64))
        if b.tensors[y].size != outer * inner:
            raise ModelError(f"{b.where(i)}: output size does not match the reduction")
        return Op(f"{kind}_{i}", kind, (x,), (y,),
                  {"axes": tuple(a - 1 for a in axes), "outer": outer, "span": span,
                   "inner": inner}, b.r.op_name(i))
    return handler


def _softmax(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "SoftmaxOptions")
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    q = b.tensors[y].quant
    assert q is not None
    if abs(q.scale - 1 / 256) > 1e-9 or q.zero_point != -128:
        raise ModelError(f"{b.where(i)}: int8 softmax output must have scale 1/256 and zero "
                         f"point -128 (has {q.scale:g}, {q.zero_point})")
    return Op(f"softmax_{i}", "activation", (x,), (y,),
              {"activation": Activation("softmax"), "beta": float(o.Beta())}, b.r.op_name(i))


def _unary(act: Callable[[_Builder, int], Activation]) -> Handler:
    def handler(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
        x = b.activation(i, ins[0])
        y = b.activation(i, outs[0])
        a = act(b, i)
        return Op(f"{a.kind}_{i}", "activation", (x,), (y,), {"activation": a},
                  b.r.op_name(i))
    return handler


def _leaky(b: _Builder, i: int) -> Activation:
    return Activation("leaky_relu", alpha=float(b.r.options(i, "LeakyReluOptions").Alpha()))


def _requantize(b: _Builder, i: int, ins: list[int], outs: list[int]) -> Op:
    """QUANTIZE int8 -> int8 inside the graph: a change of scale."""
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    return Op(f"requantize_{i}", "activation", (x,), (y,), {"activation": LINEAR},
              b.r.op_name(i))


def _fused(b: _Builder, i: int, code: int) -> Activation:
    if code not in _FUSED:
        raise ModelError(f"{b.where(i)}: fused activation {code} is not supported (NONE, "
                         "RELU, RELU6, RELU_N1_TO_1 are)")
    return _FUSED[code]


def _same_quant(b: _Builder, i: int, x: str, y: str) -> None:
    qx, qy = b.tensors[x].quant, b.tensors[y].quant
    if qx != qy:
        raise ModelError(f"{b.where(i)}: input and output quantization differ "
                         f"({qx} vs {qy}); TFLite's int8 kernel needs them equal")


_HANDLERS: dict[str, Handler] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _dense,
    "MAX_POOL_2D": _pool("max_pool2d"),
    "AVERAGE_POOL_2D": _pool("avg_pool2d"),
    "ADD": _binary("add", "AddOptions"),
    "MUL": _binary("mul", "MulOptions"),
    "CONCATENATION": _concat,
    "PAD": _pad,
    "PADV2": _pad,
    "MEAN": _reduce("mean"),
    "REDUCE_MAX": _reduce("reduce_max"),
    "SOFTMAX": _softmax,
    "TANH": _unary(lambda b, i: Activation("tanh")),
    "LOGISTIC": _unary(lambda b, i: Activation("sigmoid")),
    "LEAKY_RELU": _unary(_leaky),
    "RELU": _unary(lambda b, i: Activation("relu")),
    "RELU6": _unary(lambda b, i: Activation("relu6")),
}


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


def _live_ops(r: _Reader, order: list[int], keep: set[int]) -> list[int]:
    """Drop shape-arithmetic ops whose results only feed RESHAPE's shape operand."""
    dead: set[int] = set()
    for i in order:
        if r.op_name(i) in SHAPE_OPS:
            dead.add(i)
    used = set()
    for i in order:
        if i in dead:
            continue
        op = r.sg.Operators(i)
        first = [int(op.Inputs(0))] if r.op_name(i) in RESHAPES else \
            [int(t) for t in op.InputsAsNumpy()]
        used.update(first)
    for i in sorted(dead):
        outs = {int(t) for t in r.sg.Operators(i).OutputsAsNumpy()}
        if outs & (used | keep):
            dead.discard(i)
    return [i for i in order if i not in dead]


def read(buf: bytes, source: str = "model.tflite") -> Graph:
    """The graph of a fully-int8 TFLite flatbuffer, or a ModelError naming what is not."""
    try:
        return _read(buf, source)
    except ModelError:
        raise
    except Exception as e:  # the flatbuffer accessors read lazily: a damaged file fails late
        raise ModelError(f"{source}: not a readable TFLite flatbuffer ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else 'damaged'}; "
                         f"{len(buf):,} bytes)") from None


def _read(buf: bytes, source: str) -> Graph:
    r = _Reader(buf, source)
    order, in_map, out_map, _peeled = _edges(r)
    graph_outs = [out_map.get(int(t), int(t)) for t in r.sg.OutputsAsNumpy()]
    order = _live_ops(r, order, set(graph_outs))
    bad = [(i, r.op_name(i)) for i in order
           if r.op_name(i) not in _HANDLERS and r.op_name(i) not in RESHAPES
           and not (r.op_name(i) == "QUANTIZE")]
    if bad:
        i, name = bad[0]
        raise ModelError(f"{source}: op {i} ({name}) is not supported"
                         + (f" (and {len(bad) - 1} more unsupported ops)" if len(bad) > 1 else "")
                         + f"; armsim runs: {', '.join(supported())}")
    b = _Builder(r)
    graph_ins = [in_map.get(int(t), int(t)) for t in r.sg.InputsAsNumpy()]
    ins = [b.activation(order[0] if order else 0, t, "input") for t in graph_ins]
    layers = []
    for i in order:
        op = r.sg.Operators(i)
        name = r.op_name(i)
        tin = [int(t) for t in op.InputsAsNumpy()]
        tout = [int(t) for t in op.OutputsAsNumpy()]
        if name in RESHAPES:
            x = b.activation(i, tin[0])
            y = b.activation(i, tout[0])
            _same_quant(b, i, x, y)
            g_op = Op(f"reshape_{i}", "reshape", (x,), (y,), {}, name)
        elif name == "QUANTIZE":
            g_op = _requantize(b, i, tin, tout)
        else:
            g_op = _HANDLERS[name](b, i, tin, tout)
        g_op.attrs["tflite_index"] = i
        b.ops.append(g_op)
        layers.append(LayerInfo(g_op.name, name, (g_op.name,)))
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
