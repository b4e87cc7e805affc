"""The FPU gate: CPACR resets to 0, so until the firmware enables CP10/CP11 every FPU
instruction takes the chip's NOCP UsageFault. Unicorn ignores the M-profile CPACR and would
run them; the gate watches each block about to run while the FPU is off and reports the first
FPU instruction as the fault. It removes itself once the FPU is on, so only start-up code pays
for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unicorn import UC_HOOK_BLOCK, Uc

from armsim.machine import disasm

if TYPE_CHECKING:
    from armsim.machine.emulator import Machine

#: Coprocessor Access Control Register: CP10/CP11 (the FPU) in bits 20-23, 0 at reset.
CPACR = 0xE000ED88


class FpuGate:
    """The block hook of one machine while its FPU is off; a fault is reported through
    :meth:`Machine.raise_nocp`."""

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self._hook: int | None = None
        self._done = False
        self._deferred: int | None = None
        self._insn: dict[tuple[int, int], tuple[int | None, bool]] = {}

    @property
    def needed(self) -> bool:
        """The core has an FPU and the image uses it."""
        return bool(self.m.cpu.fpu) and self.m.image.attributes.get("TAG_FP_ARCH") not in \
            (None, "0")

    def enabled(self) -> bool:
        """True when CPACR grants access to CP10 and CP11 (the FPU)."""
        v = int.from_bytes(self.m.read(CPACR, 4), "little")
        return (v >> 20) & 0x3 != 0 and (v >> 22) & 0x3 != 0

    def reset(self) -> None:
        """CPACR as at reset (0, FPU off), and the watch armed."""
        self.m.uc.mem_write(CPACR, bytes(4))
        self._deferred = None
        self._done = False
        if self._hook is None and self.needed:
            self._hook = self.m.uc.hook_add(UC_HOOK_BLOCK, self._block)

    def retire(self) -> bool:
        """After a stop: remove the hook when the firmware has enabled the FPU (a hook is
        never deleted inside its own callback: Unicorn then skips the other block hooks, the
        counter among them). True when the run should resume where it stopped."""
        if not self._done:
            return False
        assert self._hook is not None
        self.m.uc.hook_del(self._hook)
        self._hook, self._done = None, False
        return True

    def settle(self) -> None:
        """At the end of a run: an FPU instruction judged later (a store before it in its
        block might have enabled the FPU) faults if the FPU is still off."""
        if self._deferred is not None and not self.enabled():
            self._fault(self._deferred)

    def _fault(self, address: int) -> None:
        self.m.raise_nocp(address)

    def _block(self, uc: Uc, pc: int, size: int, _data: object) -> None:
        if self.enabled():
            self._deferred = None
            if not self._done:
                self._done = True
                uc.emu_stop()  # retire() removes the hook and the run resumes here
            return
        if self._deferred is not None:  # the block before could not enable it after all
            self._fault(self._deferred)
            return
        found = self._insn.get((pc, size))
        if found is None:
            first, store_before = None, False
            for addr, text in disasm.listing(self.m.read(pc, size), pc):
                if text.startswith("v"):  # M-profile: every v* instruction is the FPU's
                    first = addr
                    break
                store_before = store_before or text.startswith(("str", "stm", "push"))
            found = self._insn[(pc, size)] = (first, store_before)
        first, store_before = found
        if first is not None:
            if store_before:
                # a store earlier in this block may enable CP10/CP11 (Unicorn keeps DSB/ISB
                # inside one block): judge at the next block start or the end of the run
                self._deferred = first
            else:
                self._fault(first)
