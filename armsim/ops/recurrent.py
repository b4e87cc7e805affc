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

TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM (float32: what the converter makes of a Keras 2 LSTM)
is read into the same form (:class:`Cell`) and unrolled the same way.

The initial state is a constant zero vector. No op of this kind is ever in a graph: it only
names the lowering in the registry (its layers' handlers live here, one module for the
family). The layer's own output tensor is the last op's, so per-layer diagnosis still
compares it with Keras.

GRU follows Keras' two forms: ``reset_after=True`` (the default: the reset gate multiplies
the recurrent projection, recurrent bias included) and ``False`` (it multiplies the state
before its projection). LSTM's gates are Keras' [i, f, c, o]; GRU's [z, r, h]."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Cell:
    """One recurrent layer's weights in Keras' layout, whatever file they came from.

    Attributes:
        kind: "SimpleRNN", "GRU" or "LSTM"
        kernel: (F, gates * U) input weights, gates in Keras' order (LSTM [i, f, c, o],
            GRU [z, r, h])
        rec: (U, gates * U) recurrent weights
        in_bias: (gates * U,) bias added to the input projection, or None
        rec_bias: (gates * U,) bias of the recurrent projection (GRU reset_after), or None
        act, ract: the cell's activation and its gates' (recurrent) activation
        reset_after: GRU's form
        backwards: the steps run last to first
        h0, c0: initial state and cell (zeros for Keras' stateless layers)
        cell_clip: an LSTM's cell state clipped to [-cell_clip, cell_clip] each step (0:
            not; TFLite's option, 10 in what the converter makes of a Keras 2 LSTM)
    """

    kind: str
    kernel: np.ndarray
    rec: np.ndarray
    in_bias: np.ndarray | None
    rec_bias: np.ndarray | None
    act: Activation
    ract: Activation
    reset_after: bool = False
    backwards: bool = False
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    cell_clip: float = 0.0

    @property
    def units(self) -> int:
        return int(self.rec.shape[0])


def _keras_cell(layer: Any) -> Cell:
    """A Keras SimpleRNN/GRU/LSTM's weights and settings."""
    cfg = _config(layer)
    cls = type(layer).__name__
    cell = getattr(layer, "cell", layer)
    weights = [np.asarray(w, np.float64) for w in cell.get_weights()]
    kernel, rec = weights[0], weights[1]
    bias = weights[2] if cfg.get("use_bias", True) and len(weights) > 2 else None
    reset_after = cls == "GRU" and bool(cfg.get("reset_after", True))
    in_bias = rec_bias = None
    if bias is not None:
        if reset_after:
            in_bias, rec_bias = bias.reshape(2, -1)
        else:
            in_bias = bias.reshape(-1)
    return Cell(cls, kernel, rec, in_bias, rec_bias,
                activations.from_keras(cfg.get("activation", "tanh"), K.where(layer)),
                activations.from_keras(cfg.get("recurrent_activation", "sigmoid"),
                                       K.where(layer)),
                reset_after, bool(cfg.get("go_backwards")))


def _lower(b: Any, layer: Any, src: str, tag: str = "") -> tuple[list[str], int]:
    """The states of every step, in processing order, and the number of units."""
    shape = b.tensors[src].shape
    if len(shape) != 2:
        raise ModelError(f"{K.where(layer)}: input of shape {list(shape)}; armsim unrolls a "
                         "(time, features) sequence of static length")
    return unroll(_Steps(b, layer, tag), src, shape[0], _keras_cell(layer))


def unroll(s: Any, src: str, steps: int, cell: Cell) -> tuple[list[str], int]:
    """``cell`` over the ``steps`` rows of ``src`` as ops made through ``s`` (``tensor``,
    ``op``, ``const``): the state of every step in processing order, and the units."""
    u, cls = cell.units, cell.kind
    gates = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[cls]
    act, ract, rec, rec_bias = cell.act, cell.ract, cell.rec, cell.rec_bias
    xw = s.dense(src, cell.kernel, cell.in_bias, "input_projection", (steps, gates * u))
    h = s.const("initial_state", np.zeros(u) if cell.h0 is None else cell.h0, "weight")
    c = "" if cls != "LSTM" else \
        s.const("initial_cell", np.zeros(u) if cell.c0 is None else cell.c0, "weight")
    order = range(steps - 1, -1, -1) if cell.backwards else range(steps)
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
            clip = Activation("clip", max_value=cell.cell_clip) if cell.cell_clip else LINEAR
            c = s.binary("add", s.binary("mul", f_, c, (u,), f"t{t}/fc"),
                         s.binary("mul", i_, g_, (u,), f"t{t}/ig"), (u,), f"t{t}/cell", clip)
            tc = s.op("activation", (c,), (u,), f"t{t}/act_cell", {"activation": act})
            h = s.binary("mul", o_, tc, (u,), f"t{t}/state")
        else:  # GRU
            z = gate(t, 0, ract, "z")
            r = gate(t, 1, ract, "r")
            xh = s.step_slice(xw, t, 2 * u, 3 * u, f"t{t}/xh")
            if cell.reset_after:
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


