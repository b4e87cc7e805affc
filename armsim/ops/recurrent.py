"""``recurrent``: Keras SimpleRNN, GRU and LSTM (stateless; ``return_sequences`` either way,
``go_backwards``) and Bidirectional around them, lowered on reading into the ops armsim
runs, unrolled over the time steps of the layer's static input (T, F):

* the input projection of every step at once: one ``fully_connected`` over (T, F) with the
  input bias, each step's gates then a ``slice`` of it;
* per step and gate, the recurrent projection (``fully_connected`` of the state), the sum
  with the step's input projection (``add``, the gate's activation fused), and the cell's
  element-wise arithmetic (``mul``, ``sub``, ``add``, a ``tanh`` ``activation``);
* the outputs: the last state, or every step's stacked (``pack``) in the order the layer
  returns them.

The initial state is a constant zero vector. No op of this kind is ever in a graph: it only
names the lowering in the registry (its layers' handlers live here, one module for the
family). The layer's own output tensor is the last op's, so per-layer diagnosis still
compares it with Keras.

GRU follows Keras' two forms: ``reset_after=True`` (the default: the reset gate multiplies
the recurrent projection, recurrent bias included) and ``False`` (it multiplies the state
before its projection). LSTM's gates are Keras' [i, f, c, o]; GRU's [z, r, h]."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import LINEAR, Activation, Graph, Op, Tensor
from armsim.ops import _keras as K
from armsim.ops import activations
from armsim.ops.base import OpKind, Values


class _Steps:
    """The lowering of one recurrent layer into ``b``'s ops."""

    def __init__(self, b: Any, layer: Any, tag: str) -> None:
        self.b, self.layer, self.tag = b, layer, tag
        self.n = 0

    def tensor(self, what: str, shape: tuple[int, ...]) -> str:
        self.n += 1
        return self.b.add_tensor(Tensor(self.b.name_for(f"{self.layer.name}{self.tag}/{what}"),
                                        shape, "float32", "activation"))

    def op(self, kind: str, ins: tuple[str, ...], out_shape: tuple[int, ...], what: str,
           attrs: dict | None = None) -> str:
        out = self.tensor(what, out_shape)
        self.b.ops.append(Op(f"{self.layer.name}{self.tag}/{what}", kind, ins, (out,),
                             attrs or {}, self.layer.name))
        return out

    def const(self, what: str, data: np.ndarray, role: str) -> str:
        return self.b.const(f"{self.layer.name}{self.tag}.{what}", data, role)

    def dense(self, x: str, w: np.ndarray, bias: np.ndarray | None, what: str,
              shape: tuple[int, ...], act: Activation = LINEAR) -> str:
        ins = [x, self.const(f"{what}.kernel", w, "weight")]
        if bias is not None:
            ins.append(self.const(f"{what}.bias", bias, "bias"))
        return self.op("fully_connected", tuple(ins), shape, what, {"activation": act})

    def step_slice(self, xw: str, t: int, lo: int, hi: int, what: str) -> str:
        return self.op("slice", (xw,), (hi - lo,), what,
                       {"begin": (t, lo), "step": (1, 1), "keep": (1,)})

    def binary(self, kind: str, a: str, c: str, shape: tuple[int, ...], what: str,
               act: Activation = LINEAR) -> str:
        return self.op(kind, (a, c), shape, what, {"activation": act})


def _config(layer: Any) -> dict:
    cfg = layer.get_config()
    if cfg.get("stateful"):
        raise ModelError(f"{K.where(layer)}: stateful recurrent layers are not supported")
    if getattr(layer, "supports_masking", False) and getattr(layer, "_masking", None):
        raise ModelError(f"{K.where(layer)}: masking is not supported")
    return cfg


