"""Import TensorFlow/Keras quietly: their start-up noise never reaches the terminal."""

from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType

_keras: ModuleType | None = None


def import_keras() -> ModuleType:
    """Import keras (TensorFlow backend, CPU), hiding C++ log noise unless the import fails."""
    global _keras
    if _keras is not None:
        return _keras
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as noise:
        os.dup2(noise.fileno(), 2)
        try:
            import keras
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
            tf.config.set_visible_devices([], "GPU")
        except BaseException:
            os.dup2(saved, 2)
            noise.seek(0)
            sys.stderr.write(noise.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    _keras = keras
    return keras
