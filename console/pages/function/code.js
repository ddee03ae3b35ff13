// Code tab: a version's uploaded source files (the entrypoint first), with line numbers; binary files by size.

import { allVersions, api } from "../../api.js";
import { append, h, mount } from "../../dom.js";

export async function codeTab(fn, body, query) {
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
    const file = src.files[name];
    if (typeof file !== "string") {
      // A binary file ({ base64 }): a wheel, a .wasm, an image.
      const bytes = Math.floor((file.base64.length * 3) / 4) - (file.base64.match(/=*$/)?.[0].length ?? 0);
      mount(codeBox, h("p", { class: "muted", "aria-label": name }, `Binary file, ${bytes.toLocaleString()} bytes.`));
      return;
    }
    mount(
      codeBox,
      h(
        "ol",
        { class: "code", "aria-label": name },
        file
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
