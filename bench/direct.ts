import { env } from "cloudflare:workers";
import type { Env } from "../src/env";
import type { BuiltBundle } from "../src/runtime/bundle";
import { ISOLATE_COMPAT } from "../src/runtime/compat";
import { ENTRY_MODULE } from "../src/runtime/entry";
import { type IsolateEntrypoint, isolateModules, readBundle } from "../src/runtime/loader";

/**
 * A bundle in an isolate of its own with nothing around it: no env, no secrets, no network, no ctx.client.
 * The floor the benchmarks compare a call with.
 */
export function bareIsolate(env: Env, id: string, bundle: BuiltBundle): IsolateEntrypoint {
  return env.LOADER.get(id, () => ({
    ...ISOLATE_COMPAT,
    mainModule: ENTRY_MODULE,
    modules: isolateModules(env, bundle, []),
    env: {},
    globalOutbound: null,
  })).getEntrypoint() as unknown as IsolateEntrypoint;
}

/**
 * The floor a benchmark compares against: a version's built bundle in its own warm isolate, called straight
 * through the Worker Loader, with no auth, metadata lookup or recording.
 */
export async function directIsolate(versionId: string, label: string): Promise<IsolateEntrypoint> {
  const row = await env.DB.prepare("SELECT bundle_key FROM versions WHERE id = ?")
    .bind(versionId)
    .first<{ bundle_key: string }>();
  if (!row) throw new Error(`no version ${versionId}`);
  return bareIsolate(env, `${label}:${versionId}`, await readBundle(env, row.bundle_key));
}
