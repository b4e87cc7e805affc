"""armsim sweep on a Dask LocalCluster: the grid, the store, resume, a killed worker, a failing
cell, figures equal to the single commands, and the HTML report in a real Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from armsim.cli import main

distributed = pytest.importorskip("distributed")

SWEEP = """
[axes]
models = ["seed", "{model2}"]
cpus = ["m4f", "m7"]
opt = ["-O2", "-Os"]
mcus = ["large"]
[measure]
validate = {{ n = {n}, chunk = 20 }}
profile = true
"""


def rows(out: Path) -> list[dict]:
    db = sqlite3.connect(out / "results.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM cells")]
    finally:
        db.close()


@pytest.fixture(scope="module")
def cluster():
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=":0", silence_logs=50)
    yield c
    c.close()


@pytest.fixture(scope="module")
def swept(tmp_path_factory, cluster, mnist_dir):
    d = tmp_path_factory.mktemp("sweep")
    (d / "s.toml").write_text(SWEEP.format(model2="autoencoder", n=50))
    rc = main(["sweep", str(d / "s.toml"), "--out", str(d / "out"), "--scheduler",
               cluster.scheduler_address, "--quiet"])
    return d, rc


def test_small_sweep_fills_the_store(swept):
    d, rc = swept
    got = rows(d / "out")
    assert rc == 0 and len(got) == 8
    assert {(r["model"], r["cpu"], r["opt"]) for r in got} == {
        (m, c, o) for m in ("seed", "autoencoder") for c in ("m4f", "m7") for o in ("-O2", "-Os")}
    for r in got:
        assert r["status"] == "ok" and r["error"] == ""
        assert r["agreement"] in (1.0, None) and r["instructions"] > 0
        assert r["cycles_estimate"] > 0 and r["flash_bytes"] > 0 and r["peak_stack_bytes"] > 0
        assert json.loads(r["versions"])["compiler_flags"].find(r["opt"]) >= 0
        assert r["n_inputs"] == 50
    seed = [r for r in got if r["model"] == "seed"]
    assert all(r["accuracy"] is not None and r["confusion"] for r in seed)
    # -Os makes smaller code than -O2
    size = {(r["model"], r["cpu"], r["opt"]): r["flash_bytes"] for r in got}
    assert size[("seed", "m4f", "-Os")] < size[("seed", "m4f", "-O2")]


def test_cell_figures_equal_the_single_commands(swept, capsys):
    d, _rc = swept
    cell = next(r for r in rows(d / "out") if r["model"] == "seed" and r["cpu"] == "m4f"
                and r["opt"] == "-Os")
    capsys.readouterr()
    # the cell profiles what `armsim profile` takes by default
    assert main(["profile", "--cpu", "m4f", "--mcu", "large", "--opt", "Os", "--json"]) == 0
    prof = json.loads(capsys.readouterr().out)
    assert prof["total_instructions"] == cell["instructions"]
    assert prof["total_cycles_estimate"] == pytest.approx(cell["cycles_estimate"])
    assert prof["clock_mhz"] == cell["clock_mhz"]  # large: the nominal 100 MHz
    assert prof["latency_ms"] == pytest.approx(cell["latency_ms"])
    assert prof["footprint"]["flash"]["total"] == cell["flash_bytes"]
    assert prof["footprint"]["ram"]["stack_peak"] == cell["peak_stack_bytes"]
    assert main(["validate", "--n", "50", "--cpu", "m4f", "--mcu", "large", "--opt", "Os",
                 "--json", "--quiet"]) == 0
    val = json.loads(capsys.readouterr().out)
    assert val["agreement"] == cell["agreement"]
    assert val["emulator_accuracy"] == cell["accuracy"]


def test_resume_skips_stored_cells(swept, cluster, capsys):
    d, _rc = swept
    before = {r["hash"]: r["finished"] for r in rows(d / "out")}
    capsys.readouterr()
    assert main(["sweep", str(d / "s.toml"), "--out", str(d / "out"), "--scheduler",
                 cluster.scheduler_address, "--quiet"]) == 0
    assert "8 already stored, 0 to run" in capsys.readouterr().err
    assert {r["hash"]: r["finished"] for r in rows(d / "out")} == before


def test_cells_pair_cpus_with_their_parts_and_dtypes_with_the_model(tmp_path, cluster, capsys,
                                                                    mnist_dir):
    """A float .keras model in an int8 column is quantized on the sweep's inputs; a cpus
    entry whose core is not the part's is not a cell; a cell that does not fit its part is a
    result, not a failed sweep."""
    (tmp_path / "s.toml").write_text("""
