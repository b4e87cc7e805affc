"""Keras frontend: load a ``.keras`` file safely and turn the model into a :class:`Graph`.

Sequential and functional models are read through each layer's inbound node, so any DAG of
supported layers works (residual Add, Concatenate). Each layer class is read by the op kind
that registers it (:mod:`armsim.ops.registry`); the builder below gives the handlers what
they need, including the folds: BatchNormalization and Activation layers fold into the op
before them when its kind allows and its output has no other reader. Dropout-like layers
vanish. Anything else is refused before any work, naming the layer.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Activation, Graph, LayerInfo, Op, Tensor
from armsim.model.tfimport import import_keras
from armsim.ops import registry
from armsim.ops._keras import OpNode, op_key, where
from armsim.ops.base import OpKind

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
    return ", ".join(sorted(set(registry.keras_layers()) | IDENTITY))


class _Builder:
    """Mutable state while walking the model; frozen into a Graph at the end."""

    def __init__(self, model: Any, source: str, keras: Any = None) -> None:
        self.source = source
        #: the keras module (for backend constants such as epsilon)
        self.keras = keras
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
        if prod is None or not registry.of(prod).fusable:
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

    # -- what the op kinds' handlers ask (see armsim.ops) -----------------------------------
    def kind(self, op: Op) -> OpKind:
        """The registry's op kind of ``op``."""
        return registry.of(op)

    def reshaped_from(self, tensor: str) -> str | None:
        """The input of the op that produced ``tensor`` when that op only reshapes (a
        Flatten before a Dense), else None."""
        prod = next((o for o in self.ops if tensor in o.outputs), None)
        return prod.inputs[0] if prod is not None and registry.of(prod).alias else None

    def fuse_activation(self, src: str, act: Activation, layer: str) -> bool:
        """Fold activation layer ``layer`` into the op producing ``src`` when that op takes a
        fused activation, has a linear one so far, and nothing else reads ``src``."""
        prod = self.producer_if_foldable(src)
        if prod is None or prod.activation.kind != "linear":
            return False
        i = self.ops.index(prod)
        self.ops[i] = dataclasses.replace(prod, attrs={**prod.attrs, "activation": act},
                                          fused=prod.fused + (layer,))
        self.tensors[src] = dataclasses.replace(self.tensors[src], layer=layer)
        self.note(layer, f"fused into {prod.name}")
        return True

    def fold_scale(self, src: str, scale: np.ndarray, shift: np.ndarray, layer: str) -> bool:
        """Fold a per-channel ``x * scale + shift`` (BatchNormalization ``layer``) into the
        weights and bias of the op producing ``src`` (W' = W * scale per output channel,
        b' = b * scale + shift) when its kind allows it, its activation is linear and
        nothing else reads ``src``."""
        prod = self.producer_if_foldable(src)
        if prod is None or not registry.of(prod).folds_bn or prod.activation.kind != "linear":
            return False
        w = self.tensors[prod.inputs[1]]
        assert w.data is not None
        k = registry.of(prod).scale_weights(w.data.astype(np.float64), scale)
        self.tensors[w.name] = dataclasses.replace(w, data=k.astype(np.float32))
        inputs = list(prod.inputs)
        if len(inputs) > 2:
            bias_t = self.tensors[inputs[2]]
            assert bias_t.data is not None
            bias = bias_t.data.astype(np.float64) * scale + shift
            self.tensors[bias_t.name] = dataclasses.replace(bias_t, data=bias.astype(np.float32))
        else:
            inputs.append(self.const(f"{prod.name}.bias", shift.astype(np.float32), "bias"))
        i = self.ops.index(prod)
        self.ops[i] = dataclasses.replace(prod, inputs=tuple(inputs), fused=prod.fused + (layer,))
        self.tensors[src] = dataclasses.replace(self.tensors[src], layer=layer)
        self.note(layer, f"folded into {prod.name}")
        return True


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


def _flat_nodes(model: Any, source: str) -> tuple[list[tuple[Any, Any]], Any]:
    """(layer, node) of every computation, a nested model's (a Sequential or functional
    model used as a layer) in its place, InputLayers left out; and ``same(kt)``, the
    KerasTensor that stands for ``kt`` (a nested model's input is what the outer graph
    feeds it; its call's output is its own last tensor)."""
    keras = import_keras()
    alias: dict[int, Any] = {}
    out: list[tuple[Any, Any]] = []

    def walk(m: Any, depth: int) -> None:
        for ly, node in _graph_nodes(m):
            if type(ly).__name__ == "InputLayer":
                continue
            if not isinstance(ly, keras.Model):
                out.append((ly, node))
                continue
            inner = getattr(ly, "_functional", None) or ly
            if depth > 16 or not getattr(inner, "inputs", None) or \
                    len(inner.inputs) != len(node.input_tensors) or \
                    len(inner.outputs) != len(node.output_tensors):
                raise ModelError(f"{source}: {where(ly)} is a nested model armsim cannot "
                                 "read into the outer graph (no inputs recorded)")
            for a, b in zip(inner.inputs, node.input_tensors):
                alias[id(a)] = b
            walk(ly, depth + 1)
            for a, b in zip(node.output_tensors, inner.outputs):
                alias[id(a)] = b

    walk(model, 0)

    def same(kt: Any) -> Any:
        while id(kt) in alias:
            kt = alias[id(kt)]
        return kt

    return out, same


