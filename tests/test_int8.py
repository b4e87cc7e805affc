"""int8 models on CMSIS-NN: bit-exact against the TFLite reference interpreter, per CPU."""

from __future__ import annotations

import json
import math
import re
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import armsim
from armsim import quant as Q
from armsim.model import zoo
from armsim.check import int8 as I
from armsim.cli import main
from armsim.errors import ModelError
from armsim.model.frontends import tflite as T
from armsim.model.quantize import quantize
from armsim.session.session import Session
from armsim.model.tflite_host import TFLiteHost

ROOT = Path(__file__).resolve().parent.parent
#: Zoo models quantized in the tests (fixed seeds): what each one exercises.
FAST = {"dscnn": "depthwise, avg pool, softmax", "conv1d": "leaky ReLU, reduce max, logistic",
        "concat": "MUL/ADD with constants, concatenation, max pool"}
SLOW = {"lenet5": "tanh, per-channel dense", "mobilenet": "MEAN, depthwise stride 2",
        "resnet": "residual ADD", "autoencoder": "dense only"}


@pytest.fixture(scope="session")
def tflite_dir(tmp_path_factory, default_ref, mnist_dir) -> Path:
    """Fully-int8 files of the seed CNN (calibrated on 64 MNIST training images) and of
    the zoo (random inputs, fixed seeds), quantized once."""
    from armsim.model import mnist

    d = tmp_path_factory.mktemp("int8")
    train = mnist.load("train", mnist_dir)
    quantize(default_ref[1], mnist.scale(train.images[:64]), d / "seed.tflite")
    for name in {**FAST, **SLOW}:
        m = zoo.build(name)
        quantize(m, zoo.sample_inputs(m, 32, seed=1), d / f"{name}.tflite")
    return d


def _int8_inputs(g, n: int, seed: int) -> np.ndarray:
    shape = g.tensors[g.inputs[0]].shape
    return np.random.default_rng(seed).integers(-128, 128, (n,) + shape).astype(np.int8)


def _bit_exact(path: Path, cpu: str, n: int = 2) -> None:
    g = T.load(path)
    s = Session(g, armsim.plan(g, cpu=cpu), cpu, "large")
    host = TFLiteHost(path, g)
    for k, x in enumerate(_int8_inputs(g, n, seed=3)):
        r = s.run(x, per_op=(k == 0))  # the first run also goes through the alignment check
        host.invoke(x)
        np.testing.assert_array_equal(r.outputs, host.outputs_q(), err_msg=f"{path.name} {cpu}")
        if k == 0:
            ref = host.op_outputs()
            for op in g.ops:
                name = op.outputs[0]
                if name in ref and name in r.tensors:
                    np.testing.assert_array_equal(r.tensors[name], ref[name],
                                                  err_msg=f"{path.name} {cpu} op {op.name}")


# -- quantization arithmetic ----------------------------------------------------------------
@pytest.mark.parametrize("m, expected", [
    (0.5, (1 << 30, 0)), (1.0, (1 << 30, 1)), (0.75, (1610612736, 0)),
    (0.25, (1 << 30, -1)), (2.0 ** -40, (0, 0)), (0.0, (0, 0)),
    # frexp(0.003) = 0.768 * 2**-8: round(0.768 * 2**31) = 1649267442
    (0.003, (1649267442, -8)),
    # q rounds up to 1.0: the multiplier halves and the shift grows
    (1.0 - 2.0 ** -33, (1 << 30, 1)),
])
def test_quantize_multiplier_known_values(m, expected):
    assert Q.quantize_multiplier(m) == expected


def test_requantize_rounds_twice_as_tflite_does():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        m = float(rng.uniform(1e-4, 0.999))
        x = int(rng.integers(-2**20, 2**20))
        mult, shift = Q.quantize_multiplier(m)
        got = Q.requantize(x, mult, shift)
        # double rounding: the doubling high multiply, then a rounding shift; both round
        # half away from zero, so the result is within one of the exact product
        assert abs(got - x * m) <= 1.0
    # a known case where rounding twice differs from rounding once (-6527.53 / 256)
    assert Q.requantize(-7365, 1903305362, -8) == -26
    assert round(-7365 * 1903305362 / 2**39) == -25


