"""SVDF on armsim's generated firmware: TFLM's own keyword-spotting models (read in place from
../shared), an int8 body with an int16 input (QUANTIZE int16 -> int8), seven SVDFs (int16
state and time weights in one file, int8 in the other) on CMSIS-NN's arm_svdf_state_s16_s8 /
arm_svdf_s8, an int8 -> int16 softmax (arm_softmax_s8_s16) and an int32 output (QUANTIZE
int16 -> int32): every output equal to TFLM's on the host, every op of the int16-state file
equal to the TFLite interpreter's, and the int8-state SVDF equal to a numpy port of TFLM's
reference integer SVDF."""

from __future__ import annotations

import json

import numpy as np
import pytest

import armsim
from armsim import quant as Q
from armsim.check import int8 as I
from armsim.cli import main
from armsim.firmware.tflm import tree
from armsim.model.frontends import tflite as T
from armsim.model.tflite_host import TFLiteHost
from armsim.session.session import Session

THIRD_PARTY = tree.locate(required=False)
pytestmark = pytest.mark.skipif(THIRD_PARTY is None, reason="../shared/third_party is absent")
MODELS = THIRD_PARTY.micro / "models" if THIRD_PARTY else None


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    path = tmp_path_factory.mktemp("svdf") / "x.npy"
    np.save(path, np.random.default_rng(0).integers(-32768, 32767, (4, 96)).astype(np.int16))
    return path


def test_keyword_models_read_as_svdf_ops_in_a_mixed_graph():
    for name, state in (("keyword_scrambled", "int16"), ("keyword_scrambled_8bit", "int8")):
        g = T.load(MODELS / f"{name}.tflite")
        assert g.kind == "int8/int16" and g.dtype == "int16" and g.output_dtype == "int32"
        svdfs = [o for o in g.ops if o.kind == "svdf"]
        assert len(svdfs) == 7 and all(o.attrs["state_dtype"] == state for o in svdfs)
        assert [o.layer for o in g.ops][-2:] == ["SOFTMAX", "QUANTIZE"]


@pytest.mark.parametrize("name", ["keyword_scrambled", "keyword_scrambled_8bit"])
def test_keyword_models_equal_tflm(name, inputs, capsys):
    assert main(["validate", "--model", str(MODELS / f"{name}.tflite"), "--inputs",
                 str(inputs), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["passed"] and res["bit_exact_inputs"] == 4 and "TFLM" in res["host_source"]


def _session(g):
    return Session(g, armsim.plan(g), cpu="m4f", mcu="large")


def test_every_op_of_the_int16_state_model_equals_the_interpreter(inputs):
    path = MODELS / "keyword_scrambled.tflite"
    g = T.load(path)
    s, host = _session(g), TFLiteHost(path, g)
    seen = set()
    for x in np.load(inputs)[:2]:
        d = I.op_diffs(s, host, g, x, x)
        assert d["first_divergence"] is None, d
        assert len(d["ops"]) == len(g.ops)
        seen.add(tuple(s.run(x, per_op=True).tensors[g.ops[1].outputs[0]].reshape(-1)))
    assert len(seen) == 2  # the first SVDF's output depends on the input


def _reference_svdf(g, op, x):
    """TFLM's EvalIntegerSvdfReference from the reset state (every entry the state's zero
    point): the feature projection stored as the newest state column (zero point added in
    the state's type, wrapping as C's cast does), the time projection, the rank sum, bias,
    rescale, int8 clamp."""
    f32 = np.float32
    qx, qf, qt, qo = (g.tensors[n].quant for n in (*op.inputs[:3], op.outputs[0]))
    qs, dt = op.attrs["state"], op.attrs["state_dtype"]
    m1 = Q.quantize_multiplier(float(f32(qx.scale) * f32(qf.scale) / f32(qs.scale)))
    m2 = Q.quantize_multiplier(float(f32(qs.scale) * f32(qt.scale) / f32(qo.scale)))
    wf = g.tensors[op.inputs[1]].data.astype(np.int64)
    wt = g.tensors[op.inputs[2]].data.astype(np.int64)
    lo, hi = Q.RANGES[dt]
    dot = wf @ (x.astype(np.int64) - qx.zero_point)
    new = np.clip([Q.requantize(int(v), *m1) for v in dot], lo, hi)
    stored = (qs.zero_point + new).astype(dt).astype(np.int64)
    acc = (wt[:, -1] * (stored - qs.zero_point)).reshape(-1, op.attrs["rank"]).sum(axis=1)
    if len(op.inputs) > 3:
        acc = acc + g.tensors[op.inputs[3]].data.astype(np.int64)
    y = np.array([Q.requantize(int(v), *m2) for v in acc]) + qo.zero_point
    return np.clip(y, -128, 127)


def test_int8_state_svdf_equals_tflms_reference_arithmetic(inputs):
    g = T.load(MODELS / "keyword_scrambled_8bit.tflite")
    s = _session(g)
    svdfs = [o for o in g.ops if o.kind == "svdf"]
    for x in np.load(inputs)[:2]:
        r = s.run(x, per_op=True)
        for op in svdfs:
            got = r.tensors[op.outputs[0]].reshape(-1)
            want = _reference_svdf(g, op, r.tensors[op.inputs[0]].reshape(-1))
            np.testing.assert_array_equal(got, want, err_msg=op.name)
