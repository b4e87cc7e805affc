"""What an op kind is: everything armsim knows about one kind of graph op, in one object.

Each op kind is one module of this package (``conv2d.py``, ``pad.py``, ...) holding one
:class:`OpKind` subclass and its instance ``KIND``; :mod:`armsim.ops.registry` lists them.
The frontends, the planner, the firmware renderers, the numpy reference and the diagnosis
ask the registry instead of switching on kind names:

==========================  ===================================================
what                        who asks
==========================  ===================================================
``keras`` / ``tflite``      the Keras and TFLite frontends (layer / operator -> ops)
``macs``                    profiles, budgets (multiply-accumulates)
``reference``               the numpy reference (float64, before the activation)
``alias``                   the planner (output shares the input's bytes), profiles
``const_orders``            the planner (element order of each constant input)
``int8_scratch``            the int8 renderer and the planner (CMSIS-NN scratch)
``render_f32``              ``network.c`` of a float32 graph (armsim's kernels)
``render_s8``               ``network.c`` of an int8 or 16x8 graph (CMSIS-NN s8/s16)
``weight_axes``             the diagnosis (names of a constant's axes)
``fusable``, ``folds_bn``   the Keras frontend (what may fold into this op)
==========================  ===================================================

Handlers receive the frontend's builder (see :mod:`armsim.model.frontends`), whose methods
add tensors and ops; they never import a frontend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

import numpy as np

from armsim.errors import ModelError

if TYPE_CHECKING:
    from armsim.graph import Graph, Op
    from armsim.ops.cgen import FloatContext, Int8Context

#: A Keras layer handler: (builder, layer, input tensor names, output KerasTensor) -> the
#: graph tensor equal to the layer's output.
KerasHandler = Callable[[Any, Any, list[str], Any], str]
#: A TFLite operator handler: (builder, operator index, input and output tensor indices)
#: -> the op (the builder appends it).
TfliteHandler = Callable[[Any, int, list[int], list[int]], "Op"]
#: Values of an op's inputs by tensor name (constants included), for the reference.
Values = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class OpCode:
    """The C of one int8 op: kernel calls, and the expression giving its scratch size (if
    the kernel takes scratch)."""

    calls: list[str]
    scratch_size: str | None = None


class OpKind:
    """One kind of graph op. Subclasses set the class attributes and override what applies.

    Attributes:
        name: the kind in the graph and in every JSON report (``op``)
        summary: what it computes, its attributes in brackets
        keras: Keras layer class name -> handler
        tflite: TFLite builtin operator name -> handler
        tflite_float_only: the operators of ``tflite`` armsim has no int8 kernel for (an
            int8 file using one is refused by name when it is read)
        tflite_int16: the operators of ``tflite`` armsim runs with int16 activations and
            int8 weights (16x8 files: CMSIS-NN's s16 kernels)
        tflite_islands: operator -> handler ``(builder, i, src, dst)`` of that operator kept
            in float32 between a DEQUANTIZE of int8 tensor ``src`` and a QUANTIZE to ``dst``
            in an int8 file, as one int8 op
        tflite_s8_eval: operator -> ``(reader, i, args) -> values``: TFLite's int8 reference
            arithmetic of the operator on integer arrays (:mod:`armsim.fixedpoint`), so a
            chain of element-wise operators of one tensor that includes one armsim has no
            int8 kernel for is read as one 256-entry table (:mod:`armsim.model.frontends.
            tflite_tables`)
        alias: the output is the input's memory under another shape (no code runs)
        fusable: a following activation may fold into this op (its fused activation)
        folds_bn: a following BatchNormalization folds into its weights and bias
        const_orders: constant input slot -> (axes, formula): memory holds the constant
            ``transpose(axes)`` in C order (slots not listed: the tensor's own order)
        int8_scratch: the int8 kernel takes a scratch buffer (sized on the target CPU)
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    keras: ClassVar[Mapping[str, KerasHandler]] = {}
    tflite: ClassVar[Mapping[str, TfliteHandler]] = {}
    tflite_float_only: ClassVar[frozenset[str]] = frozenset()
    tflite_int16: ClassVar[frozenset[str]] = frozenset()
    tflite_islands: ClassVar[Mapping[str, Callable[..., Op]]] = {}
    tflite_s8_eval: ClassVar[Mapping[str, Callable[..., np.ndarray]]] = {}
    alias: ClassVar[bool] = False
    fusable: ClassVar[bool] = False
    folds_bn: ClassVar[bool] = False
    const_orders: ClassVar[Mapping[int, tuple[tuple[int, ...], str]]] = {}
    int8_scratch: ClassVar[bool] = False

    def macs(self, g: Graph, op: Op) -> int:
        """Multiply-accumulates of one run of ``op`` (0 for ops without multiplies)."""
        return 0

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        """The op's output in float64 from its inputs' values, before its fused activation
        (which the reference applies after)."""
        raise ModelError(f"op {op.name}: kind {self.name} has no numpy reference")

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        """Declarations (into ``ctx``) and C statements of op ``i`` of a float32 graph,
        before its non-clamp fused activation (see :mod:`armsim.ops.activations`)."""
        raise ModelError(f"op {op.name}: armsim has no float32 kernel for {self.name}")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        """Declarations (into ``ctx``) and C statements of op ``i`` of an int8 graph."""
        raise ModelError(f"op {op.name}: armsim has no int8 kernel for {self.name}")

    def scale_weights(self, kernel: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """The kernel with a per-output-channel ``scale`` folded in (BatchNormalization)."""
        return kernel * scale

    def weight_axes(self, shape: tuple[int, ...]) -> tuple[str, ...] | None:
        """Names of the axes of a constant this op reads (or of a finer view of it), for
        findings such as ``W[out][in]``; None: generic names (a0, a1, ...). By default a 3-D
        constant is spatial (row, col, ch)."""
        return ("row", "col", "ch") if len(shape) == 3 else None


def fold_reference(op: Op, value: Values, f: Callable[[np.ndarray, np.ndarray], np.ndarray]
                   ) -> np.ndarray:
    """An element-wise op's inputs folded left to right with ``f``, each step rounded to
    float32 as the kernel rounds it (float64 out)."""
    a = value(op.inputs[0]).astype(np.float64)
    for name in op.inputs[1:]:
        a = f(a, value(name).astype(np.float64)).astype(np.float32).astype(np.float64)
    return a