def test_activation_range_and_lookup_table():
    q = Q.Quant((0.05,), (-10,))
    assert Q.activation_range(armsim.graph.Activation("relu"), q) == (-10, 127)
    assert Q.activation_range(armsim.graph.Activation("relu6"), q) == (-10, 110)
    t = Q.lookup_table("tanh", Q.Quant((0.1,), (0,)), Q.Quant((1 / 128,), (0,)))
    assert t[0] == 0 and t[10] == round(math.tanh(1.0) * 128) and t[0x80] == -128  # tanh(-12.8) * 128 rounds to -128


def test_softmax_and_mean_parameters():
    mult, shift, diff_min = Q.softmax_params(1.0, 0.1)
    assert shift >= 0 and mult >= 1 << 30 and diff_min < 0
    # 1/span folded into the multiplier: about s_in / s_out / span
    m, s = Q.mean_params(Q.Quant((0.02,), (0,)), Q.Quant((0.01,), (0,)), 49)
    assert abs(m * 2.0 ** (s - 31) - 2 / 49) < 1e-6


# -- the frontend -----------------------------------------------------------------------------
def test_frontend_reads_quantization_and_peels_shape_ops(tflite_dir):
    g = T.load(tflite_dir / "dscnn.tflite")
    assert g.quantized and g.dtype == "int8"
    kinds = [o.kind for o in g.ops]
    assert "depthwise_conv2d" in kinds and "fully_connected" in kinds
    assert not any(o.layer in T.SHAPE_OPS for o in g.ops)  # Flatten's SHAPE/PACK are gone
    w = g.tensors[g.ops[0].inputs[1]]
    assert w.dtype == "int8" and w.quant is not None and w.quant.per_channel
    assert g.tensors[g.ops[0].inputs[2]].dtype == "int32"


def test_hybrid_files_are_named_with_what_to_do_and_16x8_ones_are_read(tmp_path, capsys):
    """A dynamic-range file is refused with what it is and how to get a file armsim runs; a
    float32 file and a 16x8 one (tests/test_16x8.py runs those) are read."""
    import tensorflow as tf

    keras = zoo._keras()
    x = keras.Input((6, 6, 1))
    model = keras.Model(x, keras.layers.Dense(64)(keras.layers.Flatten()(
        keras.layers.Conv2D(8, 3)(x))))  # weights big enough for dynamic-range quantization
    rep = [np.random.default_rng(0).normal(size=(1, 6, 6, 1)).astype(np.float32)]
    files = {}
    for kind in ("float32", "hybrid", "int16"):
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        if kind != "float32":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if kind == "int16":
            conv.representative_dataset = lambda: iter([rep])
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        files[kind] = tmp_path / f"{kind}.tflite"
        files[kind].write_bytes(conv.convert())
    assert not T.load(files["float32"]).quantized
    assert T.load(files["int16"]).dtype == "int16"
    with pytest.raises(ModelError) as e:
        T.load(files["hybrid"])
    assert all(w in str(e.value) for w in ["dynamic-range", "representative dataset"])
    assert main(["simulate", "--model", str(files["hybrid"])]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_unsupported_op_is_refused_by_name_and_index(tmp_path):
    keras = zoo._keras()
    x = keras.Input((8, 8, 2))
    y = keras.layers.Conv2D(3, 3)(x)
    y = keras.ops.sqrt(keras.ops.abs(y) + 1.0)
    y = keras.layers.GlobalAveragePooling2D()(y)
    model = keras.Model(x, y)
    path = tmp_path / "sqrt.tflite"
    quantize(model, np.random.default_rng(0).normal(size=(8, 8, 8, 2)).astype(np.float32), path)
    with pytest.raises(ModelError) as e:
        T.load(path)
    # SQRT has no int8 kernel in armsim: it is named, by index and tensor; none of the
    # operators armsim runs is
    text = str(e.value)
    assert re.search(r"op \d+ SQRT \(", text), text
    assert "does not run in an int8 model:" in text and "MEAN (" not in text \
        and "CONV_2D (" not in text and "ABS (" not in text
    assert e.value.kind == "tflite" and set(e.value.unsupported) == {"SQRT"}


def test_uint8_edges_are_refused_saying_how_to_convert(tmp_path):
    """An int8 model converted with uint8 input and output (QUANTIZE at the edges) is
    refused before any work, saying what it is and how to convert it instead."""
    import tensorflow as tf

    keras = zoo._keras()
    m = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Conv2D(2, 3),
                          keras.layers.Flatten(), keras.layers.Dense(3)])
    xs = np.random.default_rng(1).normal(size=(8, 4, 4, 2)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in xs)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.uint8
    path = tmp_path / "u8.tflite"
    path.write_bytes(conv.convert())
    with pytest.raises(ModelError, match="input or output is uint8 .*tf.int8 or "
                                         "tf.float32") as e:
        T.load(path)
    assert e.value.kind == "tflite-edges"


