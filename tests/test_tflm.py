"""--runtime tflm: TensorFlow Lite Micro built from ../shared/third_party, run op for op on
the emulated Cortex-M4F, against TFLM on the host (the tflite-micro package).

Models: TFLM's own (read in place from ../shared: keyword_scrambled with int16 input and
SVDF, person_detect which the TFLite interpreter refuses) and models made here (float32 and
int8 conversions of the zoo, an LSTM, two inputs, a hybrid one TFLM refuses). CI builds the
m4f libraries of both kernel sets once (cached) and nothing else.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from armsim.firmware.tflm import library, resolver, tree
from armsim.model import flatbuffer, tflm_host, zoo
from armsim.model.quantize import float_tflite, quantize

THIRD_PARTY = tree.locate(required=False)
pytestmark = [
    pytest.mark.skipif(THIRD_PARTY is None, reason="../shared/third_party (TFLM) is absent"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-g++") is None,
                       reason="arm-none-eabi-g++ (libstdc++-arm-none-eabi-newlib) is missing"),
    pytest.mark.skipif(tflm_host.available() is not None,
                       reason=f"the tflite-micro package: {tflm_host.available()}"),
]
MODELS = THIRD_PARTY.micro / "models" if THIRD_PARTY else Path("/nonexistent")


def _session(path, kernels="reference", **kw):
    from armsim.session.tflm import TflmSession

    return TflmSession(path, "m4f", "generic", kernels, **kw)


def _random_inputs(fm, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for t in fm.inputs:
        dt = np.dtype(t.dtype)
        if np.issubdtype(dt, np.integer):
            info = np.iinfo(dt)
            out.append(rng.integers(info.min, int(info.max) + 1, size=t.shape, dtype=dt))
        else:
            out.append(rng.uniform(-1, 1, size=t.shape).astype(dt))
    return out


def _equal_to_host(s, xs, rtol=1e-5, atol=1e-5):
    """The emulated outputs against tflite-micro's: integers exactly, floats by the rule."""
    r = s.run(xs)
    host = tflm_host.TflmHost(s.model).run(xs)
    assert len(r.outputs) == len(host)
    for got, want, t in zip(r.outputs, host, s.model.outputs):
        got, want = np.asarray(got).reshape(-1), np.asarray(want).reshape(-1)
        if np.issubdtype(got.dtype, np.integer):
            assert np.array_equal(got, want), (t.name, got[:8], want[:8])
        else:
            assert np.all(np.abs(got - want) <= atol + rtol * np.abs(want)), (got, want)
    return r


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Models converted here once: float32 and int8 of a zoo model, an LSTM, two inputs, a
    hybrid (dynamic-range) one."""
    import tensorflow as tf

    d = tmp_path_factory.mktemp("tflm_models")
    m = zoo.build("dscnn")
    (d / "dscnn_f32.tflite").write_bytes(float_tflite(m))
    quantize(m, zoo.sample_inputs(m, 16, seed=1), d / "dscnn_i8.tflite")
    # Keras 3's LSTM converts to a WHILE loop over subgraphs (control flow); a Keras 2
    # (tf_keras) one is fused into UNIDIRECTIONAL_SEQUENCE_LSTM, as published models are
    lstm = tf.keras.Sequential([tf.keras.Input((6, 4), batch_size=1),
                                tf.keras.layers.LSTM(8), tf.keras.layers.Dense(3)])
    lstm.set_weights([np.random.default_rng(2).normal(0, 0.4, w.shape).astype(np.float32)
                      for w in lstm.get_weights()])
    (d / "lstm_while_f32.tflite").write_bytes(float_tflite(lstm))
    try:
        import tf_keras as K
    except ImportError:
        pass
    else:
        fused = K.Sequential([K.layers.InputLayer(input_shape=(6, 4), batch_size=1),
                              K.layers.LSTM(8), K.layers.Dense(3)])
        fused.set_weights([np.random.default_rng(2).normal(0, 0.4, w.shape).astype(
            np.float32) for w in fused.get_weights()])
        (d / "lstm_f32.tflite").write_bytes(
            tf.lite.TFLiteConverter.from_keras_model(fused).convert())
    a, b = tf.keras.Input((5,), name="a"), tf.keras.Input((3,), name="b")
    x = tf.keras.layers.Concatenate()([tf.keras.layers.Dense(4)(a), b])
    two = tf.keras.Model([a, b], tf.keras.layers.Dense(2, activation="softmax")(x))
    (d / "two_inputs_f32.tflite").write_bytes(float_tflite(two))
    hybrid = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(256),
                                  tf.keras.layers.Dense(4)])
    conv = tf.lite.TFLiteConverter.from_keras_model(hybrid)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]  # no dataset: int8 weights, float math
    (d / "hybrid.tflite").write_bytes(conv.convert())
    return d


# -- what needs no build ----------------------------------------------------------------------
def test_resolver_knows_tflms_operators():
    regs = resolver.registrations(THIRD_PARTY)
    assert regs.method("CONV_2D", False) == "AddConv2D"
    assert regs.method("UNIDIRECTIONAL_SEQUENCE_LSTM", False) == "AddUnidirectionalSequenceLSTM"
    assert regs.method("SignalRfft", True) == "AddRfft"
    assert regs.method("TOPK_V2", False) is None  # TFLM has no kernel for it
    assert len(regs.builtin) > 90


def test_flatbuffer_reads_tflms_own_model():
    fm = flatbuffer.load(MODELS / "keyword_scrambled.tflite")
    assert [t.dtype for t in fm.inputs] == ["int16"] and fm.inputs[0].shape == (1, 96)
    assert [t.dtype for t in fm.outputs] == ["int32"]
    assert ("SVDF", False) in fm.op_types()
    assert fm.count("SVDF") == 7


def test_sources_split_the_kernel_sets():
    """The CMSIS-NN set replaces 14 reference files by name; the rest is shared."""
    ref = library.kernel_sources(THIRD_PARTY, "reference")
    cm = library.kernel_sources(THIRD_PARTY, "cmsis-nn")
    assert [p.name for p in ref] == [p.name for p in cm] and len(ref) == 14
    assert all(p.parent.name == "cmsis_nn" for p in cm)
    shared = {p.name for p in library.shared_kernel_sources(THIRD_PARTY)}
    assert not shared & {p.name for p in ref} and "svdf_common.cc" in shared


def test_damaged_and_unsupported_models_are_refused_before_any_build(tmp_path, capsys):
    from armsim.cli.app import main

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00\x00\x00\x00TFL3" + b"\xff" * 40)
    assert main(["simulate", "--runtime", "tflm", "--model", str(bad)]) == 2
    assert "bad.tflite" in capsys.readouterr().err


# -- on the emulated chip ---------------------------------------------------------------------
def test_keyword_scrambled_int16_svdf_equals_the_host_bit_for_bit():
    s = _session(MODELS / "keyword_scrambled.tflite", "reference")
    for seed in (0, 1):
        _equal_to_host(s, _random_inputs(s.model, seed))
    assert s.arena.bytes == s.arena.smallest and s.arena.bytes % 16 == 0


def test_cmsis_nn_kernels_run_tflms_own_models():
    s = _session(MODELS / "keyword_scrambled_8bit.tflite", "cmsis-nn")
    r = _equal_to_host(s, _random_inputs(s.model))
    ref = _session(MODELS / "keyword_scrambled_8bit.tflite", "reference").run(
        _random_inputs(s.model))
    assert r.instructions < ref.instructions  # the optimized kernels cost less


def test_person_detect_runs_though_the_tflite_interpreter_refuses_it():
    from armsim.model.tflite_host import TFLiteFile

    path = MODELS / "person_detect.tflite"
    assert TFLiteFile(path).refused is not None
    s = _session(path, "reference")
    _equal_to_host(s, _random_inputs(s.model))


@pytest.mark.parametrize("name", ["dscnn_f32", "dscnn_i8", "lstm_f32", "lstm_while_f32",
                                  "two_inputs_f32"])
def test_made_models_equal_the_host(made, name):
    if not (made / f"{name}.tflite").is_file():
        pytest.skip("tf_keras is not installed: no fused LSTM to convert")
    s = _session(made / f"{name}.tflite", "reference")
    if name == "lstm_f32":
        assert ("UNIDIRECTIONAL_SEQUENCE_LSTM", False) in s.model.op_types()
    if name == "lstm_while_f32":
        assert ("WHILE", False) in s.model.op_types() and len(s.model.subgraphs) > 1
    if name == "two_inputs_f32":
        assert len(s.model.inputs) == 2
    _equal_to_host(s, _random_inputs(s.model, 3))


def test_the_arena_is_the_smallest_that_works(made, capsys):
    """The reported arena works; 16 bytes less is bad input (exit 2) naming what it needs."""
    from armsim.cli.app import main

    path = made / "dscnn_i8.tflite"
    assert main(["simulate", "--runtime", "tflm", "--model", str(path), "--kernels",
                 "reference", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    first = out[0] if isinstance(out, list) else out
    n = first["arena_bytes"]
    assert first["arena"]["smallest"] == n
    assert main(["simulate", "--runtime", "tflm", "--model", str(path), "--kernels",
                 "reference", "--arena", str(n), "--json"]) == 0
    capsys.readouterr()
    assert main(["simulate", "--runtime", "tflm", "--model", str(path), "--kernels",
                 "reference", "--arena", str(n - 16), "--json"]) == 2
    err = capsys.readouterr().err
    assert f"--arena {n - 16}" in err and f"{n:,}" in err


def test_hybrid_models_are_refused_with_tflms_reason(made, capsys):
    from armsim.cli.app import main

    assert main(["simulate", "--runtime", "tflm", "--model", str(made / "hybrid.tflite")]) == 2
    err = capsys.readouterr().err
    assert "TFLM cannot run this model" in err
    assert re.search(r"[Hh]ybrid|not supported", err), err


def test_simulate_json_keeps_todays_keys_and_the_schema(made, capsys):
    import jsonschema

    from armsim.cli.app import main
    from armsim.session.results import schema

    assert main(["simulate", "--runtime", "tflm", "--model", str(made / "dscnn_i8.tflite"),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, schema("simulate"))
    row = out[0]
    for key in ("outputs", "outputs_q", "agree", "instructions", "host", "arena_bytes",
                "runtime", "kernels"):
        assert key in row, key
    assert row["runtime"] == "tflm" and row["kernels"] == "cmsis-nn" and row["agree"]
    assert "tflite_max_diff_q" in row  # the TFLite interpreter, beside it
    assert row["versions"]["tflm_source"] == THIRD_PARTY.commit()
    assert row["versions"]["tflm_host_commit"].startswith("8f6596d")


def test_per_op_profile_rows_add_up(made):
    """One row per operator; rows + Invoke's glue = Invoke on the deployed build; the
    profiler's own instructions are counted apart."""
    from armsim.session.tflm import profile

    s = _session(made / "dscnn_i8.tflite", "cmsis-nn")
    xs = _random_inputs(s.model)
    p = profile(s, xs)
    assert [o.index for o in p.ops] == list(range(len(s.model.main.operators)))
    assert [o.op_type for o in p.ops] == [op.op_type for op in s.model.main.operators]
    assert sum(o.instructions for o in p.ops) + p.glue["instructions"] == p.instructions
    assert 0 < p.glue["instructions"] < p.instructions // 100
    # the profiler costs the same whole number of instructions per event (one code path)
    assert p.profiler["instructions"] > 0 and p.profiler["per_event"] == int(
        p.profiler["per_event"]) and p.profiler["events"] == len(p.ops)
    assert p.allocate["instructions"] > 0
    assert p.instructions == s.run(xs).instructions
    assert p.footprint["ram"]["arena"] == s.arena.bytes


