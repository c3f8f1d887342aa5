#!/usr/bin/env python3
"""Plots allthreads-bench JSON as one SVG (Python standard library only), panels stacked:
  1. median latency per no-op setresuid broadcast against idle threads N (log-log);
  2. that latency as a ratio to glibc's, strict and relaxed, per idle kind;
  3. whole drops (when the JSON has a `drops` array) as a ratio to glibc's three-call drop,
     with the goals as reference lines.
N = 0 (no other thread) has no place on a log axis: the table in docs/benchmark.md has it.

  plot_bench.py BENCH.json OUT.svg     write the plot
  plot_bench.py --check BENCH.json...  render each and check that every label lies inside the
                                       picture, outside the plot areas and clear of every other
                                       label (a label's width taken as 0.6 x font size x length)
"""
import json
import math
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

WIDTH = 860
FONT = 12  # the picture's default font size
SMALL = 11  # reference-line labels and the legend
# Layout reserves a little more than the check's 0.6 em per character: DejaVu Sans digits are 0.64 em.
LAYOUT_EM = 0.66
CHECK_EM = 0.6
ASCENT, DESCENT = 0.8, 0.25  # of the font size, above and below the baseline
PLOT_HEIGHT = 230
GREY, LIGHT = "#666666", "#e6e6e6"
DASH = {"pause": "", "futex": "6,4", "mixed": "2,3"}
IDLE_LABEL = {"pause": "threads idle in pause()", "futex": "threads idle on a futex",
              "mixed": "a mixed population (pthreads, Foundation, Dispatch, a TaskGroup)"}


@dataclass
class Series:
    color: str
    idle: str
    points: list  # (N, value)


@dataclass
class Reference:
    value: float
    label: str
    dash: str  # "" for the 1.0 line, dotted for goals


@dataclass
class Panel:
    title: str
    y_title: str
    log_ticks: str  # "decades" (latency) or "doublings" (ratios)
    series: list
    legend: list  # (label, color)
    references: list = field(default_factory=list)


def text_width(text, size, em=LAYOUT_EM):
    return em * size * len(text)


def latency_label(us):
    for unit, scale in (("s", 1e6), ("ms", 1e3), ("µs", 1)):
        if us >= scale:
            return f"{us / scale:g} {unit}"
    return f"{us:g} µs"


def ratio_label(r):
    return f"{r:g}×"


def with_broadcasts(label, rows):
    """Adds how many engine broadcasts a drop took, when every row of it agrees."""
    counts = {r.get("broadcasts") for r in rows}
    if len(counts) == 1 and None not in counts:
        n = counts.pop()
        return f"{label} ({n} broadcast{'' if n == 1 else 's'})"
    return label


def panels(suite):
    configs = [c for c in suite["configurations"] if c["threads"] > 0]
    colors = {"glibc": "#555555", "strict": "#c0392b", "relaxed": "#2471a3"}
    idles = sorted({c["idle"] for c in configs}, key=list(DASH).index)
    latency = Panel(
        "No-op setresuid broadcast: median latency against idle threads", "median per broadcast", "decades",
        [Series(colors[m], idle, [(c["threads"], c[m]["medianMicroseconds"]) for c in configs if c["idle"] == idle])
         for m in ("glibc", "strict", "relaxed") for idle in idles],
        [("glibc's setresuid", colors["glibc"]), ("ours, strict", colors["strict"]), ("ours, relaxed", colors["relaxed"])])
    ratio = Panel(
        "The same broadcast as a ratio to glibc's (below 1: faster than glibc)", "ours / glibc (median)", "doublings",
        [Series(colors[m], idle, [(c["threads"], c[f"{m}Ratio"]) for c in configs if c["idle"] == idle])
         for m in ("strict", "relaxed") for idle in idles],
        [("strict", colors["strict"]), ("relaxed", colors["relaxed"])],
        [Reference(1.0, "glibc = 1", "")])
    result = [latency, ratio]
    drops = [d for d in suite.get("drops", []) if d["threads"] > 0 and d["kind"] != "glibc"]
    if drops:
        variants = {("credential", "strict"): "#c0392b", ("credential", "relaxed"): "#2471a3",
                    ("proven", "strict"): "#7d3c98", ("proven", "relaxed"): "#b7950b",
                    ("full", "strict"): "#d35400", ("full", "relaxed"): "#17a589"}
        present = [v for v in variants if any((d["kind"], d["mode"]) == v for d in drops)]
        drop_idles = sorted({d["idle"] for d in drops}, key=list(DASH).index)
        def rows(kind, mode, idle=None):
            return [d for d in drops if (d["kind"], d["mode"]) == (kind, mode) and idle in (None, d["idle"])]
        result.append(Panel(
            "Whole drop to nobody as a ratio to glibc's three-call drop (setgroups, setresgid, setresuid)",
            "ours / glibc (median)", "doublings",
            [Series(variants[v], idle, [(d["threads"], d["ratio"]) for d in rows(*v, idle)])
             for v in present for idle in drop_idles if rows(*v, idle)],
            [(with_broadcasts(f"{kind} drop, {mode}", rows(kind, mode)), variants[(kind, mode)]) for kind, mode in present],
            [Reference(1.0, "glibc = 1", ""), Reference(0.8, "goal: credential, strict 0.8", "2,3"),
             Reference(0.55, "goal: credential, relaxed 0.55", "2,3"), Reference(2.5, "goal: full 2.5", "2,3")]))
    return [p for p in result if any(s.points for s in p.series)]  # e.g. a run of N = 0 alone has nothing to plot


