"""armsim run: firmware images built elsewhere, semihosting, ITM, DWT, stops, reads, the
memory check, armlink-style images and a Unity-style unit test."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from armsim.cli import main
from armsim.machine.semihost import ADP_STOPPED_APPLICATION_EXIT, FEATURES, Semihost

ROOT = Path(__file__).resolve().parent.parent
FW = ROOT / "tests" / "data" / "firmware"

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs arm-none-eabi-gcc")


def build(tmp: Path, src: Path, *flags: str, name: str = "fw.elf") -> Path:
    out = tmp / name
    args = ["build", "--sources", str(src), "--out", str(out)]
    args += [f"--cflag={f}" for f in flags]
    assert main(args) == 0
    return out


def run_json(capsys, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["run", *args, "--json"])
    return rc, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def console(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("console"), FW / "console.c")


def test_semihosting_itm_exit_status_and_notes(console, capsys):
    rc, doc = run_json(capsys, str(console))
    assert rc == 3 and doc["exit_status"] == 3
    assert doc["stop"]["reason"] == "exit"
    assert "ApplicationExit" in doc["stop"]["detail"]
    assert doc["output"]["stdout"].startswith("hello from the firmware: 42\n")
    assert doc["output"]["itm"] == "itm says hi\n"
    assert doc["semihosting_calls"]["SYS_EXIT_EXTENDED"] == 1
    notes = " ".join(doc["notes"])
    assert "CYCCNT" in notes and "estimate" in notes
    assert "SysTick" in notes
    assert doc["instructions"] > 1000 and doc["cycles_estimate"] > doc["instructions"] * 0.9
    names = [f["name"] for f in doc["functions"]]
    assert "busy_loop" in names and "main" in names
    assert 0 < doc["peak_stack_bytes"] < 4096


def test_console_output_streams_to_the_terminal(console, capsys):
    assert main(["run", str(console), "--functions", "0"]) == 3
    out = capsys.readouterr().out
    assert out.index("hello from the firmware") < out.index("stopped: exit")


def test_exit_status_zero_and_failure_propagate(tmp_path, capsys):
    ok = build(tmp_path, FW / "console.c", "-DSTATUS=0", name="ok.elf")
    assert main(["run", str(ok), "--functions", "0"]) == 0
    bad = build(tmp_path, FW / "console.c", "-DSTATUS=-1", name="bad.elf")
    rc, doc = run_json(capsys, str(bad))
    assert doc["exit_status"] == -1 and rc == 255


def test_until_a_function(console, capsys):
    rc, doc = run_json(capsys, str(console), "--until", "reached")
    assert rc == 0
    assert doc["stop"]["reason"] == "until"
    assert doc["stop"]["where"].startswith("reached+0x0")
    assert "cycles" in doc["output"]["stdout"]  # printed before the breakpoint
    assert doc["exit_status"] is None


def test_read_every_type(console, capsys, tmp_path):
    reads = ["f32_values", "i8_values:4:i8", "u8_values:4:u8", "i16_values:2:i16",
             "u16_values:2:u16", "i32_values:2:i32", "u32_values:2:u32"]
    args = [str(console)]
    for r in reads:
        args += ["--read", r]
    rc, doc = run_json(capsys, *args)
    got = {k: v["values"] for k, v in doc["reads"].items()}
    assert got["f32_values"] == pytest.approx([1.5, -2.25, 1e-3])
    assert got["i8_values"] == [-128, -1, 0, 127]
    assert got["u8_values"] == [0, 1, 200, 255]
    assert got["i16_values"] == [-32768, 1234]
    assert got["u16_values"] == [65535, 7]
    assert got["i32_values"] == [-2**31, 42]
    assert got["u32_values"] == [2**32 - 1, 9]
    out = tmp_path / "r.npy"
    assert main(["run", str(console), "--read", "i16_values:2:i16", "--out", str(out),
                 "--functions", "0"]) == 3
    assert np.load(out).tolist() == [-32768, 1234]


def test_read_errors_are_clear(console, capsys):
    for bad, words in [("nosuch", "no symbol"), ("0x20000000", "needs a count"),
                       ("f32_values:9:f32", "has 12"), ("f32_values:1:f64", "unknown type")]:
        capsys.readouterr()
        assert main(["run", str(console), "--read", bad]) == 2
        assert words in capsys.readouterr().err


def test_cyccnt_follows_the_estimate(tmp_path, capsys):
    measured = {}
    for n in (100, 200, 300):
        elf = build(tmp_path, FW / "console.c", f"-DLOOPS={n}", name=f"l{n}.elf")
        _rc, doc = run_json(capsys, str(elf), "--read", "cycles_measured:1:u32")
        measured[n] = doc["reads"]["cycles_measured"]["values"][0]
    per_100 = measured[200] - measured[100]
    assert per_100 > 100  # at least a cycle per iteration
    assert measured[300] - measured[200] == per_100  # deterministic and linear
    # the reads bracket the call: its fixed cost is small against the loop
    assert 0 <= measured[100] - per_100 < 60


def test_bkpt_and_budget_stops(tmp_path, capsys):
    elf = build(tmp_path, FW / "console.c", "-DDO_BKPT", name="bkpt.elf")
    rc, doc = run_json(capsys, str(elf))
    assert rc == 1 and doc["stop"]["reason"] == "bkpt" and doc["stop"]["detail"] == "BKPT #3"
    assert doc["stop"]["where"].startswith("main+")
    hang = build(tmp_path, FW / "console.c", "-DHANG", name="hang.elf")
    rc, doc = run_json(capsys, str(hang), "--max-instructions", "200000")
    assert rc == 1 and doc["stop"]["reason"] == "instruction-budget"


def test_segment_outside_the_map(tmp_path, capsys):
    gcc = shutil.which("arm-none-eabi-gcc")
    elf = tmp_path / "m3.axf"
    subprocess.run([gcc, "-mcpu=cortex-m3", "-mthumb", "-O2",
                    str(ROOT / "kernels" / "runtime" / "startup.c"), str(FW / "hello_axf.c"),
                    "-T", str(FW / "armlink_style.ld"), "-nostartfiles", "--specs=nano.specs",
                    "-o", str(elf)], check=True)
    assert main(["run", str(elf), "--mcu", "lpc1768"]) == 2
    err = capsys.readouterr().err
    assert "segment 1 (rw, sections RW_IRAM1" in err and "lies in no region" in err
    assert "lpc1768" in err


def test_armlink_style_image_loads_and_profiles(tmp_path, capsys):
    gcc = shutil.which("arm-none-eabi-gcc")
    elf = tmp_path / "app.axf"
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                    "-mfpu=fpv4-sp-d16", "-O2", "-g",
                    str(ROOT / "kernels" / "runtime" / "startup.c"), str(FW / "hello_axf.c"),
                    "-T", str(FW / "armlink_style.ld"), "-nostartfiles", "--specs=nano.specs",
                    "-o", str(elf)], check=True)
    rc, doc = run_json(capsys, str(elf), "--read", "result:1:i32")
    assert rc == 0 and doc["cpu"] == "m4f"
    expect = sum(v * (i + 1) for i, v in enumerate([1, 2, 3] + list(range(3, 64))))
    assert doc["reads"]["result"]["values"] == [expect]
    assert doc["output"]["itm"] == "axf ok\n"
    assert doc["functions"][0]["name"] in ("accumulate", "main")
    assert any(f["name"] == "accumulate" and f["calls"] == 1 for f in doc["functions"])


@pytest.mark.parametrize("bug,kind,function,words", [
    (1, "heap-overrun", "fill_table", "just past the end of a 32-byte block"),
    (2, "use-after-free", "label", "inside a 16-byte block allocated at use_after_free"),
    (3, "uninitialised-read", "sum", "never written"),
    (4, "stack-below-limit", "deep", "below the stack limit"),
])
def test_check_memory_finds_each_bug(tmp_path, capsys, bug, kind, function, words):
    elf = build(tmp_path, FW / "memory_bugs.c", f"-DBUG={bug}")
    rc, doc = run_json(capsys, str(elf), "--check-memory")
    found = doc["memory_findings"]
    assert rc == 1 and len(found) == 1, found
    f = found[0]
    assert f["kind"] == kind and words in f["detail"]
    assert f["function"] == function or (bug == 3 and f["function"] == "average")
    assert f["line"].startswith("memory_bugs.c:")


def test_check_memory_clean_firmware(tmp_path, capsys):
    elf = build(tmp_path, FW / "memory_bugs.c", "-DBUG=0")
    rc, doc = run_json(capsys, str(elf), "--check-memory")
    assert rc == 0 and doc["memory_findings"] == []
    assert "ok-7 done" in doc["output"]["stdout"]


def test_unity_example(tmp_path, capsys):
    src = ROOT / "examples" / "kernel_unit_test" / "test_fully_connected.c"
    elf = build(tmp_path, src, name="ut.elf")
    capsys.readouterr()
    assert main(["run", str(elf), "--functions", "0"]) == 0
    assert "4 Tests 0 Failures 0 Ignored" in capsys.readouterr().out
    broken = build(tmp_path, src, "-DBREAK_ONE", name="ut2.elf")
    rc, doc = run_json(capsys, str(broken))
    assert rc == 1 and "4 Tests 1 Failures" in doc["output"]["stdout"]
    assert "Expected 15.000000 Was 14.000000" in doc["output"]["stdout"]


class _Mem:
    def __init__(self) -> None:
        self.b = bytearray(4096)

    def read(self, a: int, n: int) -> bytes:
        return bytes(self.b[a:a + n])

    def host_write(self, a: int, data: bytes) -> None:
        self.b[a:a + len(data)] = data


def _block(mem: _Mem, at: int, *words: int) -> int:
    mem.host_write(at, b"".join(w.to_bytes(4, "little") for w in words))
    return at


def test_semihosting_files_and_exit():
    mem, sh = _Mem(), Semihost()
    mem.host_write(100, b":semihosting-features")
    h = sh.call(0x01, _block(mem, 0, 100, 0, 21), mem)
    assert h >= 3
    assert sh.call(0x0C, _block(mem, 16, h), mem) == len(FEATURES)  # SYS_FLEN
    assert sh.call(0x06, _block(mem, 32, h, 200, 8), mem) == 8 - len(FEATURES)  # SYS_READ
    assert mem.read(200, len(FEATURES)) == FEATURES
    mem.host_write(300, b"/etc/passwd")
    assert sh.call(0x01, _block(mem, 48, 300, 0, 11), mem) == 0xFFFFFFFF
    assert sh.refused == ["/etc/passwd"] and sh.call(0x13, 0, mem) == 13  # EACCES
    mem.host_write(400, b":tt")
    out = sh.call(0x01, _block(mem, 64, 400, 4, 3), mem)
    mem.host_write(500, b"hi\n")
    assert sh.call(0x05, _block(mem, 80, out, 500, 3), mem) == 0
    assert sh.output["stdout"] == "hi\n"
    assert sh.call(0x18, ADP_STOPPED_APPLICATION_EXIT, mem) == 0 and sh.exit.status == 0
    sh.call(0x20, _block(mem, 96, ADP_STOPPED_APPLICATION_EXIT, 7), mem)
    assert sh.exit.status == 7
    sh.call(0x18, 0x20023, mem)  # RunTimeErrorUnknown (abort)
    assert sh.exit.status == 1 and sh.exit.reason == "RunTimeErrorUnknown"


def test_check_memory_allows_word_wise_string_scans(tmp_path, capsys):
    """newlib's strlen/strcmp read whole words past a terminator at the end of a block: a
    read partly outside a live block is not an error (a write would be)."""
    src = tmp_path / "scan.c"
    src.write_text('#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n'
                   'int main(void) {\n  char *s = malloc(5);\n  strcpy(s, "abcd");\n'
                   '  size_t n = strlen(s);\n  char *t = malloc(n + 1);\n'
                   '  memcpy(t, s, n + 1);\n  printf("%s %d\\n", t, strcmp(s, t));\n'
                   '  free(s);\n  free(t);\n  return 0;\n}\n')
    elf = build(tmp_path, src)
    rc, doc = run_json(capsys, str(elf), "--check-memory")
    assert rc == 0 and doc["memory_findings"] == [] and doc["output"]["stdout"] == "abcd 0\n"


def test_run_does_not_import_tensorflow(console):
    """A firmware run needs no host model: neither TensorFlow nor Keras is imported."""
    import os
    import sys

    code = ("import sys; from armsim.cli import main; "
            f"rc = main(['run', {str(console)!r}, '--json']); "
            "print(rc, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=os.environ.copy())
    assert r.stdout.split()[-3:] == ["3", "False", "False"], r.stdout[-500:] + r.stderr


def test_between_measures_the_stretch_from_start_to_end(tmp_path, capsys):
    """--between START END: instructions and cycles from START's first execution to END's,
    exactly (ten NOPs: ten instructions, one cycle each on the M4); the run stops at END."""
    elf = build(tmp_path, FW / "between.c")
    rc, doc = run_json(capsys, str(elf), "--between", "bench_start", "bench_end")
    assert rc == 0, doc
    w = doc["between"]
    assert w["instructions"] == 10 and w["cycles_estimate"] == 10.0
    assert doc["stop"]["reason"] == "until" and "bench_end" not in doc["stop"]["where"]
    # a window that crosses blocks and a call: START inside main, END at work's first
    # instruction; it equals the whole run's count up to there minus the run up to START
    rc, to_start = run_json(capsys, str(elf), "--until", "bench_start")
    rc2, to_work = run_json(capsys, str(elf), "--until", "work")
    rc3, span = run_json(capsys, str(elf), "--between", "bench_start", "work")
    assert rc == rc2 == rc3 == 0
    assert span["between"]["instructions"] == to_work["instructions"] - to_start["instructions"]
    assert span["between"]["instructions"] > 10
    # START == END: an empty stretch
    rc, same = run_json(capsys, str(elf), "--between", "bench_end", "bench_end")
    assert rc == 0 and same["between"]["instructions"] == 0
    # the user's board in the loop: its DWT count for the window, and the model's error
    rc, board = run_json(capsys, str(elf), "--between", "bench_start", "bench_end",
                         "--dwt-cycles", "8")
    assert rc == 0 and board["between"]["dwt_cycles"] == 8
    assert board["between"]["error_pct"] == 25.0  # 10 estimated against 8 measured
    assert main(["run", str(elf), "--between", "bench_start", "bench_end", "--dwt-cycles",
                 "12"]) == 0
    assert "-16.67 % off" in " ".join(capsys.readouterr().err.split())
    assert main(["run", str(elf), "--dwt-cycles", "12"]) == 2
    assert "--dwt-cycles" in capsys.readouterr().err


def test_between_that_never_reaches_end_measures_nothing(tmp_path, capsys):
    elf = build(tmp_path, FW / "between.c")
    # main is already running when work starts: END never executes after START
    rc, doc = run_json(capsys, str(elf), "--between", "work", "main")
    assert rc == 1 and doc["between"] is None
    assert any("END" in n and "not reached" in n for n in doc["notes"])
    assert main(["run", str(elf), "--between", "work", "main", "--until", "main"]) == 2
    assert "--between stops at its END" in capsys.readouterr().err
    assert main(["run", str(elf), "--between", "nosuch", "main"]) == 2


def test_firmware_peripheral_accesses_after_a_script_are_unmodelled_and_summarised(
        tmp_path, capsys):
    """A script's set-up opens the part's peripheral space: the firmware's RCC write reads
    back, and the report summarises it; without a script (or --peripherals strict) the
    access faults as on a part armsim does not model."""
    elf = build(tmp_path, FW / "peripheral.c")
    script = tmp_path / "s.ini"
    script.write_text("LOAD %L INCREMENTAL\n")
    rc, doc = run_json(capsys, str(elf), "--script", str(script))
    assert rc == 0xFF, doc  # main returned the register's low byte
    assert any("0x40023830 (RCC on STM32F4/F7?) [firmware]" in p for p in doc["peripherals"])
    rc, doc = run_json(capsys, str(elf), "--script", str(script), "--peripherals", "strict")
    assert rc == 1 and "0x40023830" in json.dumps(doc)
    rc, doc = run_json(capsys, str(elf))
    assert rc == 1


def test_script_check_runs_a_setup_on_your_own_firmware(tmp_path, capsys):
    """script check --elf: the set-up runs on the user's firmware, semihosting start-up
    included, and its symbols resolve."""
    elf = build(tmp_path, FW / "peripheral.c")
    script = tmp_path / "own.ini"
    script.write_text("LOAD %L INCREMENTAL\nSP = _RDWORD(0x00000000)\n"
                      "PC = _RDWORD(0x00000004)\ng, main\n")
    capsys.readouterr()
    assert main(["script", "check", str(script), "--elf", str(elf), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)[0]
    assert rep["stopped_at"] == "main+0x0" and rep["warnings"] == []
