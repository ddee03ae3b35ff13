// The edgefn console: one vanilla module, no build step. It talks to the same origin's /api through a session: the
// API key the user signs in with is exchanged for an HttpOnly cookie (page script never holds it) and a CSRF token
// kept in memory and sent back with every request. Everything it shows is put into the page as text nodes, never
// as HTML.

const view = document.getElementById("view");
const CALL_STATUSES = ["queued", "running", "completed", "failed", "timeout", "canceled"];
const TABS = [
  ["overview", "Overview"],
  ["versions", "Versions"],
  ["code", "Code"],
  ["config", "Environment"],
  ["invoke", "Invoke"],
  ["calls", "Calls"],
  ["schedules", "Schedules"],
];

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** Creates an element; attributes starting with "on" are listeners; children are nodes or text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

const badge = (text, kind = text) => h("span", { class: `badge ${kind}` }, text);

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

function relTime(iso) {
  if (!iso) return "";
  const diff = Date.parse(iso) - Date.now();
  const abs = Math.abs(diff);
  const units = [
    ["day", 86_400_000],
    ["hour", 3_600_000],
    ["minute", 60_000],
    ["second", 1000],
  ];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, ms] of units) {
    if (abs >= ms || unit === "second") return rtf.format(Math.round(diff / ms), unit);
  }
  return "";
}

const timeEl = (iso) => (iso ? h("time", { datetime: iso, title: iso }, fmtTime(iso)) : "—");
const fmtMs = (ms) =>
  ms === null || ms === undefined ? "—" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;

function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const pretty = (value) => (value === undefined ? "undefined" : JSON.stringify(value, null, 2));

let toastTimer;
function toast(message, kind = "") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

function errorBox(err) {
  const msg = err instanceof ApiError ? `${err.message} (${err.code})` : String(err?.message ?? err);
  return h("div", { class: "alert", role: "alert" }, msg);
}

// ---------------------------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** The signed-in session: its CSRF token and who it acts as (null: not signed in). Never the key itself. */
let session = null;

async function request(path, { method = "GET", body } = {}) {
  const headers = {};
  if (session) headers["x-edgefn-csrf"] = session.csrfToken;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const e = data?.error;
    throw new ApiError(
      res.status,
      e?.code ?? "error",
      e?.message ?? `${res.status} ${res.statusText}`,
      e?.requestId ?? null,
    );
  }
  return data;
}

/** The session of this browser's cookie, if it has a live one. */
async function resumeSession() {
  try {
    session = await request("/api/session");
  } catch {
    session = null;
  }
  return session;
}

/** An API call from a page: a rejected key sends the user back to sign in. */
async function api(path, options) {
  try {
    return await request(path, options);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      session = null;
      renderSignIn("Your session ended or its API key was not accepted any more. Sign in again.");
    }
    throw err;
  }
}

const qs = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const str = p.toString();
  return str ? `?${str}` : "";
};