[axes]
models = ["seed"]
dtypes = ["float32", "int8"]
cpus = ["m4f", "m0plus"]
mcus = ["large", "samd21g18"]
[measure]
validate = { n = 10 }
profile = false
""")
    capsys.readouterr()
    rc = main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"),
               "--scheduler", cluster.scheduler_address, "--quiet"])
    got = {(r["dtype"], r["cpu"], r["mcu"]): r for r in rows(tmp_path / "out")}
    assert not any(k[1:] == ("m4f", "samd21g18") for k in got)  # the M0+ part runs its M0+
    assert got[("float32", "m4f", "large")]["status"] == "ok"
    int8 = got[("int8", "m4f", "large")]
    assert int8["status"] == "ok" and int8["agreement"] == 1.0, int8["error"]
    assert list((tmp_path / "out" / "quantized").glob("*-int8-*.tflite"))
    # with its weights in flash, as deployed, the seed fits the 32 KB part (in SRAM it did not)
    small = got[("float32", "m0plus", "samd21g18")]
    assert small["status"] == "ok" and small["ram_bytes"] < 32_768, small["error"]
    assert {r["status"] for r in got.values()} == {"ok"} and rc == 0


def test_a_cell_that_does_not_fit_is_a_result(tmp_path, cluster, capsys):
    """A model whose weights exceed the part's flash is a does-not-fit cell, and the sweep
    still succeeds."""
    import keras

    m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                          keras.layers.Dense(200), keras.layers.Dense(10)])
    m.save(tmp_path / "wide.keras")  # 158,800 weights: 635 KB of float32, the part has 256 KB
    (tmp_path / "s.toml").write_text(f"""
