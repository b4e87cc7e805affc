"""Keras frontend: load a ``.keras`` file safely and turn the model into a :class:`Graph`.

Sequential and functional models are read through each layer's inbound node, so any DAG of
supported layers works (residual Add, Concatenate). BatchNormalization and Activation layers
fold into the Conv/Depthwise/Dense op before them when that op's output has no other reader;
Dropout-like layers vanish; SeparableConv2D becomes a depthwise and a pointwise op.
Anything else is refused before any work, naming the layer.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.errors import ModelError
from armsim.graph import ACTIVATIONS, LINEAR, Activation, Graph, LayerInfo, Op, Tensor, same_padding
from armsim.model.tfimport import import_keras

#: Keras releases before this have known safe_mode bypasses.
MIN_KERAS = (3, 13)

#: Layers that vanish at inference (their output is their input).
IDENTITY = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
            "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"}


def _keras_version(keras: Any) -> tuple[int, int]:
    parts = keras.__version__.split(".")
    return int(parts[0]), int(parts[1])


def load(path: str | os.PathLike[str], trust: bool = False, kind: str = "keras") -> Any:
    """Load a ``.keras`` model with safe_mode on (``trust`` allows .h5 and Lambda layers)."""
    p = Path(path)
    if kind == "h5" and not trust:
        raise ModelError(f"{p}: a legacy HDF5 (.h5) model; these can carry code and are refused "
                         "(re-save it as .keras, or pass --trust-model for a file you trust)")
    if kind == "keras" and not zipfile.is_zipfile(p):
        raise ModelError(f"{p}: a damaged .keras archive (not a readable zip file)")
    if kind not in ("keras", "h5"):
        raise ModelError(f"{p}: not a Keras model (a .keras file is a zip archive; this file "
                         "starts with other bytes)")
    if kind == "keras" and p.suffix != ".keras":
        raise ModelError(f"{p}: a Keras archive must be named *.keras for Keras to load it")

    keras = import_keras()
    if _keras_version(keras) < MIN_KERAS:
        raise ModelError(f"Keras {keras.__version__} has known safe_mode bypasses; "
                         f"armsim needs {MIN_KERAS[0]}.{MIN_KERAS[1]} or newer")
    try:
        return keras.models.load_model(p, compile=False, safe_mode=not trust)
    except Exception as e:  # Keras raises many types for a bad archive
        text = str(e).splitlines()[0] if str(e) else ""
        if "safe_mode" in str(e) or "Lambda" in str(e):
            raise ModelError(f"{p}: refused: the model contains a Lambda layer or other code "
                             "that only loads with safe_mode off; pass --trust-model if you "
                             "trust this file") from None
        raise ModelError(f"{p}: cannot load Keras model: {type(e).__name__}: {text}") from None


def _supported() -> str:
    return ", ".join(sorted(set(_HANDLERS) | IDENTITY))


class _Builder:
    """Mutable state while walking the model; frozen into a Graph at the end."""

    def __init__(self, model: Any, source: str) -> None:
        self.source = source
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.layers: list[LayerInfo] = []
        self.by_kt: dict[int, str] = {}  # id(KerasTensor) -> graph tensor name
        self.readers: dict[int, int] = {}  # id(KerasTensor) -> number of layers reading it
        #: graph tensor -> layers reading it, not counting layers folded into its producer
        self.tensor_readers: dict[str, int] = {}
        self.outputs_kt = {id(t) for t in model.outputs}
        self.notes: dict[str, str] = {}  # Keras layer -> what became of it

    def note(self, layer: str, text: str) -> None:
        self.notes[layer] = text

    def producer_if_foldable(self, tensor: str) -> Op | None:
        """The op producing ``tensor`` when nothing else reads it and it is no model output."""
        kt_ids = [k for k, v in self.by_kt.items() if v == tensor]
        if any(k in self.outputs_kt for k in kt_ids) or self.tensor_readers.get(tensor) != 1:
            return None
        prod = next((o for o in self.ops if tensor in o.outputs), None)
        if prod is None or prod.kind not in ("conv2d", "depthwise_conv2d", "fully_connected",
                                             "scale_shift", "add", "avg_pool2d", "max_pool2d"):
            return None
        return prod

    # -- tensors ------------------------------------------------------------------------------
    def name_for(self, base: str) -> str:
        name = base
        i = 1
        while name in self.tensors:
            i += 1
            name = f"{base}_{i}"
        return name

    def add_tensor(self, t: Tensor) -> str:
        self.tensors[t.name] = t
        return t.name

    def const(self, base: str, data: np.ndarray, role: str,
              view: tuple[int, ...] | None = None) -> str:
        a = np.asarray(data, np.float32)
        if not np.all(np.isfinite(a)):
            raise ModelError(f"{self.source}: {base} holds NaN or infinity")
        return self.add_tensor(Tensor(self.name_for(base), tuple(a.shape), "float32", role,
                                      a.copy(), view))

    def activation_out(self, layer: Any, shape: tuple[int, ...]) -> str:
        return self.add_tensor(Tensor(self.name_for(layer.name), shape, "float32",
                                      "activation", layer=layer.name))


def _shape(kt: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in kt.shape[1:])


def _activation(value: Any, where: str) -> Activation:
    """A Keras activation (name or function) as an Activation."""
    name = value if isinstance(value, str) else getattr(value, "__name__", str(value))
    name = {"None": "linear", None: "linear"}.get(name, name)
    if name == "leaky_relu":
        return Activation("leaky_relu", alpha=0.2)  # keras.activations.leaky_relu default
    if name not in ACTIVATIONS:
        raise ModelError(f"{where}: activation '{name}' is not supported; supported: "
                         f"{', '.join(ACTIVATIONS)}")
    return Activation(name)


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    t = tuple(int(x) for x in v)
    return (1, t[0]) if len(t) == 1 else (t[0], t[1])


def _where(layer: Any) -> str:
    return f"layer '{layer.name}' ({type(layer).__name__})"


def _channels_last(layer: Any) -> None:
    fmt = layer.get_config().get("data_format", "channels_last")
    if fmt not in (None, "channels_last"):
        raise ModelError(f"{_where(layer)}: data_format '{fmt}' is not supported; armsim "
                         "runs channels_last (NHWC) models")


def _padding(layer: Any, cfg: dict[str, Any], in_hw: tuple[int, int], k: tuple[int, int],
             strides: tuple[int, int], dil: tuple[int, int], out_hw: tuple[int, int]) -> tuple[int, int]:
    """(top, left) zero padding, TensorFlow's rule for 'same' (extra on the bottom/right)."""
    pad = cfg["padding"]
    if pad == "valid":
        return 0, 0
    if pad == "causal":
        return 0, (k[1] - 1) * dil[1]
    if pad != "same":
        raise ModelError(f"{_where(layer)}: padding '{pad}' is not supported")
    return same_padding(in_hw, k, strides, dil, out_hw)