// Workspaces rarely change: one read per page load.
let workspacesCache = null;
async function workspaces() {
  if (!workspacesCache) workspacesCache = api("/api/workspaces?limit=100").then((r) => r.data);
  try {
    return await workspacesCache;
  } catch (err) {
    workspacesCache = null;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in

function renderSignIn(message) {
  newTurn();
  document.getElementById("topnav").hidden = true;
  document.getElementById("who").hidden = true;
  const error = h("div", { class: "alert", role: "alert", id: "signin-error", hidden: !message }, message ?? "");
  const input = h("input", {
    type: "password",
    id: "api-key",
    name: "key",
    autocomplete: "current-password",
    placeholder: "efn_…",
    required: true,
    spellcheck: "false",
  });
  const remember = h("input", { type: "checkbox", id: "remember" });
  const submit = h("button", { class: "btn", type: "submit" }, "Sign in");
  const form = h(
    "form",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        submit.disabled = true;
        error.hidden = true;
        try {
          session = await request("/api/session", { method: "POST", body: { key, remember: remember.checked } });
          input.value = "";
          workspacesCache = null;
          showChrome();
          route();
        } catch (err) {
          error.textContent =
            err instanceof ApiError && err.status === 401
              ? "That API key was not accepted. Check it and try again."
              : `Could not sign in: ${err.message}`;
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("label", { class: "field", for: "api-key" }, "API key", input),
    h("label", { class: "check" }, remember, "Remember on this device"),
    error,
    submit,
  );
  mount(
    view,
    h(
      "div",
      { class: "signin" },
      h(
        "div",
        { class: "panel" },
        h("h1", {}, "Sign in to edgefn"),
        h(
          "p",
          { class: "muted" },
          "Paste an API key. ",
          "npm start prints the local admin key; it is also EDGEFN_ADMIN_KEY in .dev.vars.",
        ),
        form,
      ),
      h(
        "p",
        { class: "muted" },
        "The key is sent once to this server, which answers with a session cookie that page script cannot read; the key is not kept in the browser.",
      ),
    ),
  );
  input.focus();
}

function showChrome() {
  document.getElementById("topnav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("key-hint").textContent = session ? `${session.role} · ${session.keyId}` : "";
}

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await request("/api/session", { method: "DELETE" });
  } catch {
    // Signed out here either way.
  }
  session = null;
  workspacesCache = null;
  location.hash = "";
  renderSignIn();
});

// ---------------------------------------------------------------------------------------------------------------
// Routing: #/functions, #/functions/<id>/<tab>, #/calls/<id>

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/functions";
  const [path, query = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

function setQuery(params) {
  const { parts } = parseHash();
  const hash = `#/${parts.map(encodeURIComponent).join("/")}${qs(params)}`;
  history.replaceState(null, "", hash);
}

// Every page render gets a turn; an answer that arrives after the user has moved on is dropped.
let turn = 0;
function newTurn() {
  const mine = ++turn;
  return () => mine !== turn;
}

async function route() {
  const stale = newTurn();
  document.getElementById("toast").hidden = true;
  if (!session && !(await resumeSession())) return stale() ? undefined : renderSignIn();
  if (stale()) return;
  showChrome();
  const { parts, query } = parseHash();
  window.scrollTo(0, 0);
  if (parts[0] === "functions" && parts[1]) return renderFunction(parts[1], parts[2] ?? "overview", query);
  if (parts[0] === "calls" && parts[1]) return renderCall(parts[1]);
  return renderFunctions(query);
}

window.addEventListener("hashchange", route);

function go(hash) {
  location.hash = hash;
}

// ---------------------------------------------------------------------------------------------------------------
// Functions list

const SORTS = {
  newest: [{ createdAt: "desc" }],
  oldest: [{ createdAt: "asc" }],
  name: [{ name: "asc" }],
  updated: [{ updatedAt: "desc" }],
};

async function renderFunctions(query) {
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

// ---------------------------------------------------------------------------------------------------------------
// A function

async function renderFunction(id, tab, query) {
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
  const tabs = {
    overview: overviewTab,
    versions: versionsTab,
    code: codeTab,
    config: configTab,
    invoke: invokeTab,
    calls: callsTab,
    schedules: schedulesTab,
  };
  try {
    await tabs[tab](fn, body, query);
  } catch (err) {
    mount(body, errorBox(err));
  }
}

function copy(text) {
  navigator.clipboard?.writeText(text).then(
    () => toast(`Copied ${text}`),
    () => toast(text),
  );
}

async function allVersions(fn) {
  const page = await api(`/api/functions/${fn.id}/versions?limit=100`);
  return page.data;
}

// Overview: metrics and charts ---------------------------------------------------------------------------------

async function overviewTab(fn, body, query) {
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

function callsChart(m) {
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
function durationChart(calls) {
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

// Versions ------------------------------------------------------------------------------------------------------

async function versionsTab(fn, body) {
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
      h("td", { class: "mono" }, v.entrypoint),
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

// Code ----------------------------------------------------------------------------------------------------------

async function codeTab(fn, body, query) {
  const versions = await allVersions(fn);
  if (!versions.length) {
    mount(body, h("div", { class: "panel empty" }, "No versions yet."));
    return;
  }
  const chosen =
    versions.find((v) => v.id === query.get("version")) ?? versions.find((v) => v.isDefault) ?? versions[0];
  const select = h(
    "select",
    { id: "code-version", "aria-label": "Version" },
    versions.map((v) => h("option", { value: v.id }, `v${v.number} · ${v.status}${v.isDefault ? " · default" : ""}`)),
  );
  select.value = chosen.id;
  select.addEventListener("change", () => {
    location.hash = `#/functions/${fn.id}/code?version=${select.value}`;
  });
  const src = await api(`/api/functions/${fn.id}/versions/${chosen.id}/source`);
  const names = Object.keys(src.files).sort((a, b) =>
    a === src.entrypoint ? -1 : b === src.entrypoint ? 1 : a.localeCompare(b),
  );
  const codeBox = h("div", { id: "code" });
  const list = h("div", { class: "files", id: "files" });
  const show = (name) => {
    for (const b of list.children) b.classList.toggle("active", b.dataset.file === name);
    mount(
      codeBox,
      h(
        "ol",
        { class: "code", "aria-label": name },
        src.files[name]
          .replace(/\n$/, "")
          .split("\n")
          .map((line) => h("li", {}, line || " ")),
      ),
    );
  };
  append(
    list,
    names.map((n) =>
      h(
        "button",
        { type: "button", "data-file": n, onclick: () => show(n) },
        n,
        n === src.entrypoint ? " (entry)" : "",
      ),
    ),
  );
  mount(
    body,
    h(
      "div",
      { class: "panel" },
      h(
        "div",
        { class: "panel-head" },
        h("h2", {}, `Source of v${chosen.number}`),
        h("label", { class: "field" }, "Version", select),
      ),
      h("div", { class: "code-view" }, list, codeBox),
    ),
  );
  if (names.length) show(names[0]);
}

// Environment ---------------------------------------------------------------------------------------------------

async function configTab(fn, body) {
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

// Invoke --------------------------------------------------------------------------------------------------------

async function invokeTab(fn, body) {
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

/** A synchronous call is recorded just after it answers: its logs may take a moment to appear. */
async function pollLogs(callId, target) {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const logs = await api(`/api/calls/${callId}/logs`);
      mount(target, logList(logs));
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        mount(target, errorBox(err));
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  mount(target, h("div", { class: "muted" }, "The call's logs are not recorded yet. Open the call to see them."));
}

function logList(logs) {
  if (!logs.items.length) return h("div", { class: "muted" }, "No logs.");
  return h(
    "div",
    { class: "logs" },
    logs.items.map((l) =>
      h(
        "div",
        { class: "line" },
        h("span", { class: "time", title: l.timestamp }, new Date(l.timestamp).toLocaleTimeString()),
        h("span", { class: `level ${l.level}` }, l.level),
        h("span", { class: "msg" }, l.message),
      ),
    ),
    logs.truncated ? h("div", { class: "line muted" }, "… truncated: the call logged more than the cap") : null,
  );
}

// Calls ---------------------------------------------------------------------------------------------------------

async function callsTab(fn, body, query) {
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

async function renderCall(id) {
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

// Schedules -----------------------------------------------------------------------------------------------------

async function schedulesTab(fn, body) {
  const page = await api(`/api/schedules${qs({ functionId: fn.id, limit: 100 })}`);
  if (!page.data.length) {
    mount(
      body,
      h("div", { class: "panel empty", id: "schedules" }, "No schedules. Create one with POST /api/schedules."),
    );
    return;
  }
  mount(
    body,
    h(
      "div",
      { id: "schedules" },
      page.data.map((sc) =>
        h(
          "div",
          { class: "panel schedule", "data-schedule": sc.name },
          h(
            "div",
            { class: "panel-head" },
            h("h2", {}, sc.name, " ", sc.enabled ? badge("enabled") : badge("paused")),
            h("code", {}, sc.cron),
          ),
          h(
            "div",
            { class: "grid2" },
            h(
              "dl",
              { class: "kv" },
              h("dt", {}, "When"),
              h("dd", {}, sc.when),
              h("dt", {}, "Time zone"),
              h("dd", {}, sc.timezone),
              h("dt", {}, "Catch up"),
              h("dd", {}, sc.catchUp),
              sc.description ? [h("dt", {}, "Description"), h("dd", {}, sc.description)] : null,
              h("dt", {}, "Last run"),
              h(
                "dd",
                {},
                sc.lastRun
                  ? [
                      h("a", { href: `#/calls/${sc.lastRun.callId}` }, relTime(sc.lastRun.at)),
                      " ",
                      sc.lastRun.status ? badge(sc.lastRun.status) : null,
                    ]
                  : "never",
              ),
            ),
            h(
              "div",
              {},
              h("div", { class: "muted" }, "Next runs"),
              sc.nextRuns.length
                ? h(
                    "ol",
                    { class: "runs" },
                    sc.nextRuns.map((t) => h("li", {}, timeEl(t), h("span", { class: "muted" }, ` · ${relTime(t)}`))),
                  )
                : h("div", {}, "none (paused)"),
            ),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------

route();
