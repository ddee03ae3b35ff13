// Overview tab: calls, errors, error rate and duration percentiles in a window (1h, 24h, 7d), a chart of calls over
// time and one of the durations of the last finished calls.

import { api } from "../../api.js";
import { callsChart, durationChart } from "../../charts.js";
import { fmtMs, h, mount } from "../../dom.js";

export async function overviewTab(fn, body, query) {
  const win = ["1h", "24h", "7d"].includes(query.get("window")) ? query.get("window") : "24h";
  const select = h(
    "select",
    { id: "metrics-window", "aria-label": "Window" },
    h("option", { value: "1h" }, "Last hour"),
    h("option", { value: "24h" }, "Last 24 hours"),
    h("option", { value: "7d" }, "Last 7 days"),
  );
  select.value = win;
  select.addEventListener("change", () => {
    location.hash = `#/functions/${fn.id}/overview?window=${select.value}`;
  });
  const [m, calls] = await Promise.all([
    api(`/api/functions/${fn.id}/metrics?window=${win}`),
    api(`/api/functions/${fn.id}/calls?limit=100`),
  ]);
  const errors = (m.counts.failed ?? 0) + (m.counts.timeout ?? 0);
  const stat = (label, value, cls = "") =>
    h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: `value ${cls}` }, value));
  const timed = calls.data
    .filter((c) => c.durationMs !== null && c.startTime && Date.parse(c.startTime) >= Date.parse(m.from))
    .reverse();
  mount(
    body,
    h(
      "div",
      { class: "stats", id: "metrics" },
      stat("Calls", String(m.total)),
      stat("Errors", String(errors), errors ? "bad" : ""),
      stat("Error rate", `${(m.errorRate * 100).toFixed(1)}%`, m.errorRate > 0 ? "bad" : ""),
      stat("p50", fmtMs(m.durationMs.p50)),
      stat("p95", fmtMs(m.durationMs.p95)),
      stat("p99", fmtMs(m.durationMs.p99)),
    ),
    h(
      "div",
      { class: "panel chart", id: "calls-chart" },
      h(
        "div",
        { class: "panel-head" },
        h("h2", {}, "Calls over time"),
        h(
          "div",
          { class: "legend" },
          h("span", {}, h("i", { class: "completed" }), "completed"),
          h("span", {}, h("i", { class: "failed" }), "failed"),
          h("span", {}, h("i", { class: "timeout" }), "timeout"),
          select,
        ),
      ),
      callsChart(m),
    ),
    h(
      "div",
      { class: "panel chart", id: "duration-chart" },
      h(
        "div",
        { class: "panel-head" },
        h("h2", {}, `Duration of the last ${timed.length} calls`),
        h(
          "div",
          { class: "legend" },
          h("span", {}, h("i", { class: "duration" }), "completed (ms)"),
          h("span", {}, h("i", { class: "failed" }), "failed or timed out"),
        ),
      ),
      durationChart(timed),
    ),
  );
}
