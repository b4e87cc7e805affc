"""The seed memory layout: where each tensor lives in SRAM and in which element order.

This module is the one source of truth for names, addresses, shapes and element order.
The exporter, the script checks, the generated C header and the emulator all derive from
:func:`seed_layout`. Every buffer stores its Keras tensor transposed (all axes reversed)
and flattened in C order, which is what the seed notebook's ``.T.flatten(order='C')`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np

from .errors import LayoutError

#: Network geometry of the seed model (Conv2D 5x5 valid -> MaxPool 2x2 -> Dense 10).
IMAGE = 28
KERNEL = 5
CONV_OUT = IMAGE - KERNEL + 1  # 24
POOL = 2
POOLED = (CONV_OUT + POOL - 1) // POOL  # 12 ("same" padding)
CLASSES = 10
#: The seed's SRAM layout has room for at most this many conv filters.
MAX_FILTERS = 8
F32 = 4


@dataclass(frozen=True)
class Buffer:
    """One tensor in SRAM: its address, its shapes in Keras and in memory, and the mapping."""

    name: str
    address: int
    keras_shape: tuple[int, ...]
    memory_shape: tuple[int, ...]
    axes: tuple[int, ...]
    capacity: int
    order: str
    description: str

    @property
    def count(self) -> int:
        """Number of float32 elements."""
        return int(np.prod(self.memory_shape))

    @property
    def nbytes(self) -> int:
        """Size in bytes."""
        return self.count * F32

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.address + self.nbytes

    @property
    def capacity_end(self) -> int:
        """One past the last byte reserved for this buffer at MAX_FILTERS."""
        return self.address + self.capacity * F32

    def pack(self, keras_array: np.ndarray) -> np.ndarray:
        """Keras tensor -> flat float32 array in memory order."""
        a = np.asarray(keras_array, dtype=np.float32)
        if a.shape != self.keras_shape:
            raise LayoutError(f"{self.name}: expected a Keras array of shape {self.keras_shape}, "
                              f"got {a.shape}")
        return np.ascontiguousarray(a.transpose(self.axes)).reshape(-1)

    def pack_many(self, keras_arrays: np.ndarray) -> np.ndarray:
        """A batch of Keras tensors (N, *keras_shape) -> (N, count) rows in memory order."""
        a = np.asarray(keras_arrays, dtype=np.float32)
        if a.shape[1:] != self.keras_shape:
            raise LayoutError(f"{self.name}: expected Keras arrays of shape {self.keras_shape}, "
                              f"got {a.shape[1:]}")
        axes = (0,) + tuple(i + 1 for i in self.axes)
        return np.ascontiguousarray(a.transpose(axes)).reshape(len(a), -1)

    def unpack(self, flat: np.ndarray) -> np.ndarray:
        """Flat memory-order array -> Keras-shaped float32 tensor."""
        a = np.asarray(flat, dtype=np.float32).reshape(-1)
        if a.size != self.count:
            raise LayoutError(f"{self.name}: expected {self.count} values, got {a.size}")
        transposed_shape = tuple(self.keras_shape[i] for i in self.axes)
        inverse = tuple(int(i) for i in np.argsort(self.axes))
        return a.reshape(transposed_shape).transpose(inverse).copy()


@dataclass(frozen=True)
class Layout:
    """The seed layout for a given number of conv filters."""

    filters: int
    buffers: tuple[Buffer, ...]
    #: Order in which the seed notebook writes the buffers.
    seed_order: tuple[str, ...]

    def __iter__(self) -> Iterator[Buffer]:
        return iter(self.buffers)

    def __getitem__(self, name: str) -> Buffer:
        for b in self.buffers:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def start(self) -> int:
        """Lowest address reserved by the layout (SRAM base)."""
        return SRAM_BASE

    @property
    def end(self) -> int:
        """One past the highest byte any buffer may occupy (independent of filters)."""
        return max(b.capacity_end for b in self.buffers)

    @property
    def reserved_end(self) -> int:
        """End of the layout's reservation, rounded up to 64 bytes for the linker."""
        return (self.end + 63) & ~63

    def find(self, address: int) -> Buffer | None:
        """The buffer whose current extent holds ``address``, if any."""
        for b in self.buffers:
            if b.address <= address < b.end:
                return b
        return None

    def find_reserved(self, address: int) -> Buffer | None:
        """The buffer whose MAX_FILTERS reservation holds ``address``, if any."""
        for b in self.buffers:
            if b.address <= address < b.capacity_end:
                return b
        return None

    def pack(self, tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Pack a mapping of Keras tensors (by buffer name) into memory order."""
        return {name: self[name].pack(arr) for name, arr in tensors.items()}


SRAM_BASE = 0x20000000


def seed_layout(filters: int = MAX_FILTERS) -> Layout:
    """The seed notebook's layout for ``filters`` conv filters (1..MAX_FILTERS)."""
    if not isinstance(filters, int) or not 1 <= filters <= MAX_FILTERS:
        raise LayoutError(f"the seed layout holds 1 to {MAX_FILTERS} conv filters, got {filters!r}")
    f = filters
    flat = POOLED * POOLED * f
    flat_max = POOLED * POOLED * MAX_FILTERS
    buffers = (
        Buffer("input", 0x20000014, (IMAGE, IMAGE, 1), (IMAGE, IMAGE), (2, 1, 0),
               IMAGE * IMAGE, "IN[x*28 + y] = image[y][x]",
               "input image, pixels scaled (v - 127.5) / 127.5, transposed"),
        Buffer("conv_weights", 0x20000C54, (KERNEL, KERNEL, 1, f), (f, KERNEL, KERNEL),
               (3, 2, 1, 0), KERNEL * KERNEL * MAX_FILTERS,
               "W1[o*25 + j*5 + i] = kernel[i][j][0][o]",
               "Conv2D 5x5 kernels (i = kernel row, j = column, o = filter)"),
        Buffer("dense_weights", 0x20000F74, (flat, CLASSES), (CLASSES, flat), (1, 0),
               flat_max * CLASSES, "W2[c*K + k] = dense[k][c], k = (row*12 + col)*F + o",
               "Dense weights, K = 12*12*F inputs in Keras flatten order"),
        Buffer("conv_bias", 0x2000C374, (f,), (f,), (0,), MAX_FILTERS, "B1[o] = bias[o]",
               "Conv2D bias"),
        Buffer("dense_bias", 0x2000C394, (CLASSES,), (CLASSES,), (0,), CLASSES,
               "B2[c] = bias[c]", "Dense bias"),
    )
    layout = Layout(filters, buffers,
                    ("conv_weights", "dense_weights", "input", "conv_bias", "dense_bias"))
    _check_no_overlap(layout)
    return layout


def _check_no_overlap(layout: Layout) -> None:
    spans = sorted((b.address, b.capacity_end, b.name) for b in layout.buffers)
    for (a0, a1, an), (b0, _b1, bn) in zip(spans, spans[1:]):
        if b0 < a1:
            raise LayoutError(f"layout buffers {an} and {bn} overlap at 0x{b0:08X}")
    for b in layout.buffers:
        if b.address % F32:
            raise LayoutError(f"layout buffer {b.name} at 0x{b.address:08X} is not 4-byte aligned")


def macs(filters: int) -> dict[str, int]:
    """Multiply-accumulates (and compares, for pooling) per layer of the seed network."""
    return {
        "conv": CONV_OUT * CONV_OUT * filters * KERNEL * KERNEL,
        "pool": POOLED * POOLED * filters * POOL * POOL,
        "dense": POOLED * POOLED * filters * CLASSES,
        "softmax": CLASSES,
    }
