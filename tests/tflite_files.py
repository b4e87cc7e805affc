"""Test helper: a TensorFlow function as the two ``.tflite`` files armsim reads, float32
(TFLiteConverter's default) and fully-int8 (calibrated, int8 input and output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np


def convert(fn: Callable[[Any, Any], Any], shape: tuple[int, ...], xs: np.ndarray | None,
            out_float: Path | None = None, out_int8: Path | None = None) -> None:
    """Write ``fn(tf, x)`` on an input ``[1, *shape]`` as float32 to ``out_float`` and, with
    calibration inputs ``xs``, as int8 to ``out_int8``."""
    import tensorflow as tf

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, *shape], tf.float32)])
        def f(self, x):
            return fn(tf, x)

    m = M()
    cf = m.f.get_concrete_function()
    if out_float is not None:
        out_float.write_bytes(tf.lite.TFLiteConverter.from_concrete_functions([cf], m)
                              .convert())
    if out_int8 is None:
        return
    assert xs is not None

    def rep():
        for x in xs:
            yield [x[None]]

    conv = tf.lite.TFLiteConverter.from_concrete_functions([cf], m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    out_int8.write_bytes(conv.convert())


def validate(model: Path, inputs: Path) -> tuple[int, dict[str, Any]]:
    """``armsim validate --json`` on ``model`` with ``inputs``: (exit code, its report).
    Captures stdout itself, so hypothesis tests (no capsys) can use it too."""
    import contextlib
    import io
    import json

    from armsim.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["validate", "--model", str(model), "--inputs", str(inputs), "--json"])
    return code, json.loads(out.getvalue())
