"""armsim: check Cortex-M neural-network kernels against Keras, in the Unicorn emulator.

The library layer the CLI stands on, for notebooks::

    import armsim
    graph, model = armsim.load_model("kws.keras")   # any supported Keras model
    plan = armsim.plan(graph)                       # addresses, sizes, element order
    session = armsim.Session(graph, plan, cpu="m4f", mcu="large")
    result = session.run(x)                         # outputs, predicted, instructions
    result = session.run(x, per_op=True)            # result.tensors: every op's output

Imports are lazy: ``import armsim`` pulls in neither TensorFlow nor the emulator.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

_LAZY = {
    "load_model": ("armsim.model.frontends", "load_model"),
    "plan": ("armsim", "plan"),
    "build": ("armsim.firmware.build", "build"),
    "Session": ("armsim.session.session", "Session"),
    "Graph": ("armsim.graph", "Graph"),
    "Plan": ("armsim.plan.buffers", "Plan"),
    "profile": ("armsim.session.profile", "profile"),
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "plan":  # the callable package armsim.plan (see its docstring)
        return importlib.import_module("armsim.plan")
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'armsim' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