def test_layers_name_the_first_differing_operator(made, monkeypatch):
    """The per-op comparison reads every operator's output from the emulated arena; a
    corrupted one is named with its kernel set and the size of the difference."""
    from armsim.check import tflm as T

    s = _session(made / "dscnn_i8.tflite", "reference")
    xs = _random_inputs(s.model)
    per_op = s.run_per_op(xs)
    host = tflm_host.TflmHost(s.model)
    host.run(xs)
    ref = {t: v for _op, t, v in host.operator_outputs()}
    d = T.op_diffs(s.model, per_op.tensors, ref, s.kernels, 1e-5, 1e-5)
    assert d["first_differing"] is None and d["compared"] >= len(s.model.main.operators)
    k = s.model.main.operators[2].outputs[0]
    bad = dict(per_op.tensors)
    bad[k] = bad[k].copy()
    flat = bad[k].reshape(-1)
    flat[0] = flat[0] - 3 if flat[0] > -100 else flat[0] + 3
    d = T.op_diffs(s.model, bad, ref, s.kernels, 1e-5, 1e-5)
    assert d["first_differing"]["op"] == 2 and d["first_differing"]["kernels"] == "reference"
    assert d["first_differing"]["max_abs_diff_q"] == 3


def test_nested_subgraphs_run_inside_their_operators_row(made):
    """A Keras 3 LSTM is a WHILE loop over two subgraphs: its operators' events are nested
    in the WHILE row, and the profiler's cost of them is taken out."""
    from armsim.session.tflm import profile

    s = _session(made / "lstm_while_f32.tflite", "reference")
    p = profile(s, _random_inputs(s.model))
    assert [o.op_type for o in p.ops] == [op.op_type for op in s.model.main.operators]
    loop = next(o for o in p.ops if o.op_type == "WHILE")
    assert loop.nested > 10 and loop.instructions > p.instructions // 2
    assert p.profiler["events"] == len(p.ops) + loop.nested
    assert p.profiler["per_event"] == int(p.profiler["per_event"])
    assert 0 < p.glue["instructions"] < p.instructions // 100