def _lower(b: Any, layer: Any, src: str, tag: str = "") -> tuple[list[str], int]:
    """The states of every step, in processing order, and the number of units."""
    cfg = _config(layer)
    cls = type(layer).__name__
    shape = b.tensors[src].shape
    if len(shape) != 2:
        raise ModelError(f"{K.where(layer)}: input of shape {list(shape)}; armsim unrolls a "
                         "(time, features) sequence of static length")
    steps, _f = shape
    cell = getattr(layer, "cell", layer)
    weights = [np.asarray(w, np.float64) for w in cell.get_weights()]
    kernel, rec = weights[0], weights[1]
    bias = weights[2] if cfg.get("use_bias", True) and len(weights) > 2 else None
    u = int(rec.shape[0])
    gates = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[cls]
    act = activations.from_keras(cfg.get("activation", "tanh"), K.where(layer))
    ract = activations.from_keras(cfg.get("recurrent_activation", "sigmoid"), K.where(layer))
    s = _Steps(b, layer, tag)
    reset_after = cls == "GRU" and cfg.get("reset_after", True)
    in_bias = rec_bias = None
    if bias is not None:
        if reset_after:
            in_bias, rec_bias = bias.reshape(2, -1)
        else:
            in_bias = bias.reshape(-1)
    xw = s.dense(src, kernel, in_bias, "input_projection", (steps, gates * u))
    h = s.const("initial_state", np.zeros(u), "weight")
    c = s.const("initial_cell", np.zeros(u), "weight") if cls == "LSTM" else ""
    order = range(steps - 1, -1, -1) if cfg.get("go_backwards") else range(steps)
    states = []

    def gate(t: int, g: int, a: Activation, what: str) -> str:
        xg = s.step_slice(xw, t, g * u, (g + 1) * u, f"t{t}/x{what}")
        rb = None if rec_bias is None else rec_bias[g * u:(g + 1) * u]
        hg = s.dense(h, rec[:, g * u:(g + 1) * u], rb, f"t{t}/h{what}", (u,))
        return s.binary("add", xg, hg, (u,), f"t{t}/{what}", a)

    for t in order:
        if cls == "SimpleRNN":
            h = gate(t, 0, act, "state")
        elif cls == "LSTM":
            i_ = gate(t, 0, ract, "i")
            f_ = gate(t, 1, ract, "f")
            g_ = gate(t, 2, act, "g")
            o_ = gate(t, 3, ract, "o")
            c = s.binary("add", s.binary("mul", f_, c, (u,), f"t{t}/fc"),
                         s.binary("mul", i_, g_, (u,), f"t{t}/ig"), (u,), f"t{t}/cell")
            tc = s.op("activation", (c,), (u,), f"t{t}/act_cell", {"activation": act})
            h = s.binary("mul", o_, tc, (u,), f"t{t}/state")
        else:  # GRU
            z = gate(t, 0, ract, "z")
            r = gate(t, 1, ract, "r")
            xh = s.step_slice(xw, t, 2 * u, 3 * u, f"t{t}/xh")
            if reset_after:
                rb = None if rec_bias is None else rec_bias[2 * u:]
                hh = s.dense(h, rec[:, 2 * u:], rb, f"t{t}/hh", (u,))
                rhh = s.binary("mul", r, hh, (u,), f"t{t}/rhh")
            else:
                rh = s.binary("mul", r, h, (u,), f"t{t}/rh")
                rhh = s.dense(rh, rec[:, 2 * u:], None, f"t{t}/rhh", (u,))
            n = s.binary("add", xh, rhh, (u,), f"t{t}/candidate", act)
            d = s.binary("sub", h, n, (u,), f"t{t}/diff")
            h = s.binary("add", n, s.binary("mul", z, d, (u,), f"t{t}/zd"), (u,),
                         f"t{t}/state")
        states.append(h)
    return states, u


def _output(b: Any, layer: Any, states: list[str], u: int, sequences: bool,
            out_kt: Any) -> str:
    """The layer's output tensor: the last state, or the states stacked over time."""
    out = b.activation_out(layer, K.shape(out_kt))
    if sequences:
        b.ops.append(Op(f"{layer.name}/sequence", "pack", tuple(states), (out,), {"axis": 0},
                        layer.name))
    else:
        b.ops.append(Op(f"{layer.name}/output", "reshape", (states[-1],), (out,), {},
                        layer.name))
    return out


def _rnn(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = _config(layer)
    if cfg.get("return_state"):
        raise ModelError(f"{K.where(layer)}: return_state is not supported")
    states, u = _lower(b, layer, ins[0])
    return _output(b, layer, states, u, bool(cfg.get("return_sequences")), out_kt)


def _bidirectional(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    fwd, bwd = layer.forward_layer, layer.backward_layer
    for ly in (fwd, bwd):
        if type(ly).__name__ not in ("SimpleRNN", "GRU", "LSTM"):
            raise ModelError(f"{K.where(layer)}: wraps {type(ly).__name__}; armsim unrolls "
                             "SimpleRNN, GRU and LSTM")
    seq = bool(fwd.get_config().get("return_sequences"))
    fs, u = _lower(b, fwd, ins[0], "/forward")
    bs, _u = _lower(b, bwd, ins[0], "/backward")
    if seq:
        bs = bs[::-1]  # Keras aligns the backward sequence with the forward one in time
    else:
        fs, bs = fs[-1:], bs[-1:]
    mode = cfg.get("merge_mode", "concat")
    merged = []
    for t, (a, c) in enumerate(zip(fs, bs)):
        name = f"{layer.name}/merge{t}"
        if mode == "concat":
            y = b.add_tensor(Tensor(b.name_for(name), (2 * u,), "float32", "activation"))
            b.ops.append(Op(name, "concat", (a, c), (y,), {"axis": 0}, layer.name))
        elif mode in ("sum", "mul", "ave"):
            kind = {"sum": "add", "mul": "mul", "ave": "average"}[mode]
            y = b.add_tensor(Tensor(b.name_for(name), (u,), "float32", "activation"))
            b.ops.append(Op(name, kind, (a, c), (y,), {"activation": LINEAR}, layer.name))
        else:
            raise ModelError(f"{K.where(layer)}: merge_mode {mode!r} is not supported")
        merged.append(y)
    width = 2 * u if mode == "concat" else u
    return _output(b, layer, merged, width, seq, out_kt)


class Recurrent(OpKind):
    name = "recurrent"
    summary = ("a recurrent layer (SimpleRNN, GRU, LSTM, Bidirectional) unrolled into the "
               "ops above over its time steps; never an op of a graph")
    keras = {"SimpleRNN": _rnn, "GRU": _rnn, "LSTM": _rnn, "Bidirectional": _bidirectional}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        raise ModelError(f"op {op.name}: recurrent layers are unrolled on reading")


KIND = Recurrent()
