// Environment tab: env vars with their values, secrets by name only (always masked), and the limits and access.

import { fmtMs, h, mount } from "../../dom.js";

export async function configTab(fn, body) {
  const envVars = Object.entries(fn.envVars ?? {});
  const secrets = Object.keys(fn.secrets ?? {});
  const kvTable = (rows, head) =>
    rows.length
      ? h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              head.map((t) => h("th", {}, t)),
            ),
          ),
          h("tbody", {}, rows),
        )
      : h("div", { class: "empty" }, "None");
  mount(
    body,
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel flush", id: "env-vars" },
        h("div", { class: "panel-head" }, h("h2", {}, "Environment variables")),
        kvTable(
          envVars.map(([k, v]) => h("tr", {}, h("td", { class: "mono" }, k), h("td", { class: "mono" }, v))),
          ["Name", "Value"],
        ),
      ),
      h(
        "div",
        { class: "panel flush", id: "secrets" },
        h("div", { class: "panel-head" }, h("h2", {}, "Secrets")),
        kvTable(
          secrets.map((k) =>
            h(
              "tr",
              {},
              h("td", { class: "mono" }, k),
              h("td", { class: "mono muted", title: "Secret values are never shown" }, "••••••••"),
            ),
          ),
          ["Name", "Value"],
        ),
      ),
    ),
    h(
      "div",
      { class: "panel" },
      h("h2", {}, "Limits and access"),
      h(
        "dl",
        { class: "kv" },
        h("dt", {}, "Timeout"),
        h("dd", {}, fn.timeoutMs ? fmtMs(fn.timeoutMs) : "platform default"),
        h("dt", {}, "CPU"),
        h("dd", {}, fn.cpuMs ? `${fn.cpuMs} ms` : "platform default"),
        h("dt", {}, "Network"),
        h("dd", {}, fn.allowedHosts?.length ? fn.allowedHosts.join(", ") : "none (no outbound fetch)"),
        h("dt", {}, "Retries (async)"),
        h("dd", {}, fn.maxRetries ?? "platform default"),
        h("dt", {}, "Public /run"),
        h("dd", {}, fn.public ? "yes: anyone may call it over /run" : "no: a key is needed"),
        h("dt", {}, "Rate limit"),
        h("dd", {}, fn.rateLimitPerMinute ? `${fn.rateLimitPerMinute} / minute` : "none"),
        h("dt", {}, "Config revision"),
        h("dd", {}, String(fn.configRevision)),
      ),
    ),
  );
}
