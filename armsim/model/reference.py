"""A plain numpy evaluation of a :class:`Graph`, keeping every intermediate tensor.

Each op is computed in float64 from float32 inputs and rounded to float32, so this is an
independent check of both the kernels and the frontend's lowering (tests compare it with
Keras and with the emulator; the diagnosis uses it where a tensor has no Keras layer).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from armsim.graph import Activation, Graph, Op, dims4


def activate(x: np.ndarray, act: Activation) -> np.ndarray:
    """Apply an activation (float64 in, float64 out)."""
    k = act.kind
    if k == "linear":
        return x
    if k == "relu":
        y = np.maximum(x, 0.0)
        return y if act.max_value is None else np.minimum(y, act.max_value)
    if k == "relu6":
        return np.clip(x, 0.0, 6.0)
    if k == "leaky_relu":
        return np.where(x >= 0, x, act.alpha * x)
    if k == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if k == "tanh":
        return np.tanh(x)
    if k == "hard_sigmoid":
        return np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    if k == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {k}")


def _hwc(x: np.ndarray) -> np.ndarray:
    return x.reshape(dims4(x.shape))


def _padded(x: np.ndarray, top: int, left: int, oh: int, ow: int, kh: int, kw: int,
            sh: int, sw: int, dh: int, dw: int, fill: float = 0.0) -> np.ndarray:
    """Input zero-padded (or ``fill``-padded) so every window of the output is in range."""
    h, w, c = x.shape
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    bottom = max(need_h - h - top, 0)
    right = max(need_w - w - left, 0)
    return np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=fill)


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, out_shape: tuple[int, ...],
           strides: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int],
           depthwise: bool = False) -> np.ndarray:
    """Convolution of an (h, w, c) input; kernel (kh, kw, cin, cout|multiplier)."""
    x = _hwc(x).astype(np.float64)
    kh, kw, cin, m = kernel.shape
    oh, ow, cout = dims4(out_shape)
    sh, sw = strides
    dh, dw = dilation
    xp = _padded(x, padding[0], padding[1], oh, ow, kh, kw, sh, sw, dh, dw)
    out = np.zeros((oh, ow, cout), np.float64)
    k = kernel.astype(np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
            if depthwise:
                out += (patch[:, :, :, None] * k[i, j][None, None]).reshape(oh, ow, cin * m)
            else:
                out += patch @ k[i, j]
    if bias is not None:
        out += bias.astype(np.float64)
    return out


def pool2d(x: np.ndarray, out_shape: tuple[int, ...], pool: tuple[int, int],
           strides: tuple[int, int], padding: tuple[int, int], kind: str) -> np.ndarray:
    """Max or average pooling; padded cells are ignored (average divides by valid cells)."""
    x = _hwc(x).astype(np.float64)
    oh, ow, c = dims4(out_shape)
    ph, pw = pool
    sh, sw = strides
    fill = -np.inf if kind == "max" else 0.0
    xp = _padded(x, padding[0], padding[1], oh, ow, ph, pw, sh, sw, 1, 1, fill)
    valid = _padded(np.ones(x.shape[:2] + (1,)), padding[0], padding[1], oh, ow, ph, pw, sh, sw,
                    1, 1, 0.0)
    acc = np.full((oh, ow, c), fill)
    cnt = np.zeros((oh, ow, 1))
    for i in range(ph):
        for j in range(pw):
            patch = xp[i: i + (oh - 1) * sh + 1: sh, j: j + (ow - 1) * sw + 1: sw, :]
            v = valid[i: i + (oh - 1) * sh + 1: sh, j: j + (ow - 1) * sw + 1: sw, :]
            if kind == "max":
                acc = np.maximum(acc, patch)
            else:
                acc = acc + patch
                cnt = cnt + v
    return acc if kind == "max" else acc / cnt


def run_op(g: Graph, op: Op, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """One op's output (float32, in its tensor's shape) from the values of its inputs."""
    out_t = g.tensors[op.outputs[0]]

    def val(name: str) -> np.ndarray:
        t = g.tensors[name]
        return t.data if t.data is not None else values[name]

    x = val(op.inputs[0])
    a = op.attrs
    if op.kind in ("conv2d", "depthwise_conv2d"):
        bias = val(op.inputs[2]) if len(op.inputs) > 2 else None
        y = conv2d(x, val(op.inputs[1]), bias, out_t.shape, a["strides"], a["padding"],
                   a["dilation"], op.kind == "depthwise_conv2d")
    elif op.kind == "fully_connected":
        w = val(op.inputs[1]).astype(np.float64)
        y = x.astype(np.float64).reshape(-1, w.shape[0]) @ w
        if len(op.inputs) > 2:
            y = y + val(op.inputs[2]).astype(np.float64)
    elif op.kind in ("max_pool2d", "avg_pool2d"):
        y = pool2d(x, out_t.shape, a["pool"], a["strides"], a["padding"], op.kind[:3])
    elif op.kind == "add":
        y = x.astype(np.float64)
        for name in op.inputs[1:]:
            y = (y + val(name).astype(np.float64)).astype(np.float32).astype(np.float64)
    elif op.kind == "concat":
        y = np.concatenate([val(n).astype(np.float64) for n in op.inputs], axis=a["axis"])
    elif op.kind == "pad":
        t, b, l_, r = a["pads"]
        y = np.pad(_hwc(x).astype(np.float64), ((t, b), (l_, r), (0, 0)))
    elif op.kind == "reshape":
        y = x.astype(np.float64)
    elif op.kind == "activation":
        y = x.astype(np.float64)
    elif op.kind == "scale_shift":
        y = x.astype(np.float64) * val(op.inputs[1]) + val(op.inputs[2])
    else:
        raise ValueError(f"op kind {op.kind}")
    y = activate(np.asarray(y, np.float64).reshape(out_t.shape), op.activation)
    return y.astype(np.float32)


def evaluate(g: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor's value for one input (an array for a one-input graph, or by name)."""
    if isinstance(inputs, np.ndarray):
        inputs = {g.inputs[0]: inputs}
    values: dict[str, np.ndarray] = {}
    for name in g.inputs:
        values[name] = np.asarray(inputs[name], np.float32).reshape(g.tensors[name].shape)
    for op in g.ops:
        values[op.outputs[0]] = run_op(g, op, values)
    return values


def outputs(g: Graph, x: np.ndarray) -> np.ndarray:
    """The graph's outputs for one input, flattened and joined in output order."""
    v = evaluate(g, x)
    return np.concatenate([v[n].reshape(-1) for n in g.outputs])
