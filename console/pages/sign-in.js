// The sign-in page: an account's email and password, or an API key (the first sign-in, and recovery), are exchanged
// for a session (see api.js); a refusal is said so, and nothing typed is kept.

import { ApiError, signIn } from "../api.js";
import { h, mount, view } from "../dom.js";
import { hideChrome, newTurn, route, showChrome } from "../router.js";

/** Why a sign-in was refused, in words (the API gives one 401 for a wrong email and a wrong password). */
function refusal(err, withKey) {
  if (err instanceof ApiError && err.status === 401) {
    return withKey
      ? "That API key was not accepted. Check it and try again."
      : "Wrong email or password. Check them and try again.";
  }
  if (err instanceof ApiError && err.status === 429) return err.message;
  return `Could not sign in: ${err.message}`;
}

/** The sign-in form, with a message above it (why the user is back here), if any. */
export function renderSignIn(message) {
  newTurn();
  hideChrome();
  const error = h("div", { class: "alert", role: "alert", id: "signin-error", hidden: !message }, message ?? "");
  const remember = h("input", { type: "checkbox", id: "remember" });

  /** A form that signs in with what credentials() reads from it, then clears its inputs. */
  const form = (inputs, button, credentials, withKey) =>
    h(
      "form",
      {
        onsubmit: async (ev) => {
          ev.preventDefault();
          const sent = credentials();
          if (!sent) return;
          button.disabled = true;
          error.hidden = true;
          try {
            await signIn(sent, remember.checked);
            for (const input of inputs) input.value = "";
            showChrome();
            route();
          } catch (err) {
            error.textContent = refusal(err, withKey);
            error.hidden = false;
          } finally {
            button.disabled = false;
          }
        },
      },
      inputs.map((input) => h("label", { class: "field", for: input.id }, input.dataset.label, input)),
      button,
    );

  const email = h("input", {
    type: "email",
    id: "email",
    name: "email",
    autocomplete: "username",
    required: true,
    "data-label": "Email",
  });
  const password = h("input", {
    type: "password",
    id: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
    "data-label": "Password",
  });
  const signInButton = h("button", { class: "btn", type: "submit" }, "Sign in");
  const accountForm = form(
    [email, password],
    signInButton,
    () => (email.value.trim() && password.value ? { email: email.value.trim(), password: password.value } : null),
    false,
  );

  const key = h("input", {
    type: "password",
    id: "api-key",
    name: "key",
    autocomplete: "off",
    placeholder: "efn_…",
    required: true,
    spellcheck: "false",
    "data-label": "API key",
  });
  const keyButton = h("button", { class: "btn secondary", type: "submit" }, "Use API key");
  const keyForm = form([key], keyButton, () => (key.value.trim() ? { key: key.value.trim() } : null), true);

  mount(
    view,
    h(
      "div",
      { class: "signin" },
      h(
        "div",
        { class: "panel" },
        h("h1", {}, "Sign in to edgefn"),
        h("p", { class: "muted" }, "With your account's email and password."),
        accountForm,
        h("label", { class: "check" }, remember, "Remember on this device"),
        error,
        h("div", { class: "or" }, "or with an API key"),
        h(
          "p",
          { class: "muted" },
          "For the first sign-in and for recovery: npm start prints the local admin key; it is also EDGEFN_ADMIN_KEY in .dev.vars.",
        ),
        keyForm,
      ),
      h(
        "p",
        { class: "muted" },
        "What you type is sent once to this server, which answers with a session cookie that page script cannot read; no password or key is kept in the browser.",
      ),
    ),
  );
  email.focus();
}
