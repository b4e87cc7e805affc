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

from armsim.errors import ArmsimError
from armsim.parts.flash import usual_fetch
from armsim.parts.mcus import get_mcu
from armsim.session.results import ValidateResult, present
from armsim.timing.accuracy import error_words

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;overflow-wrap:anywhere}h2{font-size:18px;margin-top:32px}
table{border-collapse:collapse;font-size:13px;max-width:100%}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eee;cursor:pointer;user-select:none;white-space:normal}
td{white-space:nowrap}td.t{text-align:left}td.w{white-space:normal;overflow-wrap:anywhere;
min-width:8em}td.long{white-space:normal;overflow-wrap:anywhere;min-width:24em;font-size:12px}
svg{max-width:100%;height:auto}p{overflow-wrap:anywhere}
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
    fig.tight_layout()  # panels' titles and axis labels clear of their neighbours
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


#: At most this many panels side by side (a 1400 px page holds three 4.2-inch panels).
PANELS_PER_ROW = 3


def _grid(plt: Any, n: int, width: float, height: float, per_row: int = PANELS_PER_ROW
          ) -> tuple[Any, list[Any]]:
    """A figure of ``n`` panels (``width`` x ``height`` inches each), ``per_row`` to a row;
    the panels in order (spare ones hidden)."""
    cols = max(1, min(n, per_row))
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows),
                             squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:max(n, 1)]


def _count_axis(axis: Any, nbins: int = 4) -> None:
    """Few ticks with readable counts (12k, 3.4M) on a matplotlib axis of large numbers."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def fmt(v: float, _pos: Any) -> str:
        a = abs(v)
        for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{v / div:.3g}{unit}"
        return f"{v:.3g}"

    axis.set_major_locator(MaxNLocator(nbins=nbins))
    axis.set_major_formatter(FuncFormatter(fmt))


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
                text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
            elif isinstance(v, int) and not isinstance(v, bool):
                text = f"{v:,}"
            else:
                text = "" if v is None else str(v)
            kind = "t" if not isinstance(v, (int, float)) or isinstance(v, bool) else ""
            if j == 0 or columns[j] == "status":
                kind = "t s" if columns[j] == "status" else "t w"
            if (columns[j] == "error" or len(text) > 60) and kind.startswith("t"):
                kind = "t long"  # a message or a note: wrapped, not a column off-screen
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
    fig, axes = _grid(plt, len(cpus), 4.2, 3.6)
    for ax, cpu in zip(axes, cpus):
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
                name = names[i] if len(names[i]) <= 24 else names[i][:23] + "…"
                ax.annotate(name, pts[i], fontsize=7, xytext=(3, 3), textcoords="offset points",
                            gid="annotation", clip_on=True).set_in_layout(False)
        ax.set_title(cpu)
        ax.set_xlabel(label)
        ax.set_ylabel(_quality(rows[0])[1] if rows else "")
        _count_axis(ax.xaxis)
        ax.locator_params(axis="y", nbins=5)
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
    most = max(len(json.loads(c["layers"])) for c in cells)
    # a bar's label needs about 0.16 inch of height; names are cut to 28 characters
    fig, axes = _grid(plt, len(cells), 6.0, max(3.0, 0.9 + 0.16 * most), per_row=2)
    for ax, c in zip(axes, cells):
        layers = json.loads(c["layers"])
        names = [ly["name"] if len(ly["name"]) <= 28 else ly["name"][:27] + "…"
                 for ly in layers]
        ax.barh(range(len(names)), [ly["cycles_estimate"] for ly in layers], color="#4a7")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{Path(c['model']).stem} {c['dtype']} {c['cpu']} {c['opt']}", fontsize=9)
        ax.set_xlabel("estimated cycles")
        _count_axis(ax.xaxis)
    return _svg(fig)


def confusion_figure(matrices: list[tuple[str, list[list[int]]]]) -> str:
    """Confusion matrices (true rows, predicted columns)."""
    plt = _plt()
    if not matrices:
        return "<p class='note'>no labelled validation</p>"
    fig, axes = _grid(plt, len(matrices), 3.6, 3.4)
    for ax, (title, m) in zip(axes, matrices):
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


def _plain(v: Any) -> str:
    """A value in running text: floats without a trailing .0."""
    return f"{v:g}" if isinstance(v, float) else str(v)


#: The sweep table's column headers (short, so twenty columns fit a 1400 px page).
HEADERS = {"agreement": "agree", "accuracy": "acc.", "max_abs_diff": "max |Δ|",
           "instructions": "instr.", "cycles_estimate": "est. cycles", "latency_ms": "est. ms",
           "clock_mhz": "MHz", "flash_bytes": "flash B", "ram_bytes": "RAM B",
           "peak_stack_bytes": "stack B", "seconds": "s"}


def sweep_report(rows: list[dict[str, Any]], title: str = "armsim sweep") -> str:
    """The sweep page: results, errors, Pareto fronts, per-layer costs, confusion matrices,
    versions. An axis every cell shares (one part, one runtime) is said once above the
    table instead of repeated in a column, and errors are listed below it, so the table
    fits a 1400 px page."""
    cols = ["model", "dtype", "cpu", "runtime", "kernels", "opt", "mcu", "status", "agreement",
            "accuracy", "max_abs_diff", "instructions", "cycles_estimate", "latency_ms",
            "clock_mhz", "flash_bytes", "ram_bytes", "peak_stack_bytes", "seconds"]
    shared = [c for c in ("dtype", "cpu", "runtime", "kernels", "opt", "mcu", "clock_mhz")
              if len(rows) > 1 and len({r.get(c) for r in rows}) == 1]
    cols = [c for c in cols if c not in shared]
    body = [[Path(r["model"]).name if r.get(c) and c == "model" else r.get(c) for c in cols]
            for r in rows]
    headers = [HEADERS.get(c, c) for c in cols]
    classes = ["ok" if r["status"] == "ok" else "bad" for r in rows]
    every = ", ".join(f"{HEADERS.get(c, c)} {_plain(rows[0].get(c))}" for c in shared)
    results = (f"<p class='note'>every cell: {html.escape(every)}</p>" if every else "") + \
        table(headers, body, classes)
    parts = []  # the flash set-up each part's latency was costed with (sweep cells: its usual)
    for name in sorted({r["mcu"] for r in rows if r.get("mcu")}):
        try:
            part = get_mcu(name)
            parts.append([name, usual_fetch(part.name, part.clock_hz).note])
        except ArmsimError:
            parts.append([name, "unknown part"])
    results += (table(["part", "clock, flash wait states and accelerator of the latency"],
                      parts) if parts else "")
    failed = [r for r in rows if r.get("error")]
    errors = table(["model", "dtype", "cpu", "status", "error"],
                   [[Path(r["model"]).name, r.get("dtype"), r.get("cpu"), r["status"],
                     r["error"]] for r in failed]) if failed else "<p class='note'>none</p>"
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
        ("Results", results),
        ("Errors", errors),
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
    weights = " (with the weights)"
    in_flash = fp.get("weights_in") == "flash"
    return table(["what", "bytes", f"on the part ({fp['mcu']})"],
                 [["flash" + (weights if in_flash else ""), fp["flash"]["total"],
                   fp["mcu_flash"]],
                  ["RAM" + ("" if in_flash else weights)
                   + (" without the stack" if unmeasured_stack else ""),
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
                f"part {fp['mcu']}{latency}; {error_words(prof.cpu, fp['mcu'])}")


def write(path: str | Path, text: str) -> Path:
    """Write a page."""
    p = Path(path)
    p.write_text(text)
    return p
