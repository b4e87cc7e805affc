"""Reading TFLite operators for the op kinds' TFLite handlers: SAME/VALID padding, fused
activations, quantization checks, constant operands spelled out, and the handler shapes
several op kinds share (element-wise binaries, reductions)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.fixedpoint import rescale
from armsim.graph import LINEAR, Activation, Op, Tensor, same_padding
from armsim.ops._copy import spelled_out

#: Fused activations (tflite.ActivationFunctionType) armsim turns into clamps.
FUSED = {0: LINEAR, 1: Activation("relu"), 3: Activation("relu6"),
         2: Activation("relu_n1_to_1")}

Handler = Callable[[Any, int, list[int], list[int]], Op]


def pads(padding: int, in_hw: tuple[int, int], k: tuple[int, int], strides: tuple[int, int],
         dil: tuple[int, int], out_hw: tuple[int, int]) -> tuple[int, int]:
    """(top, left) padding: TFLite's SAME (0) puts the extra cell bottom/right; VALID (1)."""
    if padding == 1:
        return 0, 0
    return same_padding(in_hw, k, strides, dil, out_hw)


def hw(shape: tuple[int, ...]) -> tuple[int, int]:
    """(h, w) of an activation shape without the batch axis."""
    return (shape[0], shape[1]) if len(shape) == 3 else (1, shape[0])


def fused(b: Any, i: int, code: int) -> Activation:
    """A fused activation code as an Activation, or a ModelError naming it."""
    if code not in FUSED:
        raise ModelError(f"{b.where(i)}: fused activation {code} is not supported (NONE, "
                         "RELU, RELU6, RELU_N1_TO_1 are)")
    return FUSED[code]


def same_quant(b: Any, i: int, x: str, y: str) -> None:
    """A ModelError unless ``x`` and ``y`` share their quantization (as TFLite's int8
    kernel of the op needs)."""
    qx, qy = b.tensors[x].quant, b.tensors[y].quant
    if qx != qy:
        raise ModelError(f"{b.where(i)}: input and output quantization differ "
                         f"({qx} vs {qy}); TFLite's int8 kernel needs them equal")


def broadcast_const(b: Any, i: int, idx: int, like: str) -> str:
    """A constant operand of ADD/MUL (a Rescaling's scalar, say) spelled out to the other
    operand's shape, so the element-wise kernel reads it like an activation."""
    data = b.r.data(idx)
    q = b.r.quant(idx)
    assert data is not None
    name = b.name(idx)
    dtype = getattr(b, "act_dtype", "int8")
    if b.r.dtype(idx) != dtype or (dtype != "float32" and (q is None or q.per_channel)):
        raise ModelError(f"{b.where(i)}: constant operand {name} must be "
                         + ("float32" if dtype == "float32" else f"per-tensor {dtype}"))
    shape = b.tensors[like].shape
    try:
        full = np.broadcast_to(data, (1,) + shape)[0] if data.ndim else np.full(shape, data)
    except ValueError:
        raise ModelError(f"{b.where(i)}: constant {name} of shape {list(data.shape)} does not "
                         f"broadcast to {list(shape)}") from None
    # one file constant may serve ops of several shapes (TFLiteConverter shares a 1.0 between
    # two GRUs' 1 - z): each shape is its own spelled-out tensor
    if name in b.tensors and b.tensors[name].shape != shape:
        name = f"{name}/{'x'.join(str(d) for d in shape)}"
    b.tensors[name] = Tensor(name, shape, dtype, "weight", data=np.array(full, dtype),
                             quant=None if dtype == "float32" else q)
    return name


def binary(kind: str, options: str | None, same_scale: bool = False) -> Handler:
    """The handler of an element-wise binary operator (ADD, MUL, SUB ...) of op kind
    ``kind``: a constant operand spelled out to the output's shape, an activation operand of
    another shape broadcast to it by a ``broadcast`` op before (NumPy's rules);
    ``same_scale``: TFLite's int8 kernel needs one quantization on inputs and output."""
    def handler(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
        o = b.r.options(i, options) if options else None
        y = b.activation(i, outs[0])
        shape = b.tensors[y].shape
        ops, xs = [], []
        for k in ins:
            if b.r.data(k) is not None:
                xs.append(broadcast_const(b, i, k, y))
                continue
            x = b.activation(i, k)
            have = b.tensors[x].shape
            if have != shape and tuple(np.broadcast_shapes(have, shape)) != shape:
                raise ModelError(f"{b.where(i)}: operand {x} of shape {list(have)} does not "
                                 f"broadcast to the output's {list(shape)}")
            if same_scale and b.tensors[x].quant is not None:
                same_quant(b, i, x, y)
            op, x = spelled_out(b.tensors, x, shape, b.r.op_name(i))
            if op is not None:
                ops.append(Op(f"{kind}_{i}_broadcast{len(ops)}", op.kind, op.inputs,
                              op.outputs, op.attrs, op.layer))
            xs.append(x)
        act = fused(b, i, o.FusedActivationFunction() if o is not None else 0)
        return ops + [Op(f"{kind}_{i}", kind, tuple(xs), (y,), {"activation": act},
                         b.r.op_name(i))]
    return handler


def reduction(kind: str, same_scale: bool) -> Handler:
    """The handler of a reduction over consecutive axes (MEAN, REDUCE_MAX) of kind ``kind``;
    ``same_scale``: TFLite's int8 kernel needs the input's quantization on the output."""
    def handler(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
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
        if same_scale:
            same_quant(b, i, x, y)
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


# -- int8 arithmetic on integer arrays, for tabulated chains (OpKind.tflite_s8_eval) ------

def s8_quants(r: Any, i: int) -> tuple[list[Any], Any]:
    """(the quantization of each input, of the output) of operator ``i``."""
    op = r.sg.Operators(i)
    ins = [r.quant(int(t)) if int(t) >= 0 else None for t in op.InputsAsNumpy()]
    return ins, r.quant(int(op.Outputs(0)))


def s8_clamp(r: Any, i: int, options: str | None, y: np.ndarray) -> np.ndarray:
    """``y`` clamped to operator ``i``'s fused activation range on its output (int8)."""
    o = r.options(i, options) if options else None
    code = o.FusedActivationFunction() if o is not None else 0
    act = FUSED.get(code)
    if act is None:
        raise ModelError(f"op {i} {r.op_name(i)}: fused activation {code} is not supported")
    lo, hi = Q.activation_range(act, s8_quants(r, i)[1])
    return np.clip(y, lo, hi)


def s8_add_sub(r: Any, i: int, args: list[np.ndarray], sign: int, options: str) -> np.ndarray:
    """TFLite's int8 ADD (``sign`` 1) or SUB (-1): both inputs shifted left 20 bits and
    rescaled to twice the larger input scale, summed, rescaled to the output's."""
    (qa, qb), qo = s8_quants(r, i)
    p = Q.add_params(qa, qb, qo)
    a = rescale((args[0] + p.input1_offset) * (1 << p.left_shift), p.input1_multiplier,
                p.input1_shift)
    b = rescale((args[1] + p.input2_offset) * (1 << p.left_shift), p.input2_multiplier,
                p.input2_shift)
    y = rescale(a + sign * b, p.output_multiplier, p.output_shift) + p.output_offset
    return s8_clamp(r, i, options, y)