def test_damaged_flatbuffer_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.tflite"
    p.write_bytes(b"\x18\x00\x00\x00TFL3" + b"\xff" * 40)
    with pytest.raises(ModelError):
        T.load(p)


# -- bit-exact on every core ------------------------------------------------------------------
@pytest.mark.parametrize("cpu", ["m0", "m4f", "m7"])
def test_seed_and_depthwise_models_bit_exact(tflite_dir, cpu):
    _bit_exact(tflite_dir / "seed.tflite", cpu)
    _bit_exact(tflite_dir / "dscnn.tflite", cpu)


@pytest.mark.parametrize("name", sorted(FAST))
def test_zoo_int8_bit_exact_m4f(tflite_dir, name):
    _bit_exact(tflite_dir / f"{name}.tflite", "m4f")


@pytest.mark.slow
@pytest.mark.parametrize("cpu", ["m0", "m3", "m4f", "m7", "m7d", "m33"])
@pytest.mark.parametrize("name", ["seed", *sorted({**FAST, **SLOW})])
def test_zoo_int8_bit_exact_every_cpu(tflite_dir, name, cpu):
    _bit_exact(tflite_dir / f"{name}.tflite", cpu)


def test_tampered_weight_byte_is_caught_and_the_op_named(tflite_dir):
    path = tflite_dir / "dscnn.tflite"
    g = T.load(path)
    plan = armsim.plan(g, weights_in="sram")  # weights in RAM, where a stray store can reach
    s = Session(g, plan, "m4f", "large")
    host = TFLiteHost(path, g)
    victim = g.ops[2]  # the second conv
    b = plan.for_tensor(victim.inputs[1])
    raw = bytearray(s.machine.read(b.address, b.nbytes))
    raw[5] = (raw[5] + 77) & 0xFF
    s.machine.write_blocks([(b.address, bytes(raw))])
    x = _int8_inputs(g, 1, seed=5)[0]
    d = I.op_diffs(s, host, g, x, x.astype(np.float32))
    assert d["first_divergence"] == victim.name
    first = next(o for o in d["ops"] if o["op"] == victim.name)
    assert first["max_abs_diff_q"] > 0 and first["elements_differing"] > 0


def test_cmsis_nn_dense_kernels_are_one_step_off_the_reference_interpreter(tflite_dir):
    """--kernels cmsis-nn runs Arm's dense kernels (TFLM's integer requantization); the
    interpreter's reference FULLY_CONNECTED rounds in double precision. Either they agree,
    or they differ by one step, only in dense layers."""
    path = tflite_dir / "lenet5.tflite"
    g = T.load(path)
    s = Session(g, armsim.plan(g), "m4f", "large", kernels="cmsis-nn")
    host = TFLiteHost(path, g)
    worst = 0
    for x in _int8_inputs(g, 3, seed=0):
        d = I.op_diffs(s, host, g, x, x.astype(np.float32))
        first = d["first_divergence"]
        if first is not None:
            op = next(o for o in g.ops if o.name == first)
            assert op.kind == "fully_connected"
            worst = max(worst, next(o["max_abs_diff_q"] for o in d["ops"] if o["op"] == first))
    assert worst <= 1