def _spatial(shape: tuple[int, ...]) -> tuple[int, int]:
    return (1, shape[0]) if len(shape) == 2 else (shape[0], shape[1])


# -- layer handlers: each adds ops and returns the graph tensor of the layer's output ----------
Handler = Callable[[_Builder, Any, list[str], Any], str]


def _geometry(b: _Builder, layer: Any, ins: list[str], out_kt: Any,
              kernel: np.ndarray) -> dict[str, Any]:
    """Kernel shape (1-D layers get a height of 1), strides, dilation and padding."""
    cfg = layer.get_config()
    k = (int(kernel.shape[0]), int(kernel.shape[1]))
    strides, dil = _pair(cfg["strides"]), _pair(cfg["dilation_rate"])
    pads = _padding(layer, cfg, _spatial(b.tensors[ins[0]].shape), k, strides, dil,
                    _spatial(_shape(out_kt)))
    return {"kernel": tuple(int(x) for x in kernel.shape), "strides": strides,
            "padding": pads, "dilation": dil}


def _convolution(kind: str) -> Handler:
    """Conv2D/Conv1D ("conv2d") or DepthwiseConv2D/1D ("depthwise_conv2d")."""

    def handler(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
        cfg = layer.get_config()
        _channels_last(layer)
        if int(cfg.get("groups", 1)) != 1:
            raise ModelError(f"{_where(layer)}: grouped convolution (groups={cfg['groups']}) "
                             "is not supported")
        weights = layer.get_weights()
        kernel = weights[0]
        if kernel.ndim == 3:  # 1-D layers: (k, in, out|mult) -> (1, k, in, out|mult)
            kernel = kernel[np.newaxis]
        attrs = _geometry(b, layer, ins, out_kt, kernel)
        if kind == "depthwise_conv2d":
            attrs["multiplier"] = int(kernel.shape[3])
        inputs = [ins[0], b.const(f"{layer.name}.kernel", kernel, "weight")]
        if cfg.get("use_bias", True):
            inputs.append(b.const(f"{layer.name}.bias", weights[1], "bias"))
        out = b.activation_out(layer, _shape(out_kt))
        attrs["activation"] = _activation(cfg["activation"], _where(layer))
        b.ops.append(Op(layer.name, kind, tuple(inputs), (out,), attrs, layer.name))
        return out

    return handler


def _separable(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    _channels_last(layer)
    weights = layer.get_weights()
    dwk, pwk = weights[0], weights[1]
    if dwk.ndim == 3:  # SeparableConv1D
        dwk, pwk = dwk[np.newaxis], pwk[np.newaxis]
    out_shape = _shape(out_kt)
    geo = _geometry(b, layer, ins, out_kt, dwk)
    mid_shape = out_shape[:-1] + (int(dwk.shape[2] * dwk.shape[3]),)
    dw_w = b.const(f"{layer.name}.depthwise_kernel", dwk, "weight")
    mid = b.add_tensor(Tensor(b.name_for(f"{layer.name}/depthwise"), mid_shape))
    b.ops.append(Op(f"{layer.name}/depthwise", "depthwise_conv2d", (ins[0], dw_w), (mid,),
                    {**geo, "multiplier": int(dwk.shape[3]), "activation": LINEAR}, layer.name))
    pw_w = b.const(f"{layer.name}.pointwise_kernel", pwk, "weight")
    inputs = [mid, pw_w]
    if cfg.get("use_bias", True):
        inputs.append(b.const(f"{layer.name}.bias", weights[2], "bias"))
    out = b.activation_out(layer, out_shape)
    b.ops.append(Op(f"{layer.name}/pointwise", "conv2d", tuple(inputs), (out,), {
        "kernel": tuple(int(x) for x in pwk.shape), "strides": (1, 1), "padding": (0, 0),
        "dilation": (1, 1), "activation": _activation(cfg["activation"], _where(layer))},
        layer.name))
    return out


def _dense(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    weights = layer.get_weights()
    src = b.tensors[ins[0]]
    view = None
    prod = next((o for o in b.ops if ins[0] in o.outputs), None)
    if prod is not None and prod.kind == "reshape" and len(src.shape) == 1:
        before = b.tensors[prod.inputs[0]].shape
        if len(before) > 1:
            view = tuple(before) + (int(weights[0].shape[1]),)
    w = b.const(f"{layer.name}.kernel", weights[0], "weight", view)
    inputs = [ins[0], w]
    if cfg.get("use_bias", True):
        inputs.append(b.const(f"{layer.name}.bias", weights[1], "bias"))
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "fully_connected", tuple(inputs), (out,),
                    {"activation": _activation(cfg["activation"], _where(layer))}, layer.name))
    return out


def _pool(kind: str) -> Handler:
    def handler(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
        cfg = layer.get_config()
        _channels_last(layer)
        in_shape = b.tensors[ins[0]].shape
        out_shape = _shape(out_kt)
        pool = _pair(cfg["pool_size"])
        strides = _pair(cfg["strides"] if cfg.get("strides") is not None else cfg["pool_size"])
        pads = _padding(layer, cfg, _spatial(in_shape), pool, strides, (1, 1),
                        _spatial(out_shape))
        out = b.activation_out(layer, out_shape)
        b.ops.append(Op(layer.name, kind, (ins[0],), (out,), {
            "pool": pool, "strides": strides, "padding": pads, "activation": LINEAR},
            layer.name))
        return out
    return handler


def _global_pool(kind: str) -> Handler:
    def handler(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
        _channels_last(layer)
        in_shape = b.tensors[ins[0]].shape
        pool = _spatial(in_shape)
        out = b.activation_out(layer, _shape(out_kt))
        b.ops.append(Op(layer.name, kind, (ins[0],), (out,), {
            "pool": pool, "strides": pool, "padding": (0, 0), "activation": LINEAR},
            layer.name))
        return out
    return handler


def _reshape(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "reshape", (ins[0],), (out,), {}, layer.name))
    return out


def _zero_padding(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    _channels_last(layer)
    p = cfg["padding"]
    if type(layer).__name__ == "ZeroPadding1D":
        pads = (0, 0, *_pair(p))
    else:
        if isinstance(p, int):
            p = ((p, p), (p, p))
        (t, bo), (le, r) = (_pair(x) for x in p)
        pads = (t, bo, le, r)
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "pad", (ins[0],), (out,), {"pads": pads}, layer.name))
    return out


def _standalone(act: Callable[[Any], Activation]) -> Handler:
    def handler(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
        return _add_activation(b, layer, ins[0], act(layer), out_kt)
    return handler


def _activation_layer(layer: Any) -> Activation:
    return _activation(layer.get_config()["activation"], _where(layer))


def _relu_layer(layer: Any) -> Activation:
    cfg = layer.get_config()
    mx, slope, thr = cfg.get("max_value"), float(cfg.get("negative_slope") or 0), \
        float(cfg.get("threshold") or 0)
    if thr != 0:
        raise ModelError(f"{_where(layer)}: ReLU with threshold {thr:g} is not supported")
    if slope and mx is not None:
        raise ModelError(f"{_where(layer)}: ReLU with both max_value and negative_slope is not "
                         "supported")
    if slope:
        return Activation("leaky_relu", alpha=slope)
    if mx is not None and float(mx) == 6.0:
        return Activation("relu6")
    return Activation("relu", max_value=None if mx is None else float(mx))


def _leaky_layer(layer: Any) -> Activation:
    cfg = layer.get_config()
    return Activation("leaky_relu", alpha=float(cfg.get("negative_slope", cfg.get("alpha", 0.3))))


def _softmax_layer(layer: Any) -> Activation:
    axis = layer.get_config().get("axis", -1)
    if axis not in (-1, [-1]):
        raise ModelError(f"{_where(layer)}: softmax over axis {axis} is not supported (only "
                         "the last axis)")
    return Activation("softmax")


def _add_activation(b: _Builder, layer: Any, src: str, act: Activation, out_kt: Any) -> str:
    """Fuse into the producing op when it has a linear activation and no other reader."""
    prod = b.producer_if_foldable(src)
    if prod is not None and prod.activation.kind == "linear":
        i = b.ops.index(prod)
        b.ops[i] = dataclasses.replace(prod, attrs={**prod.attrs, "activation": act},
                                       fused=prod.fused + (layer.name,))
        b.tensors[src] = dataclasses.replace(b.tensors[src], layer=layer.name)
        b.note(layer.name, f"fused into {prod.name}")
        return src
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "activation", (src,), (out,), {"activation": act}, layer.name))
    return out


