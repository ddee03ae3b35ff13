// Hash routing: #/functions, #/functions/<id>/<tab>, #/calls/<id>. Every URL is a page that can be bookmarked,
// shared and reloaded. The pages are handed to start() by the entry module (this module imports none of them), and
// every render takes a turn (newTurn) so that an answer arriving after the user has moved on is dropped. It also
// shows or hides the top bar's navigation and who is signed in.

import { currentSession, qs, resumeSession } from "./api.js";

/** The pages: { signIn(message?), functions(query), fn(id, tab, query), call(id) }. */
let pages = null;

export function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/functions";
  const [path, query = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

/** Rewrites the current page's query in the URL, without a new history entry or a render. */
export function setQuery(params) {
  const { parts } = parseHash();
  const hash = `#/${parts.map(encodeURIComponent).join("/")}${qs(params)}`;
  history.replaceState(null, "", hash);
}

// Every page render gets a turn; an answer that arrives after the user has moved on is dropped.
let turn = 0;
/** Starts a new turn; the function returned tells whether another turn has started since (this one is stale). */
export function newTurn() {
  const mine = ++turn;
  return () => mine !== turn;
}

/** The top bar's navigation and key hint, shown once signed in. */
export function showChrome() {
  const session = currentSession();
  document.getElementById("topnav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("key-hint").textContent = session ? `${session.role} · ${session.keyId}` : "";
}

export function hideChrome() {
  document.getElementById("topnav").hidden = true;
  document.getElementById("who").hidden = true;
}

/** Renders the page of the current URL (the sign-in form without a live session). */
export async function route() {
  const stale = newTurn();
  document.getElementById("toast").hidden = true;
  if (!currentSession() && !(await resumeSession())) return stale() ? undefined : pages.signIn();
  if (stale()) return;
  showChrome();
  const { parts, query } = parseHash();
  window.scrollTo(0, 0);
  if (parts[0] === "functions" && parts[1]) return pages.fn(parts[1], parts[2] ?? "overview", query);
  if (parts[0] === "calls" && parts[1]) return pages.call(parts[1]);
  return pages.functions(query);
}

export function go(hash) {
  location.hash = hash;
}

/** Takes the pages, follows the URL from now on, and renders the first page. */
export function start(handlers) {
  pages = handlers;
  window.addEventListener("hashchange", route);
  route();
}
