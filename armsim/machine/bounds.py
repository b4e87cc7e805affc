"""Kernels that write where they should not: every store into the plan's memory during an
op's kernel call must land in that op's output or scratch buffer.

A board cannot show this: a kernel that writes past its output corrupts a neighbouring
tensor (or a weight) silently, and the damage shows up later, or only for some inputs. The
plan knows every buffer's extent, so the emulator can check each store.

The check puts a code hook on every store instruction of the firmware (STR*, STM*, VSTR,
VSTM; not SP-based stack stores) and computes the bytes it writes from the registers
before it executes. It is off the default path: it costs a Python call per store. A
memory-write hook would be simpler, but Unicorn 2.1 mis-executes some CMSIS-NN code while
a memory hook is installed (see armsim/alignment.py), so armsim installs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from capstone import arm
from unicorn import UC_HOOK_CODE, Uc

from armsim.machine.alignment import BOUNDS, Access, NativeCheck, base_name
from armsim.machine.counting import _native
from armsim.machine.disasm import scan
from armsim.plan import Buffer, Plan


@dataclass(frozen=True)
class Overrun:
    """A store outside the running op's output and scratch buffers.

    Attributes:
        op: the op whose kernel call made the store
        function: the function holding the storing instruction
        pc: its address
        address: the first byte written
        size: bytes written
        buffer: the plan buffer the store landed in ("" between buffers)
        beyond: bytes past the end of the op's output (or, negative, before its start)
    """

    op: str
    function: str
    pc: int
    address: int
    size: int
    buffer: str
    beyond: int

    def message(self) -> str:
        """One line for reports."""
        side = f"{self.beyond} byte(s) past the end of" if self.beyond > 0 else \
            f"{-self.beyond} byte(s) before the start of"
        into = f"into {self.buffer}" if self.buffer else "between buffers"
        return (f"op {self.op}: {self.function} at PC 0x{self.pc:08X} wrote {self.size} "
                f"byte(s) at 0x{self.address:08X}, {side} its output, {into}")

    def to_json(self) -> dict[str, Any]:
        """Stable keys."""
        return {"op": self.op, "function": self.function, "pc": f"0x{self.pc:08X}",
                "address": f"0x{self.address:08X}", "size": self.size,
                "buffer": self.buffer, "beyond": self.beyond}


def stores(code: bytes, address: int) -> dict[int, Any]:
    """Store instructions in ``code`` (Thumb at ``address``) that do not store relative to
    SP (stack frames are not plan memory)."""
    out = {}
    for insn in scan(code, address):
        if not base_name(insn).startswith(("st", "vst")):
            continue
        mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
        base = mem[0].mem.base if mem else insn.operands[0].reg
        if base == arm.ARM_REG_SP:
            continue
        out[insn.address] = insn
    return out


@lru_cache(maxsize=4)
def _store_accesses(code: bytes, address: int) -> dict[int, Access]:
    """:func:`stores` decoded for the check, once per image (every checked run wants them;
    callers copy the dict)."""
    return {a: Access(i) for a, i in stores(code, address).items()}


class BoundsCheck:
    """Checks the stores into a plan's memory while :meth:`set_op` names the running op
    (native when armsim's C extension is built, else a Python hook per store)."""

    def __init__(self, uc: Uc, plan: Plan, image: Any) -> None:
        self.uc = uc
        self.plan = plan
        self.image = image
        self.current: int | None = None
        self._found: list[Overrun] = []
        self._seen: set[tuple[int, int]] = set()
        self._allowed: dict[int, list[tuple[int, int]]] = {}
        self._lo, self._hi = plan.base, plan.reserved_end
        self._buffers = sorted((b for b in plan.buffers if b.address is not None),
                               key=lambda b: b.address)  # type: ignore[arg-type, return-value]
        code = [seg for seg in image.segments if "x" in seg.flags]
        self._insns = dict(_store_accesses(code[0].data, code[0].vaddr)) if code else {}
        self._native = NativeCheck(uc, self._insns, BOUNDS, self._lo, self._hi) \
            if _native is not None else None
        self._handles = [] if self._native is not None else [
            uc.hook_add(UC_HOOK_CODE, self._on_store, begin=a, end=a) for a in self._insns]

    def set_op(self, i: int | None) -> None:
        """Op ``i`` runs now (None: no op)."""
        self.current = i
        if self._native is not None:
            self._native.set_op(i, self.allowed(i) if i is not None else [])

    @property
    def found(self) -> list[Overrun]:
        """The overruns so far."""
        if self._native is not None:
            for pc, address, size, _w, op in self._native.take():
                self._record(op, pc, address, size)
        return self._found

    def allowed(self, i: int) -> list[tuple[int, int]]:
        """[start, end) ranges op ``i`` may write: its output buffers and its scratch."""
        if i not in self._allowed:
            op = self.plan.graph.ops[i]
            out = [self.plan.for_tensor(t) for t in op.outputs]
            spans = [(b.address, b.end) for b in out if b.address is not None]
            try:
                s = self.plan[f"scratch:{i}"]
                spans.append((s.address, s.end))  # type: ignore[arg-type]
            except KeyError:
                pass
            self._allowed[i] = spans
        return self._allowed[i]

    def _buffer_at(self, address: int) -> Buffer | None:
        for b in self._buffers:
            assert b.address is not None
            if b.address <= address < b.capacity_end:
                return b
        return None

    def _on_store(self, uc: Uc, pc: int, _size: int, _data: object) -> None:
        i = self.current
        if i is None:
            return
        acc = self._insns[pc]
        address, size = acc.address(uc), acc.size
        if address + size <= self._lo or address >= self._hi:
            return  # not plan memory (globals, peripherals)
        if any(lo <= address and address + size <= hi for lo, hi in self.allowed(i)):
            return
        self._record(i, pc, address, size)

    def _record(self, i: int, pc: int, address: int, size: int) -> None:
        if (i, pc) in self._seen:
            return
        self._seen.add((i, pc))
        spans = self.allowed(i)
        f = self.image.function_at(pc)
        b = self._buffer_at(address)
        lo, hi = spans[0] if spans else (address, address)
        beyond = address + size - hi if address >= lo else address - lo
        self._found.append(Overrun(self.plan.graph.ops[i].name, f.name if f else "?", pc,
                                   address, size, b.name if b else "", beyond))

    def detach(self) -> None:
        """Remove the hooks and retranslate."""
        if self._native is not None:
            self.found  # noqa: B018 - collect what the C hook recorded first
            self._native.detach()
            self._native = None
            return
        for h in self._handles:
            self.uc.hook_del(h)
        self._handles = []
        self.uc.ctl_flush_tb()
