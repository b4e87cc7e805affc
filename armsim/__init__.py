"""armsim: check Cortex-M neural-network kernels against Keras, in the Unicorn emulator.

The library layer the CLI stands on, for notebooks::

    import armsim
    graph, model = armsim.load_model("kws.keras")   # any supported Keras model (or .tflite)
    plan = armsim.plan(graph)                       # addresses, sizes, element order
    session = armsim.Session(graph, plan, cpu="m4f", mcu="large")
    result = session.run(x)                         # outputs, predicted, instructions
    result = session.run(x, per_op=True)            # result.tensors: every op's output
    prof = armsim.profile(session, x)               # per-op, per-layer, per-function costs

    tflm = armsim.TflmSession("kws.tflite", cpu="m4f")  # TensorFlow Lite Micro itself
    r = tflm.run([x])                               # r.outputs, r.instructions (Invoke)
    p = armsim.tflm_profile(tflm, [x])              # one row per TFLM operator; p.arena

Imports are lazy: ``import armsim`` pulls in neither TensorFlow nor the emulator. The names
below are the library's functions and types, whatever else was imported before (no submodule
of armsim shares a name with them, bar the callable ``armsim.plan`` package).

The packages, bottom up (ARCHITECTURE.md): ``errors``, ``graph``, ``quant`` -> ``parts`` ->
``ops`` -> ``model`` -> ``plan`` -> ``timing`` -> ``machine`` -> ``firmware`` -> ``session``
-> ``check`` -> ``report`` -> ``script`` -> ``sweep`` -> ``cli``.
"""

from __future__ import annotations

import importlib
from typing import Any

from armsim import _compat

__version__ = "0.2.0"

_compat.install()  # old module paths (armsim.emulator, ...) name the new modules

#: Public name -> (module, attribute), resolved on first use.
_LAZY = {
    "load_model": ("armsim.model.frontends.load", "load_model"),
    "build": ("armsim.firmware.build", "build"),
    "Session": ("armsim.session.session", "Session"),
    "Graph": ("armsim.graph", "Graph"),
    "Plan": ("armsim.plan.buffers", "Plan"),
    "profile": ("armsim.session.profile", "profile"),
    "TflmSession": ("armsim.session.tflm", "TflmSession"),
    "tflm_profile": ("armsim.session.tflm", "profile"),
}


def __getattr__(name: str) -> Any:
    if name == "plan":  # the callable package armsim.plan (see its docstring)
        return importlib.import_module("armsim.plan")
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'armsim' has no attribute {name!r}")


__all__ = ["__version__", "plan", *_LAZY]
