"""Emulator faults and runaway kernels end in a typed error naming PC, function and cause."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from armsim.parts import cpus
from armsim.parts import mcus as mcu
from armsim.firmware.toolchain import find_gcc
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.errors import EmulatorFault

HERE = Path(__file__).resolve().parent


def machine_for(case: int, tmp_path: Path) -> Machine:
    out = tmp_path / f"fault{case}.elf"
    subprocess.run([find_gcc(), "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    f"-DFAULT_CASE={case}", "-T", str(HERE / "kernels" / "tiny.ld"),
                    str(HERE / "kernels" / "faults.S"), "-o", str(out)], check=True)
    return Machine(ElfImage.load(out), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))


def test_unmapped_read_names_address_pc_function_and_instruction(tmp_path):
    m = machine_for(1, tmp_path)
    with pytest.raises(EmulatorFault) as exc:
        m.run()
    e = exc.value
    assert e.function == "bad_kernel"
    assert "read of unmapped memory at 0x30000004" in str(e)
    assert f"PC 0x{e.pc:08X} (bad_kernel+0x" in str(e)
    assert "ldr r0, [r1, #4]" in str(e)
    assert e.exit_code == 1


def test_endless_loop_hits_the_instruction_budget(tmp_path):
    m = machine_for(2, tmp_path)
    with pytest.raises(EmulatorFault, match="instruction budget of 100,000") as exc:
        m.run(max_instructions=100_000, timeout_s=10)
    assert exc.value.function == "bad_kernel"


def test_endless_loop_hits_the_time_limit(tmp_path):
    m = machine_for(2, tmp_path)
    with pytest.raises(EmulatorFault, match="time limit of 0.2 s"):
        m.run(max_instructions=10**12, timeout_s=0.2)


def test_write_to_flash_is_a_fault_not_silent_corruption(tmp_path):
    m = machine_for(3, tmp_path)
    with pytest.raises(EmulatorFault, match="write to read-only memory at 0x00000100"):
        m.run()