[axes]
models = ["{tmp_path / 'wide.keras'}"]
cpus = ["m0plus"]
mcus = ["samd21g18"]
[measure]
validate = {{ n = 2 }}
profile = false
""")
    rc = main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"),
               "--scheduler", cluster.scheduler_address, "--quiet"])
    (cell,) = rows(tmp_path / "out")
    assert cell["status"] == "does-not-fit" and "flash" in cell["error"] and rc == 0


def test_a_store_from_before_the_latency_columns_opens(tmp_path):
    """An older store gains the new result columns (empty) instead of failing."""
    import sqlite3

    from armsim.sweep.store import Store

    db = sqlite3.connect(tmp_path / "results.sqlite")
    db.execute("CREATE TABLE cells (model TEXT, dtype TEXT, cpu TEXT, kernels TEXT, opt TEXT, "
               "mcu TEXT, status TEXT, error TEXT, agreement REAL, accuracy REAL, "
               "max_abs_diff REAL, instructions INTEGER, cycles_estimate REAL, "
               "flash_bytes INTEGER, ram_bytes INTEGER, peak_stack_bytes INTEGER, seconds REAL, "
               "versions TEXT, n_inputs INTEGER, layers TEXT, confusion TEXT, "
               "hash TEXT PRIMARY KEY, finished TEXT)")
    db.execute("INSERT INTO cells (model, dtype, cpu, kernels, opt, mcu, status, hash) VALUES "
               "('seed', 'float32', 'm4f', 'optimized', '-O2', 'large', 'ok', 'abc')")
    db.commit()
    db.close()
    store = Store(tmp_path / "results.sqlite")
    try:
        (row,) = store.rows()
    finally:
        store.close()
    assert row["runtime"] == "armsim" and row["latency_ms"] is None and row["hash"] == "abc"


def test_a_cell_in_error_fails_the_sweep():
    from armsim.cli.sweep import exit_status

    assert exit_status({"ok": 3, "does-not-fit": 1}) == 0
    assert exit_status({"ok": 3, "error": 1}) == 1
    assert exit_status({"disagree": 1}) == 1 and exit_status({"fault": 2}) == 1


def test_sweep_with_no_cpu_for_its_parts_is_refused_before_it_starts(tmp_path, capsys):
    from armsim.sweep.spec import load

    f = tmp_path / "s.toml"
    f.write_text('[axes]\nmodels = ["seed"]\ncpus = ["m4f"]\nmcus = ["samd21g18"]\n')
    capsys.readouterr()
    assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
    assert "no cpus entry runs on any mcus entry" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    f.write_text('[axes]\nmodels = ["seed"]\nmcus = ["generic", "stm32f746"]\n')
    cells = load(f).cells()  # no cpus: each part's own core; generic runs any
    assert {(c.cpu, c.mcu) for c in cells} == {("m4f", "generic"), ("m7", "generic"),
                                               ("m7", "stm32f746")}


def test_a_tflite_has_only_its_own_dtype_and_a_keras_model_gets_an_int8_twin(tmp_path):
    from armsim.model.frontends.load import load_model
    from armsim.model.inputs import DEFAULT_MODEL, data_file
    from armsim.sweep.run import cell_model

    seed = Path(data_file(DEFAULT_MODEL))
    xs = np.random.default_rng(0).uniform(-1, 1, (20, 28, 28, 1)).astype(np.float32)
    assert cell_model(seed, "float32", xs, tmp_path) == seed
    twin = cell_model(seed, "int8", xs, tmp_path)
    assert twin is not None and twin.suffix == ".tflite" and load_model(twin)[0].quantized
    assert cell_model(seed, "int8", xs, tmp_path) == twin  # made once
    assert cell_model(twin, "int8", xs, tmp_path) == twin
    assert cell_model(twin, "float32", xs, tmp_path) is None


def test_killed_worker_loses_nothing(tmp_path, mnist_dir):
    """A worker killed mid-sweep: its cell is retried on another worker; every cell is stored
    once."""
    (tmp_path / "s.toml").write_text(SWEEP.format(model2="seed_copy.keras", n=40))
    from armsim.model.inputs import DEFAULT_MODEL, data_file

    shutil.copyfile(data_file(DEFAULT_MODEL), tmp_path / "seed_copy.keras")
    cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=50)
    client = distributed.Client(cl)
    try:
        result: dict = {}

        def sweep() -> None:
            result["rc"] = main(["sweep", str(tmp_path / "s.toml"), "--out",
                                 str(tmp_path / "out"), "--scheduler", cl.scheduler_address,
                                 "--quiet"])

        t = threading.Thread(target=sweep)
        t.start()
        deadline = time.time() + 120
        killed = False
        while t.is_alive() and time.time() < deadline and not killed:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed = True
            time.sleep(0.2)
        t.join(timeout=300)
    finally:
        # a nanny that restarted its worker can keep a cluster's close waiting: bounded here
        client.close(timeout=10)
        try:
            cl.close(timeout=20)
        except Exception:  # noqa: BLE001 - a slow close must not fail the test
            pass
    assert killed and result["rc"] == 0
    got = rows(tmp_path / "out")
    assert len(got) == 8 and len({r["hash"] for r in got}) == 8
    assert all(r["status"] == "ok" for r in got)


def test_bad_sweep_files_are_named(tmp_path, capsys):
    cases = {
        "[axes]\nmodels = []\n": "models must be a non-empty list",
        "[axes]\nmodels = [\"seed\"]\ncpus = [\"m5\"]\n": "unknown CPU 'm5'",
        "[axes]\nmodels = [\"seed\"]\ncpus = [\"m55\"]\n": "Cortex-M55 is not emulated yet",
        "[axes]\nmodels = [\"nosuch.keras\"]\n": "neither a file",
        "[axes]\nmodels = [\"seed\"]\n[measure]\nvalidate = { n = -1 }\n": "non-negative",
        "[axes\n": "not valid TOML",
    }
    for text, words in cases.items():
        f = tmp_path / "bad.toml"
        f.write_text(text)
        capsys.readouterr()
        assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
        assert words in capsys.readouterr().err


def test_sweep_axes_take_names_as_people_write_them(tmp_path):
    from armsim.sweep.spec import load

    f = tmp_path / "names.toml"
    f.write_text('[axes]\nmodels = ["seed"]\ncpus = ["Cortex-M4F", "M0+"]\n'
                 'mcus = ["STM32F407"]\n')
    sweep = load(f)
    assert sweep.axes["cpus"] == ["m4f", "m0plus"] and sweep.axes["mcus"] == ["stm32f407"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/setup.sh)")
def test_report_renders_in_chromium(swept, tmp_path):
    d, _rc = swept
    page = tmp_path / "report.html"
    assert main(["report", str(d / "out"), "--html", str(page)]) == 0
    text = page.read_text()
    import re

    # nothing is fetched: no resource is referenced by URL (XML namespaces are not fetches)
    assert not re.search(r"""(src|href)=["']https?:""", text)
    assert text.count("<svg") >= 4 and "Pareto" in text
    shot = tmp_path / "shot.png"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0", "--window-size=1400,2400"]
    r = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True,
                       timeout=120)
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    assert console == [], console
    assert "sortable" in r.stdout and "<svg" in r.stdout and "m4f" in r.stdout
    subprocess.run(flags + [f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120)
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[0] >= 2000 and img.std() > 0.05  # a page with content, not blank


def test_validate_and_profile_html(tmp_path, mnist_dir, capsys):
    v, p = tmp_path / "v.html", tmp_path / "p.html"
    assert main(["validate", "--n", "20", "--quiet", "--html", str(v)]) == 0
    assert main(["profile", "--html", str(p)]) == 0
    vt, pt = v.read_text(), p.read_text()
    assert "Confusion matrices" in vt and vt.count("<svg") == 1 and "agreement" in vt
    assert "Per-layer cost" in pt and "<svg" in pt and "conv" in pt and "Footprint" in pt
    # the part, its memories and the latency at its clock are on the page
    assert "part generic" in pt and "ms at 100 MHz" in pt and "on the part (generic)" in pt
    assert "1,048,576" in pt  # generic's flash, with thousands separators
    assert main(["validate", "--n", "5", "--html", str(tmp_path / "v.png")]) == 2
    # --plot without labels is not dropped silently
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((3, 28, 28, 1), np.float32))
    capsys.readouterr()
    assert main(["validate", "--inputs", str(tmp_path / "x.npy"), "--quiet", "--plot",
                 str(tmp_path / "c.png")]) == 0
    assert "not written: no confusion matrix" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()


def test_a_cell_costs_flash_and_latency_as_profile_does():
    from armsim.sweep.cell import cell_fetch

    f4 = cell_fetch("stm32f407")
    assert (f4.clock_mhz, f4.wait_states, f4.accel) == (168, 5, "art on")
    big = cell_fetch("large")
    assert (big.clock_mhz, big.wait_states) == (100, 0) and "nominal" in big.note
