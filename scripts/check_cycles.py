#!/usr/bin/env python3
"""Compare armsim's cycle estimates with cycles measured on a board, program by program.

A manifest (TOML) lists the programs, each an ELF built with this machine's GCC, the two
symbols or addresses its DWT->CYCCNT reads bracket, and the cycles the board measured:

    [[program]]
    name = "crc32"
    elf = "build/crc32.elf"          # relative to the manifest
    start = "bench_start"
    end = "bench_end"
    measured = 1234567
    mcu = "stm32f407"                # optional (default stm32f407)
    cpu = "m4f"                      # optional: the core, where the part does not say
    clock_mhz = 16                   # optional: the part's flash wait states at this clock
    flash_accel = "off"              # optional: "on" or "off" (default: the reset state)
    icache = "on"                    # optional, M7 parts: the L1 I-cache (default: off)

It runs each with `armsim run --between START END`'s machinery and prints instructions, the
estimate, the measurement and the error, then how many programs are within --tolerance, and
each core's largest and median |error|.

    python scripts/check_cycles.py programs.toml [--tolerance 0.10] [--need 0.8] [--json]
                                                 [--save]

--save adds the rows to your own table of measured errors (armsim's user folder,
$ARMSIM_HOME or ~/.local/share/armsim/cycle-errors.json): from then on every report of a
run on that part and core states your figures ("±x % on this core", JSON
estimate_error_pct) instead of the published ones, and says so.

Exit 1 when fewer than --need of the programs are within the tolerance; 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from armsim.errors import ArmsimError  # noqa: E402
from armsim.parts.flash import FLASH, fetch_for, with_icache  # noqa: E402
from armsim.session.image_run import ImageRunner  # noqa: E402
from armsim.timing.accuracy import save_local  # noqa: E402


def check(entry: dict, base: Path) -> dict:
    """One program: its window's instructions and estimate against the measurement."""
    for key in ("name", "elf", "start", "end", "measured"):
        if key not in entry:
            raise ArmsimError(f"program {entry.get('name', '?')}: missing '{key}'")
    mcu = entry.get("mcu", "stm32f407")
    r = ImageRunner(base / entry["elf"], mcu, entry.get("cpu"))
    if mcu in FLASH:
        # a measured board states its clock and accelerator; what it leaves out is the
        # part's reset state (a bare-metal benchmark's start-up), not the usual set-up
        r.fetch = with_icache(fetch_for(mcu, entry.get("clock_mhz"), entry.get("flash_accel"),
                                        "reset"), mcu, entry.get("icache"))
    span = (r.symbol_address(str(entry["start"]), "start"),
            r.symbol_address(str(entry["end"]), "end"))
    res = r.run_on(None, [], between=span)
    if res.window is None:
        raise ArmsimError(f"program {entry['name']}: {entry['end']} never ran after "
                          f"{entry['start']} ({res.stop.reason} at {res.stop.where})")
    est, meas = res.window.cycles_estimate, float(entry["measured"])
    return {"name": entry["name"], "cpu": res.cpu.name, "mcu": mcu,
            "instructions": res.window.instructions,
            "estimate": round(est, 1), "measured": meas,
            "error": (est - meas) / meas if meas else float("inf")}


def per_core(rows: list[dict]) -> dict:
    """Largest and median |error| (percent) per core, as reports state them."""
    out = {}
    for cpu in dict.fromkeys(r["cpu"] for r in rows):
        errs = sorted(abs(r["error"]) * 100 for r in rows if r["cpu"] == cpu)
        out[cpu] = {"max": round(errs[-1], 1), "median": round(median(errs), 1),
                    "programs": len(errs)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest")
    ap.add_argument("--tolerance", type=float, default=0.10,
                    help="relative error counted as agreement (default 0.10)")
    ap.add_argument("--need", type=float, default=0.8,
                    help="fraction of programs that must agree (default 0.8)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--save", action="store_true",
                    help="add the rows to your table of measured errors, which reports of "
                         "runs on the same part and core then use")
    args = ap.parse_args()
    path = Path(args.manifest)
    try:
        programs = tomllib.loads(path.read_text()).get("program", [])
        if not programs:
            raise ArmsimError(f"{path}: no [[program]] entries")
        rows = [check(p, path.parent) for p in programs]
    except (OSError, tomllib.TOMLDecodeError, ArmsimError) as e:
        print(f"check_cycles: {e}", file=sys.stderr)
        return 2
    within = sum(abs(r["error"]) <= args.tolerance for r in rows)
    cores = per_core(rows)
    saved = save_local(rows) if args.save else None
    if args.json:
        print(json.dumps({"programs": rows, "within": within, "total": len(rows),
                          "cores": cores, "saved": str(saved) if saved else None}, indent=2))
    else:
        print(f"{'program':<24} {'cpu':<5} {'instructions':>13} {'estimate':>13} "
              f"{'measured':>13} {'error':>8}")
        for r in rows:
            print(f"{r['name']:<24} {r['cpu']:<5} {r['instructions']:>13,} "
                  f"{r['estimate']:>13,.0f} {r['measured']:>13,.0f} {100 * r['error']:>+7.1f}%")
        print(f"{within} of {len(rows)} within ±{100 * args.tolerance:g} %")
        for cpu, c in cores.items():
            print(f"{cpu}: largest |error| {c['max']:g} %, median {c['median']:g} % over "
                  f"{c['programs']} program{'s' if c['programs'] != 1 else ''}")
        if saved:
            print(f"saved to {saved}: reports of runs on these parts and cores now state "
                  "these errors")
    return 0 if within >= args.need * len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
