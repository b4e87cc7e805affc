"""The model as a small, pure-data graph: the one type every frontend produces and every
later stage (plan, code generation, emulation, reference, reports) reads.

A :class:`Graph` holds tensors by name and ops in execution (topological) order. Shapes never
include the batch axis. Constant tensors (weights, biases) carry their values in the shape the
frontend read them (Keras' own kernel shapes); the memory plan decides their element order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from armsim.errors import ModelError

if TYPE_CHECKING:
    from armsim.quant import Quant

#: Tensor roles.
ROLES = ("input", "weight", "bias", "activation", "output")


@dataclass(frozen=True)
class Activation:
    """A fused or standalone activation: its kind and parameters."""

    kind: str = "linear"
    #: relu: upper clip (None: none); clip: the bound c of [-c, c]; leaky_relu: alpha
    max_value: float | None = None
    alpha: float = 0.0

    @property
    def clamp(self) -> tuple[float, float] | None:
        """(min, max) when this activation is a clamp (linear, relu, relu6), else None."""
        inf = float(np.finfo(np.float32).max)
        if self.kind == "linear":
            return (-inf, inf)
        if self.kind == "relu":
            return (0.0, inf if self.max_value is None else float(self.max_value))
        if self.kind == "relu6":
            return (0.0, 6.0)
        if self.kind == "relu_n1_to_1":
            return (-1.0, 1.0)
        if self.kind == "clip":
            return (-float(self.max_value or 0.0), float(self.max_value or 0.0))
        return None

    def describe(self) -> str:
        """Short text, e.g. ``relu6`` or ``leaky_relu(0.2)``."""
        if self.kind == "leaky_relu":
            return f"leaky_relu({self.alpha:g})"
        if self.kind == "relu" and self.max_value is not None:
            return f"relu(max {self.max_value:g})"
        if self.kind == "clip":
            return f"clip({self.max_value:g})"
        return self.kind


LINEAR = Activation()


#: Bytes per element of each tensor dtype (the plan's buffers, the copy kernels' element
#: size).
DTYPE_BYTES = {"float32": 4, "int8": 1, "int16": 2, "int32": 4, "int64": 8}


@dataclass(frozen=True)
class Tensor:
    """A named tensor: shape without the batch axis, dtype, role, and values if constant.

    Attributes:
        name: unique within the graph
        shape: dimensions, batch axis excluded
        dtype: "float32", or "int8"/"int32" in quantized graphs ("int16"/"int64" in 16x8)
        role: one of :data:`ROLES`
        data: the values (constants only), in ``shape``
        view_shape: for a weight, a finer view of the same values used when searching layout
            mistakes (a Dense kernel after Flatten: ``(h, w, c, units)``)
        layer: the Keras layer whose output this tensor equals, if any
        quant: int8/int32 tensors' quantization (scales, zero points), else None
        index: the tensor's position in its source file (a TFLite tensor index), if any
    """

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    role: str = "activation"
    data: np.ndarray | None = field(default=None, compare=False, repr=False)
    view_shape: tuple[int, ...] | None = None
    layer: str | None = None
    quant: Quant | None = field(default=None, compare=False)
    index: int | None = None

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def is_constant(self) -> bool:
        """True for weights and biases."""
        return self.role in ("weight", "bias")


@dataclass(frozen=True)
class Op:
    """One computation: kind, input and output tensor names, attributes.

    Attributes:
        name: unique, derived from the Keras layer (``conv1``, ``sep/depthwise``)
        kind: an op kind of the registry (:mod:`armsim.ops.registry`)
        inputs: activation inputs first, then weight and bias (when present)
        outputs: one tensor
        attrs: kind-specific settings (each kind's module in :mod:`armsim.ops` says which)
        layer: the Keras layer this op came from
        fused: other Keras layers folded into it (a BatchNormalization, an Activation)
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict, compare=False)
    layer: str = ""
    fused: tuple[str, ...] = ()

    @property
    def activation(self) -> Activation:
        """The fused activation (linear when none)."""
        return self.attrs.get("activation", LINEAR)


