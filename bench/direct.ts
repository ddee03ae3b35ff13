import { env } from "cloudflare:workers";
import { ENTRY_MODULE } from "../src/runtime/entry";
import { ISOLATE_COMPAT, type IsolateEntrypoint, isolateModules, readBundle } from "../src/runtime/loader";

/**
 * The floor a benchmark compares against: a version's built bundle in its own warm isolate, called straight
 * through the Worker Loader, with no auth, metadata lookup or recording.
 */
export async function directIsolate(versionId: string, label: string): Promise<IsolateEntrypoint> {
  const row = await env.DB.prepare("SELECT bundle_key FROM versions WHERE id = ?")
    .bind(versionId)
    .first<{ bundle_key: string }>();
  if (!row) throw new Error(`no version ${versionId}`);
  const bundle = await readBundle(env, row.bundle_key);
  return env.LOADER.get(`${label}:${versionId}`, () => ({
    ...ISOLATE_COMPAT,
    mainModule: ENTRY_MODULE,
    modules: isolateModules(env, bundle, []),
    env: {},
    globalOutbound: null,
  })).getEntrypoint() as unknown as IsolateEntrypoint;
}
