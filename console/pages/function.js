// A function's page (#/functions/<id>/<tab>): its name, id and dates, the tabs, and the current tab below them.
// Each tab is a module of pages/function/ that renders into the tab's body: render(fn, body, query).

import { api, workspaces } from "../api.js";
import { badge, copy, errorBox, h, mount, relTime, timeEl, view } from "../dom.js";
import { newTurn } from "../router.js";
import { callsTab } from "./function/calls.js";
import { codeTab } from "./function/code.js";
import { configTab } from "./function/config.js";
import { invokeTab } from "./function/invoke.js";
import { overviewTab } from "./function/overview.js";
import { schedulesTab } from "./function/schedules.js";
import { versionsTab } from "./function/versions.js";

/** The tabs in their order: the URL's name, the label, and what renders it. */
const TABS = [
  ["overview", "Overview", overviewTab],
  ["versions", "Versions", versionsTab],
  ["code", "Code", codeTab],
  ["config", "Environment", configTab],
  ["invoke", "Invoke", invokeTab],
  ["calls", "Calls", callsTab],
  ["schedules", "Schedules", schedulesTab],
];

export async function renderFunction(id, tab, query) {
  const stale = newTurn();
  if (!TABS.some(([t]) => t === tab)) tab = "overview";
  const body = h("div", { id: "tab-body" }, h("div", { class: "empty" }, "Loading…"));
  mount(view, h("div", { class: "empty" }, "Loading…"));
  let fn;
  try {
    fn = await api(`/api/functions/${encodeURIComponent(id)}`);
  } catch (err) {
    if (stale()) return;
    mount(view, h("div", { class: "crumbs" }, h("a", { href: "#/functions" }, "← Functions")), errorBox(err));
    return;
  }
  const wsName = await workspaces()
    .then((list) => list.find((w) => w.id === fn.workspaceId)?.name)
    .catch(() => undefined);
  if (stale()) return;
  mount(
    view,
    h("div", { class: "crumbs" }, h("a", { href: "#/functions" }, "Functions"), " / ", wsName ?? fn.workspaceId),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", { id: "fn-name" }, fn.name, fn.deletedAt ? [" ", badge("deleted")] : null),
        h(
          "div",
          { class: "sub" },
          h("span", { class: "mono copy", title: "Copy the id", onclick: () => copy(fn.id) }, fn.id),
          fn.description ? h("span", {}, fn.description) : null,
          h("span", {}, "created ", timeEl(fn.createdAt)),
          fn.lastCalledAt ? h("span", {}, "last call ", relTime(fn.lastCalledAt)) : null,
        ),
      ),
    ),
    h(
      "nav",
      { class: "tabs", "aria-label": "Function" },
      TABS.map(([t, label]) =>
        h(
          "a",
          {
            href: `#/functions/${fn.id}/${t}`,
            class: t === tab ? "active" : "",
            "aria-current": t === tab ? "page" : null,
          },
          label,
        ),
      ),
    ),
    body,
  );
  try {
    await TABS.find(([t]) => t === tab)[2](fn, body, query);
  } catch (err) {
    mount(body, errorBox(err));
  }
}