class Canvas:
    def __init__(self):
        self.items = []

    def text(self, x, y, s, size=FONT, anchor="start", fill=None, weight=None, rotate=False):
        attrs = f'x="{x:.1f}" y="{y:.1f}"'
        if size != FONT:
            attrs += f' font-size="{size}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if fill:
            attrs += f' fill="{fill}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if rotate:
            attrs += f' transform="rotate(-90 {x:.1f} {y:.1f})"'
        self.items.append(f"<text {attrs}>{escape(s)}</text>")

    def line(self, x1, y1, x2, y2, color, width=1, dash=""):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="{width}"{extra}/>')

    def marker(self, x, y, color, filled):
        """A data point: filled for pause()-idle threads, hollow for futex-idle ones."""
        self.items.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color if filled else "white"}" stroke="{color}" stroke-width="1.5"/>')


def y_ticks(panel):
    values = [v for s in panel.series for _, v in s.points] + [r.value for r in panel.references]
    lo, hi = min(values), max(values)
    if panel.log_ticks == "decades":
        return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    doublings = [2.0 ** e for e in range(math.floor(math.log2(lo)), math.ceil(math.log2(hi)) + 1)]
    # Ratios: every doubling, and 1.5 times each from 0.75 up when that leaves room (0.75, 1.5, 3, ...).
    between = [1.5 * d for d in doublings[:-1] if d >= 0.5]
    return sorted(doublings + between) if len(doublings) <= 5 else doublings


def tick_label(panel, v):
    return latency_label(v) if panel.log_ticks == "decades" else ratio_label(v)


def legend_rows(panel):
    """The legend as rows of (label, colour, dash, filled marker): the variants, then the idle kinds."""
    idles = [i for i in DASH if any(s.idle == i for s in panel.series)]
    return [[(label, color, "", True) for label, color in panel.legend],
            [(IDLE_LABEL[i], GREY, DASH[i], i == "pause") for i in idles]]


