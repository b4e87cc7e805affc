"""``lstm``: an int8 UNIDIRECTIONAL_SEQUENCE_LSTM (int8 input, weights and output, int16 cell
state) on CMSIS-NN's ``arm_lstm_unidirectional_s8``, or a 16x8 one (int16 input, output and
hidden state, int64 biases) on ``arm_lstm_unidirectional_s16``, every inference from a zero
state (as TFLM's CMSIS-NN kernel runs it). A float32 file's LSTM is unrolled instead
(:mod:`armsim.ops.recurrent`, which reads the operator and makes this op for int8 files).

The parameters are TFLM's (``lstm_eval_common.cc`` PrepareGateParametersInteger and the
CMSIS-NN kernel's port of them): each gate's input and recurrent projections rescaled to
the gates' fixed Q3.12 input (2^-12), the gates' Q0.15 outputs (2^-15) multiplied into the
cell state's scale (a power of two) and into the hidden state's; the effective biases fold
the input's and the hidden state's zero points into each row's weight sum
(``arm_vector_sum_s8``), computed here.

Inputs of an op: the input (T, F), the four input weights [i, f, c, o] (U, F), the four
recurrent weights (U, U), the four int32 biases (U,). Attributes: ``hidden`` and ``cell``
(the state tensors' quantization), ``cell_clip`` (float), ``tanh`` (the cell's activation).
"""

from __future__ import annotations

import math

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import Int8Context

#: The gates' input and output scales in TFLM's integer LSTM (Q3.12 in, Q0.15 out).
GATE_IN, GATE_OUT = 2.0 ** -12, 2.0 ** -15
#: CMSIS-NN's gate order in cmsis_nn_lstm_params and the file's [i, f, c, o] positions.
_ORDER = (("forget", 1), ("input", 0), ("cell", 2), ("output", 3))


class Lstm(OpKind):
    name = "lstm"
    summary = "int8 LSTM over a sequence (TFLite UNIDIRECTIONAL_SEQUENCE_LSTM) [cell_clip]"
    int8_scratch = True

    def macs(self, g: Graph, op: Op) -> int:
        steps, f = g.tensors[op.inputs[0]].shape
        u = g.tensors[op.inputs[5]].shape[0]
        return steps * 4 * u * (f + u)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        raise ModelError(f"op {op.name}: an int8 LSTM has no float reference (its float32 "
                         "file is unrolled)")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        g, a, p = ctx.g, op.attrs, f"op{i}"
        x, w, bias = op.inputs[0], op.inputs[1:9], op.inputs[9:13]
        steps, f = g.tensors[x].shape
        u = g.tensors[w[4]].shape[0]
        qx, hid, cell = ctx.quant(x), a["hidden"], a["cell"]
        s16 = ctx.s16(op)
        power = math.log2(cell.scale)
        if power != round(power):
            raise ModelError(f"op {op.name}: the cell state's scale {cell.scale:g} is not a "
                             "power of two (TFLM's integer LSTM needs one)")
        clip = int(min(max(a["cell_clip"] / float(np.float32(cell.scale)), -32768.0), 32767.0))
        gates = []
        for gate, k in _ORDER:
            wi, wh = g.tensors[w[k]], g.tensors[w[4 + k]]
            assert wi.data is not None and wh.data is not None
            mi = Q.quantize_multiplier(float(qx.scale) * float(ctx.quant(w[k]).scale) / GATE_IN)
            mh = Q.quantize_multiplier(float(hid.scale) * float(ctx.quant(w[4 + k]).scale)
                                       / GATE_IN)
            b = g.tensors[bias[k]].data
            assert b is not None
            rows_i = wi.data.astype(np.int64).sum(axis=1)
            rows_h = wh.data.astype(np.int64).sum(axis=1)
            eff_i = b.astype(np.int64) + rows_i * -qx.zero_point
            eff_h = rows_h * -hid.zero_point
            acc = "int64_t" if s16 else "int32_t"  # 16x8: int64 biases and sums
            ei = ctx.array(acc, f"{p}_{gate}_input_bias", [int(v) for v in eff_i])
            eh = ctx.array(acc, f"{p}_{gate}_hidden_bias", [int(v) for v in eff_h])
            act = "ARM_TANH" if gate == "cell" and a["tanh"] else "ARM_SIGMOID"
            gates.append(f"{{{mi[0]}, {mi[1]}, {ctx.ptr(w[k])}, {ei}, {mh[0]}, {mh[1]}, "
                         f"{ctx.ptr(w[4 + k])}, {eh}, {ctx.ptr(bias[k])}, {act}}}")
        fc = Q.quantize_multiplier(GATE_OUT * float(cell.scale) / float(cell.scale))
        ic = Q.quantize_multiplier(GATE_OUT * GATE_OUT / float(cell.scale))
        out = Q.quantize_multiplier(GATE_OUT * GATE_OUT / float(hid.scale))
        prm = ctx.static("cmsis_nn_lstm_params", f"{p}_params",
                         f"{{0, 1, {steps}, {f}, {u}, {-qx.zero_point}, {fc[0]}, {fc[1]}, "
                         f"{ic[0]}, {ic[1]}, {clip}, {int(round(power))}, {out[0]}, {out[1]}, "
                         f"{hid.zero_point}, " + ", ".join(gates) + "}")
        return OpCode([
            f"cmsis_nn_context sc = {ctx.scratch(i)};\n"
            f"    cmsis_nn_lstm_context buf = {{(int16_t *)sc.buf, (int16_t *)sc.buf + {u}, "
            f"(int16_t *)sc.buf + {2 * u}, 0}};\n"
            f"    ARMSIM_CHECK({i}, arm_lstm_unidirectional_{'s16' if s16 else 's8'}("
            f"{ctx.ptr(x)}, "
            f"{ctx.ptr(op.outputs[0], const=False)}, {prm}, &buf));"],
            f"{3 * u * 2}")


KIND = Lstm()
