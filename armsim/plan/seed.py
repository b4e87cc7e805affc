"""The seed notebook's layout as a preset of the plan: fixed addresses, transposed order.

Every seed buffer stores its Keras tensor transposed (all axes reversed) and flattened in C
order, as the notebook's ``.T.flatten()`` does. Addresses are fixed whatever F (1..8) is;
the reservation always has room for F = 8, so the arena starts at the same place.
"""

from __future__ import annotations

import numpy as np

from armsim.errors import LayoutError
from armsim.graph import Activation, Graph, LayerInfo, Op, Tensor
from armsim.plan.buffers import Buffer, Plan
from armsim.plan.planner import _with_arena

IMAGE, KERNEL, CLASSES, POOLED = 28, 5, 10, 12
MAX_FILTERS = 8
SRAM_BASE = 0x20000000
#: name, address, capacity at F=8, order formula, description (notebook cells In [14]-[18])
SEED_BUFFERS = (
    ("input", 0x20000014, IMAGE * IMAGE, "IN[x*28 + y] = image[y][x]",
     "input image, pixels scaled (v - 127.5) / 127.5, transposed"),
    ("conv_weights", 0x20000C54, KERNEL * KERNEL * MAX_FILTERS,
     "W1[o*25 + j*5 + i] = kernel[i][j][0][o]",
     "Conv2D 5x5 kernels (i = kernel row, j = column, o = filter)"),
    ("dense_weights", 0x20000F74, POOLED * POOLED * MAX_FILTERS * CLASSES,
     "W2[c*K + k] = dense[k][c], k = (row*12 + col)*F + o",
     "Dense weights, K = 12*12*F inputs in Keras flatten order"),
    ("conv_bias", 0x2000C374, MAX_FILTERS, "B1[o] = bias[o]", "Conv2D bias"),
    ("dense_bias", 0x2000C394, CLASSES, "B2[c] = bias[c]", "Dense bias"),
)
#: The order in which the notebook writes the buffers.
SEED_ORDER = ("conv_weights", "dense_weights", "input", "conv_bias", "dense_bias")


def matches(g: Graph) -> int | None:
    """F when the graph is the seed architecture (Conv2D(F, 5x5, valid, relu) -> MaxPool 2x2
    -> Flatten -> Dense(10, softmax), input 28x28x1, F = 1..8), else None."""
    kinds = [o.kind for o in g.ops]
    if kinds != ["conv2d", "max_pool2d", "reshape", "fully_connected"] or len(g.inputs) != 1:
        return None
    conv, pool, _flat, dense = g.ops
    if g.tensors[g.inputs[0]].shape != (IMAGE, IMAGE, 1) or len(conv.inputs) != 3 \
            or len(dense.inputs) != 3:
        return None
    k = conv.attrs["kernel"]
    f = k[3]
    ok = (k[:3] == (KERNEL, KERNEL, 1) and conv.attrs["strides"] == (1, 1)
          and conv.attrs["padding"] == (0, 0) and conv.attrs["dilation"] == (1, 1)
          and conv.activation.kind == "relu" and conv.activation.max_value is None
          and pool.attrs["pool"] == (2, 2) and pool.attrs["strides"] == (2, 2)
          and g.tensors[pool.outputs[0]].shape == (POOLED, POOLED, f)
          and g.tensors[dense.inputs[1]].shape == (POOLED * POOLED * f, CLASSES)
          and dense.activation.kind == "softmax" and 1 <= f <= MAX_FILTERS)
    return int(f) if ok else None