def draw_panel(svg, panel, top, left, plot_w):
    """Draws one panel from `top`; returns the y where the next one may start."""
    svg.text(left, top + 14, panel.title, size=13, weight="bold")
    plot_top = top + 28
    xs = sorted({n for s in panel.series for n, _ in s.points})
    ticks = y_ticks(panel)
    x0, x1 = math.log10(xs[0]), math.log10(xs[-1])
    pad = 0.04 * ((x1 - x0) or 1)  # keeps the end markers off the frame
    x0, x1 = x0 - pad, x1 + pad
    y0, y1 = math.log10(ticks[0]), math.log10(ticks[-1])
    def px(n): return left + (math.log10(n) - x0) / (x1 - x0) * plot_w
    def py(v): return plot_top + PLOT_HEIGHT - (math.log10(v) - y0) / ((y1 - y0) or 1) * PLOT_HEIGHT
    bottom = plot_top + PLOT_HEIGHT
    svg.items.append(f'<rect class="plot-area" x="{left}" y="{plot_top}" width="{plot_w}" height="{PLOT_HEIGHT}" fill="none" stroke="#bbbbbb"/>')
    for v in ticks:
        svg.line(left, py(v), left + plot_w, py(v), LIGHT)
        svg.text(left - 8, py(v) + 4, tick_label(panel, v), anchor="end")
    last_right = -math.inf
    for n in xs:
        label = str(n)
        half = text_width(label, FONT) / 2
        svg.line(px(n), plot_top, px(n), bottom, LIGHT)
        if px(n) - half > last_right + 6:  # skips a label that would run into the previous one
            svg.text(px(n), bottom + 16, label, anchor="middle")
            last_right = px(n) + half
    svg.text(left + plot_w / 2, bottom + 34, "extra idle threads N (log scale)", anchor="middle")
    svg.text(left - 8 - max(text_width(tick_label(panel, v), FONT) for v in ticks) - 10, plot_top + PLOT_HEIGHT / 2,
             panel.y_title, anchor="middle", rotate=True)
    # Reference lines, labelled in the right margin; labels too close together are pushed apart.
    label_y = -math.inf
    for ref in sorted(panel.references, key=lambda r: -r.value):
        svg.line(left, py(ref.value), left + plot_w, py(ref.value), "#333333" if not ref.dash else GREY, 1.2, ref.dash)
        label_y = max(py(ref.value) + 4, label_y + SMALL + 3)
        svg.line(left + plot_w, py(ref.value), left + plot_w + 6, label_y - 4, GREY)  # a pushed label still points at its line
        svg.text(left + plot_w + 8, label_y, ref.label, size=SMALL, fill="#333333")
    for s in panel.series:
        points = sorted(s.points)
        path = " ".join(f"{px(n):.1f},{py(v):.1f}" for n, v in points)
        svg.items.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"'
                         + (f' stroke-dasharray="{DASH[s.idle]}"' if DASH[s.idle] else "") + "/>")
        for n, v in points:
            svg.marker(px(n), py(v), s.color, s.idle == "pause")
    # The legend, under the axis title, in columns as wide as its widest entry.
    rows = legend_rows(panel)
    column = max(34 + text_width(label, SMALL) + 16 for row in rows for label, *_ in row)
    columns = max(1, int((WIDTH - 10 - left) // column))
    y = bottom + 40
    for row in rows:
        for i, (label, color, dash, filled) in enumerate(row):
            if i % columns == 0:
                y += 18
            x = left + (i % columns) * column
            svg.line(x, y - 4, x + 28, y - 4, color, 2, dash)
            svg.marker(x + 14, y - 4, color, filled)
            svg.text(x + 34, y, label, size=SMALL)
    return y + 22


def render(suite):
    ps = panels(suite)
    widest_tick = max([text_width(tick_label(p, v), FONT) for p in ps for v in y_ticks(p)] + [0])
    left = math.ceil(10 + FONT + 10 + widest_tick + 8)  # margin, rotated axis title, gap, tick labels, gap
    right = math.ceil(8 + max([text_width(r.label, SMALL) for p in ps for r in p.references] + [0]) + 10)
    plot_w = WIDTH - left - right
    svg = Canvas()
    title = "AllThreads against glibc: broadcast latency" + (" and whole drops" if len(ps) > 2 else "")
    svg.text(left, 22, title, size=15, weight="bold")
    svg.text(left, 40, f'{suite["machine"]}, {suite["date"][:10]}', fill=GREY)
    y = 56
    for p in ps:
        y = draw_panel(svg, p, y, left, plot_w)
    height = math.ceil(y)
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
            f'font-family="sans-serif" font-size="{FONT}">',
            f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    return "\n".join(head + svg.items + ["</svg>"]) + "\n"


def text_boxes(svg_text):
    """Every text element's estimated box (x0, y0, x1, y1, text) in picture coordinates."""
    root = ET.fromstring(svg_text)
    ns = "{http://www.w3.org/2000/svg}"
    default = float(root.get("font-size", 16))
    boxes = []
    for t in root.iter(ns + "text"):
        s = "".join(t.itertext())
        size = float(t.get("font-size", default))
        x, y = float(t.get("x", 0)), float(t.get("y", 0))
        w = CHECK_EM * size * len(s)
        start = x - {"start": 0, "middle": w / 2, "end": w}[t.get("text-anchor", "start")]
        corners = [(start, y - ASCENT * size), (start + w, y - ASCENT * size), (start, y + DESCENT * size), (start + w, y + DESCENT * size)]
        m = re.fullmatch(r"rotate\(([-\d.]+) ([-\d.]+) ([-\d.]+)\)", t.get("transform", "rotate(0 0 0)"))
        if not m:
            raise ValueError(f"unsupported transform on {s!r}: {t.get('transform')}")
        a, cx, cy = math.radians(float(m[1])), float(m[2]), float(m[3])
        turned = [(cx + (px - cx) * math.cos(a) - (py - cy) * math.sin(a), cy + (px - cx) * math.sin(a) + (py - cy) * math.cos(a))
                  for px, py in corners]
        boxes.append((min(p[0] for p in turned), min(p[1] for p in turned), max(p[0] for p in turned), max(p[1] for p in turned), s))
    return root, boxes


def check(svg_text):
    """The problems with the picture's labels: outside the view box, over a plot area, or over each other."""
    root, boxes = text_boxes(svg_text)
    vx, vy, vw, vh = map(float, root.get("viewBox").split())
    areas = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in root.iter("{http://www.w3.org/2000/svg}rect")
             if r.get("class") == "plot-area"]
    problems = []
    for x0, y0, x1, y1, s in boxes:
        if x0 < vx or y0 < vy or x1 > vx + vw or y1 > vy + vh:
            problems.append(f"{s!r} ({x0:.0f},{y0:.0f})-({x1:.0f},{y1:.0f}) leaves the view box {vw:.0f}x{vh:.0f}")
        for ax, ay, aw, ah in areas:
            if x0 < ax + aw and x1 > ax and y0 < ay + ah and y1 > ay:
                problems.append(f"{s!r} lies over the plot area at ({ax:.0f},{ay:.0f})")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]:
                problems.append(f"{a[4]!r} overlaps {b[4]!r}")
    return problems


def main(argv):
    if len(argv) >= 2 and argv[0] == "--check":
        failed = False
        for path in argv[1:]:
            problems = check(render(json.load(open(path))))
            for p in problems:
                print(f"{path}: {p}", file=sys.stderr)
            print(f"{path}: {'FAIL' if problems else 'ok'}")
            failed = failed or bool(problems)
        return 1 if failed else 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "w") as out:
        out.write(render(json.load(open(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