def _batch_norm(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    rank = len(b.tensors[ins[0]].shape)
    if axis not in (-1, rank):
        raise ModelError(f"{_where(layer)}: normalises axis {axis}; only the channel (last) "
                         "axis is supported")
    gamma = np.asarray(layer.gamma.numpy() if cfg.get("scale", True) else 1.0, np.float64)
    beta = np.asarray(layer.beta.numpy() if cfg.get("center", True) else 0.0, np.float64)
    mean = np.asarray(layer.moving_mean.numpy(), np.float64)
    var = np.asarray(layer.moving_variance.numpy(), np.float64)
    scale = gamma / np.sqrt(var + float(cfg.get("epsilon", 1e-3)))
    shift = beta - mean * scale
    scale = np.broadcast_to(scale, mean.shape)
    shift = np.broadcast_to(shift, mean.shape)
    prod = b.producer_if_foldable(ins[0])
    if prod is not None and prod.kind in ("conv2d", "depthwise_conv2d", "fully_connected") \
            and prod.activation.kind == "linear":
        _fold(b, prod, scale, shift, layer.name)
        b.tensors[ins[0]] = dataclasses.replace(b.tensors[ins[0]], layer=layer.name)
        b.note(layer.name, f"folded into {prod.name}")
        return ins[0]
    return _scale_shift(b, layer, ins[0], scale, shift, out_kt)


def _fold(b: _Builder, prod: Op, scale: np.ndarray, shift: np.ndarray, bn: str) -> None:
    """W' = W * scale (per output channel), b' = b * scale + shift."""
    w = b.tensors[prod.inputs[1]]
    assert w.data is not None
    k = w.data.astype(np.float64)
    if prod.kind == "depthwise_conv2d":
        s = scale.reshape(k.shape[2], k.shape[3])
        k = k * s
    else:
        k = k * scale
    b.tensors[w.name] = dataclasses.replace(w, data=k.astype(np.float32))
    inputs = list(prod.inputs)
    if len(inputs) > 2:
        bias_t = b.tensors[inputs[2]]
        assert bias_t.data is not None
        bias = bias_t.data.astype(np.float64) * scale + shift
        b.tensors[bias_t.name] = dataclasses.replace(bias_t, data=bias.astype(np.float32))
    else:
        inputs.append(b.const(f"{prod.name}.bias", shift.astype(np.float32), "bias"))
    i = b.ops.index(prod)
    b.ops[i] = dataclasses.replace(prod, inputs=tuple(inputs), fused=prod.fused + (bn,))


def _scale_shift(b: _Builder, layer: Any, src: str, scale: np.ndarray, shift: np.ndarray,
                 out_kt: Any) -> str:
    c = b.tensors[src].shape[-1]
    scale = np.broadcast_to(np.asarray(scale, np.float64).reshape(-1), (c,)) \
        if np.asarray(scale).size in (1, c) else None
    shift = np.broadcast_to(np.asarray(shift, np.float64).reshape(-1), (c,)) \
        if np.asarray(shift).size in (1, c) else None
    if scale is None or shift is None:
        raise ModelError(f"{_where(layer)}: only scalar or per-channel (last axis) scaling is "
                         "supported")
    s = b.const(f"{layer.name}.scale", scale.astype(np.float32), "weight")
    t = b.const(f"{layer.name}.shift", shift.astype(np.float32), "bias")
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "scale_shift", (src, s, t), (out,), {"activation": LINEAR},
                    layer.name))
    return out


