"""Exact instruction counts: block counting against a hand count and a per-instruction oracle."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from armsim.parts import cpus
from armsim.parts import mcus as mcu
from armsim.firmware.toolchain import find_gcc
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine

from . import oracle

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def it_machine(tmp_path_factory) -> Machine:
    out = tmp_path_factory.mktemp("it") / "it_blocks.elf"
    subprocess.run([find_gcc(), "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-T", str(HERE / "kernels" / "tiny.ld"), str(HERE / "kernels" / "it_blocks.S"),
                    "-o", str(out)], check=True)
    return Machine(ElfImage.load(out), cpus.get_cpu("m4f"), mcu.get_mcu("generic"))


def test_block_count_matches_hand_count_with_failing_it_conditions(it_machine):
    stats = it_machine.run()
    assert stats.instructions == 107
    assert it_machine.uc.reg_read(__import__("unicorn").arm_const.UC_ARM_REG_R0) == 15


def test_oracle_agrees_on_small_kernel(it_machine):
    assert oracle.count(it_machine) == 107


def test_per_function_sums_equal_total(it_machine):
    stats = it_machine.run()
    per = stats.per_function(it_machine.image)
    assert sum(per.values()) == stats.instructions
    assert per["it_kernel"] == 3 + 100 + 1


def _seed_memory(s, weights, image):
    """Weights and an image into a seed session's memory (memory order)."""
    s.write_buffers(s.plan.pack({**weights, "input": image}))


def test_network_count_matches_oracle_and_is_deterministic(seed_session_f8, random_weights):
    import numpy as np

    s = seed_session_f8
    image = np.random.default_rng(5).uniform(-1, 1, (28, 28, 1)).astype(np.float32)
    _seed_memory(s, random_weights, image)
    first = s.run()
    second = s.run()
    assert first.instructions == second.instructions
    assert np.array_equal(first.outputs, second.outputs)
    slow = oracle.count(s.machine)
    assert slow == first.instructions
    # a code hook alone would undercount: the network has IT blocks with failing conditions
    assert sum(first.stats.per_function(s.image).values()) == slow


def test_native_and_python_counters_agree(seed_session_f8, random_weights):
    import numpy as np

    from armsim.machine.counting import native_available

    if not native_available():
        pytest.skip("native counter not built")
    s = seed_session_f8
    image = np.random.default_rng(9).uniform(-1, 1, (28, 28, 1)).astype(np.float32)
    blocks = s.blocks(s.plan.pack({**random_weights, "input": image}))
    results = []
    for mode in ("native", "python"):
        m = Machine(s.image, cpus.get_cpu("m4f"), mcu.get_mcu("generic"), counting=mode)
        m.write_blocks(blocks)
        first, second = m.run(), m.run()  # the second run uses learned instruction counts
        assert first.instructions == second.instructions
        results.append((first.instructions, first.per_function(m.image)))
    assert results[0] == results[1]
    assert s.machine.counter.native


def test_budget_stops_runaway_with_both_counters(tmp_path):
    from .test_faults import machine_for
    from armsim.errors import EmulatorFault

    for mode in ("native", "python"):
        m = machine_for(2, tmp_path)
        m.counter.detach()
        from armsim.machine.counting import make_counter

        m.counter = make_counter(m.uc, mode, (0, 0x100))
        with pytest.raises(EmulatorFault, match="instruction budget"):
            m.run(max_instructions=50_000, timeout_s=10)


def test_missing_extension_falls_back_to_python_and_says_so_once(monkeypatch, capsys):
    from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, Uc

    from armsim.machine import counting

    monkeypatch.setattr(counting, "_native", None)
    monkeypatch.setattr(counting, "_warned", False)
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    first = counting.make_counter(uc, "auto")
    second = counting.make_counter(uc, "auto")
    assert isinstance(first, counting.PythonCounter) and isinstance(second, counting.PythonCounter)
    assert capsys.readouterr().err.count("native block counter not built") == 1
    from armsim.errors import ToolchainError

    with pytest.raises(ToolchainError, match="not built"):
        counting.make_counter(uc, "native")