def graph_tensors(model: Any) -> tuple[list[Any], dict[str, Any]]:
    """The model's input KerasTensors and each layer's output KerasTensor in its graph. A
    nested model's call output also stands for the output of the inner layer that computes
    it (the layers inside have no tensors of the outer graph)."""
    keras = import_keras()
    fm = getattr(model, "_functional", None) or model
    out = {}
    for ly, n in _graph_nodes(model):
        out[ly.name] = n.output_tensors[0]
        inner = ly
        while isinstance(inner, keras.Model):  # down to the layer that makes the output
            kt = (getattr(inner, "_functional", None) or inner).outputs[0]
            inner = kt._keras_history[0]
            out.setdefault(inner.name, n.output_tensors[0])
    return list(fm.inputs), out


def to_graph(model: Any, source: str = "model") -> Graph:
    """Read a Keras model into a Graph, refusing unsupported layers before any work."""
    fm = getattr(model, "_functional", None) or model
    nodes, same = _flat_nodes(model, source)
    seen: dict[int, int] = {}
    bad = [(k, ly) for k, (ly, _n) in enumerate(nodes)
           if registry.keras_handler(op_key(ly)) is None and type(ly).__name__ not in IDENTITY]
    if bad:  # every one at once, before any work
        listed = "; ".join(f"layer {k} {where(ly)}" for k, ly in bad)
        raise ModelError(f"{source}: {len(bad)} layer(s) armsim's generated firmware does not "
                         f"run: {listed}. Supported layers: {_supported()}",
                         tuple(sorted({type(ly).__name__ for _k, ly in bad})), "keras")
    for ly, _n in nodes:
        seen[id(ly)] = seen.get(id(ly), 0) + 1
        if seen[id(ly)] > 1:
            raise ModelError(f"{source}: {where(ly)} is shared (called more than once); "
                             "armsim needs each layer once")
    b = _Builder(fm, source, import_keras())
    b.outputs_kt = {id(same(t)) for t in fm.outputs}
    for _ly, node in nodes:
        for kt in node.input_tensors:
            b.readers[id(same(kt))] = b.readers.get(id(same(kt)), 0) + 1
    inputs = []
    for kt in fm.inputs:
        shape = _shape_checked(kt, source)
        name = b.add_tensor(Tensor(b.name_for(kt.name or "input"), shape, "float32", "input"))
        b.by_kt[id(kt)] = name
        b.tensor_readers[name] = b.readers.get(id(kt), 0)
        inputs.append(name)
    for ly, node in nodes:
        try:
            ins = [b.by_kt[id(same(kt))] for kt in node.input_tensors]
        except KeyError:
            raise ModelError(f"{source}: {where(ly)} reads a tensor armsim did not see "
                             "produced (an unsupported graph shape)") from None
        if len(node.output_tensors) != 1:
            raise ModelError(f"{source}: {where(ly)} has {len(node.output_tensors)} outputs")
        out_kt = same(node.output_tensors[0])
        _shape_checked(out_kt, source)
        n_before = len(b.ops)
        cls = type(ly).__name__
        key = op_key(ly)
        if cls in IDENTITY:
            out = ins[0]
            b.note(ly.name, "identity at inference")
        else:
            handler = registry.keras_handler(key)
            assert handler is not None
            # a keras.ops node reaches its handler with its call's operands (constants too)
            subject = OpNode(ly.name, cls, tuple(node.arguments.args)) \
                if key.startswith("ops.") else ly
            out = handler(b, subject, ins, out_kt)
        b.by_kt[id(out_kt)] = out
        if out in ins:  # folded into, or an alias of, its input: its readers read that tensor
            b.tensor_readers[out] += b.readers.get(id(out_kt), 0) - 1
        else:
            b.tensor_readers[out] = b.readers.get(id(out_kt), 0)
        ops = tuple(o.name for o in b.ops[n_before:])
        b.layers.append(LayerInfo(ly.name, cls, ops))
    outputs = []
    for kt in fm.outputs:
        name = b.by_kt[id(same(kt))]
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
