// A call's page (#/calls/<id>): status, trigger, attempt, version, times, duration, who made it, an HTTP call's
// method and path; the result or the error with its stack; the logs.

import { api } from "../api.js";
import { badge, errorBox, fmtBytes, fmtMs, h, mount, pretty, timeEl, view } from "../dom.js";
import { logList } from "../logs.js";
import { newTurn } from "../router.js";

export async function renderCall(id) {
  const stale = newTurn();
  mount(view, h("div", { class: "empty" }, "Loading…"));
  let call;
  try {
    call = await api(`/api/calls/${encodeURIComponent(id)}`);
  } catch (err) {
    if (stale()) return;
    mount(view, h("div", { class: "crumbs" }, h("a", { href: "#/functions" }, "← Functions")), errorBox(err));
    return;
  }
  const [fn, versions, logs, response] = await Promise.all([
    api(`/api/functions/${call.functionId}`).catch(() => null),
    api(`/api/functions/${call.functionId}/versions?limit=100`).then(
      (r) => r.data,
      () => [],
    ),
    api(`/api/calls/${call.id}/logs`).catch(() => ({ items: [], truncated: false })),
    call.status === "completed" ? api(`/api/calls/${call.id}/response`).catch(() => null) : null,
  ]);
  if (stale()) return;
  const kv = [
    ["Status", badge(call.status)],
    ["Trigger", call.trigger],
    ["Attempt", `${call.attempt} of ${call.maxRetries + 1}`],
    [
      "Version",
      call.versionId
        ? h(
            "a",
            { href: `#/functions/${call.functionId}/code?version=${call.versionId}`, title: call.versionId },
            `v${versions.find((v) => v.id === call.versionId)?.number ?? "?"}`,
          )
        : "—",
    ],
    ["Created", timeEl(call.createdAt)],
    ["Started", timeEl(call.startTime)],
    ["Ended", timeEl(call.endTime)],
    ["Duration", fmtMs(call.durationMs)],
    ["Arguments", fmtBytes(call.argsSize)],
    call.scheduleId ? ["Schedule", h("span", { class: "mono" }, call.scheduleId)] : null,
    call.http ? ["HTTP", `${call.http.method} ${call.http.path} → ${call.http.status ?? "—"}`] : null,
    ["Made by", call.createdBy ?? "—"],
  ].filter(Boolean);
  mount(
    view,
    h(
      "div",
      { class: "crumbs" },
      h("a", { href: "#/functions" }, "Functions"),
      " / ",
      h("a", { href: `#/functions/${call.functionId}/calls` }, fn?.name ?? call.functionId),
      " / calls",
    ),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", { class: "mono", id: "call-id" }, call.id),
        h("div", { class: "sub" }, badge(call.status), fmtMs(call.durationMs)),
      ),
    ),
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel", id: "call-detail" },
        h("h2", {}, "Call"),
        h(
          "dl",
          { class: "kv" },
          kv.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
        ),
      ),
      h(
        "div",
        { class: "panel", id: "call-outcome" },
        h("h2", {}, call.error ? "Error" : "Result"),
        call.error
          ? [
              h("div", { class: "alert", role: "alert" }, `${call.error.name}: ${call.error.message}`),
              call.error.stack ? h("pre", { class: "light" }, call.error.stack) : null,
            ]
          : response
            ? h("pre", {}, pretty(response.response))
            : h(
                "div",
                { class: "muted" },
                call.status === "completed" ? "—" : `No result: the call is ${call.status}.`,
              ),
      ),
    ),
    h("div", { class: "panel", id: "call-logs" }, h("h2", {}, "Logs"), logList(logs)),
  );
}
