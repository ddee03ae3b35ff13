import { env } from "cloudflare:workers";
import { bareIsolate, type IsolateEntrypoint, readBundle } from "../src/runtime/loader";

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
