// Accepting an invite (#/invite/<token>, the link an admin hands out): the person sets a password (a new account) or
// gives their own (an existing one), joins the workspace with the invite's role and is signed in. The token is the
// credential; it works once.

import { ApiError, acceptInvite } from "../api.js";
import { h, mount, view } from "../dom.js";
import { go, newTurn } from "../router.js";

export function renderInvite(token) {
  newTurn();
  const error = h("div", { class: "alert", role: "alert", id: "invite-error", hidden: true });
  const name = h("input", { type: "text", id: "invite-name", autocomplete: "name", maxlength: 128 });
  const password = h("input", {
    type: "password",
    id: "invite-password",
    autocomplete: "new-password",
    required: true,
  });
  const remember = h("input", { type: "checkbox", id: "invite-remember" });
  const submit = h("button", { class: "btn", type: "submit" }, "Join");
  const form = h(
    "form",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        submit.disabled = true;
        error.hidden = true;
        try {
          const body = { password: password.value, remember: remember.checked };
          if (name.value.trim()) body.name = name.value.trim();
          await acceptInvite(token, body);
          password.value = "";
          // Off the invite's URL: its token is spent, and the functions list is home.
          go("#/functions");
        } catch (err) {
          error.textContent =
            err instanceof ApiError && err.status === 404
              ? "This invite does not exist any more: it was used, revoked or has expired. Ask for a new one."
              : err.message;
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("label", { class: "field", for: "invite-name" }, "Your name (optional)", name),
    h("label", { class: "field", for: "invite-password" }, "Password", password),
    h("p", { class: "muted" }, "A new account: choose a password of at least 8 characters. Have one: your password."),
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
        h("h1", {}, "Join a workspace"),
        h("p", { class: "muted" }, "You were invited to a workspace on edgefn."),
        form,
      ),
      h("p", { class: "muted" }, h("a", { href: "#/functions" }, "Sign in instead")),
    ),
  );
  password.focus();
}
