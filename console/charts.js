// The overview's charts, drawn as inline SVG (no library): calls over time as stacked bars per bucket (completed,
// failed, timeout, other), and the durations of the last finished calls, one bar each.

import { fmtTime, s } from "./dom.js";

const CHART = { w: 960, h: 220, left: 44, right: 12, top: 12, bottom: 28 };

/** The top of a y axis with five ticks: 5, 10, 20, 50, 100, ... */
function niceMax(v) {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function axisLabel(t, spanMs) {
  const d = new Date(t);
  return spanMs > 2 * 86_400_000
    ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" })
    : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function chartFrame(maxY, from, to, fmtY) {
  const { w, h: ht, left, right, top, bottom } = CHART;
  const plotH = ht - top - bottom;
  const g = [];
  for (let i = 0; i <= 5; i++) {
    const y = top + plotH - (plotH * i) / 5;
    g.push(s("line", { class: "grid", x1: left, x2: w - right, y1: y, y2: y }));
    g.push(s("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, fmtY((maxY * i) / 5)));
  }
  g.push(s("line", { class: "axis", x1: left, x2: w - right, y1: top + plotH, y2: top + plotH }));
  if (from === null) return g;
  for (let i = 0; i <= 6; i++) {
    const t = from + ((to - from) * i) / 6;
    const x = left + ((w - left - right) * i) / 6;
    g.push(
      s(
        "text",
        { x, y: ht - 8, "text-anchor": i === 0 ? "start" : i === 6 ? "end" : "middle" },
        axisLabel(t, to - from),
      ),
    );
  }
  return g;
}

export function callsChart(m) {
  const { w, h: ht, left, right, top, bottom } = CHART;
  const from = Date.parse(m.from);
  const to = Date.parse(m.to);
  const plotW = w - left - right;
  const plotH = ht - top - bottom;
  const maxY = niceMax(Math.max(0, ...m.buckets.map((b) => b.total)));
  const bw = plotW / Math.max(1, m.buckets.length);
  const bars = [];
  m.buckets.forEach((b, i) => {
    let y = top + plotH;
    const x = left + i * bw + Math.max(0.5, bw * 0.12);
    const width = Math.max(1, bw * 0.76);
    const other = b.total - b.completed - b.failed - b.timeout;
    for (const [n, color] of [
      [b.completed, "#12a150"],
      [b.failed, "#d92d20"],
      [b.timeout, "#dc7b06"],
      [other, "#98a2b3"],
    ]) {
      if (!n) continue;
      const hgt = (n / maxY) * plotH;
      y -= hgt;
      bars.push(s("rect", { x, y, width, height: hgt, fill: color, rx: 1.5 }));
    }
    if (b.total) {
      bars.push(
        s(
          "rect",
          { x: left + i * bw, y: top, width: bw, height: plotH, fill: "transparent" },
          s(
            "title",
            {},
            `${fmtTime(b.start)}: ${b.total} calls, ${b.completed} completed, ${b.failed} failed, ${b.timeout} timeout`,
          ),
        ),
      );
    }
  });
  const svg = s(
    "svg",
    { viewBox: `0 0 ${w} ${ht}`, role: "img", "aria-label": `Calls over time: ${m.total} calls` },
    chartFrame(maxY, from, to, (v) => String(Math.round(v))),
    bars,
  );
  if (!m.total) svg.append(s("text", { x: w / 2, y: ht / 2, "text-anchor": "middle" }, "No calls in this window"));
  return svg;
}

/** One bar per recent finished call, oldest to newest (newest at the right), as tall as the call took. */
export function durationChart(calls) {
  const { w, h: ht, left, right, top, bottom } = CHART;
  const plotW = w - left - right;
  const plotH = ht - top - bottom;
  const maxY = niceMax(Math.max(1, ...calls.map((c) => c.durationMs)));
  const slot = plotW / Math.max(calls.length, 40);
  const x0 = w - right - slot * calls.length;
  const bars = calls.map((c, i) => {
    const hgt = Math.max(1.5, (c.durationMs / maxY) * plotH);
    return s(
      "rect",
      {
        x: x0 + i * slot + slot * 0.15,
        y: top + plotH - hgt,
        width: slot * 0.7,
        height: hgt,
        rx: 1.5,
        fill: c.status === "completed" ? "#4f46e5" : "#d92d20",
      },
      s("title", {}, `${fmtTime(c.startTime)}: ${c.durationMs} ms, ${c.status}`),
    );
  });
  const label = (c, x, anchor) =>
    s("text", { x, y: ht - 8, "text-anchor": anchor }, axisLabel(Date.parse(c.startTime), 0));
  const svg = s(
    "svg",
    { viewBox: `0 0 ${w} ${ht}`, role: "img", "aria-label": `Duration of the last ${calls.length} calls` },
    chartFrame(maxY, null, null, (v) => `${Math.round(v)}`),
    bars,
    calls.length > 1 && w - right - x0 > 160 ? label(calls[0], x0, "start") : null,
    calls.length ? label(calls[calls.length - 1], w - right, "end") : null,
  );
  if (!calls.length)
    svg.append(s("text", { x: w / 2, y: ht / 2, "text-anchor": "middle" }, "No finished calls in this window"));
  return svg;
}
