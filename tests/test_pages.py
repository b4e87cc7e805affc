"""The HTML pages (profile, validate, sweep report) as a user sees them: drawn by headless
Chromium in a 1400 px wide window, nothing sticks out past its right edge, no two tick labels
of a figure's axis overlap, and each page names the part, its clock, the latency, the
footprint against the part's memories and the instruction counts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from armsim.cli import main
from armsim.report import html as report
from tests import browser

pytestmark = pytest.mark.skipif(browser.CHROMIUM is None,
                                reason="needs Debian's chromium (scripts/setup.sh installs it)")


def readable(page, tmp_path, figures: int) -> str:
    """Check the page at 1400 px (layout and a screenshot); its text without tags."""
    lay = browser.layout(page, tmp_path)
    assert lay["width"] == 1400 and lay["console"] == [], lay
    assert lay["offscreen"] == [] and lay["scroll_width"] <= 1400, lay["offscreen"]
    assert lay["overlaps"] == [], lay["overlaps"]
    if figures:
        assert lay["tick_labels"] >= 4 * figures  # the check saw the figures' labels
    img = browser.screenshot(page, tmp_path / f"{page.stem}.png", tmp_path)
    assert img.shape[1] == 1400 and img.std() > 0.05  # drawn, not blank
    text = page.read_text()
    return re.sub(r"\s+", " ", re.sub(r"<svg.*?</svg>|<[^>]+>", " ", text, flags=re.S))


def test_profile_page(tmp_path):
    page = tmp_path / "profile.html"
    assert main(["profile", "--mcu", "stm32f407", "--html", str(page), "--json"]) == 0
    text = readable(page, tmp_path, figures=1)
    assert "part stm32f407" in text and "ms at 168 MHz" in text
    assert "on the part (stm32f407)" in text and "1,048,576" in text and "196,608" not in text
    assert "131,072" in text  # the part's SRAM beside the RAM used
    assert re.search(r"[\d,]{7,} instructions \(exact\)", text)


def test_validate_page(tmp_path, mnist_dir):
    page = tmp_path / "validate.html"
    assert main(["validate", "--n", "40", "--mcu", "stm32f407", "--quiet", "--html",
                 str(page)]) == 0
    text = readable(page, tmp_path, figures=1)
    assert "on part stm32f407" in text and "latency at 168 MHz" in text
    assert re.search(r"\d\.\d{3} / \d\.\d{3} ms", text)
    assert "instructions per input" in text and "on the part (stm32f407)" in text
    assert "flash (with the weights)" in text


def _cells() -> list[dict]:
    """A sweep's rows as a large sweep gives them: six CPUs, two dtypes, two models, cycles
    from thousands to tens of millions, long errors, thirty layers in a profile."""
    rng = np.random.default_rng(3)
    rows = []
    layers = json.dumps([{"name": f"block_{i}_depthwise_conv2d_with_a_long_name",
                          "cycles_estimate": float(rng.integers(1_000, 9_000_000)),
                          "instructions": 1} for i in range(30)])
    for model in ("mobilenet_v3_small_keyword_spotting.keras", "gru_kws.keras"):
        for cpu in ("m0", "m3", "m4", "m4f", "m7", "m33"):
            for dtype in ("float32", "int8"):
                cyc = float(rng.integers(20_000, 60_000_000))
                rows.append({
                    "model": f"/home/user/projects/tinyml/models/{model}", "dtype": dtype,
                    "cpu": cpu, "runtime": "armsim", "kernels": "optimized", "opt": "-O2",
                    "mcu": "stm32f746", "status": "ok" if cpu != "m0" else "error",
                    "agreement": 0.9 + rng.random() / 10, "accuracy": 0.8 + rng.random() / 10,
                    "max_abs_diff": float(rng.random() / 1e5), "instructions":
                    int(cyc * 0.8), "cycles_estimate": cyc, "latency_ms": cyc / 216e3,
                    "clock_mhz": 216.0, "flash_bytes": int(rng.integers(10_000, 2_000_000)),
                    "ram_bytes": int(rng.integers(10_000, 500_000)),
                    "peak_stack_bytes": 1_234, "seconds": 12.5,
                    "error": "" if cpu != "m0" else "Cortex-M0: the emulator stopped: "
                    "an unaligned word access at 0x2000F00D (PC 0x08001234, in "
                    "arm_convolve_s8_with_a_very_long_function_name) " * 2,
                    "layers": layers, "confusion": json.dumps(
                        rng.integers(0, 50, (12, 12)).tolist()),
                    "versions": json.dumps({"armsim": "1.0", "unicorn": "2.1.4"})})
    return rows


def test_sweep_page(tmp_path):
    page = tmp_path / "sweep.html"
    report.write(page, report.sweep_report(_cells()))
    text = readable(page, tmp_path, figures=3)
    assert "mcu stm32f746, MHz 216" in text and "est. ms" in text
    assert "stm32f746 at 216 MHz: 7 flash wait states, art on" in text  # the set-up used
    assert re.search(r"\d{1,3}(,\d{3})+", text)  # large numbers with thousands separators
