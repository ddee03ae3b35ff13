// The functions list (#/functions?q=&ws=&show=&sort=): every function the key can see, 25 a page, searched by
// name, filtered by workspace and live/deleted, sorted; the filters are kept in the URL.

import { api, qs, workspaces } from "../api.js";
import { append, badge, errorBox, h, mount, relTime, timeEl, view } from "../dom.js";
import { go, newTurn, setQuery } from "../router.js";

const SORTS = {
  newest: [{ createdAt: "desc" }],
  oldest: [{ createdAt: "asc" }],
  name: [{ name: "asc" }],
  updated: [{ updatedAt: "desc" }],
};

export async function renderFunctions(query) {
  const stale = newTurn();
  const state = {
    q: query.get("q") ?? "",
    ws: query.get("ws") ?? "",
    show: query.get("show") ?? "false",
    sort: SORTS[query.get("sort")] ? query.get("sort") : "newest",
    cursor: null,
  };
  const search = h("input", {
    type: "search",
    id: "fn-search",
    placeholder: "Search functions by name",
    value: state.q,
    "aria-label": "Search functions",
  });
  const wsSelect = h("select", { id: "fn-workspace", "aria-label": "Workspace" }, h("option", { value: "" }, "All"));
  const showSelect = h(
    "select",
    { id: "fn-show", "aria-label": "Show" },
    h("option", { value: "false" }, "Live"),
    h("option", { value: "only" }, "Deleted"),
    h("option", { value: "true" }, "Live and deleted"),
  );
  showSelect.value = state.show;
  const sortSelect = h(
    "select",
    { id: "fn-sort", "aria-label": "Sort" },
    h("option", { value: "newest" }, "Newest first"),
    h("option", { value: "oldest" }, "Oldest first"),
    h("option", { value: "name" }, "Name A–Z"),
    h("option", { value: "updated" }, "Recently changed"),
  );
  sortSelect.value = state.sort;
  const table = h("div", { class: "panel flush", id: "functions" }, h("div", { class: "empty" }, "Loading…"));

  mount(
    view,
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", {}, "Functions"), h("div", { class: "sub" }, "Every function this key can see")),
    ),
    h(
      "div",
      { class: "toolbar" },
      h("label", { class: "field grow" }, "Search", search),
      h("label", { class: "field" }, "Workspace", wsSelect),
      h("label", { class: "field" }, "Show", showSelect),
      h("label", { class: "field" }, "Sort", sortSelect),
    ),
    table,
  );

  let wsNames = new Map();
  workspaces()
    .then((list) => {
      wsNames = new Map(list.map((w) => [w.id, w.name]));
      append(
        wsSelect,
        list.map((w) => h("option", { value: w.id }, w.name)),
      );
      wsSelect.value = state.ws;
      load();
    })
    .catch(() => {
      if (!stale()) load();
    });

  let seq = 0;
  async function load(direction) {
    if (stale()) return;
    const mine = ++seq;
    setQuery({
      q: state.q,
      ws: state.ws,
      show: state.show === "false" ? "" : state.show,
      sort: state.sort === "newest" ? "" : state.sort,
    });
    const params = {
      limit: 25,
      name: state.q.trim(),
      workspace_id: state.ws,
      include_deleted: state.show,
      orderBy: JSON.stringify(SORTS[state.sort]),
    };
    if (direction === "next") params.after = state.cursor?.endCursor;
    if (direction === "prev") params.before = state.cursor?.startCursor;
    try {
      const page = await api(`/api/functions${qs(params)}`);
      if (mine !== seq || stale()) return;
      state.cursor = page.pageInfo;
      renderTable(page);
    } catch (err) {
      if (mine === seq && !stale()) mount(table, errorBox(err));
    }
  }

  function renderTable(page) {
    if (page.data.length === 0) {
      mount(
        table,
        h(
          "div",
          { class: "empty" },
          state.q ? `No function matches “${state.q}”.` : "No functions yet. Create one with the API or the CLI.",
        ),
      );
      return;
    }
    const rows = page.data.map((f) =>
      h(
        "tr",
        { class: "link", onclick: () => go(`#/functions/${f.id}`) },
        h(
          "td",
          {},
          h("a", { href: `#/functions/${f.id}` }, f.name),
          f.deletedAt ? [" ", badge("deleted")] : null,
          f.system ? [" ", badge("system")] : null,
          f.description ? h("div", { class: "muted" }, f.description) : null,
        ),
        h("td", {}, wsNames.get(f.workspaceId) ?? h("span", { class: "mono" }, f.workspaceId)),
        h("td", {}, f.defaultVersionId ? badge("ready") : h("span", { class: "muted" }, "no version")),
        h(
          "td",
          {},
          f.lastCalledAt
            ? h("span", { title: f.lastCalledAt }, relTime(f.lastCalledAt))
            : h("span", { class: "muted" }, "never"),
        ),
        h("td", {}, timeEl(f.createdAt)),
      ),
    );
    const info = page.pageInfo;
    mount(
      table,
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "Name"),
            h("th", {}, "Workspace"),
            h("th", {}, "Deployed"),
            h("th", {}, "Last call"),
            h("th", {}, "Created"),
          ),
        ),
        h("tbody", {}, rows),
      ),
      h(
        "div",
        { class: "pager" },
        h("span", {}, `${info.total} function${info.total === 1 ? "" : "s"}`),
        h(
          "span",
          { class: "btns" },
          h(
            "button",
            { class: "btn secondary small", disabled: !info.hasPreviousPage, onclick: () => load("prev") },
            "← Previous",
          ),
          h(
            "button",
            { class: "btn secondary small", disabled: !info.hasNextPage, onclick: () => load("next") },
            "Next →",
          ),
        ),
      ),
    );
  }

  let debounce;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.q = search.value;
      load();
    }, 200);
  });
  for (const [el, key] of [
    [wsSelect, "ws"],
    [showSelect, "show"],
    [sortSelect, "sort"],
  ]) {
    el.addEventListener("change", () => {
      state[key] = el.value;
      load();
    });
  }
  search.focus();
}
