/**
 * Fails when the isolates' compatibility settings (src/runtime/compat.ts) and the host Worker's (wrangler.toml)
 * differ: functions run on the same date and flags as the platform that runs them.
 */
import { readFileSync } from "node:fs";
import { ROOT } from "./lib/local.mjs";

const toml = readFileSync(`${ROOT}/wrangler.toml`, "utf8");
const code = readFileSync(`${ROOT}/src/runtime/compat.ts`, "utf8");
const host = {
  date: /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1],
  flags: JSON.stringify(JSON.parse(/^compatibility_flags\s*=\s*(\[[^\]]*\])/m.exec(toml)?.[1] ?? "[]")),
};
const isolates = {
  date: /compatibilityDate:\s*"([^"]+)"/.exec(code)?.[1],
  flags: JSON.stringify(JSON.parse(/compatibilityFlags:\s*(\[[^\]]*\])/.exec(code)?.[1] ?? "[]")),
};
if (!host.date || host.date !== isolates.date || host.flags !== isolates.flags) {
  console.error(
    `wrangler.toml (${JSON.stringify(host)}) and src/runtime/compat.ts (${JSON.stringify(isolates)}) differ`,
  );
  process.exit(1);
}
console.log(`compatibility ${host.date} ${host.flags}: wrangler.toml and the isolates agree`);
