// Schedules tab: each schedule's cron and its meaning in words, time zone, catch-up rule, last run (with its call)
// and next five runs.

import { api, qs } from "../../api.js";
import { badge, h, mount, relTime, timeEl } from "../../dom.js";

export async function schedulesTab(fn, body) {
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
