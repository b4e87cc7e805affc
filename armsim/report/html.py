"""Self-contained HTML reports (no network needed to view them: plots are inline SVG, the
table sorts with a few lines of inline script): a sweep's results, or one validate/profile
run."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from armsim.session.results import ValidateResult, present

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#eee;cursor:pointer;user-select:none}td.t{text-align:left}
tr.ok td.s{color:#063}tr.bad td.s{color:#a00;font-weight:bold}
.figs{display:flex;flex-wrap:wrap;gap:16px}.note{color:#555;font-size:13px}
pre{white-space:pre-wrap;font-size:12px}
"""
SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      var asc=th.getAttribute('data-asc')!=='1';th.setAttribute('data-asc',asc?'1':'0');
      rows.sort(function(a,b){
        var x=a.cells[i].getAttribute('data-v')||a.cells[i].textContent,
            y=b.cells[i].getAttribute('data-v')||b.cells[i].textContent;
        var nx=parseFloat(x),ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
        return asc?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    # no RDF metadata block (creator, date): the page stays the same run to run
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def page(title: str, sections: list[tuple[str, str]], note: str = "") -> str:
    """A whole HTML document from (heading, inner HTML) sections."""
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{inner}\n" for h, inner in sections)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>"
            + (f"<p class='note'>{html.escape(note)}</p>" if note else "")
            + body + f"<script>{SORT_JS}</script></body></html>\n")


def table(columns: list[str], rows: Iterable[list[Any]], row_class: Iterable[str] = ()) -> str:
    """A sortable table (numbers sort as numbers)."""
    classes = list(row_class)
    out = ["<table class='sortable'><thead><tr>"
           + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr></thead><tbody>"]
    for k, r in enumerate(rows):
        cls = f" class='{classes[k]}'" if k < len(classes) else ""
        cells = []
        for j, v in enumerate(r):
            if isinstance(v, float):  # thousands separators where they help
                text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}"
            elif isinstance(v, int) and not isinstance(v, bool):
                text = f"{v:,}"
            else:
                text = "" if v is None else str(v)
            kind = "t" if not isinstance(v, (int, float)) or isinstance(v, bool) else ""
            if j == 0 or columns[j] == "status":
                kind = "t s" if columns[j] == "status" else "t"
            raw = f" data-v='{v}'" if isinstance(v, (int, float)) else ""
            cells.append(f"<td class='{kind}'{raw}>{html.escape(text)}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats: lower cost and higher quality."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -np.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def _quality(r: dict[str, Any]) -> tuple[float | None, str]:
    if r.get("accuracy") is not None:
        return float(r["accuracy"]), "accuracy"
    if r.get("agreement") is not None:
        return float(r["agreement"]), "agreement with the host"
    return None, ""


def pareto_figure(rows: list[dict[str, Any]], cost: str, label: str) -> str:
    """Quality against ``cost``, one scatter per CPU, float32 circles and int8 triangles,
    the Pareto front drawn."""
    plt = _plt()
    cpus = sorted({r["cpu"] for r in rows})
    fig, axes = plt.subplots(1, max(len(cpus), 1), figsize=(4.2 * max(len(cpus), 1), 3.6),
                             squeeze=False)
    for ax, cpu in zip(axes[0], cpus):
        pts, kinds, names = [], [], []
        for r in rows:
            q, _ = _quality(r)
            if r["cpu"] != cpu or q is None or r.get(cost) is None:
                continue
            pts.append((float(r[cost]), q))
            kinds.append(r["dtype"])
            names.append(f"{Path(r['model']).stem} {r['kernels']} {r['opt']}")
        for dtype, marker in (("float32", "o"), ("int8", "^")):
            sel = [p for p, k in zip(pts, kinds) if k == dtype]
            if sel:
                ax.scatter([p[0] for p in sel], [p[1] for p in sel], marker=marker, s=40,
                           label=dtype)
        front = pareto(pts)
        if front:
            fx = [pts[i][0] for i in front]
            fy = [pts[i][1] for i in front]
            ax.step(fx, fy, where="post", color="#c33", linewidth=1, label="Pareto front")
            for i in front:
                ax.annotate(names[i], pts[i], fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
        ax.set_title(cpu)
        ax.set_xlabel(label)
        ax.set_ylabel(_quality(rows[0])[1] if rows else "")
        ax.grid(alpha=0.3)
        if pts:
            ax.legend(fontsize=7)
    return _svg(fig)


def layer_bars(cells: list[dict[str, Any]]) -> str:
    """Per-layer estimated cycles of a few cells, as horizontal bars."""
    plt = _plt()
    cells = [c for c in cells if c.get("layers")]
    if not cells:
        return "<p class='note'>no profiled cell</p>"
    fig, axes = plt.subplots(1, len(cells), figsize=(4.5 * len(cells), 3.8), squeeze=False)
    for ax, c in zip(axes[0], cells):
        layers = json.loads(c["layers"])
        names = [ly["name"] for ly in layers]
        ax.barh(range(len(names)), [ly["cycles_estimate"] for ly in layers], color="#4a7")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{Path(c['model']).stem} {c['dtype']} {c['cpu']} {c['opt']}", fontsize=9)
        ax.set_xlabel("estimated cycles")
    return _svg(fig)


def confusion_figure(matrices: list[tuple[str, list[list[int]]]]) -> str:
    """Confusion matrices (true rows, predicted columns)."""
    plt = _plt()
    if not matrices:
        return "<p class='note'>no labelled validation</p>"
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.6 * len(matrices), 3.4), squeeze=False)
    for ax, (title, m) in zip(axes[0], matrices):
        a = np.array(m)
        ax.imshow(a, cmap="Blues")
        for (i, j), v in np.ndenumerate(a):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                        color="white" if v > a.max() / 2 else "black")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    return _svg(fig)


