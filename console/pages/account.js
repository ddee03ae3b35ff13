// The account page (#/account): who is signed in (GET /api/me) and their workspaces with the role in each; for a
// user, the password change (every other session ends) and their sessions, each of which can be ended.

import { api, signOut } from "../api.js";
import { badge, errorBox, h, mount, timeEl, toast, view } from "../dom.js";
import { newTurn, route } from "../router.js";

export async function renderAccount() {
  const stale = newTurn();
  mount(view, h("div", { class: "empty" }, "Loading…"));
  let me;
  try {
    me = await api("/api/me");
  } catch (err) {
    if (!stale()) mount(view, errorBox(err));
    return;
  }
  if (stale()) return;
  const title = me.user ? me.user.email : `API key ${me.id}`;
  const facts = [
    ["Signed in as", me.kind === "user" ? "a user" : "an API key"],
    me.user?.name ? ["Name", me.user.name] : null,
    ["Role", me.user?.platformAdmin ? "platform admin (every workspace)" : me.role],
    me.user ? ["Since", timeEl(me.user.createdAt)] : null,
  ].filter(Boolean);
  const workspaces =
    me.memberships.length === 0
      ? h(
          "div",
          { class: "empty" },
          me.allWorkspaces ? "Every workspace." : "No workspace yet: ask a workspace's admin for an invite.",
        )
      : h(
          "table",
          { id: "my-workspaces" },
          h("thead", {}, h("tr", {}, h("th", {}, "Workspace"), h("th", {}, "Role"))),
          h(
            "tbody",
            {},
            me.memberships.map((m) =>
              h(
                "tr",
                { "data-workspace": m.workspaceId },
                h("td", {}, m.workspaceName, " ", h("span", { class: "mono muted" }, m.workspaceId)),
                h("td", {}, badge(m.role, "default")),
              ),
            ),
          ),
        );
  mount(
    view,
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", { id: "account-title" }, title), h("div", { class: "sub" }, "Your account")),
    ),
    h(
      "div",
      { class: "panel", id: "account" },
      h(
        "dl",
        { class: "kv" },
        facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
    ),
    h("div", { class: "panel flush" }, h("div", { class: "panel-head" }, h("h2", {}, "Workspaces")), workspaces),
    me.kind === "user" ? passwordPanel() : null,
    me.kind === "user" ? sessionsPanel(stale) : null,
  );
}

function passwordPanel() {
  const current = h("input", { type: "password", id: "current-password", autocomplete: "current-password" });
  const next = h("input", { type: "password", id: "new-password", autocomplete: "new-password" });
  const out = h("div", { id: "password-result" });
  const submit = h("button", { class: "btn", type: "submit" }, "Change password");
  return h(
    "div",
    { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, "Password")),
    h(
      "form",
      {
        class: "stack",
        onsubmit: async (ev) => {
          ev.preventDefault();
          submit.disabled = true;
          mount(out);
          try {
            const { endedSessions } = await api("/api/me/password", {
              method: "PATCH",
              body: { currentPassword: current.value, newPassword: next.value },
            });
            current.value = "";
            next.value = "";
            mount(
              out,
              h(
                "div",
                { class: "alert ok", role: "status" },
                `Password changed. ${endedSessions} other session${endedSessions === 1 ? "" : "s"} ended.`,
              ),
            );
          } catch (err) {
            mount(out, errorBox(err));
          } finally {
            submit.disabled = false;
          }
        },
      },
      h("label", { class: "field", for: "current-password" }, "Current password", current),
      h("label", { class: "field", for: "new-password" }, "New password (at least 8 characters)", next),
      out,
      h("div", {}, submit),
    ),
  );
}

function sessionsPanel(stale) {
  const body = h("div", { id: "my-sessions" }, h("div", { class: "empty" }, "Loading…"));
  const load = async () => {
    try {
      const page = await api("/api/me/sessions?limit=50");
      if (stale()) return;
      mount(
        body,
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, "Browser"), h("th", {}, "Signed in"), h("th", {}, "Ends"), h("th"))),
          h(
            "tbody",
            {},
            page.data.map((s) =>
              h(
                "tr",
                {},
                h("td", {}, s.userAgent ?? "—", s.current ? [" ", badge("this one", "default")] : null),
                h("td", {}, timeEl(s.createdAt)),
                h("td", {}, timeEl(s.expiresAt)),
                h(
                  "td",
                  {},
                  s.current
                    ? null
                    : h(
                        "button",
                        {
                          class: "btn secondary small",
                          onclick: async () => {
                            try {
                              await api(`/api/me/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
                              toast("Session ended");
                              load();
                            } catch (err) {
                              toast(err.message, "error");
                            }
                          },
                        },
                        "End",
                      ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      if (!stale()) mount(body, errorBox(err));
    }
  };
  load();
  return h(
    "div",
    { class: "panel flush" },
    h(
      "div",
      { class: "panel-head" },
      h("h2", {}, "Sessions"),
      h(
        "button",
        {
          class: "btn secondary small",
          onclick: async () => {
            try {
              await api("/api/me/sessions", { method: "DELETE" });
            } catch {
              // Signed out here either way.
            }
            await signOut();
            location.hash = "";
            route();
          },
        },
        "Sign out everywhere",
      ),
    ),
    body,
  );
}