@dataclass(frozen=True)
class LayerInfo:
    """A Keras layer and what became of it: the ops it produced, or where it went."""

    name: str
    class_name: str
    ops: tuple[str, ...]
    note: str = ""


@dataclass
class Graph:
    """Tensors by name, ops in execution order, the model's inputs and outputs.

    Attributes:
        name: the model's name
        tensors: every tensor by name
        ops: in a valid execution order
        inputs: graph input tensor names
        outputs: graph output tensor names, in the model's output order
        layers: every Keras layer (InputLayer excluded) with its ops, in model order
        source: where the graph came from (a file path, or a description)
        float_edges: (input, output) were float in the file and quantized at the edges by
            QUANTIZE/DEQUANTIZE ops that armsim peeled off (the host does them)
    """

    name: str
    tensors: dict[str, Tensor]
    ops: list[Op]
    inputs: list[str]
    outputs: list[str]
    layers: list[LayerInfo] = field(default_factory=list)
    source: str = ""
    float_edges: tuple[bool, bool] = (False, False)

    @property
    def dtype(self) -> str:
        """The activations' type: "int8" for quantized graphs ("int16" for 16x8 ones), else
        "float32"."""
        return self.tensors[self.inputs[0]].dtype if self.inputs else "float32"

    @property
    def quantized(self) -> bool:
        """True for int8 and 16x8 graphs (quantized TFLite models)."""
        return self.dtype in ("int8", "int16")

    @property
    def output_dtype(self) -> str:
        """The outputs' type (int8, int16 or int32 in quantized graphs; the widest where
        they differ)."""
        return max((self.tensors[n].dtype for n in self.outputs), key=DTYPE_BYTES.__getitem__,
                   default=self.dtype)

    @property
    def kind(self) -> str:
        """What the activations are: "float32", "int8", "16x8" (int16 throughout), or
        "int8/int16" (an int8 body with int16 edges)."""
        if not self.quantized:
            return "float32"
        types = {t.dtype for t in self.tensors.values() if not t.is_constant}
        return "16x8" if types == {"int16"} else "int8" if types == {"int8"} else "int8/int16"

    def producer(self, tensor: str) -> Op | None:
        """The op whose output is ``tensor`` (None for inputs and constants)."""
        for o in self.ops:
            if tensor in o.outputs:
                return o
        return None

    def constants(self) -> list[Tensor]:
        """Weights and biases in the order the ops read them."""
        seen: dict[str, Tensor] = {}
        for o in self.ops:
            for name in o.inputs:
                t = self.tensors[name]
                if t.is_constant and name not in seen:
                    seen[name] = t
        return list(seen.values())


def same_padding(in_hw: tuple[int, int], k: tuple[int, int], strides: tuple[int, int],
                 dil: tuple[int, int], out_hw: tuple[int, int]) -> tuple[int, int]:
    """(top, left) zero padding of TensorFlow's 'same': half the total, the extra cell at the
    bottom/right (Keras and TFLite alike)."""
    out = []
    for a in range(2):
        eff = (k[a] - 1) * dil[a] + 1
        total = max((out_hw[a] - 1) * strides[a] + eff - in_hw[a], 0)
        out.append(total // 2)
    return out[0], out[1]


def dims4(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(h, w, c) of an activation: (c,) -> (1, 1, c); (w, c) -> (1, w, c); (h, w, c)."""
    if len(shape) == 1:
        return 1, 1, shape[0]
    if len(shape) == 2:
        return 1, shape[0], shape[1]
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    raise ModelError(f"a tensor of rank {len(shape)} (shape {list(shape)}) has no (h, w, c) "
                     "view: armsim's kernels take activations of rank 1 to 3")


