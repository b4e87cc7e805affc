"""Full-int8 quantization of a Keras model with TFLite's converter, so the float and int8
versions of one model can be compared (``armsim quantize``, ``profile --compare-dtypes``).

The converter gets a representative dataset of ``calibration`` inputs, int8 builtin ops
only, and int8 input and output (``inference_input_type=tf.int8``): the fully-int8 files
armsim's TFLite frontend reads. Its console noise is kept out of the terminal unless it
fails.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from armsim.errors import ModelError
from armsim.model.inputs import Rows
from armsim.model.tfimport import import_keras


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Send what C++ and Python print to fd 1 and 2 to a file; show it only on failure."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile(mode="w+b") as noise:
        os.dup2(noise.fileno(), 1)
        os.dup2(noise.fileno(), 2)
        try:
            # Python-level prints too (TensorFlow's "Saved artifact ..."), where sys.stdout
            # is not fd 1 (a caller capturing output)
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                yield
        except BaseException:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            noise.seek(0)
            sys.stderr.write(noise.read().decode(errors="replace")[-4000:])
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


#: Keras recurrent layers, converted unrolled (no WHILE loop in the file)
RECURRENT = ("SimpleRNN", "GRU", "LSTM")


def unrolled(model: Any) -> Any:
    """``model`` with its recurrent layers (Bidirectional's too) set to ``unroll=True``: what
    TFLiteConverter then writes is each step's own operators, not a WHILE loop over a
    TensorList. The model itself when it has none."""
    names = {type(ly).__name__ for ly in model.layers}
    if not names & {*RECURRENT, "Bidirectional"}:
        return model
    keras = import_keras()

    def clone(layer: Any) -> Any:
        cfg = layer.get_config()
        cls = type(layer).__name__
        if cls in RECURRENT:
            cfg["unroll"] = True
        elif cls == "Bidirectional":
            for key in ("layer", "backward_layer"):
                if cfg.get(key):
                    cfg[key]["config"]["unroll"] = True
        return type(layer).from_config(cfg)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


#: The converter's op set of each activation type: int8, or 16x8 (int16 activations, int8
#: weights, int64 biases)
OPS_SETS = {"int8": "TFLITE_BUILTINS_INT8",
            "int16": "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"}


def quantize(model: Any, calibration: Any, out: str | Path | None = None,
             activations: str = "int8") -> bytes:
    """The fully-int8 ``.tflite`` of a Keras model (``activations="int16"``: 16x8, int16
    input and output), calibrated on ``calibration`` (N inputs in the model's input shape,
    float32; for a model with several inputs, inputs.Rows); written to ``out`` when given."""
    import_keras()
    import tensorflow as tf

    arrays = [np.asarray(a, np.float32) for a in calibration.arrays] \
        if isinstance(calibration, Rows) else [np.asarray(calibration, np.float32)]
    if len(arrays[0]) == 0:
        raise ModelError("quantization needs at least one calibration input")

    names = [t.name.split(":")[0] for t in model.inputs]

    def representative() -> Iterator[Any]:
        for i in range(len(arrays[0])):
            rows = [a[i][np.newaxis] for a in arrays]
            # by name where there are several: the converted file may order them otherwise
            # (a list is matched to its order, and calibration then fails to broadcast)
            yield dict(zip(names, rows)) if len(rows) > 1 else rows

    try:
        with quiet():
            conv = tf.lite.TFLiteConverter.from_keras_model(unrolled(model))
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = representative
            conv.target_spec.supported_ops = [getattr(tf.lite.OpsSet, OPS_SETS[activations])]
            conv.inference_input_type = conv.inference_output_type = getattr(tf, activations)
            data = conv.convert()
    except Exception as e:  # the converter raises many types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"TFLite's converter cannot quantize model '{model.name}' to "
                         f"{'16x8' if activations == 'int16' else 'int8'}: {first}") from None
    if out is not None:
        Path(out).write_bytes(data)
    return data


def float_tflite(model: Any) -> bytes:
    """The float32 ``.tflite`` of a Keras model (TFLiteConverter with builtin ops only, no
    optimization): what ``--runtime tflm`` runs for a ``.keras`` model."""
    import_keras()
    import tensorflow as tf

    try:
        with quiet():
            conv = tf.lite.TFLiteConverter.from_keras_model(model)
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
            return bytes(conv.convert())
    except Exception as e:  # the converter raises many types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"TFLite's converter cannot convert model '{model.name}' to a "
                         f"float32 .tflite: {first}") from None