def sweep_report(rows: list[dict[str, Any]], title: str = "armsim sweep") -> str:
    """The sweep page: results, Pareto fronts, per-layer costs, confusion matrices, versions."""
    cols = ["model", "dtype", "cpu", "runtime", "kernels", "opt", "mcu", "status", "agreement",
            "accuracy", "max_abs_diff", "instructions", "cycles_estimate", "latency_ms",
            "clock_mhz", "flash_bytes", "ram_bytes", "peak_stack_bytes", "seconds", "error"]
    body = [[Path(r["model"]).name if r.get(c) and c == "model" else r.get(c) for c in cols]
            for r in rows]
    classes = ["ok" if r["status"] == "ok" else "bad" for r in rows]
    ok = [r for r in rows if r["status"] in ("ok", "disagree")]
    chosen: list[dict[str, Any]] = []
    for cpu in sorted({r["cpu"] for r in ok}):  # each CPU's Pareto cells, two at most
        rs = [r for r in ok if r["cpu"] == cpu and r.get("cycles_estimate") is not None
              and _quality(r)[0] is not None]
        front = pareto([(float(r["cycles_estimate"]), float(_quality(r)[0])) for r in rs])
        chosen += [rs[i] for i in front][:2]
    chosen = chosen[:4] or ok[:4]
    versions = sorted({r["versions"] for r in rows if r.get("versions")})
    sections = [
        ("Results", table(cols, body, classes)),
        ("Quality against estimated cycles", pareto_figure(ok, "cycles_estimate",
                                                          "estimated cycles per inference")),
        ("Quality against flash", pareto_figure(ok, "flash_bytes", "flash bytes")),
        ("Per-layer cost of the Pareto cells", layer_bars(chosen)),
        ("Confusion matrices (emulator, Pareto cells)", confusion_figure(
            [(f"{Path(c['model']).stem} {c['dtype']} {c['cpu']} {c['opt']}",
              json.loads(c["confusion"])) for c in chosen if c.get("confusion")])),
        ("Versions", "".join(f"<pre>{html.escape(json.dumps(json.loads(v), indent=1))}</pre>"
                             for v in versions) or "<p class='note'>none</p>"),
    ]
    n_ok = sum(r["status"] == "ok" for r in rows)
    return page(title, sections, f"{len(rows)} cells, {n_ok} ok. Cycles are estimates from "
                "armsim's timing tables, instructions are exact.")