def test_sweep_runtime_axis(made, tmp_path):
    """runtimes = ["armsim", "tflm"]: one cell per runtime, each on its default kernels (a
    TFLM cell of armsim's "optimized" runs TFLM's cmsis-nn), stored with its runtime."""
    import sqlite3

    from armsim.cli.app import main

    shutil.copy(made / "dscnn_i8.tflite", tmp_path / "m.tflite")
    (tmp_path / "s.toml").write_text('[axes]\nmodels = ["m.tflite"]\ndtypes = ["int8"]\n'
                                     'runtimes = ["armsim", "tflm"]\nmcus = ["generic"]\n'
                                     '[measure]\nvalidate = { n = 2 }\nprofile = true\n')
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"),
                 "--workers", "1", "--quiet"]) == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    rows = {r[0]: r[1:] for r in db.execute(
        "select runtime, kernels, status, instructions, ram_bytes from cells")}
    assert set(rows) == {"armsim", "tflm"}
    assert rows["tflm"][0] == "cmsis-nn" and rows["tflm"][1] == "ok"
    assert rows["tflm"][2] > 0 and rows["tflm"][3] > 0


def test_readme_tflm_example_runs_as_written(made, tmp_path):
    """The README's TFLM library example, extracted and run in a fresh interpreter."""
    import subprocess
    import sys

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text[text.index("### TensorFlow Lite Micro from the library"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shutil.copy(made / "dscnn_i8.tflite", tmp_path / "kws.tflite")
    fm = flatbuffer.load(tmp_path / "kws.tflite")
    np.save(tmp_path / "kws_input.npy", _random_inputs(fm)[0])
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    n_ops, instructions, ram = (int(v) for v in proc.stdout.strip().splitlines()[-1].split())
    assert n_ops == len(fm.main.operators) and instructions > 100_000 and ram > 0


def test_profile_json_forms_follow_the_schema(made, capsys):
    """profile --runtime tflm and --compare-runtimes: their JSON forms, by the schema."""
    import jsonschema

    from armsim.cli.app import main
    from armsim.session.results import schema

    path = str(made / "dscnn_i8.tflite")
    assert main(["profile", "--runtime", "tflm", "--model", path, "--json"]) == 0
    prof = json.loads(capsys.readouterr().out)
    jsonschema.validate(prof, schema("profile"))
    assert prof["runtime"] == "tflm" and len(prof["ops"]) == 12 and prof["agree"]
    assert main(["profile", "--compare-runtimes", "--model", path, "--json"]) == 0
    cmp = json.loads(capsys.readouterr().out)
    jsonschema.validate(cmp, schema("profile"))
    assert [r["runtime"] for r in cmp["runtimes"]] == ["armsim", "tflm"]
    assert all(r["agrees"] == "yes" for r in cmp["runtimes"])
