"""Headless Chromium for the HTML reports: a screenshot at a given window width, and the
page's layout measured by the browser itself (what sticks out past the window's right edge,
which texts of the inline SVG figures overlap: tick and axis labels, titles; what the
console said).

The measurement runs in a copy of the page with one more script at the end of its body; the
browser's ``--dump-dom`` prints the document after it ran, the result in one ``<pre>``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: The flags of a closed network (no background fetches) and a throwaway profile.
QUIET = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]

MEASURE = """
(function () {
  var W = window.innerWidth, out = {width: W,
    scroll_width: document.documentElement.scrollWidth, offscreen: [], overlaps: [],
    tick_labels: 0};
  document.querySelectorAll('body > *, table, svg, th').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > W + 1) {
      out.offscreen.push(e.tagName.toLowerCase() + ' "' +
        (e.textContent || '').trim().slice(0, 40) + '" ends at ' + Math.round(r.right));
    }
  });
  function hit(a, b) {
    return a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
           a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  }
  document.querySelectorAll('svg').forEach(function (svg, s) {
    // every text of a figure (tick labels, axis labels, titles, cell values), legends aside
    var boxes = [];
    svg.querySelectorAll('g[id^="text_"]').forEach(function (t) {
      if (t.closest('g[id^="legend_"]')) { return; }
      var r = t.getBoundingClientRect();
      if (r.width > 0) { boxes.push([t, r]); }
      if (t.closest('g[id^="xtick_"], g[id^="ytick_"]')) { out.tick_labels += 1; }
    });
    for (var i = 0; i < boxes.length; i++) {
      for (var j = i + 1; j < boxes.length; j++) {
        if (hit(boxes[i][1], boxes[j][1])) {
          out.overlaps.push('figure ' + s + ': ' + boxes[i][0].id + ' and ' + boxes[j][0].id +
            ' at ' + Math.round(boxes[i][1].left) + ',' + Math.round(boxes[i][1].top));
        }
      }
    }
  });
  var pre = document.createElement('pre');
  pre.id = 'armsim-layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def _run(flags: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *QUIET, f"--user-data-dir={profile}", *flags],
                          capture_output=True, text=True, timeout=120)


def layout(page: Path, work: Path, width: int = 1400) -> dict[str, Any]:
    """The page's layout in a ``width`` px wide window: ``offscreen`` (elements whose right
    edge passes the window's), ``overlaps`` (pairs of a figure's texts that overlap: tick and
    axis labels, titles, values; legends and annotations aside),
    ``scroll_width``, ``tick_labels`` (how many were measured), ``console`` (messages)."""
    text = page.read_text()
    probe = work / f"{page.stem}.probe.html"
    probe.write_text(text.replace("</body>", f"<script>{MEASURE}</script></body>"))
    r = _run([f"--window-size={width},1200", "--dump-dom", probe.as_uri()], work / "profile")
    m = re.search(r'<pre id="armsim-layout">(.*?)</pre>', r.stdout, re.S)
    assert m, f"no layout from Chromium: {r.stderr[-2000:]}"
    out = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")
                     .replace("&lt;", "<").replace("&gt;", ">"))
    out["console"] = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    return out


def screenshot(page: Path, shot: Path, work: Path, width: int = 1400,
               height: int = 2400) -> Any:
    """The page as Chromium draws it in a ``width`` x ``height`` window (an RGB(A) array)."""
    import matplotlib.image as mpimg

    _run([f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri()],
         work / "profile")
    return mpimg.imread(shot)
