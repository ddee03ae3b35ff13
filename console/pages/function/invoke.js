// Invoke tab: JSON arguments (checked before sending; Ctrl+Enter runs), the default or a chosen ready version; the
// result or the error with its stack, the duration, the call id and the call's logs.

import { allVersions, api } from "../../api.js";
import { badge, errorBox, fmtMs, h, mount, pretty } from "../../dom.js";
import { pollLogs } from "../../logs.js";

export async function invokeTab(fn, body) {
  const all = await allVersions(fn);
  const versions = all.filter((v) => v.status === "ready");
  const args = h("textarea", { id: "invoke-args", spellcheck: "false", "aria-label": "Arguments (JSON)" });
  args.value = sessionStorage.getItem(`edgefn.args.${fn.id}`) ?? "{}";
  const version = h(
    "select",
    { id: "invoke-version", "aria-label": "Version" },
    h("option", { value: "" }, "Default version"),
    versions.map((v) => h("option", { value: v.id }, `v${v.number}${v.isDefault ? " (default)" : ""}`)),
  );
  const run = h("button", { class: "btn", type: "submit", id: "invoke-run" }, "Invoke");
  const out = h("div", { id: "invoke-result" });
  const form = h(
    "form",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        let parsed;
        try {
          parsed = args.value.trim() ? JSON.parse(args.value) : undefined;
        } catch (err) {
          mount(out, h("div", { class: "alert", role: "alert" }, `The arguments are not valid JSON: ${err.message}`));
          return;
        }
        sessionStorage.setItem(`edgefn.args.${fn.id}`, args.value);
        run.disabled = true;
        mount(out, h("div", { class: "muted" }, "Running…"));
        try {
          const r = await api(`/api/functions/${fn.id}/invoke`, {
            method: "POST",
            body: { args: parsed, ...(version.value ? { versionId: version.value } : {}) },
          });
          showResult(r);
        } catch (err) {
          mount(out, errorBox(err));
        } finally {
          run.disabled = false;
        }
      },
    },
    h("label", { class: "field" }, "Arguments (JSON)", args),
    h(
      "div",
      { class: "toolbar" },
      h("label", { class: "field" }, "Version", version),
      run,
      h("span", { class: "muted" }, "Ctrl+Enter runs it"),
    ),
  );
  args.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
  });

  function showResult(r) {
    const logs = h("div", { id: "invoke-logs" }, h("div", { class: "muted" }, "Fetching logs…"));
    mount(
      out,
      h(
        "div",
        { class: "result-head" },
        badge(r.status),
        h("span", {}, fmtMs(r.durationMs)),
        h("a", { href: `#/calls/${r.callId}`, class: "mono" }, r.callId),
        h("span", { title: r.versionId }, `v${all.find((v) => v.id === r.versionId)?.number ?? "?"}`),
      ),
      r.ok
        ? h("pre", { id: "invoke-output" }, pretty(r.result))
        : h(
            "div",
            {},
            h("div", { class: "alert", role: "alert" }, r.error ?? "failed"),
            r.errorDetail?.stack ? h("pre", { class: "light" }, r.errorDetail.stack) : null,
          ),
      h("h2", { class: "logs-title" }, "Logs"),
      logs,
    );
    pollLogs(r.callId, logs);
  }

  mount(
    body,
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", {}, "Invoke"),
        versions.length ? form : h("div", { class: "empty" }, "No ready version to run."),
      ),
      h("div", { class: "panel" }, h("h2", {}, "Result"), out),
    ),
  );
  mount(out, h("div", { class: "muted" }, "Run the function to see its result and logs here."));
}
