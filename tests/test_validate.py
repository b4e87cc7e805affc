"""Validation at scale, per-layer diagnosis of layout mistakes, and the regression gate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.model import keras_host as host
from armsim.model import mnist
from armsim.cli import main
from armsim.model.inputs import DEFAULT_MODEL, data_file
from armsim.model.frontends.load import load_model
from armsim.plan import make_plan
from armsim.script.writer import seed_format

KEYS = {"host_accuracy", "emulator_accuracy", "agreement", "max_abs_diff", "rmse", "mae", "l2r",
        "cos", "confusion_matrix", "instructions", "seconds"}


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)


def test_validate_json_on_two_processes(capsys, mnist_dir, tmp_path):
    png = tmp_path / "cm.png"
    code, r = run_json(capsys, "validate", "--data", str(mnist_dir), "--n", "300", "--jobs", "2",
                       "--json", "--plot", str(png))
    assert code == 0 and KEYS <= set(r)
    assert r["agreement"] == 1.0 and r["max_abs_diff"] <= 1e-5
    assert r["emulator_accuracy"] == r["host_accuracy"] > 0.9
    assert np.array(r["confusion_matrix"]["emulator"]).sum() == 300
    assert r["task"] == "classification" and r["host_source"] == "model"
    assert r["instructions"]["min"] <= r["instructions"]["median"] <= r["instructions"]["max"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"armsim", "unicorn", "keras", "tensorflow"} <= set(r["versions"])


def test_validate_one_process_matches_two(capsys, mnist_dir):
    _, one = run_json(capsys, "validate", "--data", str(mnist_dir), "--n", "60", "--start", "500",
                      "--jobs", "1", "--json")
    _, two = run_json(capsys, "validate", "--data", str(mnist_dir), "--n", "60", "--start", "500",
                      "--jobs", "2", "--json")
    for k in ("instructions", "max_abs_diff", "confusion_matrix", "rmse"):
        assert one[k] == two[k]


def _script(tmp_path, name, mistake=None):
    g, _ = load_model(data_file(DEFAULT_MODEL))
    lay = make_plan(g, "seed")  # the layout a script writes
    w = lay.constant_tensors()
    image = mnist.scale(mnist.load("test").images[3])
    packed = lay.pack({**w, "input": image})
    if mistake == "dense_transposed":
        packed["dense_weights"] = w["dense_weights"].reshape(-1)
    elif mistake == "conv_swapped":
        packed["conv_weights"] = w["conv_weights"].transpose(3, 2, 0, 1).reshape(-1)
    elif mistake == "channel_first":
        k = w["dense_weights"].reshape(12, 12, 8, 10).transpose(2, 0, 1, 3).reshape(-1, 10)
        packed["dense_weights"] = k.T.reshape(-1)
    p = tmp_path / name
    p.write_text(seed_format(lay, packed))
    return p


@pytest.mark.parametrize("mistake, layer, words", [
    ("dense_transposed", "dense", "dense_weights look transposed"),
    ("conv_swapped", "conv", "conv_weights look rows and columns swapped"),
    ("channel_first", "dense", "dense_weights look flattened channel-first"),
])
def test_mislaid_weights_are_diagnosed(tmp_path, capsys, mnist_dir, mistake, layer, words):
    script = _script(tmp_path, f"{mistake}.ini", mistake)
    code, r = run_json(capsys, "simulate", "--script", str(script), "--model",
                       str(data_file(DEFAULT_MODEL)), "--json")
    assert code == 1
    d = r["diagnosis"]
    assert d["first_divergence"] == layer
    assert any(words in f and "every output matches" in f for f in d["findings"]), d["findings"]


def test_validate_with_mislaid_script_diagnoses(tmp_path, capsys, mnist_dir):
    script = _script(tmp_path, "bad.ini", "dense_transposed")
    code, r = run_json(capsys, "validate", "--script", str(script), "--model",
                       str(data_file(DEFAULT_MODEL)), "--data", str(mnist_dir), "--n", "40",
                       "--jobs", "1", "--json")
    assert code == 1 and r["agreement"] < 1.0
    assert any("dense_weights look transposed" in f for f in r["diagnosis"][0]["findings"])


def test_correct_script_has_no_findings(tmp_path, capsys, mnist_dir):
    script = _script(tmp_path, "good.ini")
    code, r = run_json(capsys, "simulate", "--script", str(script), "--model",
                       str(data_file(DEFAULT_MODEL)), "--json", "--layers")
    assert code == 0
    assert r["diagnosis"]["first_divergence"] is None and r["diagnosis"]["findings"] == []


def test_regression_gate_matches_committed_baseline(capsys):
    """Exact instruction counts per function per CPU variant and kernel set are pinned."""
    code = main(["regress"])
    out = capsys.readouterr().out
    assert code == 0, out


def test_regression_gate_reports_a_change(tmp_path):
    from armsim.session import regress as R

    base = R.load_baseline()
    changed = json.loads(json.dumps(base))
    fn = "armsim_conv2d_f32"
    changed["models"]["seed"]["variants"]["m4f/optimized"]["functions"][fn] += 7
    before = base["models"]["seed"]["variants"]["m4f/optimized"]["functions"][fn]
    assert R.compare(changed, base) == [("seed m4f/optimized", fn, before + 7, before)]
    assert set(base["models"]) == {"seed", "lenet5", "dscnn", "resnet", "mobilenet",
                                   "autoencoder", "conv1d", "concat", "mobilenetv3", "gru_kws"}


def test_reference_and_optimized_kernels_agree(default_ref, test_split):
    from armsim.session.session import Session

    g, model = default_ref
    images = mnist.scale(test_split.images[:5])
    h = host.predict(model, images)
    outs = {}
    for kernels in ("reference", "optimized"):
        s = Session(g, make_plan(g), "m4f", "generic", kernels=kernels)
        outs[kernels] = [s.run(x) for x in images]
    for ref, opt, hh in zip(outs["reference"], outs["optimized"], h):
        assert np.max(np.abs(ref.outputs - hh)) <= 1e-5 and np.max(np.abs(opt.outputs - hh)) <= 1e-5
        assert opt.predicted == ref.predicted == int(np.argmax(hh))
        assert opt.instructions < ref.instructions / 2


def test_validate_rebuilt_host_flags_chance_accuracy_and_finds_the_order(tmp_path, capsys,
                                                                         mnist_dir):
    """Without --model a mislaid script 'agrees' with itself; the accuracy gives it away and
    the axis-order search names the buffer and the order that makes sense."""
    script = _script(tmp_path, "bad.ini", "dense_transposed")
    code, r = run_json(capsys, "validate", "--script", str(script), "--data", str(mnist_dir),
                       "--n", "200", "--jobs", "1", "--json")
    assert r["host_source"] == "rebuilt from the script's weights" and "not the layout" in r["note"]
    assert r["host_accuracy"] < 0.3
    assert "near chance" in r["warning"] and "probably mis-laid" in r["warning"]
    assert r["layout_search"]["buffer"] == "dense_weights"
    assert r["layout_search"]["accuracy"] > 0.9


def test_validate_any_model_with_npz_inputs_and_regression_metrics(tmp_path, capsys):
    from armsim.model import zoo

    m = zoo.build("autoencoder")
    path = tmp_path / "ae.keras"
    m.save(path)
    x = tmp_path / "x.npz"
    np.savez(x, x=zoo.sample_inputs(m, 30))
    code, r = run_json(capsys, "validate", "--model", str(path), "--inputs", str(x), "--jobs",
                       "2", "--json")
    assert code == 0 and r["passed"] and r["n"] == 30
    assert r["task"] == "regression" and "agreement" not in r and "confusion_matrix" not in r
    assert r["max_abs_diff"] <= 1e-5 and r["cos"] > 0.999999
    # bad ranges are errors, not silent trims
    assert main(["validate", "--model", str(path), "--inputs", str(x), "--start", "25", "--n",
                 "10"]) == 2
    assert "there are 30" in capsys.readouterr().err


@pytest.mark.slow
def test_full_test_set_validates(capsys, mnist_dir):
    """All 10,000 test images: 100 % agreement, equal accuracy, every output within 1e-5."""
    code, r = run_json(capsys, "validate", "--data", str(mnist_dir), "--json")
    assert code == 0
    assert r["n"] == 10000 and r["agreement"] == 1.0
    assert r["emulator_accuracy"] == r["host_accuracy"]
    assert r["max_abs_diff"] <= 1e-5


def test_elf_without_per_op_symbols_still_reports_and_finds_the_layout(tmp_path, capsys,
                                                                       mnist_dir):
    """A firmware built elsewhere (here: armsim's, stripped of its op symbols) that gets the
    wrong answer: the disagreement is exit 1, the per-op diagnosis says what it needs, and
    the layout search still names the transposed buffer."""
    import subprocess

    from armsim.parts import cpus
    from armsim.parts import mcus as mcu
    from armsim.firmware.build import build
    from armsim.firmware.toolchain import find_gcc
    from armsim.plan.seed import seed_graph, seed_plan

    elf = build(cpus.get_cpu("m4f"), seed_plan(seed_graph(8)), mcu.get_mcu("generic")).elf
    stripped = tmp_path / "theirs.elf"
    objcopy = find_gcc().replace("gcc", "objcopy")
    subprocess.run([objcopy, "--wildcard", "--strip-symbol=armsim_op*",
                    "--strip-symbol=armsim_predicted", str(elf), str(stripped)], check=True)
    script = _script(tmp_path, "bad.ini", "dense_transposed")
    code, r = run_json(capsys, "simulate", "--script", str(script), "--model",
                       str(data_file(DEFAULT_MODEL)), "--elf", str(stripped), "--json")
    assert code == 1 and r["agree"] is False
    d = r["diagnosis"]
    assert "no per-op comparison" in d["note"]
    assert any("dense_weights look transposed" in f for f in d["findings"])
