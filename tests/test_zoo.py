"""The zoo (LeNet-5, DS-CNN, ResNet, MobileNet, autoencoder, Conv1D, Concatenate) through the
whole pipeline: every output within the tolerance rule of Keras, on both kernel sets.

Tolerance rule: |emulator - Keras| <= 1e-5 + 1e-5 * |Keras| for every output, the same argmax
for classifiers, and a NaN anywhere never passes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.check import compare
from armsim.model import keras_host as host
from armsim.model import zoo
from armsim.cli import main
from armsim.model.frontends.keras import to_graph
from armsim.plan import make_plan
from armsim.session.session import Session
from armsim.ops import registry

ATOL = RTOL = 1e-5


@pytest.fixture(scope="module")
def built() -> dict:
    out = {}
    for name in zoo.ZOO:
        m = zoo.build(name)
        x = zoo.sample_inputs(m, 3)
        out[name] = (m, to_graph(m, name), x, host.predict(m, x))
    return out


def _check(session: Session, x: np.ndarray, h: np.ndarray, classifier: bool) -> None:
    for xi, hi in zip(x, h):
        r = session.run(xi)
        c = compare.compare(r.outputs, hi, ATOL, RTOL, classify=classifier)
        assert c.agree, (session.graph.name, session.cpu.name, c)
        if classifier:
            assert r.predicted == int(np.argmax(hi))


@pytest.mark.parametrize("name", list(zoo.ZOO))
@pytest.mark.parametrize("kernels", ["reference", "optimized", "cmsis-nn"])
def test_zoo_model_matches_keras_on_m4f(built, name, kernels):
    _m, g, x, h = built[name]
    s = Session(g, make_plan(g), "m4f", "large", kernels=kernels)
    _check(s, x, h, registry.is_classifier(g))


@pytest.mark.parametrize("name", ["lenet5", "dscnn"])
@pytest.mark.parametrize("cpu", ["m0", "m7"])
@pytest.mark.parametrize("kernels", ["optimized", "cmsis-nn"])
def test_zoo_model_matches_keras_on_other_cores(built, name, cpu, kernels):
    _m, g, x, h = built[name]
    s = Session(g, make_plan(g), cpu, "large", kernels=kernels)
    _check(s, x[:1], h[:1], registry.is_classifier(g))


def test_every_op_output_matches_keras_layers(built):
    """Per-op reads of a residual network equal Keras' own intermediate outputs."""
    m, g, x, _h = built["resnet"]
    s = Session(g, make_plan(g), "m4f", "large")
    r = s.run(x[0], per_op=True)
    keras_vals = host.layer_outputs(m, g, x[0])
    assert len(keras_vals) >= 10
    for tensor, want in keras_vals.items():
        got = r.tensors[tensor]
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4, err_msg=tensor)


def test_weights_in_flash_give_the_same_answers(built):
    _m, g, x, h = built["lenet5"]
    sram = Session(g, make_plan(g, weights_in="sram"), "m4f", "large")
    flash = Session(g, make_plan(g, weights_in="flash"), "m4f", "large")
    a, b = sram.run(x[0]), flash.run(x[0])
    np.testing.assert_array_equal(a.outputs, b.outputs)
    assert flash.image.sections[".rodata"][1] >= sum(t.size * 4 for t in g.constants())


def test_cli_on_saved_models_with_npy_inputs(built, tmp_path, capsys):
    """The user's path: a .keras file and an .npy of inputs, JSON out."""
    for name in ("dscnn", "autoencoder"):
        m, g, x, h = built[name]
        path, xs = tmp_path / f"{name}.keras", tmp_path / f"{name}.npy"
        m.save(path)
        np.save(xs, x)
        assert main(["simulate", "--model", str(path), "--inputs", str(xs), "--mcu", "large",
                     "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert len(rows) == 3 and all(r["agree"] for r in rows)
        assert {"outputs", "predicted", "instructions", "host", "max_abs_diff", "agree"} <= set(rows[0])
        assert len(rows[0]["outputs"]) == g.tensors[g.outputs[0]].size
        if name == "autoencoder":
            assert rows[0]["predicted"] is None and rows[0]["host"]["predicted"] is None


def test_export_and_script_round_trip_for_a_generated_plan(built, tmp_path, capsys):
    m, g, x, h = built["mobilenet"]
    path, xs, ini = tmp_path / "mn.keras", tmp_path / "x.npy", tmp_path / "mn.ini"
    m.save(path)
    np.save(xs, x)
    assert main(["export", str(path), "--inputs", str(xs), "--index", "1", "--out", str(ini),
                 "--mcu", "large"]) == 0
    capsys.readouterr()
    assert main(["simulate", "--model", str(path), "--script", str(ini), "--mcu", "large",
                 "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["agree"] and np.allclose(r["host"]["outputs"], h[1], atol=1e-6)


def test_a_model_too_big_for_the_part_is_a_clear_error(built, tmp_path, capsys):
    m, *_ = built["resnet"]
    path = tmp_path / "r.keras"
    m.save(path)
    assert main(["plan", str(path), "--mcu", "samd21g18"]) == 2
    err = capsys.readouterr().err
    assert "does not fit MCU preset 'samd21g18'" in err and "32,768 bytes" in err
    assert "needs" in err


def test_mcu_implies_its_core_and_refuses_a_mismatch(capsys):
    assert main(["simulate", "--mcu", "stm32f746", "--json", "--image", "3"]) == 0
    capsys.readouterr()
    assert main(["build", "--mcu", "rp2040", "--cpu", "m4f"]) == 2
    assert "does not match MCU preset 'rp2040'" in capsys.readouterr().err
    assert main(["build", "--mcu", "stm32f746"]) == 0
    assert "Cortex-M7" in capsys.readouterr().out