def seed_graph(filters: int, weights: dict[str, np.ndarray] | None = None) -> Graph:
    """The seed architecture as a graph without Keras (zero weights unless given by seed
    buffer name in Keras shapes), as a script's plan needs it before any model exists."""
    if not 1 <= filters <= MAX_FILTERS:
        raise LayoutError(f"the seed layout holds 1 to {MAX_FILTERS} conv filters, got {filters}")
    f, k = filters, POOLED * POOLED * filters
    w = weights or {}
    shapes = {"conv_weights": (KERNEL, KERNEL, 1, f), "conv_bias": (f,),
              "dense_weights": (k, CLASSES), "dense_bias": (CLASSES,)}
    data = {n: np.asarray(w.get(n, np.zeros(sh)), np.float32).reshape(sh)
            for n, sh in shapes.items()}
    t = {
        "image": Tensor("image", (IMAGE, IMAGE, 1), role="input"),
        "conv.kernel": Tensor("conv.kernel", shapes["conv_weights"], role="weight",
                              data=data["conv_weights"]),
        "conv.bias": Tensor("conv.bias", (f,), role="bias", data=data["conv_bias"]),
        "conv": Tensor("conv", (24, 24, f), layer="conv"),
        "pool": Tensor("pool", (POOLED, POOLED, f), layer="pool"),
        "flatten": Tensor("flatten", (k,), layer="flatten"),
        "dense.kernel": Tensor("dense.kernel", (k, CLASSES), role="weight",
                               data=data["dense_weights"], view_shape=(POOLED, POOLED, f, CLASSES)),
        "dense.bias": Tensor("dense.bias", (CLASSES,), role="bias", data=data["dense_bias"]),
        "dense": Tensor("dense", (CLASSES,), role="output", layer="dense"),
    }
    ops = [
        Op("conv", "conv2d", ("image", "conv.kernel", "conv.bias"), ("conv",),
           {"kernel": (KERNEL, KERNEL, 1, f), "strides": (1, 1), "padding": (0, 0),
            "dilation": (1, 1), "activation": Activation("relu")}, "conv"),
        Op("pool", "max_pool2d", ("conv",), ("pool",),
           {"pool": (2, 2), "strides": (2, 2), "padding": (0, 0),
            "activation": Activation()}, "pool"),
        Op("flatten", "reshape", ("pool",), ("flatten",), {}, "flatten"),
        Op("dense", "fully_connected", ("flatten", "dense.kernel", "dense.bias"), ("dense",),
           {"activation": Activation("softmax")}, "dense"),
    ]
    layers = [LayerInfo(o.name, c, (o.name,)) for o, c in
              zip(ops, ("Conv2D", "MaxPooling2D", "Flatten", "Dense"))]
    return Graph(f"seed_cnn_f{f}", t, ops, ["image"], ["dense"], layers, "seed preset")


def seed_plan(g: Graph) -> Plan:
    """The seed layout for a graph of the seed architecture (LayoutError otherwise)."""
    f = matches(g)
    if f is None:
        raise LayoutError(f"model '{g.name}' is not the seed architecture (Conv2D 5x5 relu, "
                          f"1..{MAX_FILTERS} filters -> MaxPool 2x2 -> Flatten -> Dense(10, "
                          "softmax), input 28x28x1); use --layout auto")
    conv, _pool, _flat, dense = g.ops
    tensors = {"input": g.inputs[0], "conv_weights": conv.inputs[1],
               "dense_weights": dense.inputs[1], "conv_bias": conv.inputs[2],
               "dense_bias": dense.inputs[2]}
    buffers = []
    for name, address, capacity, order, desc in SEED_BUFFERS:
        t = g.tensors[tensors[name]]
        axes = (1, 0) if name == "dense_weights" else tuple(reversed(range(len(t.shape))))
        buffers.append(Buffer(name, t.name, t.role, address, t.shape, axes, region="sram",
                              capacity=capacity, order=order, description=desc,
                              symbol=f"armsim_seed_{name}"))
    after = max(b.capacity_end for b in buffers)
    return _with_arena(g, buffers, SRAM_BASE, (after + 63) & ~63, "seed", "sram",
                       SEED_ORDER, f)


def reservations() -> list[tuple[str, int, int]]:
    """(name, address, capacity in floats) of each seed buffer, whatever F is."""
    return [(n, a, c) for n, a, c, _o, _d in SEED_BUFFERS]


def infer_filters(script) -> int | None:  # type: ignore[no-untyped-def]
    """F implied by how many conv weights a script writes (None if it is not whole)."""
    _n, address, capacity = next(r for r in reservations() if r[0] == "conv_weights")
    _vals, have = script.floats_at(address, capacity)
    n = int(np.argmin(have)) if not have.all() else have.size
    if n and n % (KERNEL * KERNEL) == 0 and have[:n].all() and not have[n:].any():
        return n // (KERNEL * KERNEL)
    return None
