"""Your own C against a plan: armsim header, --sources in simulate/validate/profile/build, the
diagnosis of code that reads a buffer in the wrong order, compiler errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from armsim.cli import main
from armsim.model.inputs import DEFAULT_MODEL, data_file

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "tests" / "data" / "own_c"

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs arm-none-eabi-gcc")


def test_header_describes_the_plan(tmp_path, default_ref):
    from armsim.plan import make_plan

    out = tmp_path / "model_layout.h"
    assert main(["header", str(data_file(DEFAULT_MODEL)), "--out", str(out)]) == 0
    text = out.read_text()
    g, _k = default_ref
    plan = make_plan(g, "auto", None, "sram", 0x20000000)
    for b in plan.buffers:
        stem = b.name.upper()
        assert f"#define {stem}_ADDR 0x{b.address:08X}u" in text
        assert f"#define {stem}_COUNT {b.count}" in text
        assert b.order in text
    assert "#define MODEL_OUTPUT_COUNT 10" in text
    assert "#define CONV_WEIGHTS ((const float *)CONV_WEIGHTS_ADDR)" in text
    # it compiles as C for the target
    c = tmp_path / "use.c"
    c.write_text('#include "model_layout.h"\nfloat f(void) { return INPUT[0] + '
                 'DENSE_WEIGHTS[DENSE_WEIGHTS_COUNT - 1]; }\n')
    subprocess.run([shutil.which("arm-none-eabi-gcc"), "-mthumb", "-mcpu=cortex-m4",
                    "-Wall", "-Werror", "-c", str(c), "-I", str(tmp_path), "-o",
                    str(tmp_path / "use.o")], check=True)


def test_handwritten_seed_network_agrees_with_keras(capsys, mnist_dir):
    capsys.readouterr()
    rc = main(["simulate", "--sources", str(OWN / "seed_net.c"), "--image", "0", "--image", "7",
               "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert all(r["agree"] for r in rows)
    assert rows[0]["instructions"] > 100_000


def test_handwritten_seed_network_on_a_script(tmp_path, capsys, mnist_dir):
    script = tmp_path / "s.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "3", "--out",
                 str(script)]) == 0
    capsys.readouterr()
    rc = main(["simulate", "--sources", str(OWN / "seed_net.c"), "--script", str(script),
               "--model", str(data_file(DEFAULT_MODEL)), "--json"])
    row = json.loads(capsys.readouterr().out)
    assert rc == 0 and row["agree"]


def test_transposed_dense_read_is_diagnosed(capsys, mnist_dir):
    capsys.readouterr()
    rc = main(["simulate", "--sources", str(OWN / "seed_net_transposed.c"), "--image", "0",
               "--json"])
    row = json.loads(capsys.readouterr().out)
    assert rc == 1 and row["agree"] is False
    findings = row["diagnosis"]["findings"]
    assert len(findings) == 1
    assert "the code reads dense_weights as W[in][out]" in findings[0]
    assert "plan stores it as W[out][in]" in findings[0]


def test_validate_and_profile_on_own_code(capsys, mnist_dir):
    capsys.readouterr()
    assert main(["validate", "--sources", str(OWN / "seed_net.c"), "--n", "30", "--jobs", "2",
                 "--quiet", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 30 and res["agreement"] == 1.0
    assert main(["profile", "--sources", str(OWN / "seed_net.c"), "--json"]) == 0
    prof = json.loads(capsys.readouterr().out)
    fns = {f["name"]: f for f in prof["functions"]}
    assert fns["network_run"]["layer"] == "(your network code)"
    assert fns["network_run"]["instructions"] > 0.8 * prof["total_instructions"]
    assert prof["footprint"]["flash"]["total"] > 0


def test_output_entry_and_errors(tmp_path, capsys, mnist_dir):
    src = tmp_path / "net.c"
    src.write_text((OWN / "seed_net.c").read_text()
                   .replace("float output[", "float result_buf[")
                   .replace("output[", "result_buf[").replace("void network_run(void)",
                                                               "void infer(void)"))
    capsys.readouterr()
    assert main(["simulate", "--sources", str(src), "--image", "0"]) == 2
    assert "define `void network_run(void)`" in capsys.readouterr().err
    assert main(["simulate", "--sources", str(src), "--image", "0", "--entry", "infer"]) == 2
    assert "no symbol 'output'" in capsys.readouterr().err
    assert main(["simulate", "--sources", str(src), "--include", str(OWN), "--image", "0",
                 "--entry", "infer", "--output", "result_buf", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agree"]
    assert main(["simulate", "--sources", str(src), "--include", str(OWN), "--image", "0",
                 "--entry", "infer", "--output", "result_buf:5"]) == 2
    assert "the model has 10 outputs" in capsys.readouterr().err
    bad = tmp_path / "bad.c"
    bad.write_text("void network_run(void) { undeclared_thing = 1; }\n")
    assert main(["simulate", "--sources", str(bad), "--image", "0"]) == 2
    err = capsys.readouterr().err
    assert "bad.c:1:" in err and "undeclared_thing" in err and "error:" in err
    assert main(["simulate", "--sources", str(tmp_path / "missing.c")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_memory_on_own_network(tmp_path, capsys, mnist_dir):
    src = tmp_path / "net.c"
    # the pooled features on the heap, the last one never computed: the dense layer reads it
    src.write_text("#include <stdlib.h>\n" + (OWN / "seed_net.c").read_text()
                   .replace("static float pooled[FLAT];", "static float *pooled;")
                   .replace("    for (int r = 0; r < POOL_SIDE; r++) {",
                            "    pooled = malloc(FLAT * sizeof(float));\n"
                            "    for (int r = 0; r < POOL_SIDE; r++) {", 1)
                   .replace("pooled[(r * POOL_SIDE + c) * NF + f] = m;",
                            "if ((r * POOL_SIDE + c) * NF + f < FLAT - 1) "
                            "pooled[(r * POOL_SIDE + c) * NF + f] = m;")
                   .replace("    float sum = 0.0f;", "    free(pooled);\n    float sum = 0.0f;"))
    capsys.readouterr()
    rc = main(["simulate", "--sources", str(src), "--include", str(OWN), "--image", "0",
               "--check-memory", "--json"])
    row = json.loads(capsys.readouterr().out)
    kinds = {f["kind"] for f in row["memory_findings"]}
    assert rc == 1 and "uninitialised-read" in kinds
    assert main(["simulate", "--sources", str(OWN / "seed_net.c"), "--image", "0",
                 "--check-memory", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["memory_findings"] == []


def test_run_compare_with_a_script(tmp_path, capsys, mnist_dir):
    script = tmp_path / "s.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "4", "--out",
                 str(script)]) == 0
    results = {}
    for name in ("seed_net.c", "seed_net_transposed.c"):
        elf = tmp_path / f"{name}.elf"
        assert main(["build", "--sources", str(OWN / name), "--include", str(OWN), "--model",
                     str(data_file(DEFAULT_MODEL)), "--out", str(elf)]) == 0
        capsys.readouterr()
        rc = main(["run", str(elf), "--script", str(script), "--model",
                   str(data_file(DEFAULT_MODEL)), "--compare", "output", "--json"])
        results[name] = (rc, json.loads(capsys.readouterr().out))
    rc, doc = results["seed_net.c"]
    assert rc == 0 and doc["compare"]["agree"] and doc["stop"]["reason"] == "exit"
    assert doc["start"].startswith("after s.ini's set-up")
    rc, doc = results["seed_net_transposed.c"]
    assert rc == 1 and not doc["compare"]["agree"]


@pytest.mark.parametrize("old,new,buffer", [
    ("CONV_WEIGHTS[f * 25 + j * 5 + i]", "CONV_WEIGHTS[f * 25 + i * 5 + j]", "conv_weights"),
    ("return INPUT[col * SIDE + row];", "return INPUT[row * SIDE + col];", "input"),
])
def test_code_reading_mistakes_on_a_script_without_model(tmp_path, capsys, old, new, buffer):
    script = tmp_path / "s.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "2", "--out",
                 str(script)]) == 0
    src = tmp_path / "bug.c"
    text = (OWN / "seed_net.c").read_text()
    assert old in text
    src.write_text(text.replace(old, new))
    capsys.readouterr()
    rc = main(["simulate", "--sources", str(src), "--include", str(OWN), "--script",
               str(script), "--json"])
    row = json.loads(capsys.readouterr().out)
    assert rc == 1 and row["host_source"] == "rebuilt from the script's weights"
    findings = row["diagnosis"]["findings"]
    assert len(findings) == 1 and findings[0].startswith(f"the code reads {buffer} as ")


def test_one_stack_peak_for_profile_and_run(tmp_path, capsys, mnist_dir):
    """The same ELF has one peak stack, whether profiled or run: armsim's own firmware and a
    user's network code that also allocates from the heap (writes there are not stack)."""
    import numpy as np

    import armsim
    from armsim.session.image_run import run_image

    g, _k = armsim.load_model(data_file(DEFAULT_MODEL))
    s = armsim.Session(g, armsim.plan(g), "m4f", "generic")
    x = np.zeros(g.tensors[g.inputs[0]].shape, np.float32)
    assert armsim.profile(s, x).footprint["ram"]["stack_peak"] == \
        run_image(s.build.elf, mcu="generic").peak_stack > 0

    src = tmp_path / "heap_net.c"
    src.write_text((OWN / "seed_net.c").read_text().replace(
        "void network_run(void)", "static void seed_network_run(void)") + """
#include <stdlib.h>
#include <string.h>
void *volatile keep;
void network_run(void)
{
    keep = malloc(4096);  /* the heap grows up from the end of .bss, below the stack */
    memset(keep, 0x5a, 4096);
    seed_network_run();
}
""")
    elf = tmp_path / "heap.elf"
    assert main(["build", "--sources", str(src), "--model", str(data_file(DEFAULT_MODEL)),
                 "--out", str(elf)]) == 0
    capsys.readouterr()
    assert main(["profile", "--sources", str(src), "--json"]) == 0
    profiled = json.loads(capsys.readouterr().out)["footprint"]["ram"]["stack_peak"]
    ran = run_image(elf, mcu="generic").peak_stack
    assert profiled == ran and 0 < ran < 4096
