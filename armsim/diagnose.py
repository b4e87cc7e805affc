"""When emulator and host disagree: which layer diverges first, and which plausible layout
mistake the memory contents match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import layout as L
from . import model as M
from .layout import Layout

LAYERS = ("conv", "pool", "logits", "softmax")
_SYMBOLS = {"conv": "armsim_conv_out", "pool": "armsim_pool_out", "logits": "armsim_logits",
            "softmax": "armsim_output"}


@dataclass(frozen=True)
class LayerDiff:
    """Emulator vs host for one layer's output."""

    layer: str
    max_abs_diff: float
    host_scale: float

    @property
    def relative(self) -> float:
        """Max difference relative to the host output's largest magnitude."""
        return self.max_abs_diff / max(self.host_scale, 1e-30)


def host_layers(weights: M.SeedWeights, image: np.ndarray, model: Any = None) -> dict[str, np.ndarray]:
    """Each layer's output on the host: Keras sub-models when a model is given, else numpy."""
    x = np.asarray(image, np.float32).reshape(1, L.IMAGE, L.IMAGE, 1)
    if model is not None:
        from ._tf import import_keras

        keras = import_keras()
        conv = np.asarray(keras.Model(model.input, model.layers[1].output)(x))[0]
        pool = np.asarray(keras.Model(model.input, model.layers[2].output)(x))[0]
    else:
        k = weights.conv_kernel[:, :, 0, :]
        conv = np.zeros((L.CONV_OUT, L.CONV_OUT, weights.filters), np.float32)
        for i in range(L.KERNEL):
            for j in range(L.KERNEL):
                conv += x[0, i:i + L.CONV_OUT, j:j + L.CONV_OUT, 0, None] * k[i, j]
        conv = np.maximum(conv + weights.conv_bias, 0)
        pool = conv.reshape(L.POOLED, 2, L.POOLED, 2, weights.filters).max(axis=(1, 3))
    logits = pool.reshape(-1) @ weights.dense_kernel + weights.dense_bias
    e = np.exp(logits - logits.max())
    return {"conv": conv, "pool": pool, "logits": logits, "softmax": e / e.sum()}


def emulator_layers(read_f32: Callable[[str], np.ndarray], filters: int) -> dict[str, np.ndarray]:
    """Each layer's output read from the emulator through ELF symbols."""
    return {
        "conv": read_f32(_SYMBOLS["conv"]).reshape(L.CONV_OUT, L.CONV_OUT, filters),
        "pool": read_f32(_SYMBOLS["pool"]).reshape(L.POOLED, L.POOLED, filters),
        "logits": read_f32(_SYMBOLS["logits"]),
        "softmax": read_f32(_SYMBOLS["softmax"]),
    }


def layer_diffs(host: dict[str, np.ndarray], emu: dict[str, np.ndarray]) -> list[LayerDiff]:
    """Max |emulator - host| per layer, in network order."""
    out = []
    for name in LAYERS:
        h, e = host[name].astype(np.float64), emu[name].astype(np.float64)
        d = float(np.max(np.abs(h - e))) if not (np.isnan(e).any() or np.isnan(h).any()) else float("inf")
        out.append(LayerDiff(name, d, float(np.max(np.abs(h)))))
    return out


def first_divergence(diffs: list[LayerDiff], relative_tol: float = 1e-4) -> LayerDiff | None:
    """The first layer whose difference exceeds ``relative_tol`` of its output's scale."""
    for d in diffs:
        if d.relative > relative_tol:
            return d
    return None


# -- layout mistakes --------------------------------------------------------------------------
def _dense_channel_first(dense: np.ndarray, filters: int) -> np.ndarray:
    """The dense kernel as if Flatten had been channel-first: rows ordered (o, row, col)."""
    k = dense.reshape(L.POOLED, L.POOLED, filters, L.CLASSES)
    return k.transpose(2, 0, 1, 3).reshape(-1, L.CLASSES)