def _footprint_table(fp: dict[str, Any], unmeasured_stack: str = "") -> str:
    """Flash, RAM and the stack peak against the part's memories (a footprint dict of
    session/profile.footprint); ``unmeasured_stack``: why the stack peak is not in it."""
    return table(["what", "bytes", f"on the part ({fp['mcu']})"],
                 [["flash", fp["flash"]["total"], fp["mcu_flash"]],
                  ["RAM" + (" without the stack" if unmeasured_stack else ""),
                   fp["ram"]["total"], fp["mcu_sram"]],
                  ["stack peak", unmeasured_stack or fp["ram"]["stack_peak"], None]])


def validate_report(res: ValidateResult, title: str, fp: dict[str, Any] | None = None) -> str:
    """One validate run as a page: the part, its clock and the latency, the instruction
    counts, the agreement, and the footprint ``fp`` against the part's memories."""
    keys = [k for k in ("model", "cpu", "mcu", "kernels", "n", "agreement", "host_accuracy",
                        "emulator_accuracy", "max_abs_diff", "max_abs_diff_q", "rmse",
                        "passed") if present(getattr(res, k))]
    rows: list[list[Any]] = [[k, getattr(res, k)] for k in keys]
    ins = res.instructions
    if present(ins):
        rows.append(["instructions per input (min / median / max)",
                     f"{ins['min']:,.0f} / {ins['median']:,.0f} / {ins['max']:,.0f}"])
    if present(res.latency_ms) and res.latency_ms["mean"] is not None:
        c, ms = res.cycles_estimate, res.latency_ms
        rows += [["cycles per input, estimate (min / median / max)",
                  f"{c['min']:,.0f} / {c['median']:,.0f} / {c['max']:,.0f}"],
                 [f"latency at {res.clock_mhz:g} MHz, estimate (mean / max)",
                  f"{ms['mean']:,.3f} / {ms['max']:,.3f} ms"],
                 ["flash set-up of the estimate", res.flash]]
    sections = [("Summary", table(["what", "value"], rows))]
    if fp is not None:
        sections.append(("Footprint", _footprint_table(
            fp, "not measured here (armsim profile measures it)")))
    cm = res.confusion_matrix
    if cm:
        sections.append(("Confusion matrices", confusion_figure(
            [("host", cm["host"]), ("emulator", cm["emulator"])])))
    versions = json.dumps(res.versions or {}, indent=1)
    sections.append(("Versions", f"<pre>{html.escape(versions)}</pre>"))
    part = f" on part {res.mcu}" if present(res.mcu) else ""
    return page(title, sections, f"{res.n:,} inputs{part}. Instructions are exact; cycles "
                "and latency are estimates from the cycle model (its measured error per "
                "core: docs/cycle-model.md).")


def profile_report(prof: Any, title: str) -> str:
    """One profile as a page: layers, functions, footprint."""
    layers = [{"name": r.name, "cycles_estimate": r.cycles_estimate,
               "instructions": r.instructions} for r in prof.layers]
    cell = {"model": prof.model, "dtype": "", "cpu": prof.cpu, "opt": "",
            "layers": json.dumps(layers)}
    fn = table(["function", "op", "calls", "instructions", "cycles (est.)"],
               [[f.name, f.layer, f.calls, f.instructions, f.cycles_estimate]
                for f in prof.functions[:40]])
    lt = table(["layer", "op", "MACs", "instructions", "cycles (est.)"],
               [[r.name, r.op, r.macs, r.instructions, r.cycles_estimate] for r in prof.layers])
    fp = prof.footprint
    foot = _footprint_table(fp)
    latency = "" if prof.latency_ms is None else (
        f"; about {prof.latency_ms:,.3f} ms at {prof.clock_mhz:g} MHz (estimate; "
        f"{prof.flash})")
    return page(title, [("Per-layer cost", layer_bars([cell])), ("Layers", lt),
                        ("Functions", fn), ("Footprint", foot)],
                f"{prof.total_instructions:,} instructions (exact), "
                f"{prof.total_cycles_estimate:,.0f} cycles (estimate) on {prof.cpu_title}, "
                f"part {fp['mcu']}{latency}; the cycle model's measured error per core: "
                "docs/cycle-model.md")


def write(path: str | Path, text: str) -> Path:
    """Write a page."""
    p = Path(path)
    p.write_text(text)
    return p