# -- the commands -----------------------------------------------------------------------------
def _armsim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "armsim", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})})


def test_simulate_json_has_int8_and_real_outputs(tflite_dir, tmp_path):
    g = T.load(tflite_dir / "conv1d.tflite")
    xs = tmp_path / "x.npy"
    np.save(xs, _int8_inputs(g, 2, seed=9))
    p = _armsim("simulate", "--model", str(tflite_dir / "conv1d.tflite"), "--inputs", str(xs),
                "--json", "--cpu", "m0")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert len(rows) == 2 and all(r["agree"] and r["max_abs_diff_q"] == 0 for r in rows)
    r = rows[0]
    q = g.tensors[g.outputs[0]].quant
    assert r["outputs"] == pytest.approx([q.scale * (v - q.zero_point) for v in r["outputs_q"]])
    assert r["versions"]["cmsis_nn"].startswith("99f736a")


def test_validate_int8_seed_with_float_model(tflite_dir):
    p = _armsim("validate", "--model", str(tflite_dir / "seed.tflite"), "--n", "40",
                "--float-model", "armsim/data/default_model.keras", "--json", "--jobs", "1")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["max_abs_diff_q"] == 0 and res["bit_exact_inputs"] == 40
    assert 0.99 < res["quantization"]["cos"] <= 1.0
    assert "float_accuracy" in res["quantization"]


def test_missing_cmsis_nn_is_exit_2_and_float_still_runs(tflite_dir, tmp_path):
    env = {"ARMSIM_CMSIS_NN_DIR": str(tmp_path / "nowhere")}
    p = _armsim("simulate", "--model", str(tflite_dir / "seed.tflite"), env=env)
    assert p.returncode == 2 and "CMSIS-NN" in p.stderr and "Traceback" not in p.stderr
    p = _armsim("simulate", "--image", "0", env=env)
    assert p.returncode == 0, p.stderr


def test_locate_names_where_it_looked(monkeypatch, tmp_path):
    from armsim.firmware import cmsis
    from armsim.errors import ToolchainError

    monkeypatch.delenv(cmsis.ENV, raising=False)
    monkeypatch.setattr(cmsis, "_candidates", lambda: [tmp_path / "a", tmp_path / "b"])
    assert cmsis.locate(required=False) is None
    with pytest.raises(ToolchainError) as e:
        cmsis.locate()
    assert str(tmp_path / "a") in str(e.value) and "float32 models do not need it" in str(e.value)


def test_only_the_sources_a_firmware_calls_are_built():
    from armsim.firmware import cmsis

    cm = cmsis.locate()
    srcs = {p.name for p in cmsis.sources_for(cm, {"arm_max_pool_s8"})}
    assert "arm_max_pool_s8.c" in srcs and not any("convolve" in n for n in srcs)
    conv = {p.name for p in cmsis.sources_for(cm, {"arm_convolve_wrapper_s8"})}
    assert {"arm_convolve_s8.c", "arm_convolve_1x1_s8_fast.c"} <= conv


