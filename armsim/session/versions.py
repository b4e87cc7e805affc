"""The versions every JSON report records: armsim, the engine build, Python, the CPU model and
compiler flags, CMSIS-NN's commit, (when loaded) Keras and TensorFlow, and for TFLM the
pinned source's commit and the host wheel's."""

from __future__ import annotations

import platform
import sys

from armsim import __version__
from armsim.firmware import cmsis
from armsim.firmware.tflm import tree as tflm_tree
from armsim.machine.engine import engine_build
from armsim.model import tflm_host
from armsim.model.tflite_host import version as tflite_version
from armsim.parts.cpus import CpuVariant


def versions(cpu: CpuVariant | None = None, host: bool = True,
             tflite: bool = False, tflm: bool = False) -> dict[str, str]:
    """Versions of armsim, the engine, the CPU model, CMSIS-NN, (when loaded) Keras and
    TensorFlow, with ``tflite`` the TFLite interpreter's, and with ``tflm`` both TFLM
    commits: the pinned source the chip runs and the tflite-micro wheel the host runs."""
    out = {"armsim": __version__, "unicorn": str(engine_build()),
           "python": platform.python_version()}
    if cpu is not None:
        out["cpu_model"] = f"{cpu.title} (Unicorn UC_CPU_ARM model {cpu.uc_cpu})"
        out["compiler_flags"] = " ".join(cpu.all_flags)
    out["cmsis_nn"] = cmsis.version() or "not found"
    if host and "keras" in sys.modules:
        import keras
        import tensorflow as tf

        out.update(keras=keras.__version__, tensorflow=tf.__version__)
    if tflite:
        out["tflite_interpreter"] = tflite_version()
    if tflm:
        out["tflm_source"] = tflm_tree.version() or "not found"
        out["tflm_host"] = tflm_host.version() or "not installed"
        out["tflm_host_commit"] = tflm_host.commit() or "unknown"
    return out
