/**
 * The first call of a function after the local platform restarted (`npm start` again on the storage it left):
 * every isolate is gone with the old process. Measured as a user meets it: the platform is started again, the
 * call comes once its warm-up after the start is over (the supervisor's status says so; a checkout without a
 * warm-up gets a second instead), and its time is compared with the median of the ten calls after it.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bulkyModule, platformApi, timedInvoke, uploadVersion } from "./edgefn.mjs";
import { coldRow, median } from "./load.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until the supervisor's warm-up after this start is over (at most 30 s); a second where there is none. */
async function warmedUp(platform) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${platform.vars.EDGEFN_SUPERVISOR_URL}/status`, {
      headers: { "x-edgefn-supervisor": platform.vars.EDGEFN_SUPERVISOR_TOKEN },
    });
    const status = res.ok ? await res.json() : {};
    if (!Array.isArray(status.warmUps)) return sleep(1000);
    if (status.warmUps.at(-1)?.done) return;
    await sleep(20);
  }
  throw new Error("the warm-up after the restart did not end within 30 s");
}

export async function restartFirstCalls(root, samples, log) {
  const { startPlatform } = await import(pathToFileURL(join(root, "scripts", "lib", "platform.mjs")).href);
  const m = { first: [], warm: [] };
  let platform = await startPlatform();
  const state = platform.persistTo;
  try {
    let api = platformApi(platform);
    const ws = await api("POST", "/api/workspaces", { name: "restart" });
    const fn = await api("POST", "/api/functions", { workspaceId: ws.id, name: "restart-1k" });
    await uploadVersion(api, fn.id, { "index.js": bulkyModule(1024, 1) });

    const { key } = await api("POST", "/api/keys", { name: "restart", role: "invoker", workspaceId: ws.id });
    for (let n = 1; n <= samples; n++) {
      await timedInvoke(api, fn.id, key);
      // Its call recorded (lastCalledAt set) before the platform goes.
      const deadline = Date.now() + 10_000;
      while ((await api("GET", `/api/functions/${fn.id}`)).lastCalledAt === null && Date.now() < deadline)
        await sleep(20);
      await platform.stop({ keep: true });
      platform = await platform.restart();
      api = platformApi(platform);
      await warmedUp(platform);
      m.first.push(await timedInvoke(api, fn.id, key));
      const w = [];
      for (let i = 0; i < 10; i++) w.push(await timedInvoke(api, fn.id, key));
      m.warm.push(median(w));
    }
  } finally {
    await platform.stop({ keep: true });
    rmSync(state, { recursive: true, force: true });
  }
  const row = coldRow("first call after a restart, 1 KB bundle", m, samples);
  log(`${row.name}: first call ${row.firstCallMs} ms, warm ${row.warmCallMs} ms (+${row.overWarmMs} ms)`);
  return row;
}
