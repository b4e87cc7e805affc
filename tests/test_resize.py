"""Resizing height and width: TFLite RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (align_corners,
half_pixel_centers, up and down, odd ratios) in float32 and int8 (bit-exact: TFLite's integer
kernel), Keras Resizing and UpSampling2D(interpolation="bilinear") against Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest

from armsim.cli import main
from tests.tflite_files import convert, validate

CASES = [  # (method, output size, align_corners, half_pixel_centers)
    ("bilinear", (11, 7), False, True), ("bilinear", (11, 7), True, False),
    ("bilinear", (3, 4), False, False), ("nearest", (11, 7), False, True),
    ("nearest", (4, 3), True, False), ("nearest", (13, 5), False, False),
]


def _files(tmp_path, method, size, align, half):
    def fn(tf, x):
        y = x * 1.5 + 0.25
        if method == "bilinear":
            return tf.compat.v1.image.resize_bilinear(y, size, align_corners=align,
                                                      half_pixel_centers=half)
        return tf.compat.v1.image.resize_nearest_neighbor(y, size, align_corners=align,
                                                          half_pixel_centers=half)

    xs = np.random.default_rng(0).standard_normal((6, 6, 5, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    convert(fn, (6, 5, 3), xs, tmp_path / "f.tflite", tmp_path / "q.tflite")


@pytest.mark.parametrize("method, size, align, half", CASES)
def test_tflite_resize_both_dtypes(tmp_path, capsys, method, size, align, half):
    _files(tmp_path, method, size, align, half)
    for name in ("f.tflite", "q.tflite"):
        code, v = validate(tmp_path / name, tmp_path / "x.npy")
        assert code == 0 and v["passed"] and v["n"] == 6, (name, v)


def test_keras_resizing_and_bilinear_upsampling(tmp_path, capsys):
    import keras

    i = keras.Input((6, 5, 3))
    a = keras.layers.Resizing(9, 4, interpolation="bilinear")(i)
    b = keras.layers.Resizing(9, 4, interpolation="nearest")(i)
    c = keras.layers.UpSampling2D((2, 3), interpolation="bilinear")(i)
    c = keras.layers.Resizing(9, 4)(c)
    m = keras.Model(i, keras.layers.Concatenate()([a, b, c]))
    m.save(tmp_path / "r.keras")
    np.save(tmp_path / "x.npy",
            np.random.default_rng(1).standard_normal((4, 6, 5, 3)).astype(np.float32))
    code, v = validate(tmp_path / "r.keras", tmp_path / "x.npy")
    assert code == 0 and v["passed"], v


def test_nearest_upsampling_tflite_with_dynamic_shapes(tmp_path, capsys):
    """Keras' nearest UpSampling2D converts to EXPAND_DIMS, TILE and RESHAPE whose static
    shapes in the file are placeholders (shape_signature -1): the reader takes the shapes a
    run gives, in both dtypes, and the per-op diagnosis reads each op at its true size."""
    import keras

    from armsim.model.quantize import quantize

    keras.utils.set_random_seed(3)
    m = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.UpSampling2D(2),
                          keras.layers.Conv2D(3, 3), keras.layers.Flatten(),
                          keras.layers.Dense(3)])
    xs = np.random.default_rng(2).uniform(-1, 1, (5, 4, 4, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", xs)
    import tensorflow as tf

    (tmp_path / "f.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    (tmp_path / "q.tflite").write_bytes(quantize(m, xs))
    for name in ("f.tflite", "q.tflite"):
        capsys.readouterr()
        assert main(["simulate", "--model", str(tmp_path / name), "--inputs",
                     str(tmp_path / "x.npy"), "--json"]) == 0, name
        rows = json.loads(capsys.readouterr().out)
        assert len(rows) == 5 and all(row["agree"] for row in rows), (name, rows)
