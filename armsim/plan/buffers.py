"""Buffers and plans: where each tensor lives, how big it is, and in which element order.

A buffer stores its tensor transposed by ``axes`` and flattened in C order (the seed's
``.T.flatten()`` is ``axes`` reversed). The exporter, the script checks, the generated C,
the emulator and the reports all read these objects; nothing else decides an address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np

from armsim.errors import LayoutError
from armsim.graph import DTYPE_BYTES, Graph
from armsim.ops import registry

F32 = 4


@dataclass(frozen=True)
class Buffer:
    """One tensor's memory: address (or ELF symbol), element order, size, producer.

    Attributes:
        name: the buffer's name (the tensor's, or the seed preset's ``conv_weights`` ...)
        tensor: the graph tensor it holds
        role: the tensor's role (input, weight, bias, activation, output)
        address: first byte, or None for weights placed in flash (see ``symbol``)
        shape: the tensor's shape (Keras order)
        axes: memory holds ``tensor.transpose(axes)`` in C order
        dtype: element type
        region: "sram" (written by scripts), "arena" (activations) or "flash" (.rodata)
        capacity: elements reserved (at least ``count``; the seed reserves room for F=8)
        order: the element order as a formula
        description: what the buffer holds
        producer: the op writing it (activations)
        symbol: C/ELF symbol of the buffer
        lifetime: (first op, last op) indices using it (arena buffers)
    """

    name: str
    tensor: str
    role: str
    address: int | None
    shape: tuple[int, ...]
    axes: tuple[int, ...]
    dtype: str = "float32"
    region: str = "sram"
    capacity: int = 0
    order: str = ""
    description: str = ""
    producer: str | None = None
    symbol: str = ""
    lifetime: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.capacity < self.count:  # a buffer reserves at least its own size
            object.__setattr__(self, "capacity", self.count)

    @property
    def memory_shape(self) -> tuple[int, ...]:
        """Shape of the transposed tensor as it lies in memory."""
        return tuple(self.shape[a] for a in self.axes)

    @property
    def count(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return DTYPE_BYTES[self.dtype]

    @property
    def nbytes(self) -> int:
        """Size in bytes."""
        return self.count * self.itemsize

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self._addr() + self.nbytes

    @property
    def capacity_end(self) -> int:
        """One past the last byte reserved for this buffer."""
        return self._addr() + self.capacity * self.itemsize

    def _addr(self) -> int:
        if self.address is None:
            raise LayoutError(f"{self.name} lives in flash; its address comes from the ELF "
                              f"symbol {self.symbol}")
        return self.address

    def strides(self) -> tuple[int, ...]:
        """Element stride of each tensor axis in memory."""
        mem = self.memory_shape
        st = [1] * len(mem)
        for i in range(len(mem) - 2, -1, -1):
            st[i] = st[i + 1] * mem[i + 1]
        out = [0] * len(self.axes)
        for k, a in enumerate(self.axes):
            out[a] = st[k]
        return tuple(out)

    def pack(self, array: np.ndarray) -> np.ndarray:
        """Tensor -> flat array in memory order."""
        a = np.asarray(array, dtype=self.dtype)
        if a.shape != self.shape:
            if a.size == self.count:
                a = a.reshape(self.shape)
            else:
                raise LayoutError(f"{self.name}: expected an array of shape {self.shape}, "
                                  f"got {a.shape}")
        return np.ascontiguousarray(a.transpose(self.axes)).reshape(-1)

    def pack_many(self, arrays: np.ndarray) -> np.ndarray:
        """A batch (N, *shape) -> (N, count) rows in memory order."""
        a = np.asarray(arrays, dtype=self.dtype)
        a = a.reshape((len(a),) + self.shape)
        axes = (0,) + tuple(i + 1 for i in self.axes)
        return np.ascontiguousarray(a.transpose(axes)).reshape(len(a), -1)

    def unpack(self, flat: np.ndarray) -> np.ndarray:
        """Flat memory-order array -> tensor of ``shape``."""
        a = np.asarray(flat, dtype=self.dtype).reshape(-1)
        if a.size != self.count:
            raise LayoutError(f"{self.name}: expected {self.count} values, got {a.size}")
        inverse = tuple(int(i) for i in np.argsort(self.axes))
        return a.reshape(self.memory_shape).transpose(inverse).copy()

    def to_json(self) -> dict[str, Any]:
        """Stable keys for ``armsim plan --json``."""
        return {"name": self.name, "tensor": self.tensor, "role": self.role,
                "region": self.region,
                "address": None if self.address is None else f"0x{self.address:08X}",
                "symbol": self.symbol, "bytes": self.nbytes, "shape": list(self.shape),
                "dtype": self.dtype, "axes": list(self.axes), "order": self.order,
                "producer": self.producer,
                "lifetime": None if self.lifetime is None else list(self.lifetime)}


@dataclass
class Plan:
    """Every buffer of one graph, the SRAM reservation, and the arena.

    Attributes:
        preset: "seed" for the seed notebook's fixed layout, "auto" for a generated plan
        graph: the graph the plan is for
        buffers: every buffer (scripts' buffers first, then the arena's)
        base: lowest SRAM address the plan uses
        arena: (start, bytes) of the activation arena
        weights_in: "sram" (written by a script) or "flash" (compiled into .rodata)
        seed_order: the order in which ``export`` writes the script buffers
        filters: the seed's F (seed preset only)
        aliases: tensor -> tensor whose buffer it shares (Flatten/Reshape outputs)
        scratch_pending: an int8 plan made without its CMSIS-NN scratch sizes: the Session
            (or build) that runs it completes it for its CPU
    """

    preset: str
    graph: Graph
    buffers: tuple[Buffer, ...]
    base: int
    arena: tuple[int, int]
    weights_in: str = "sram"
    seed_order: tuple[str, ...] = ()
    filters: int | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    scratch_pending: bool = False

    def __iter__(self) -> Iterator[Buffer]:
        """The buffers a script writes (inputs, and weights when they live in SRAM)."""
        return iter(b for b in self.buffers if b.region == "sram")

    def __getitem__(self, name: str) -> Buffer:
        for b in self.buffers:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def end(self) -> int:
        """One past the last reserved byte (arena included)."""
        return max([self.arena[0] + self.arena[1]] + [b.capacity_end for b in self])

    @property
    def reserved_end(self) -> int:
        """End of the reservation, rounded up to 64 bytes for the linker."""
        return (self.end + 63) & ~63

    def for_tensor(self, tensor: str) -> Buffer:
        """The buffer holding ``tensor`` (through Flatten/Reshape aliases)."""
        root = self.aliases.get(tensor, tensor)
        for b in self.buffers:
            if b.tensor == root:
                return b
        raise KeyError(tensor)

    def pack(self, tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Arrays by buffer name -> memory order."""
        return {name: self[name].pack(a) for name, a in tensors.items()}

    def constant_tensors(self) -> dict[str, np.ndarray]:
        """The weights and biases a script carries (those in SRAM), by buffer name, in the
        tensors' own shapes."""
        out = {}
        for b in self:
            t = self.graph.tensors[b.tensor]
            if t.is_constant:
                assert t.data is not None
                out[b.name] = t.data
        return out

    @property
    def input(self) -> Buffer:
        """The buffer of the graph's (first) input."""
        return self.for_tensor(self.graph.inputs[0])

    def read_input(self, memory: Mapping[str, np.ndarray]) -> Any:
        """The model's input from buffers in memory order (a script's writes): an array, or
        a tuple in the graph's input order for a model with several inputs."""
        xs = tuple(self.for_tensor(t).unpack(memory[self.for_tensor(t).name])
                   for t in self.graph.inputs)
        return xs if len(xs) > 1 else xs[0]

    def sram_bytes(self) -> int:
        """Bytes of SRAM the reservation takes from the base."""
        return self.reserved_end - self.base

    def flash_weight_bytes(self) -> int:
        """Bytes of weights compiled into flash."""
        return sum(b.nbytes for b in self.buffers if b.region == "flash")

    def to_json(self) -> dict[str, Any]:
        """Stable keys for ``armsim plan --json``."""
        return {"preset": self.preset, "model": self.graph.name,
                "base": f"0x{self.base:08X}", "weights_in": self.weights_in,
                "arena": {"address": f"0x{self.arena[0]:08X}", "bytes": self.arena[1]},
                "reserved_end": f"0x{self.reserved_end:08X}",
                "sram_bytes": self.sram_bytes(), "flash_weight_bytes": self.flash_weight_bytes(),
                "macs": registry.macs(self.graph),
                "buffers": [b.to_json() for b in self.buffers]}
