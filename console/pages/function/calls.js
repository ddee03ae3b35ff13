// Calls tab: the calls, newest first, 50 at a time (Load more), filtered by status; each row opens the call.

import { allVersions, api, qs } from "../../api.js";
import { append, badge, fmtMs, h, mount, timeEl } from "../../dom.js";
import { go } from "../../router.js";

const CALL_STATUSES = ["queued", "running", "completed", "failed", "timeout", "canceled"];

export async function callsTab(fn, body, query) {
  const status = CALL_STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const select = h(
    "select",
    { id: "calls-status", "aria-label": "Status" },
    h("option", { value: "" }, "All statuses"),
    CALL_STATUSES.map((st) => h("option", { value: st }, st)),
  );
  select.value = status;
  select.addEventListener("change", () => {
    location.hash = `#/functions/${fn.id}/calls${qs({ status: select.value })}`;
  });
  const versions = new Map((await allVersions(fn)).map((v) => [v.id, v.number]));
  const tbody = h("tbody", {});
  const pager = h("div", { class: "pager" });
  mount(
    body,
    h("div", { class: "toolbar" }, h("label", { class: "field" }, "Status", select)),
    h(
      "div",
      { class: "panel flush", id: "calls" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "Call"),
            h("th", {}, "Status"),
            h("th", {}, "Trigger"),
            h("th", {}, "Version"),
            h("th", {}, "Started"),
            h("th", { class: "num" }, "Duration"),
            h("th", {}, "Error"),
          ),
        ),
        tbody,
      ),
      pager,
    ),
  );
  let shown = 0;
  async function load(after) {
    const page = await api(`/api/functions/${fn.id}/calls${qs({ limit: 50, status, after })}`);
    shown += page.data.length;
    append(
      tbody,
      page.data.map((c) =>
        h(
          "tr",
          { class: "link", onclick: () => go(`#/calls/${c.id}`) },
          h("td", {}, h("a", { href: `#/calls/${c.id}`, class: "mono" }, c.id)),
          h("td", {}, badge(c.status)),
          h("td", {}, c.trigger),
          h("td", {}, c.versionId ? `v${versions.get(c.versionId) ?? "?"}` : "—"),
          h("td", {}, timeEl(c.startTime ?? c.createdAt)),
          h("td", { class: "num" }, fmtMs(c.durationMs)),
          h("td", { class: "muted" }, c.error ? `${c.error.name}: ${c.error.message}`.slice(0, 90) : ""),
        ),
      ),
    );
    if (!shown)
      append(
        tbody,
        h("tr", {}, h("td", { colspan: 7, class: "empty" }, status ? `No ${status} calls.` : "No calls yet.")),
      );
    mount(
      pager,
      h("span", {}, `${page.pageInfo.total} call${page.pageInfo.total === 1 ? "" : "s"}`),
      page.pageInfo.hasNextPage
        ? h("button", { class: "btn secondary small", onclick: () => load(page.pageInfo.endCursor) }, "Load more")
        : null,
    );
  }
  await load();
}
