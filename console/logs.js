// A call's logs: the list of its lines, and the wait for them after a synchronous call.

import { ApiError, api } from "./api.js";
import { errorBox, h, mount } from "./dom.js";

/** A synchronous call is recorded just after it answers: its logs may take a moment to appear. */
export async function pollLogs(callId, target) {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const logs = await api(`/api/calls/${callId}/logs`);
      mount(target, logList(logs));
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        mount(target, errorBox(err));
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  mount(target, h("div", { class: "muted" }, "The call's logs are not recorded yet. Open the call to see them."));
}

/** A call's log lines: time, level, message. */
export function logList(logs) {
  if (!logs.items.length) return h("div", { class: "muted" }, "No logs.");
  return h(
    "div",
    { class: "logs" },
    logs.items.map((l) =>
      h(
        "div",
        { class: "line" },
        h("span", { class: "time", title: l.timestamp }, new Date(l.timestamp).toLocaleTimeString()),
        h("span", { class: `level ${l.level}` }, l.level),
        h("span", { class: "msg" }, l.message),
      ),
    ),
    logs.truncated ? h("div", { class: "line muted" }, "… truncated: the call logged more than the cap") : null,
  );
}