#: buffer -> [(name, how it was written, how the layout reads it, packer from Keras)]
MISTAKES: dict[str, list[tuple[str, str, str, Callable[[np.ndarray, int], np.ndarray]]]] = {
    "input": [
        ("not transposed", "IN[y*28 + x] = image[y][x]", "IN[x*28 + y]",
         lambda a, f: a[:, :, 0].reshape(-1)),
    ],
    "conv_weights": [
        ("rows and columns swapped", "W1[o*25 + i*5 + j]", "W1[o*25 + j*5 + i]",
         lambda a, f: a.transpose(3, 2, 0, 1).reshape(-1)),
        ("not transposed (Keras order)", "W1[((i*5 + j)*1 + 0)*F + o]", "W1[o*25 + j*5 + i]",
         lambda a, f: a.reshape(-1)),
    ],
    "dense_weights": [
        ("transposed", "W2[k*10 + c] (read as [k][c])", "W2[c*K + k]",
         lambda a, f: a.reshape(-1)),
        ("flattened channel-first", "k = o*144 + row*12 + col", "k = (row*12 + col)*F + o",
         lambda a, f: _dense_channel_first(a, f).T.reshape(-1)),
        ("flattened channel-first and transposed", "W2[k*10 + c], k = o*144 + row*12 + col",
         "W2[c*K + k], k = (row*12 + col)*F + o",
         lambda a, f: _dense_channel_first(a, f).reshape(-1)),
    ],
}


def _unpack_with(packer: Callable[[np.ndarray, int], np.ndarray], buf: L.Buffer,
                 flat: np.ndarray, filters: int) -> np.ndarray:
    """Invert a packer: the Keras tensor that, written that way, gives ``flat``."""
    idx = packer(np.arange(int(np.prod(buf.keras_shape))).reshape(buf.keras_shape), filters)
    out = np.empty(idx.size, np.float32)
    out[idx] = flat
    return out.reshape(buf.keras_shape)


@dataclass(frozen=True)
class Finding:
    """A layout mistake the memory contents match."""

    buffer: str
    mistake: str
    written: str
    expected: str
    outputs_match: bool | None
    max_abs_diff: float | None

    def message(self) -> str:
        """One sentence for the user."""
        s = (f"{self.buffer} look {self.mistake}: the memory holds {self.written}, "
             f"the layout needs {self.expected}")
        if self.outputs_match:
            s += f"; read that way, every output matches the host (max |Δ| {self.max_abs_diff:.1e})"
        elif self.outputs_match is False:
            s += f"; read that way the outputs still differ (max |Δ| {self.max_abs_diff:.1e})"
        return s


def layout_mistakes(memory: dict[str, np.ndarray], weights: M.SeedWeights, layout: Layout,
                    host_outputs: np.ndarray | None = None,
                    image: np.ndarray | None = None, tolerance: float = 1e-5) -> list[Finding]:
    """Compare each buffer as found in memory with the model's tensors written the plausible
    wrong ways; confirm a match by recomputing the outputs with the buffer read that way."""
    f = layout.filters
    keras = {**weights.tensors()}
    if image is not None:
        keras["input"] = np.asarray(image, np.float32).reshape(L.IMAGE, L.IMAGE, 1)
    found = []
    for name, alternatives in MISTAKES.items():
        if name not in keras or name not in memory:
            continue
        buf = layout[name]
        mem = np.asarray(memory[name], np.float32)
        if np.array_equal(mem, buf.pack(keras[name])):
            continue
        for label, written, expected, packer in alternatives:
            if mem.size != buf.count or not np.allclose(mem, packer(keras[name], f), atol=0, rtol=0):
                continue
            match, diff = None, None
            if host_outputs is not None and name != "input":
                fixed = {n: layout[n].unpack(memory[n]) for n in weights.tensors()}
                fixed[name] = _unpack_with(packer, buf, mem, f)
                img = image if image is not None else layout["input"].unpack(memory["input"])
                out = M.reference(M.SeedWeights.from_tensors(fixed), img)
                diff = float(np.max(np.abs(out - host_outputs)))
                match = diff <= tolerance
            found.append(Finding(name, label, written, expected, match, diff))
            break
        else:
            found.append(Finding(name, "different from the model's (no known layout mistake "
                                 "matches)", "other values", buf.order, None, None))
    return found
