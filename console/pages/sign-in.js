// The sign-in page: an API key is exchanged for a session (see api.js); a key the API refuses is said so and not
// kept.

import { ApiError, signIn } from "../api.js";
import { h, mount, view } from "../dom.js";
import { hideChrome, newTurn, route, showChrome } from "../router.js";

/** The sign-in form, with a message above it (why the user is back here), if any. */
export function renderSignIn(message) {
  newTurn();
  hideChrome();
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
          await signIn(key, remember.checked);
          input.value = "";
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
