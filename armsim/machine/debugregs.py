"""The core's debug and trace registers firmware talks through: the ITM stimulus ports (how
Keil projects print, ``ITM_SendChar``) and the DWT cycle counter (how firmware times itself).

Addresses from the ARMv7-M Architecture Reference Manual (DDI 0403E), C1.7 (ITM) and C1.8
(DWT), the same on ARMv6-M's optional parts and ARMv8-M:

* ITM at 0xE0000000: stimulus ports 0-31 at +0x000..+0x07C (a read returns 1: FIFO ready),
  TER at +0xE00, TPR at +0xE40, TCR at +0xE80. They read as a debugger with ITM trace on
  leaves them (TCR.ITMENA and every TER bit set), so ``ITM_SendChar`` sends.
* DWT at 0xE0001000: CTRL at +0x000 (bit 0 CYCCNTENA), CYCCNT at +0x004. CYCCNT counts
  armsim's cycle *estimate* (see docs/cycle-model.md), not a measurement: a read returns the
  estimated cycles of every instruction executed before the reading instruction.

The region is mapped with Unicorn's MMIO callbacks; no memory hook is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from unicorn import arm_const as A

from armsim.parts.memory import Region

ITM_BASE = 0xE0000000
DWT_BASE = 0xE0001000
#: ITM, DWT and FPB pages (the FPB reads as zero: no hardware breakpoints).
SPAN = 0x3000
ITM_TER, ITM_TPR, ITM_TCR = 0xE00, 0xE40, 0xE80
DWT_CTRL, DWT_CYCCNT = 0x1000, 0x1004
#: DEMCR (in the SCS page): bit 24 TRCENA enables the DWT and ITM on the chip.
DEMCR = 0xE000EDFC
TRCENA = 1 << 24
#: DWT_CTRL's read-only NUMCOMP field: four comparators (Cortex-M3/M4/M7).
NUMCOMP = 4 << 28


def region() -> Region:
    """The debug region as it appears in the memory map."""
    return Region("itm+dwt", ITM_BASE, SPAN, "rw")


@dataclass
class DebugRegisters:
    """ITM and DWT state for one run.

    Attributes:
        itm: bytes each stimulus port received, by port
        cyccnt_reads: how many times the firmware read CYCCNT
        untraced_read: True when CYCCNT was read while DEMCR.TRCENA was 0
        emit: called with (port, text) as ITM characters arrive
        cycles: estimated cycles before the instruction accessing (block start, address,
            is_write)
        demcr: reads DEMCR
    """

    cycles: Callable[[int, int, bool], float]
    demcr: Callable[[], int]
    emit: Callable[[int, str], None] = lambda port, text: None
    itm: dict[int, bytearray] = field(default_factory=dict)
    cyccnt_reads: int = 0
    untraced_read: bool = False
    regs: dict[int, int] = field(default_factory=lambda: {ITM_TER: 0xFFFFFFFF, ITM_TCR: 1})
    _base: float = 0.0       # cycles at the last CYCCNT write or enable
    _value: int = 0          # CYCCNT then

    def reset(self) -> None:
        """State at reset (the ITM stays enabled, as a debugger leaves it)."""
        self.itm.clear()
        self.regs = {ITM_TER: 0xFFFFFFFF, ITM_TCR: 1}
        self.cyccnt_reads, self.untraced_read = 0, False
        self._base, self._value = 0.0, 0

    def attach(self, uc: Any) -> None:
        """Map the region with MMIO callbacks."""
        uc.mmio_map(ITM_BASE, SPAN, self._read, None, self._write, None)

    def _now(self, uc: Any, offset: int, write: bool) -> float:
        return self.cycles(int(uc.reg_read(A.UC_ARM_REG_PC)), ITM_BASE + offset, write)

    def _read(self, uc: Any, offset: int, size: int, _data: Any) -> int:
        if offset < 0x80:
            return 1  # stimulus port: FIFO ready
        if offset == DWT_CYCCNT:
            self.cyccnt_reads += 1
            if not self.demcr() & TRCENA:
                self.untraced_read = True
            ctrl = self.regs.get(DWT_CTRL, 0)
            if not ctrl & 1:
                return self._value
            return (self._value + int(self._now(uc, offset, False) - self._base)) & 0xFFFFFFFF
        if offset == DWT_CTRL:
            return (self.regs.get(DWT_CTRL, 0) & 0x0FFFFFFF) | NUMCOMP
        return self.regs.get(offset & ~3, 0)

    def _write(self, uc: Any, offset: int, size: int, value: int, _data: Any) -> None:
        if offset < 0x80:
            port = offset // 4
            if self.regs[ITM_TCR] & 1 and self.regs[ITM_TER] >> port & 1:
                data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                self.itm.setdefault(port, bytearray()).extend(data)
                self.emit(port, data.decode("latin-1"))
            return
        if offset == DWT_CYCCNT:
            self._value = value & 0xFFFFFFFF
            self._base = self._now(uc, offset, True)
            return
        if offset == DWT_CTRL:
            was = self.regs.get(DWT_CTRL, 0) & 1
            if value & 1 and not was:  # starts counting from its current value
                self._base = self._now(uc, offset, True)
            elif was and not value & 1:  # freezes
                self._value = (self._value + int(self._now(uc, offset, True) - self._base)) \
                    & 0xFFFFFFFF
        self.regs[offset & ~3] = value & 0xFFFFFFFF
