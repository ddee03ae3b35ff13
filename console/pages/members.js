// A workspace's members (#/members?ws=<id>), for its admins: the members with their roles (change one, remove
// one), the invites (revoke a pending one), and a form that invites someone by email with a role and shows the
// link to hand them (its token is shown once). Anyone else sees the API's 403.

import { ApiError, api, qs, workspaces } from "../api.js";
import { append, badge, copy, errorBox, h, mount, timeEl, toast, view } from "../dom.js";
import { newTurn, setQuery } from "../router.js";

const ROLES = ["viewer", "invoker", "developer", "admin"];

const roleSelect = (value, attrs = {}) => {
  const select = h(
    "select",
    attrs,
    ROLES.map((r) => h("option", { value: r }, r)),
  );
  select.value = value;
  return select;
};

export async function renderMembers(query) {
  const stale = newTurn();
  const wsSelect = h("select", { id: "members-workspace", "aria-label": "Workspace" });
  const members = h("div", { class: "panel flush", id: "members" }, h("div", { class: "empty" }, "Loading…"));
  const invites = h("div", { class: "panel flush", id: "invites", hidden: true });
  const inviteOut = h("div", { id: "invite-result" });
  const email = h("input", { type: "email", id: "invite-email", autocomplete: "off", required: true });
  const role = roleSelect("developer", { id: "invite-role" });
  const submit = h("button", { class: "btn", type: "submit" }, "Invite");
  const inviteForm = h(
    "form",
    {
      class: "toolbar",
      onsubmit: async (ev) => {
        ev.preventDefault();
        submit.disabled = true;
        mount(inviteOut);
        try {
          const made = await api(`/api/workspaces/${encodeURIComponent(wsSelect.value)}/invites`, {
            method: "POST",
            body: { email: email.value.trim(), role: role.value },
          });
          email.value = "";
          mount(
            inviteOut,
            h(
              "div",
              { class: "alert ok", role: "status" },
              `Invited ${made.email} as ${made.role}. Hand them this link (shown once; it works once, until `,
              timeEl(made.expiresAt),
              "): ",
              h("code", { class: "mono", id: "invite-link" }, made.link),
              " ",
              h("button", { class: "btn secondary small", type: "button", onclick: () => copy(made.link) }, "Copy"),
            ),
          );
          loadInvites();
        } catch (err) {
          mount(inviteOut, errorBox(err));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("label", { class: "field grow" }, "Email", email),
    h("label", { class: "field" }, "Role", role),
    submit,
  );

  mount(
    view,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Members"),
        h("div", { class: "sub" }, "Who may use a workspace, and with which role (its admins manage them)"),
      ),
    ),
    h("div", { class: "toolbar" }, h("label", { class: "field" }, "Workspace", wsSelect)),
    members,
    h(
      "div",
      { class: "panel" },
      h("div", { class: "panel-head" }, h("h2", {}, "Invite someone")),
      inviteForm,
      inviteOut,
    ),
    invites,
  );

  let list;
  try {
    list = await workspaces();
  } catch (err) {
    if (!stale()) mount(members, errorBox(err));
    return;
  }
  if (stale()) return;
  if (list.length === 0) {
    mount(members, h("div", { class: "empty" }, "No workspace yet."));
    return;
  }
  append(
    wsSelect,
    list.map((w) => h("option", { value: w.id }, w.name)),
  );
  const wanted = query.get("ws");
  wsSelect.value = list.some((w) => w.id === wanted) ? wanted : list[0].id;
  wsSelect.addEventListener("change", () => {
    mount(inviteOut);
    load();
  });

  const ws = () => encodeURIComponent(wsSelect.value);

  async function loadMembers() {
    const shown = wsSelect.value;
    try {
      const page = await api(`/api/workspaces/${ws()}/members${qs({ limit: 100 })}`);
      if (stale() || shown !== wsSelect.value) return;
      if (page.data.length === 0) {
        mount(members, h("div", { class: "empty" }, "No members yet: invite someone below."));
        return;
      }
      mount(
        members,
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, "Email"), h("th", {}, "Role"), h("th", {}, "Since"), h("th"))),
          h(
            "tbody",
            {},
            page.data.map((m) => {
              const select = roleSelect(m.role, {
                "aria-label": `Role of ${m.email}`,
                onchange: async () => {
                  try {
                    await api(`/api/workspaces/${ws()}/members/${encodeURIComponent(m.userId)}`, {
                      method: "PATCH",
                      body: { role: select.value },
                    });
                    toast(`${m.email} is now ${select.value}`);
                  } catch (err) {
                    select.value = m.role;
                    toast(err.message, "error");
                  }
                },
              });
              return h(
                "tr",
                { "data-member": m.email },
                h("td", {}, m.email, m.name ? h("div", { class: "muted" }, m.name) : null),
                h("td", {}, select),
                h("td", {}, timeEl(m.createdAt)),
                h(
                  "td",
                  {},
                  h(
                    "button",
                    {
                      class: "btn secondary small",
                      onclick: async () => {
                        if (!confirm(`Remove ${m.email} from this workspace? Their access ends at once.`)) return;
                        try {
                          await api(`/api/workspaces/${ws()}/members/${encodeURIComponent(m.userId)}`, {
                            method: "DELETE",
                          });
                          toast(`Removed ${m.email}`);
                          loadMembers();
                        } catch (err) {
                          toast(err.message, "error");
                        }
                      },
                    },
                    "Remove",
                  ),
                ),
              );
            }),
          ),
        ),
      );
    } catch (err) {
      if (stale() || shown !== wsSelect.value) return;
      mount(
        members,
        err instanceof ApiError && err.status === 403
          ? h("div", { class: "empty" }, `Only this workspace's admins see its members. ${err.message}`)
          : errorBox(err),
      );
    }
  }

  async function loadInvites() {
    const shown = wsSelect.value;
    try {
      const page = await api(`/api/workspaces/${ws()}/invites${qs({ limit: 100 })}`);
      if (stale() || shown !== wsSelect.value) return;
      const pending = page.data.filter((i) => i.status === "pending");
      invites.hidden = false;
      mount(
        invites,
        h("div", { class: "panel-head" }, h("h2", {}, "Pending invites")),
        pending.length === 0
          ? h("div", { class: "empty" }, "None.")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, h("th", {}, "Email"), h("th", {}, "Role"), h("th", {}, "Expires"), h("th"))),
              h(
                "tbody",
                {},
                pending.map((i) =>
                  h(
                    "tr",
                    { "data-invite": i.email },
                    h("td", {}, i.email),
                    h("td", {}, badge(i.role, "default")),
                    h("td", {}, timeEl(i.expiresAt)),
                    h(
                      "td",
                      {},
                      h(
                        "button",
                        {
                          class: "btn secondary small",
                          onclick: async () => {
                            try {
                              await api(`/api/workspaces/${ws()}/invites/${encodeURIComponent(i.id)}`, {
                                method: "DELETE",
                              });
                              toast(`Revoked the invite of ${i.email}`);
                              loadInvites();
                            } catch (err) {
                              toast(err.message, "error");
                            }
                          },
                        },
                        "Revoke",
                      ),
                    ),
                  ),
                ),
              ),
            ),
      );
    } catch {
      // Not an admin here: the members panel says so.
      if (!stale() && shown === wsSelect.value) invites.hidden = true;
    }
  }

  function load() {
    setQuery({ ws: wsSelect.value });
    loadMembers();
    loadInvites();
  }
  load();
}