class _FileSteps(_Steps):
    """The lowering of TFLite operator ``i`` into ops returned to the reader (``made``)."""

    def __init__(self, b: Any, i: int, prefix: str) -> None:
        self.b, self.i, self.prefix, self.tag = b, i, prefix, ""
        self.n = 0
        self.made: list[Op] = []

    def _unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.b.tensors:
            k += 1
            name = f"{base}#{k}"
        return name

    def tensor(self, what: str, shape: tuple[int, ...]) -> str:
        name = self._unique(f"{self.prefix}/{what}")
        self.b.tensors[name] = Tensor(name, shape, "float32", "activation")
        return name

    def op(self, kind: str, ins: tuple[str, ...], out_shape: tuple[int, ...], what: str,
           attrs: dict | None = None) -> str:
        out = self.tensor(what, out_shape)
        self.made.append(Op(f"{self.prefix}/{what}", kind, ins, (out,), attrs or {},
                            self.b.r.op_name(self.i)))
        return out

    def const(self, what: str, data: np.ndarray, role: str) -> str:
        arr = np.asarray(data, np.float32)
        name = self._unique(f"{self.prefix}.{what}")
        self.b.tensors[name] = Tensor(name, tuple(arr.shape), "float32", role, data=arr)
        return name


#: UNIDIRECTIONAL_SEQUENCE_LSTM's fused activation (the cell's; its gates are sigmoids).
_CELL_ACTIVATION = {0: LINEAR, 1: Activation("relu"), 3: Activation("relu6"),
                    4: Activation("tanh")}
#: Its optional inputs armsim does not run, by index (TFLite's lstm_shared.h).
_LSTM_EXTRAS = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection",
                17: "projection", 20: "layer normalization", 21: "layer normalization",
                22: "layer normalization", 23: "layer normalization"}


def _lstm_checked(b: Any, i: int, o: Any, ins: list[int]) -> None:
    """A ModelError for an LSTM operator armsim does not run, either dtype: time-major,
    projection clip, diagonal recurrent weights, peephole/projection/layer-norm weights."""
    if o is not None and (o.TimeMajor() or o.ProjClip() or o.DiagonalRecurrentTensors()
                          or o.CellClip() < 0):
        raise ModelError(f"{b.where(i)}: time-major input, projection clipping and diagonal "
                         "recurrent weights are not supported")
    used = sorted({why for k, why in _LSTM_EXTRAS.items() if k < len(ins) and ins[k] >= 0})
    if used:
        raise ModelError(f"{b.where(i)}: an LSTM with {', '.join(used)} weights is not "
                         "supported (armsim runs Keras' LSTM)")


