/** What a Supabase client sends and gets: a request's body as a call's args, a call's outcome as the answer. */
import type { CallOutcome } from "../../../domain/calls/outcome";
import { badRequest, errorBody } from "../../../lib/errors";
import { BAD_JSON } from "../kit";

/** The request's body as a call's args: JSON when it says so, text otherwise, null when there is none. */
export async function argsOf(request: Request): Promise<unknown> {
  if (request.method === "GET" || request.method === "HEAD") return null;
  const text = await request.text();
  if (!text) return null;
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      return JSON.parse(text);
    } catch {
      throw badRequest(BAD_JSON);
    }
  }
  return text;
}

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/**
 * The answer to a call: its result, or for a function that threw, 500 with the error in the body (504 when it timed
 * out), so the client's FunctionsHttpError carries it.
 */
export function answerOf(outcome: CallOutcome, requestId: string): Response {
  const res = outcome.ok
    ? json(outcome.result === undefined ? null : outcome.result, 200)
    : json(
        errorBody("function_failed", outcome.error ?? "The function failed", requestId, {
          callId: outcome.callId,
          name: outcome.errorDetail?.name,
        }),
        outcome.status === "timeout" ? 504 : 500,
      );
  res.headers.set("edgefn-call-id", outcome.callId);
  return res;
}
