// Building the page: the h()/s() element helpers, formatting of times, durations and sizes, the toast and the error
// box. Everything the console shows goes into the page through these, as text nodes, never as HTML.

import { ApiError } from "./api.js";

/** The element every page renders into. */
export const view = document.getElementById("view");

/** Creates an element; attributes starting with "on" are listeners; children are nodes or text. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG. */
export function s(tag, attrs, ...children) {
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

export function append(el, children) {
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

export function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

export const badge = (text, kind = text) => h("span", { class: `badge ${kind}` }, text);

export function fmtTime(iso) {
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

export function relTime(iso) {
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

export const timeEl = (iso) => (iso ? h("time", { datetime: iso, title: iso }, fmtTime(iso)) : "—");
export const fmtMs = (ms) =>
  ms === null || ms === undefined ? "—" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;

export function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export const pretty = (value) => (value === undefined ? "undefined" : JSON.stringify(value, null, 2));

let toastTimer;
export function toast(message, kind = "") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

export function errorBox(err) {
  const msg = err instanceof ApiError ? `${err.message} (${err.code})` : String(err?.message ?? err);
  return h("div", { class: "alert", role: "alert" }, msg);
}

/** Copies text to the clipboard and says so (or, where the clipboard is refused, shows the text). */
export function copy(text) {
  navigator.clipboard?.writeText(text).then(
    () => toast(`Copied ${text}`),
    () => toast(text),
  );
}
