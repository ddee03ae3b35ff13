// Hash routing: #/functions, #/functions/<id>/<tab>, #/calls/<id>, #/members, #/account, and #/invite/<token>
// (the one page shown without a session: accepting an invite signs in). Every URL is a page that can be bookmarked,
// shared and reloaded. The pages are handed to start() by the entry module (this module imports none of them), and
// every render takes a turn (newTurn) so that an answer arriving after the user has moved on is dropped. It also
// shows or hides the top bar's navigation and who is signed in.

import { currentSession, qs, resumeSession } from "./api.js";

/**
 * The pages: { signIn(message?), invite(token), functions(query), fn(id, tab, query), call(id), members(query),
 * account() }.
 */
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

/** Who is signed in, in words: a user's email (and "platform admin"), or a key's role and id. */
export function whoText(session) {
  if (!session) return "";
  if (session.user) return session.user.platformAdmin ? `${session.user.email} · platform admin` : session.user.email;
  return `${session.role} · ${session.keyId}`;
}

/** The top bar's navigation and who is signed in, shown once signed in. */
export function showChrome() {
  const session = currentSession();
  document.getElementById("topnav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("key-hint").textContent = whoText(session);
}

export function hideChrome() {
  document.getElementById("topnav").hidden = true;
  document.getElementById("who").hidden = true;
}

/** Renders the page of the current URL (the sign-in form without a live session). */
export async function route() {
  const stale = newTurn();
  document.getElementById("toast").hidden = true;
  const { parts, query } = parseHash();
  // An invite's link works signed in or not: accepting it opens a session of the invited account.
  if (parts[0] === "invite" && parts[1]) {
    hideChrome();
    return pages.invite(parts[1]);
  }
  if (!currentSession() && !(await resumeSession())) return stale() ? undefined : pages.signIn();
  if (stale()) return;
  showChrome();
  window.scrollTo(0, 0);
  if (parts[0] === "functions" && parts[1]) return pages.fn(parts[1], parts[2] ?? "overview", query);
  if (parts[0] === "calls" && parts[1]) return pages.call(parts[1]);
  if (parts[0] === "members") return pages.members(query);
  if (parts[0] === "account") return pages.account();
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
