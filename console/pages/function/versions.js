// Versions tab: every version with its status, upload time, entrypoint, handlers and size; Activate makes a ready
// version the default (the rollback); a failed build shows its error.

import { allVersions, api } from "../../api.js";
import { badge, fmtBytes, h, mount, timeEl, toast } from "../../dom.js";

export async function versionsTab(fn, body) {
  const versions = await allVersions(fn);
  if (!versions.length) {
    mount(
      body,
      h("div", { class: "panel empty" }, "No versions yet. Upload code with POST /api/functions/{id}/versions."),
    );
    return;
  }
  const rows = versions.flatMap((v) => {
    const row = h(
      "tr",
      { "data-version": v.number },
      h("td", { class: "num" }, `v${v.number}`),
      h("td", {}, badge(v.status), v.isDefault ? [" ", badge("default")] : null),
      h("td", {}, timeEl(v.createdAt)),
      h(
        "td",
        { class: "mono" },
        v.entrypoint,
        v.runtime === "python" ? h("span", { class: "muted" }, " · Python") : null,
      ),
      h("td", {}, (v.handlers ?? []).join(", ") || "—"),
      h("td", { class: "num" }, fmtBytes(v.sourceSize)),
      h(
        "td",
        {},
        h("a", { href: `#/functions/${fn.id}/code?version=${v.id}` }, "Code"),
        " ",
        v.status === "ready" && !v.isDefault
          ? h(
              "button",
              {
                class: "btn secondary small",
                onclick: async (ev) => {
                  ev.target.disabled = true;
                  try {
                    await api(`/api/functions/${fn.id}/versions/${v.id}/activate`, { method: "POST" });
                    toast(`Version ${v.number} is now the default`);
                    await versionsTab(fn, body);
                  } catch (err) {
                    ev.target.disabled = false;
                    toast(err.message, "error");
                  }
                },
              },
              "Activate",
            )
          : null,
      ),
    );
    const detail =
      v.status === "failed" && v.error
        ? h("tr", {}, h("td", {}), h("td", { colspan: 6 }, h("pre", { class: "light" }, v.error.message)))
        : null;
    return [row, detail];
  });
  mount(
    body,
    h(
      "div",
      { class: "panel flush", id: "versions" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { class: "num" }, "Version"),
            h("th", {}, "Status"),
            h("th", {}, "Uploaded"),
            h("th", {}, "Entrypoint"),
            h("th", {}, "Handlers"),
            h("th", { class: "num" }, "Source"),
            h("th", {}, ""),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
  );
}
