#!/usr/bin/env python3
"""Plots allthreads-bench JSON as an SVG (no dependencies): median latency per
broadcast against the number of idle threads, log-log, one line per method and
idle kind, and the ratio to glibc."""
import json
import math
import sys

def main(src, dst):
    suite = json.load(open(src))
    configs = [c for c in suite["configurations"] if c["threads"] > 0]
    series = {}
    for c in configs:
        for method in ("glibc", "strict", "relaxed"):
            series.setdefault((method, c["idle"]), []).append((c["threads"], c[method]["medianMicroseconds"]))
    width, height, left, top, plot_w, plot_h = 760, 460, 70, 50, 520, 340
    xs = [n for s in series.values() for n, _ in s]
    ys = [v for s in series.values() for _, v in s]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    def px(n): return left + (math.log10(n) - x0) / ((x1 - x0) or 1) * plot_w
    def py(v): return top + plot_h - (math.log10(v) - y0) / ((y1 - y0) or 1) * plot_h
    colors = {"glibc": "#555555", "strict": "#c0392b", "relaxed": "#2471a3"}
    dash = {"pause": "", "futex": "6,4"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15">No-op setresuid broadcast: median latency vs idle threads</text>',
           f'<text x="{left}" y="38" fill="#666">{suite["machine"]}, {suite["date"][:10]}</text>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:,} µs</text>')
    for n in sorted(set(xs)):
        x = px(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{n}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle">extra idle threads</text>')
    legend_y = top + 10
    for (method, idle), points in sorted(series.items()):
        points.sort()
        path = " ".join(f"{px(n):.1f},{py(v):.1f}" for n, v in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colors[method]}" stroke-width="2" stroke-dasharray="{dash[idle]}"/>')
        out.append(f'<line x1="{left + plot_w + 15}" y1="{legend_y}" x2="{left + plot_w + 45}" y2="{legend_y}" stroke="{colors[method]}" stroke-width="2" stroke-dasharray="{dash[idle]}"/>')
        out.append(f'<text x="{left + plot_w + 50}" y="{legend_y + 4}">{method}, {idle}</text>')
        legend_y += 18
    legend_y += 10
    out.append(f'<text x="{left + plot_w + 15}" y="{legend_y}" font-weight="bold">ratio to glibc</text>')
    for c in configs:
        legend_y += 16
        out.append(f'<text x="{left + plot_w + 15}" y="{legend_y}">{c["threads"]} {c["idle"]}: {c["strictRatio"]:.2f} / {c["relaxedRatio"]:.2f}</text>')
    out.append(f'<text x="{left + plot_w + 15}" y="{legend_y + 16}" fill="#666">(strict / relaxed)</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out))

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