def _tflite_lstm(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
    """A float32 UNIDIRECTIONAL_SEQUENCE_LSTM (what the converter makes of a Keras 2 LSTM):
    its weights in Keras' layout, unrolled like a Keras LSTM; the output is every step's
    state, stacked. The initial state and cell are the file's (its variable tensors, zero:
    armsim runs every inference from them, as a stateless Keras layer does)."""
    o = b.r.options(i, "UnidirectionalSequenceLSTMOptions")
    _lstm_checked(b, i, o, ins)
    if not b.float32:
        return [_int8_lstm(b, i, o, ins, outs)]
    if len(ins) < 20 or any(ins[k] < 0 or b.r.data(ins[k]) is None for k in range(1, 9)):
        raise ModelError(f"{b.where(i)}: an LSTM without an input gate (CIFG) or with "
                         "non-constant weights is not supported")
    code = o.FusedActivationFunction() if o is not None else 4
    if code not in _CELL_ACTIVATION:
        raise ModelError(f"{b.where(i)}: cell activation {code} is not supported")
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    steps = b.tensors[x].shape[0]
    if len(b.tensors[x].shape) != 2:
        raise ModelError(f"{b.where(i)}: input of shape {list(b.tensors[x].shape)}; armsim "
                         "unrolls a (time, features) sequence")
    w = [np.asarray(b.r.data(ins[k]), np.float64) for k in range(1, 9)]
    units = w[4].shape[0]
    bias = [np.zeros(units) if ins[k] < 0 or b.r.data(ins[k]) is None
            else np.asarray(b.r.data(ins[k]), np.float64) for k in range(12, 16)]
    init = [None if ins[k] < 0 or b.r.data(ins[k]) is None
            else np.asarray(b.r.data(ins[k]), np.float64).reshape(-1) for k in (18, 19)]
    cell = Cell("LSTM", np.concatenate([m.T for m in w[:4]], axis=1),
                np.concatenate([m.T for m in w[4:]], axis=1), np.concatenate(bias), None,
                _CELL_ACTIVATION[code], Activation("sigmoid"), h0=init[0], c0=init[1],
                cell_clip=float(o.CellClip()) if o is not None else 0.0)
    s = _FileSteps(b, i, f"lstm_{i}")
    states, _u = unroll(s, x, steps, cell)
    s.made.append(Op(f"lstm_{i}/sequence", "pack", tuple(states), (y,), {"axis": 0},
                     b.r.op_name(i)))
    return s.made


def _int8_lstm(b: Any, i: int, o: Any, ins: list[int], outs: list[int]) -> Op:
    """An int8 (or 16x8) UNIDIRECTIONAL_SEQUENCE_LSTM as one ``lstm`` op (CMSIS-NN's
    kernel)."""
    if o is None:
        raise ModelError(f"{b.where(i)}: the operator has no options")
    if len(ins) < 20 or any(ins[k] < 0 for k in (*range(1, 9), *range(12, 16), 18, 19)):
        raise ModelError(f"{b.where(i)}: an LSTM without an input gate (CIFG), biases or "
                         "state tensors is not supported")
    hidden, cell = b.r.quant(ins[18]), b.r.quant(ins[19])
    if b.r.dtype(ins[19]) != "int16" or hidden is None or cell is None:
        raise ModelError(f"{b.where(i)}: armsim runs the int8 LSTM with an int16 cell state "
                         f"(this one's is {b.r.dtype(ins[19])})")
    if b.r.dtype(ins[18]) != b.act_dtype:
        raise ModelError(f"{b.where(i)}: a {b.r.dtype(ins[18])} hidden state in a model of "
                         f"{b.act_dtype} activations")
    if o.FusedActivationFunction() not in (4, 6):  # TANH, SIGMOID
        raise ModelError(f"{b.where(i)}: cell activation {o.FusedActivationFunction()} is "
                         "not supported (tanh or sigmoid)")
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    ws = [b.const(i, ins[k], "weight", "int8") for k in range(1, 9)]
    if any(b.tensors[w].quant.per_channel for w in ws):
        raise ModelError(f"{b.where(i)}: per-channel LSTM weights are not supported")
    biases = [b.const(i, ins[k], "bias", "int64" if b.int16 else "int32")
              for k in range(12, 16)]
    return Op(f"lstm_{i}", "lstm", (x, *ws, *biases), (y,),
              {"hidden": hidden, "cell": cell, "cell_clip": float(o.CellClip()),
               "tanh": o.FusedActivationFunction() == 4}, b.r.op_name(i))


class Recurrent(OpKind):
    name = "recurrent"
    summary = ("a recurrent layer (SimpleRNN, GRU, LSTM, Bidirectional) unrolled into the "
               "ops above over its time steps; never an op of a graph")
    keras = {"SimpleRNN": _rnn, "GRU": _rnn, "LSTM": _rnn, "Bidirectional": _bidirectional}
    tflite = {"UNIDIRECTIONAL_SEQUENCE_LSTM": _tflite_lstm}
    tflite_int16 = frozenset(tflite)  # 16x8 files: the lstm kind on the s16 kernel

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        raise ModelError(f"op {op.name}: recurrent layers are unrolled on reading")


KIND = Recurrent()
