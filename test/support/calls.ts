import { ADMIN_KEY, api, expectStatus } from "./api";

export const FINAL_STATUSES = ["completed", "failed", "timeout", "canceled"];

/** Polls GET /api/calls/{id} until the call is over (a synchronous call's record is written after its answer). */
export async function waitForCall(callId: string, key = ADMIN_KEY, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const res = await api("GET", `/api/calls/${callId}`, { key });
    if (res.status === 200) {
      last = res.body;
      if (FINAL_STATUSES.includes(res.body.status)) return res.body;
    } else if (res.status !== 404) throw new Error(`GET call ${callId}: ${JSON.stringify(res.body)}`);
    if (Date.now() > deadline)
      throw new Error(`call ${callId} not over after ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A call's logs, as GET /api/calls/{id}/logs answers them. */
export const logsOf = async (callId: string, key = ADMIN_KEY) =>
  expectStatus(await api("GET", `/api/calls/${callId}/logs`, { key }), 200);