def test_quantize_command_writes_a_model_armsim_reads(tmp_path):
    out = tmp_path / "seed.tflite"
    p = _armsim("quantize", "armsim/data/default_model.keras", "--calibration", "20",
                "--out", str(out), "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert out.stat().st_size == res["bytes"] and "CONV_2D" in res["ops"]
    assert T.load(out).quantized


# -- kernels that write where they should not ---------------------------------------------------
def test_check_bounds_passes_clean_kernels_and_keeps_results(tflite_dir):
    path = tflite_dir / "concat.tflite"
    g = T.load(path)
    s = Session(g, armsim.plan(g), "m4f", "large")
    x = _int8_inputs(g, 1, seed=2)[0]
    plain = s.run(x)
    checked = s.run(x, check_bounds=True)
    assert checked.overruns == []
    np.testing.assert_array_equal(plain.outputs, checked.outputs)
    assert checked.instructions == plain.instructions


def test_check_bounds_reports_a_store_past_an_ops_output(tflite_dir, monkeypatch):
    """A plan that reserves 3 bytes fewer than the first conv writes: the kernel's last
    stores land past the end, and the finding names the op, the function and the bytes."""
    from armsim.machine import bounds

    path = tflite_dir / "dscnn.tflite"
    g = T.load(path)
    plan = armsim.plan(g)
    s = Session(g, plan, "m4f", "large")
    real = bounds.BoundsCheck.allowed
    victim = 0

    def short(self, i):
        spans = real(self, i)
        return [(spans[0][0], spans[0][1] - 3)] + spans[1:] if i == victim else spans

    monkeypatch.setattr(bounds.BoundsCheck, "allowed", short)
    r = s.run(_int8_inputs(g, 1, seed=2)[0], check_bounds=True)
    assert r.overruns, "the shortened output was not noticed"
    o = r.overruns[0]
    assert o.op == g.ops[victim].name and o.function.startswith("arm_")
    assert 1 <= o.beyond <= 4 and "past the end of its output" in o.message()


def test_simulate_check_bounds_on_a_float_model_exits_0():
    p = _armsim("simulate", "--image", "1", "--check-bounds", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["overruns"] == []


# -- scripts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["hex", "seed"])
def test_wbyte_export_round_trips_through_the_parser(tflite_dir, tmp_path, fmt):
    from armsim.script.parser import parse_program
    from armsim.script.check import tensors

    model = tflite_dir / "seed.tflite"
    out = tmp_path / f"s_{fmt}.ini"
    p = _armsim("export", str(model), "--image", "3", "--out", str(out), "--format", fmt)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "_WBYTE" in text and "_WDWORD" in text and "_WFLOAT" not in text
    g = T.load(model)
    plan = armsim.plan(g)
    got = tensors(parse_program(str(out)).literal_writes(), plan)
    want = plan.pack(plan.constant_tensors())
    for name, vals in want.items():
        np.testing.assert_array_equal(got[name], vals, err_msg=name)
    assert got[plan.input.name].dtype == np.int8
    # the script's own weights and input, simulated against the interpreter: bit-exact
    p = _armsim("simulate", "--model", str(model), "--script", str(out), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["max_abs_diff_q"] == 0


@pytest.mark.parametrize("line, message", [
    ("_WBYTE(0x20000010, 200);", "_WBYTE value 200 into serving_default_image:0 is outside "
                                 "-128..127"),
    ("_WFLOAT(0x20000010, 1.5);", "expected _WBYTE"),
])
def test_int8_script_values_are_checked(tflite_dir, tmp_path, line, message):
    script = tmp_path / "bad.ini"
    script.write_text(f"// header\n{line}\n")
    p = _armsim("script", "check", str(script), "--model", str(tflite_dir / "seed.tflite"))
    assert p.returncode == 2 and message in p.stdout + p.stderr
    assert "bad.ini:2" in p.stdout + p.stderr


def test_profile_compare_dtypes_gives_both_rows(tflite_dir):
    p = _armsim("profile", "--compare-dtypes", "--cpu", "m4f", "--int8-model",
                str(tflite_dir / "seed.tflite"), "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    f, q = res["float32"], res["int8"]
    assert res["int8_bit_exact_with_interpreter"] is True
    assert f["total_instructions"] > 0 and q["total_instructions"] > 0
    assert sum(o["weights_bytes"] for o in q["ops"]) < sum(o["weights_bytes"] for o in f["ops"])
    assert {o["op"] for o in q["ops"]} >= {"conv2d", "fully_connected"}


def test_profile_of_an_int8_model_compares_exactly(tflite_dir):
    p = _armsim("profile", "--model", str(tflite_dir / "seed.tflite"), "--cpu", "m0", "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["agree"] is True and res["max_abs_diff"] == 0
    assert res["kernels"].startswith("s8-cmsis-nn")


def test_a_cmsis_nn_call_that_fails_is_reported(tflite_dir):
    """The firmware records the first CMSIS-NN call that does not return success; the run
    then fails with the op named (here the record is forced while the run is stopped)."""
    from armsim.errors import ArmsimError

    g = T.load(tflite_dir / "dscnn.tflite")
    s = Session(g, armsim.plan(g), "m4f", "large")
    x = _int8_inputs(g, 1, seed=1)[0]
    s.run(x)  # a clean run passes
    where = s.image.symbol("armsim_failed_op").address
    status = s.image.symbol("armsim_cmsis_status").address

    def force(k: int) -> None:
        if k == 2:
            s.machine.write_blocks([(where, (2).to_bytes(4, "little", signed=True)),
                                    (status, (-1).to_bytes(4, "little", signed=True))])

    with pytest.raises(ArmsimError) as e:
        s.run(x, on_stop=force)
    assert "ARM_CMSIS_NN_ARG_ERROR in op 2" in str(e.value) and g.ops[2].name in str(e.value)


def test_a_plan_made_for_another_cpu_is_refused(tflite_dir):
    """The CMSIS-NN scratch an op needs depends on the CPU (DSP or not): a plan sized for one
    core is refused for another whose needs differ, never run with too little scratch."""
    from armsim.errors import LayoutError
    from armsim.firmware.scratch import scratch_sizes

    g = T.load(tflite_dir / "dscnn.tflite")
    m4 = armsim.plan(g, scratch=scratch_sizes(g, "m4f"))
    m0 = armsim.plan(g, scratch=scratch_sizes(g, "m0"))
    sizes = lambda p: {b.name: b.nbytes for b in p.buffers if b.role == "scratch"}  # noqa: E731
    if sizes(m4) == sizes(m0):
        pytest.skip("this model needs the same scratch on both cores")
    with pytest.raises(LayoutError) as e:
        Session(g, m4, "m0", "large")
    assert "Cortex-M0 needs" in str(e.value)


def test_a_plan_without_scratch_sizes_is_completed_for_the_session_cpu(tflite_dir):
    """Planning never compiles or runs anything: an int8 plan made without scratch sizes is
    completed by the Session for its CPU, with the sizes CMSIS-NN reports on that core."""
    from armsim.firmware.scratch import scratch_sizes

    g = T.load(tflite_dir / "dscnn.tflite")
    pending = armsim.plan(g)
    assert pending.scratch_pending and not any(b.role == "scratch" for b in pending.buffers)
    s = Session(g, pending, "m0", "large")
    want = {i: n for i, n in scratch_sizes(g, "m0").items() if n > 0}
    assert not s.plan.scratch_pending
    assert {int(b.name.split(":")[1]): b.nbytes for b in s.plan.buffers
            if b.role == "scratch"} == want


def test_damaged_tflite_files_are_clear_errors(tflite_dir):
    """Random byte changes and truncations of a model: the frontend reads it or says why,
    never a traceback."""
    raw = (tflite_dir / "dscnn.tflite").read_bytes()
    rng = np.random.default_rng(0)
    outcomes = {"read": 0, "refused": 0}
    for k in range(300):
        b = bytearray(raw)
        for _ in range(int(rng.integers(1, 8))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        if k % 5 == 0:
            b = b[:int(rng.integers(8, len(b)))]
        try:
            T.read(bytes(b), "mutant.tflite")
            outcomes["read"] += 1
        except ModelError as e:
            assert "mutant.tflite" in str(e)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and outcomes["read"] > 0


def test_an_interpreter_crash_becomes_a_model_error(tmp_path):
    """TensorFlow's interpreter segfaults on some damaged files: armsim opens the file in a
    forked child first and reports the crash."""
    import os
    import signal

    from armsim.model import tflite_host

    class Crashing:
        def __init__(self, **_kw):
            os.kill(os.getpid(), signal.SIGSEGV)

    class Resolver:
        BUILTIN_REF, BUILTIN = 0, 1

    with pytest.raises(ModelError) as e:
        tflite_host._probe(Crashing, Resolver, tmp_path / "m.tflite")
    assert "crashed (signal 11)" in str(e.value)
