"""Models with several inputs and outputs in every command: ``--inputs`` once per input (the
model's input order) or one ``.npz`` naming each input; a case's input is a tuple; each
output reported by name."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """A two-input, two-output Keras model, its int8 .tflite (armsim quantize) and inputs."""
    import keras

    d = tmp_path_factory.mktemp("multi")
    img = keras.Input((6, 6, 2), name="img")
    meta = keras.Input((5,), name="meta")
    x = keras.layers.Conv2D(4, 3, activation="relu")(img)
    x = keras.layers.GlobalAveragePooling2D()(x)
    y = keras.layers.Dense(4, activation="relu")(meta)
    z = keras.layers.Concatenate()([x, y])
    m = keras.Model([img, meta], [keras.layers.Dense(3, activation="softmax", name="cls")(z),
                                  keras.layers.Dense(2, name="reg")(z)])
    m.save(d / "two.keras")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 6, 6, 2)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    np.savez(d / "named.npz", img=a, meta=b, y=np.array([0, 1, 2, 0]))
    np.savez(d / "positional.npz", x0=a, x1=b)
    np.save(d / "img.npy", a)
    np.save(d / "meta.npy", b)
    assert main(["quantize", str(d / "two.keras"), "--out", str(d / "two.tflite"),
                 "--inputs", str(d / "named.npz")]) == 0
    return d, m, a, b


def _json(capsys, *args):
    code = main([*args, "--json"])
    out = json.loads(capsys.readouterr().out)
    return code, out if isinstance(out, list) else [out]


def test_two_inputs_by_name_by_position_or_one_file_each(two, capsys):
    d, m, a, b = two
    want = m.predict([a, b], verbose=0)
    capsys.readouterr()
    runs = [["--inputs", str(d / "named.npz")], ["--inputs", str(d / "positional.npz")],
            ["--inputs", str(d / "img.npy"), "--inputs", str(d / "meta.npy")]]
    for extra in runs:
        code, rows = _json(capsys, "simulate", "--model", str(d / "two.keras"), *extra)
        assert code == 0 and len(rows) == 4 and all(r["agree"] for r in rows), extra
        # every output, by name, equal to Keras' own within the float rule
        for i, r in enumerate(rows):
            assert set(r["outputs_by_name"]) == {"cls", "reg"}
            assert np.allclose(r["outputs_by_name"]["cls"], want[0][i], atol=1e-5)
            assert np.allclose(r["outputs_by_name"]["reg"], want[1][i], atol=1e-5)
    assert [r["label"] for r in _json(capsys, "simulate", "--model", str(d / "two.keras"),
                                      "--inputs", str(d / "named.npz"))[1]] == [0, 1, 2, 0]


def test_wrong_inputs_are_refused_with_what_the_model_takes(two, capsys):
    d = two[0]
    capsys.readouterr()
    cases = [(["--inputs", str(d / "img.npy")], "give --inputs once per input"),
             (["--inputs", str(d / "img.npy")] * 3, "--inputs given 3 times"),
             (["--inputs", str(d / "meta.npy"), "--inputs", str(d / "img.npy")], "(6, 6, 2)"),
             ([], "give --inputs once per input")]
    for extra, words in cases:
        assert main(["simulate", "--model", str(d / "two.keras"), *extra]) == 2, extra
        assert words in capsys.readouterr().err, extra


def test_int8_two_inputs_bit_exact_and_every_command(two, capsys):
    d = two[0]
    capsys.readouterr()
    code, rows = _json(capsys, "simulate", "--model", str(d / "two.tflite"), "--inputs",
                       str(d / "named.npz"))
    assert code == 0 and all(r["agree"] for r in rows)
    assert len(rows[0]["outputs_by_name"]) == 2
    code, v = _json(capsys, "validate", "--model", str(d / "two.tflite"), "--inputs",
                    str(d / "named.npz"))
    assert code == 0 and v[0]["passed"] and v[0]["n"] == 4
    code, v = _json(capsys, "validate", "--model", str(d / "two.keras"), "--inputs",
                    str(d / "named.npz"), "--jobs", "2")
    assert code == 0 and v[0]["passed"]
    code, p = _json(capsys, "profile", "--model", str(d / "two.keras"), "--inputs",
                    str(d / "named.npz"), "--compare-dtypes")
    assert code == 0 and p[0]["int8_bit_exact_with_interpreter"]
    # the script workflow: every input written into its own buffer, read back by the check
    for model in ("two.keras", "two.tflite"):
        script = d / f"{model}.ini"
        assert main(["export", str(d / model), "--inputs", str(d / "named.npz"), "--index",
                     "2", "--out", str(script)]) == 0
        assert "wrote" in capsys.readouterr().out
        code, rows = _json(capsys, "simulate", "--model", str(d / model), "--script",
                           str(script))
        assert code == 0 and rows[0]["agree"], model


def test_positional_arrays_fit_a_tflite_by_shape_and_say_so(two, capsys):
    """The .tflite lists its inputs in an order of its own (here meta before img): x0, x1 in
    the Keras order fit only the other way round, so they are matched by shape, and the
    output says which array went where."""
    d = two[0]
    capsys.readouterr()
    assert main(["simulate", "--model", str(d / "two.tflite"), "--inputs",
                 str(d / "positional.npz")]) == 0
    out = capsys.readouterr().out
    assert "matched to the inputs by shape" in out and "x0 -> img" in out, out
    code, v = _json(capsys, "validate", "--model", str(d / "two.tflite"), "--inputs",
                    str(d / "positional.npz"))
    assert code == 0 and v[0]["passed"], v


def test_two_inputs_on_tflm(two, capsys):
    d = two[0]
    capsys.readouterr()
    code, rows = _json(capsys, "simulate", "--model", str(d / "two.tflite"), "--inputs",
                       str(d / "named.npz"), "--runtime", "tflm")
    assert code == 0 and all(r["agree"] for r in rows)
