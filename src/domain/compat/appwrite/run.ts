/**
 * What an Appwrite function gets when it runs, as Appwrite gives it: its `APPWRITE_FUNCTION_*` variables and a way
 * to the platform's API (its isolate's config), and per execution the request headers Appwrite's executor adds
 * (`x-appwrite-trigger`, `x-appwrite-execution-id`, and `x-appwrite-key`: a key for `/v1` with the function's
 * scopes, made as the execution starts and good until its time is up; it is never stored).
 */
import type { Env } from "../../../env";
import { APPWRITE_ENVELOPE } from "../../../runtime/adapters/appwrite";
import { PLATFORM_ORIGIN } from "../../../runtime/egress";
import type { IsolateExtras } from "../../../runtime/loader";
import type { FunctionRow, VersionRow } from "../../../storage/schema";
import { mintExecutionKey } from "./execution-keys";
import { APPWRITE_VERSION, isAppwriteFunction, runtimeOf, SPECIFICATION, settingsOf } from "./settings";

/** Where a function reaches `/v1` from inside its isolate. */
export const API_ENDPOINT = `${PLATFORM_ORIGIN}/v1`;

/** The request an Appwrite execution describes, as the isolate's adapter takes it (see runtime/adapters/appwrite). */
export interface Envelope {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The envelope of an execution's args, or undefined when the args are something else. */
export function envelopeOf(args: unknown): Envelope | undefined {
  if (!args || typeof args !== "object" || Array.isArray(args) || !Object.hasOwn(args, APPWRITE_ENVELOPE)) {
    return undefined;
  }
  const e = (args as Record<string, unknown>)[APPWRITE_ENVELOPE];
  if (!e || typeof e !== "object") return undefined;
  const given = e as Partial<Envelope>;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(given.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return {
    method: typeof given.method === "string" ? given.method : "POST",
    path: typeof given.path === "string" ? given.path : "/",
    headers,
    body: typeof given.body === "string" ? given.body : "",
  };
}

export const envelope = (e: Envelope) => ({ [APPWRITE_ENVELOPE]: e });

/** The Appwrite id of a function: its externalId (a custom id), else its edgefn id. */
export const appwriteId = (fn: Pick<FunctionRow, "id" | "externalId">) => fn.externalId ?? fn.id;

/** What an Appwrite function's isolate gets besides its own variables; nothing for other functions. */
export function appwriteIsolate(
  fn: Pick<FunctionRow, "id" | "externalId" | "name" | "workspaceId" | "metadata">,
  version: Pick<VersionRow, "id">,
): IsolateExtras {
  if (!isAppwriteFunction(fn)) return {};
  const settings = settingsOf(fn);
  const runtime = runtimeOf(settings.runtime);
  return {
    platform: true,
    env: {
      APPWRITE_FUNCTION_API_ENDPOINT: API_ENDPOINT,
      APPWRITE_FUNCTION_ID: appwriteId(fn),
      APPWRITE_FUNCTION_NAME: fn.name,
      APPWRITE_FUNCTION_DEPLOYMENT: version.id,
      APPWRITE_FUNCTION_PROJECT_ID: fn.workspaceId,
      APPWRITE_FUNCTION_RUNTIME_NAME: runtime.name,
      APPWRITE_FUNCTION_RUNTIME_VERSION: runtime.version,
      APPWRITE_FUNCTION_CPUS: String(SPECIFICATION.cpus),
      APPWRITE_FUNCTION_MEMORY: String(SPECIFICATION.memory),
      APPWRITE_VERSION,
      APPWRITE_REGION: "default",
      APPWRITE_DEPLOYMENT_TYPE: "manual",
    },
  };
}

/** The trigger Appwrite names for a call made this way. */
const TRIGGERS: Record<string, string> = { schedule: "schedule", event: "event" };

export interface RunInput {
  fn: FunctionRow;
  version: Pick<VersionRow, "id" | "handlers">;
  args: unknown;
  workspaceId: string;
  trigger?: string;
}

/**
 * The args an Appwrite function's call runs with: an execution's request with the headers of its run added (the
 * key among them), and for a scheduled call of an Appwrite handler the request Appwrite's scheduler makes. The
 * args of any other call are returned as they are.
 */
export async function runArgs(env: Env, p: RunInput, callId: string, deadline: number): Promise<unknown> {
  if (p.version.handlers?.includes("handle")) return p.args;
  let given = envelopeOf(p.args);
  if (!given && p.trigger === "schedule" && p.args === null && isAppwriteFunction(p.fn)) {
    given = { method: "POST", path: "/", headers: {}, body: "" };
  }
  if (!given) return p.args;
  const headers: Record<string, string> = {
    "x-appwrite-trigger": TRIGGERS[p.trigger ?? ""] ?? "http",
    "x-appwrite-event": "",
    "x-appwrite-user-id": "",
    "x-appwrite-user-jwt": "",
    "x-appwrite-country-code": "",
    "x-appwrite-continent-code": "",
    "x-appwrite-continent-eu": "false",
    ...given.headers,
    "x-appwrite-execution-id": callId,
  };
  delete headers["x-appwrite-key"];
  // A platform without EDGEFN_SECRETS_KEY cannot sign keys: its functions run without one.
  if (isAppwriteFunction(p.fn) && env.EDGEFN_SECRETS_KEY) {
    headers["x-appwrite-key"] = await mintExecutionKey(
      env,
      { workspaceId: p.workspaceId, functionId: p.fn.id, callId, scopes: settingsOf(p.fn).scopes },
      deadline,
    );
  }
  return envelope({ ...given, headers });
}
