/**
 * Every R2 key the platform writes, spelled here and nowhere else (bucket `CODE`; see docs/architecture.md):
 *
 * - `sources/<sha256>` and `bundles/<sha256>`: a version's uploaded sources and its built bundle, by the hash of
 *   their content (shared by every version with equal content; see domain/versions/code.ts);
 * - `args/<callId>` and `results/<callId>`: an async call's args and a call's result when too large for its row;
 * - `schedule-data/<scheduleId>`: a schedule's data when too large for its row;
 * - `snapshots/<functionId>/<versionId>/pyodide-<version>`: a Python version's memory snapshot, by the Pyodide build
 *   that made it (removed with its function);
 * - `appwrite-chunks/parts/<functionId>/<uploadId>/<offset>` and `appwrite-chunks/claims/<functionId>/<uploadId>`:
 *   the parts of a chunked Appwrite upload waiting for the rest, and the claim of the request that completes it;
 * - `cognite-files/<workspaceId>/<fileId>/<uploadId>`: the content of a file of the Cognite surface's Files API, one
 *   object per upload (a new upload replaces the file's object; deleting the file deletes it).
 */

export const sourceKeyOf = (sha256: string) => `sources/${sha256}`;
export const bundleKeyOf = (sha256: string) => `bundles/${sha256}`;
export const argsKeyOf = (callId: string) => `args/${callId}`;
export const resultKeyOf = (callId: string) => `results/${callId}`;
export const scheduleDataKeyOf = (scheduleId: string) => `schedule-data/${scheduleId}`;
export const snapshotsPrefixOf = (functionId: string) => `snapshots/${functionId}/`;
export const snapshotKeyOf = (functionId: string, versionId: string, pyodide: string) =>
  `${snapshotsPrefixOf(functionId)}${versionId}/pyodide-${pyodide}`;

/** R2 objects a call owns (its own args and result); a scheduled call's args belong to its schedule. */
export const ownedByCall = (key: string | null | undefined): key is string =>
  !!key && (key.startsWith("args/") || key.startsWith("results/"));

export const CHUNKS_PREFIX = "appwrite-chunks/";
export const chunkPartsPrefix = (functionId: string, uploadId: string) =>
  `${CHUNKS_PREFIX}parts/${functionId}/${uploadId}/`;
export const chunkPartKey = (functionId: string, uploadId: string, offset: number) =>
  `${chunkPartsPrefix(functionId, uploadId)}${String(offset).padStart(12, "0")}`;
export const chunkClaimKey = (functionId: string, uploadId: string) =>
  `${CHUNKS_PREFIX}claims/${functionId}/${uploadId}`;

export const cogniteFilesPrefixOf = (workspaceId: string) => `cognite-files/${workspaceId}/`;
export const cogniteFileKeyOf = (workspaceId: string, fileId: number, uploadId: string) =>
  `${cogniteFilesPrefixOf(workspaceId)}${fileId}/${uploadId}`;
