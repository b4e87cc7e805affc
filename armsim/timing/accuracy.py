"""How far to trust a cycle estimate: the model's error per core, measured against silicon.

Each core's figure is the largest and the median |error| of the model over that core's rows
of published cycle counts (``MEASURED``), the same instructions run on a board and in armsim.
Every report's cycle and latency figures carry it ("estimate, ±x % on this core"; JSON
``estimate_error_pct``). A user who measured their own programs on their own part
(``scripts/check_cycles.py --save``) gets their figures instead, for that part and core,
and the reports say so.

The rows come from ``python scripts/aes_manifest.py --repo <checkout of jnk0le/cortexm-AES>``
then ``python scripts/check_cycles.py <its manifest>``: that repository's hand-written AES
routines, whose published DWT cycle counts (its doc/aes/*_details.md: STM32F0 at 0 wait
states, STM32F1 and STM32F4 at 0 wait states, STM32H7 with its tables in DTCM) are of the
same instructions armsim runs, so the error is the model's, not a compiler's. Regenerate them
when the model changes (tests/cycles/test_accuracy.py checks the summary against the rows).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from armsim.errors import ArmsimError

SOURCE = ("jnk0le/cortexm-AES published cycle counts (hand-written assembly; STM32F0, "
          "STM32F1, STM32F4, STM32H7)")

#: (core, routine, cycles measured on silicon, armsim's estimate) per published row
#: (scripts/aes_manifest.py then scripts/check_cycles.py --json, model of this commit)
MEASURED: tuple[tuple[str, str, int, float], ...] = (
    ("m0", "sBOX ks128", 399, 400.0),
    ("m0", "sBOX ks256", 568, 567.0),
    ("m0", "d4T ks128", 439, 440.0),
    ("m0", "d4T ks256", 620, 619.0),
    ("m0", "FASTMUL OTFKS enc128", 2506, 2550.0),
    ("m0", "FASTMUL OTFKS enc256", 3558, 3608.0),
    ("m0", "sBOX enc128", 1646, 1645.0),
    ("m0", "sBOX dec128", 2537, 2530.0),
    ("m0", "FASTMUL enc128", 1567, 1566.0),
    ("m0", "FASTMUL dec128", 2351, 2350.0),
    ("m0", "d4T enc128", 1152, 1144.0),
    ("m0", "d4T dec128", 1155, 1147.0),
    ("m0", "d4T_FAST enc128", 1138, 1128.0),
    ("m0", "d4T_FAST dec128", 1132, 1131.0),
    ("m0", "d4T setDecKey128", 1604, 1605.0),
    ("m0", "FASTMUL setDecKey128", 1500, 1499.0),
    ("m0", "sBOX enc256", 2306, 2305.0),
    ("m0", "sBOX dec256", 3589, 3582.0),
    ("m0", "FASTMUL enc256", 2195, 2194.0),
    ("m0", "FASTMUL dec256", 3323, 3322.0),
    ("m0", "d4T enc256", 1588, 1580.0),
    ("m0", "d4T dec256", 1591, 1583.0),
    ("m0", "d4T_FAST enc256", 1574, 1564.0),
    ("m0", "d4T_FAST dec256", 1568, 1567.0),
    ("m0", "d4T setDecKey256", 2308, 2309.0),
    ("m0", "FASTMUL setDecKey256", 2156, 2155.0),
    ("m3", "1T ks128", 302, 299.0),
    ("m3", "1T enc128", 627, 625.0),
    ("m3", "1T dec128", 629, 627.0),
    ("m3", "1T enc128 unrolled", 599, 597.0),
    ("m3", "1T dec128 unrolled", 600, 598.0),
    ("m3", "1T setDecKey128", 813, 808.0),
    ("m3", "1T ks256", 378, 375.0),
    ("m3", "1T enc256", 859, 857.0),
    ("m3", "1T dec256", 861, 859.0),
    ("m3", "1T enc256 unrolled", 819, 817.0),
    ("m3", "1T dec256 unrolled", 820, 818.0),
    ("m3", "1T setDecKey256", 1163, 1160.0),
    ("m4f", "1T ks128", 302, 299.0),
    ("m4f", "1T enc128", 626, 624.0),
    ("m4f", "1T dec128", 629, 626.0),
    ("m4f", "1T enc128 unrolled", 601, 597.0),
    ("m4f", "1T dec128 unrolled", 602, 598.0),
    ("m4f", "1T setDecKey128", 811, 808.0),
    ("m4f", "1T ks256", 378, 375.0),
    ("m4f", "1T enc256", 858, 856.0),
    ("m4f", "1T dec256", 863, 858.0),
    ("m4f", "1T enc256 unrolled", 821, 817.0),
    ("m4f", "1T dec256 unrolled", 822, 818.0),
    ("m4f", "1T setDecKey256", 1164, 1160.0),
    ("m4f", "DSPsBOX enc128", 844, 839.0),
    ("m4f", "DSPsBOX dec128", 1240, 1262.0),
    ("m4f", "DSPsBOX enc256", 1172, 1167.0),
    ("m4f", "DSPsBOX dec256", 1744, 1778.0),
    ("m7", "1T ks128", 139, 155.0),
    ("m7", "1T enc128", 292, 297.0),
    ("m7", "1T dec128", 293, 299.0),
    ("m7", "1T setDecKey128", 357, 361.0),
    ("m7", "DSPsBOX enc128", 400, 407.0),
    ("m7", "1T ks256", 178, 182.0),
    ("m7", "1T enc256", 400, 405.0),
    ("m7", "1T dec256", 401, 407.0),
    ("m7", "1T setDecKey256", 509, 513.0),
    ("m7", "DSPsBOX enc256", 556, 563.0),
)

#: cores whose model is another's (the same pipeline and tables)
SAME_MODEL = {"m7d": "m7", "m4-nofp": "m4f", "m4": "m4f"}


@dataclass(frozen=True)
class Accuracy:
    """The model's measured error on one core.

    Attributes:
        cpu: the CPU variant
        max_pct, median_pct: largest and median |error| in percent over the rows
        n: how many programs were measured
        source: where the measurements come from
        local: the user's own measurements (``check_cycles.py --save``), for ``mcu``
        mcu: the part a local table is for
    """

    cpu: str
    max_pct: float
    median_pct: float
    n: int
    source: str
    local: bool = False
    mcu: str = ""

    def json(self) -> dict:
        """The JSON ``estimate_error_pct``."""
        out = {"max": self.max_pct, "median": self.median_pct, "programs": self.n,
               "source": self.source}
        if self.local:
            out["local"] = True
            out["mcu"] = self.mcu
        return out


def _summary(cpu: str, rows: list[tuple[float, float]], source: str, local: bool = False,
             mcu: str = "") -> Accuracy:
    errs = [abs(est - meas) / meas * 100 for meas, est in rows if meas]
    return Accuracy(cpu, round(max(errs), 1), round(median(errs), 1), len(errs), source,
                    local, mcu)


def published(cpu: str) -> Accuracy | None:
    """The model's error on ``cpu`` over the published rows; None where none were measured
    (such a core's estimates are unmeasured, and reports say so)."""
    core = SAME_MODEL.get(cpu, cpu)
    rows = [(float(m), e) for c, _, m, e in MEASURED if c == core]
    return _summary(cpu, rows, SOURCE) if rows else None


def local_table() -> Path:
    """The user's own table of measured errors (armsim's user folder)."""
    base = os.environ.get("ARMSIM_HOME") or Path(
        os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "armsim"
    return Path(base) / "cycle-errors.json"


def _read_local() -> dict:
    path = local_table()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ArmsimError(f"{path}: not a table of measured cycle errors ({e}); delete it or "
                          "write it again with scripts/check_cycles.py --save") from e
    if not isinstance(data, dict):
        raise ArmsimError(f"{path}: expected a JSON object of parts")
    return data


def accuracy_for(cpu: str, mcu: str | None = None) -> Accuracy | None:
    """The error to state beside an estimate on ``cpu`` (and part ``mcu``): the user's own
    measurements of that part and core when they saved some, else the published ones."""
    if mcu:
        mine = _read_local().get(mcu, {}).get(SAME_MODEL.get(cpu, cpu))
        if mine:
            return _summary(cpu, [(float(r["measured"]), float(r["estimate"])) for r in mine],
                            "your measurements (scripts/check_cycles.py --save)", True, mcu)
    return published(cpu)


def save_local(results: list[dict]) -> Path:
    """Add ``check_cycles`` results (each with mcu, cpu, name, measured, estimate) to the
    user's table, replacing earlier rows of the same program; returns its path."""
    data = _read_local()
    for r in results:
        rows = data.setdefault(r["mcu"], {}).setdefault(SAME_MODEL.get(r["cpu"], r["cpu"]), [])
        rows[:] = [x for x in rows if x["name"] != r["name"]]
        rows.append({"name": r["name"], "measured": r["measured"], "estimate": r["estimate"]})
    path = local_table()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path


def error_json(cpu: str, mcu: str | None = None) -> dict:
    """``estimate_error_pct`` for a result: the measured error, or why there is none."""
    acc = accuracy_for(cpu, mcu)
    if acc is None:
        return {"max": None, "median": None, "programs": 0,
                "source": f"no silicon measurements of {cpu} yet: its estimate's error is "
                          "unknown"}
    return acc.json()


def json_words(d: dict) -> str:
    """The words of an ``estimate_error_pct`` (error_json's form), for text reports."""
    if d.get("max") is None:
        return f"estimate; {d.get('source', 'its error is not yet measured')}"
    n = d["programs"]
    whose = (f"your {n} program{'s' if n != 1 else ''} measured on {d.get('mcu')}, local "
             f"table {local_table()}" if d.get("local") else
             f"{n} published silicon measurements of hand-written code; docs/cycle-model.md")
    return f"estimate, ±{d['max']:g} % on this core (median {d['median']:g} %, {whose})"


def error_words(cpu: str, mcu: str | None = None) -> str:
    """The same in words, for text reports: "estimate, ±x % on this core (...)"."""
    return json_words(error_json(cpu, mcu))