def _rescaling(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    return _scale_shift(b, layer, ins[0], np.asarray(cfg["scale"], np.float64),
                        np.asarray(cfg["offset"], np.float64), out_kt)


def _normalization(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    if cfg.get("invert"):
        raise ModelError(f"{_where(layer)}: invert=True is not supported")
    axis = cfg.get("axis", -1)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if axis not in ((-1,), (len(b.tensors[ins[0]].shape),)):
        raise ModelError(f"{_where(layer)}: normalises axis {axis}; only the channel (last) "
                         "axis is supported")
    mean = np.asarray(layer.mean, np.float64).reshape(-1)
    var = np.asarray(layer.variance, np.float64).reshape(-1)

    eps = float(import_keras().backend.epsilon())
    scale = 1.0 / np.maximum(np.sqrt(var), eps)
    return _scale_shift(b, layer, ins[0], scale, -mean * scale, out_kt)


def _add(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    shapes = {b.tensors[i].shape for i in ins}
    if len(shapes) != 1:
        raise ModelError(f"{_where(layer)}: inputs of shapes {sorted(shapes)}; broadcasting "
                         "is not supported")
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "add", tuple(ins), (out,), {"activation": LINEAR}, layer.name))
    return out


def _concat(b: _Builder, layer: Any, ins: list[str], out_kt: Any) -> str:
    axis = int(layer.get_config().get("axis", -1))
    rank = len(b.tensors[ins[0]].shape)
    axis = axis + rank if axis < 0 else axis - 1  # to an axis of the batchless shape
    if not 0 <= axis < rank:
        raise ModelError(f"{_where(layer)}: concatenation over the batch axis is not supported")
    out = b.activation_out(layer, _shape(out_kt))
    b.ops.append(Op(layer.name, "concat", tuple(ins), (out,), {"axis": axis}, layer.name))
    return out


_HANDLERS: dict[str, Handler] = {
    "Conv2D": _convolution("conv2d"), "Conv1D": _convolution("conv2d"),
    "DepthwiseConv2D": _convolution("depthwise_conv2d"),
    "DepthwiseConv1D": _convolution("depthwise_conv2d"),
    "SeparableConv2D": _separable, "SeparableConv1D": _separable,
    "Dense": _dense,
    "MaxPooling2D": _pool("max_pool2d"), "AveragePooling2D": _pool("avg_pool2d"),
    "MaxPooling1D": _pool("max_pool2d"), "AveragePooling1D": _pool("avg_pool2d"),
    "GlobalAveragePooling2D": _global_pool("avg_pool2d"),
    "GlobalMaxPooling2D": _global_pool("max_pool2d"),
    "GlobalAveragePooling1D": _global_pool("avg_pool2d"),
    "GlobalMaxPooling1D": _global_pool("max_pool2d"),
    "Flatten": _reshape, "Reshape": _reshape,
    "ZeroPadding2D": _zero_padding, "ZeroPadding1D": _zero_padding,
    "Activation": _standalone(_activation_layer), "ReLU": _standalone(_relu_layer),
    "LeakyReLU": _standalone(_leaky_layer), "Softmax": _standalone(_softmax_layer),
    "BatchNormalization": _batch_norm,
    "Add": _add, "Concatenate": _concat,
    "Rescaling": _rescaling, "Normalization": _normalization,
}


def _graph_nodes(model: Any) -> list[tuple[Any, Any]]:
    """(layer, node) of every computation in the model's graph, in execution order.

    A Sequential model keeps its graph in a wrapped Functional (a loaded one also has stale
    nodes on its layers); a Functional model is its own graph.
    """
    fm = getattr(model, "_functional", None) or model
    order = {id(ly): i for i, ly in enumerate(model.layers)}
    by_depth = getattr(fm, "_nodes_by_depth", None)
    if not by_depth:  # no graph recorded: each layer's own (single) inbound node
        return [(ly, ly._inbound_nodes[0]) for ly in model.layers if ly._inbound_nodes]
    out = []
    for depth in sorted(by_depth, reverse=True):
        for node in sorted(by_depth[depth], key=lambda n: order.get(id(n.operation), 0)):
            out.append((node.operation, node))
    return out


def graph_tensors(model: Any) -> tuple[list[Any], dict[str, Any]]:
    """The model's input KerasTensors and each layer's output KerasTensor in its graph."""
    fm = getattr(model, "_functional", None) or model
    return list(fm.inputs), {ly.name: n.output_tensors[0] for ly, n in _graph_nodes(model)}


def to_graph(model: Any, source: str = "model") -> Graph:
    """Read a Keras model into a Graph, refusing unsupported layers before any work."""
    fm = getattr(model, "_functional", None) or model
    nodes = [(ly, n) for ly, n in _graph_nodes(model) if type(ly).__name__ != "InputLayer"]
    seen: dict[int, int] = {}
    for ly, _n in nodes:
        cls = type(ly).__name__
        if cls not in _HANDLERS and cls not in IDENTITY:
            kind = "a nested model" if hasattr(ly, "layers") else "not supported"
            raise ModelError(f"{source}: {_where(ly)} is {kind}; supported layers: "
                             f"{_supported()}")
        seen[id(ly)] = seen.get(id(ly), 0) + 1
        if seen[id(ly)] > 1:
            raise ModelError(f"{source}: {_where(ly)} is shared (called more than once); "
                             "armsim needs each layer once")
    b = _Builder(fm, source)
    for _ly, node in nodes:
        for kt in node.input_tensors:
            b.readers[id(kt)] = b.readers.get(id(kt), 0) + 1
    inputs = []
    for kt in fm.inputs:
        shape = _shape_checked(kt, source)
        name = b.add_tensor(Tensor(b.name_for(kt.name or "input"), shape, "float32", "input"))
        b.by_kt[id(kt)] = name
        b.tensor_readers[name] = b.readers.get(id(kt), 0)
        inputs.append(name)
    for ly, node in nodes:
        try:
            ins = [b.by_kt[id(kt)] for kt in node.input_tensors]
        except KeyError:
            raise ModelError(f"{source}: {_where(ly)} reads a tensor armsim did not see "
                             "produced (an unsupported graph shape)") from None
        if len(node.output_tensors) != 1:
            raise ModelError(f"{source}: {_where(ly)} has {len(node.output_tensors)} outputs")
        out_kt = node.output_tensors[0]
        _shape_checked(out_kt, source)
        n_before = len(b.ops)
        cls = type(ly).__name__
        if cls in IDENTITY:
            out = ins[0]
            b.note(ly.name, "identity at inference")
        else:
            out = _HANDLERS[cls](b, ly, ins, out_kt)
        b.by_kt[id(out_kt)] = out
        if out in ins:  # folded into, or an alias of, its input: its readers read that tensor
            b.tensor_readers[out] += b.readers.get(id(out_kt), 0) - 1
        else:
            b.tensor_readers[out] = b.readers.get(id(out_kt), 0)
        ops = tuple(o.name for o in b.ops[n_before:])
        b.layers.append(LayerInfo(ly.name, cls, ops))
    outputs = []
    for kt in fm.outputs:
        name = b.by_kt[id(kt)]
        if name in inputs:
            raise ModelError(f"{source}: the model's output is its input (no computation)")
        outputs.append(name)
    for name in outputs:
        t = b.tensors[name]
        b.tensors[name] = dataclasses.replace(t, role="output")
    layers_info = [dataclasses.replace(li, note=b.notes.get(li.name, "")) for li in b.layers]
    # drop tensors no op reads or writes (a folded bias that was replaced, for instance)
    used = set(inputs) | {n for o in b.ops for n in o.inputs + o.outputs}
    tensors = {k: v for k, v in b.tensors.items() if k in used}
    g = Graph(model.name or Path(source).stem, tensors, b.ops, inputs, outputs, layers_info,
              source)
    if not g.ops:
        raise ModelError(f"{source}: the model has no layers armsim computes")
    return g


def _shape_checked(kt: Any, source: str) -> tuple[int, ...]:
    dims = kt.shape[1:]
    if any(d is None for d in dims):
        raise ModelError(f"{source}: tensor '{kt.name}' has an unknown dimension {tuple(kt.shape)}; "
                         "armsim needs fixed shapes")
    if not dims:
        raise ModelError(f"{source}: tensor '{kt.name}' has no dimensions besides the batch")
    return tuple(int(d) for d in dims)
