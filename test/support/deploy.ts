import { expect } from "vitest";
import { ADMIN_KEY, api, expectStatus } from "./api";

/** Polls a version until its build is over. */
export async function waitForBuild(functionId: string, versionId: string, key = ADMIN_KEY, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = expectStatus(await api("GET", `/api/functions/${functionId}/versions/${versionId}`, { key }), 200);
    if (!["queued", "building"].includes(v.status)) return v;
    if (Date.now() > deadline) throw new Error(`version ${versionId} still ${v.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads files as a new version and waits for its build; returns the finished version. */
export async function upload(
  functionId: string,
  files: Record<string, string | { base64: string }>,
  extra: Record<string, unknown> = {},
  key = ADMIN_KEY,
) {
  const queued = expectStatus(
    await api("POST", `/api/functions/${functionId}/versions`, { key, body: { files, ...extra } }),
    201,
  );
  expect(queued.status).toBe("queued");
  return waitForBuild(functionId, queued.id, key);
}

/** Uploads and expects a ready version. */
export async function deploy(
  functionId: string,
  files: Record<string, string | { base64: string }>,
  extra: Record<string, unknown> = {},
) {
  const v = await upload(functionId, files, extra);
  expect(v.status, JSON.stringify(v.error)).toBe("ready");
  return v;
}

export async function invoke(functionId: string, args?: unknown, extra: Record<string, unknown> = {}, key = ADMIN_KEY) {
  return api("POST", `/api/functions/${functionId}/invoke`, {
    key,
    body: { ...(args === undefined ? {} : { args }), ...extra },
  });
}
