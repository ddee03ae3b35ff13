import type { BuiltBundle } from "../bundle";
import { PLATFORM_DIR } from "../guard";

/**
 * The Appwrite adapter: a platform module the build adds to the bundle of a version whose module exports no
 * `handle(data, ctx)`, so that the entry module (src/runtime/entry.ts) only ever sees the generic contract.
 *
 * - An Appwrite handler (`export default async ({ req, res, log, error }) => res.json(...)`, a default export that
 *   is a function) becomes a `default { fetch }` handler: the request is its `req`, what `res` makes is the answer.
 * - An Appwrite execution is an invoke whose args are `{"$appwrite": {method, path, headers, body}}`. The entry
 *   module turns the invoke of a module without `handle` into `POST https://function.invalid/` with the args as
 *   JSON (and no edgefn-call-id header, which every HTTP request carries); the adapter answers such a request by
 *   running the request the envelope describes through the module's HTTP handler, and answers with the whole
 *   response as `{"$appwrite": {statusCode, headers, body}}` (the Appwrite surface shows it as the execution's).
 *   Any other request goes to the handler as it is.
 *
 * Modules with `handle` never get it: an Appwrite execution gives them the body as their data.
 */

/** The adapter's module name: in the platform's folder, which no upload can use. */
export const APPWRITE_ADAPTER = `${PLATFORM_DIR}appwrite.js`;

/** The key of the args of an Appwrite execution, and of its result. */
export const APPWRITE_ENVELOPE = "$appwrite";

/** What the build's look at a module (the entry module's describe()) says about its exports. */
export interface Exports {
  handle: boolean;
  fetch: boolean;
  /** `typeof` the default export. */
  defaultType?: string;
}

/** A module without `handle` that serves HTTP, or whose default export is an Appwrite handler, needs the adapter. */
export const needsAppwriteAdapter = (e: Exports): boolean => !e.handle && (e.fetch || e.defaultType === "function");

/** The bundle with the adapter added as its entry (the user's entry module stays as it is). */
export function withAppwriteAdapter(bundle: BuiltBundle): BuiltBundle {
  if (bundle.entry === APPWRITE_ADAPTER) return bundle;
  return {
    ...bundle,
    entry: APPWRITE_ADAPTER,
    modules: { ...bundle.modules, [APPWRITE_ADAPTER]: appwriteAdapterSource(bundle.entry) },
  };
}

/** The adapter's source for a bundle whose entry module is `userModule` (a loader module name). */
export function appwriteAdapterSource(userModule: string): string {
  return `import * as user from ${JSON.stringify(`../${userModule}`)};

const ENVELOPE = ${JSON.stringify(APPWRITE_ENVELOPE)};
const INVOKE_URL = "https://function.invalid/";
const parseJson = JSON.parse;
const stringify = JSON.stringify;
const entriesOf = Object.entries;
const hasOwn = Object.hasOwn;
const isArray = Array.isArray;
const StringOf = String;
const encoder = new TextEncoder();
const RequestBase = Request;
const ResponseBase = Response;
const URLBase = URL;

const isAppwrite = typeof user.default === "function";

class ResultError extends Error {
  constructor(message, code) {
    super(message);
    this.name = "ResultError";
    this.code = code;
  }
}

/** The context an Appwrite handler receives, for one request {method, url, headers, bodyText}. */
function appwriteContext(request, env) {
  const url = new URLBase(request.url);
  const headers = {};
  for (const [k, v] of entriesOf(request.headers)) headers[k.toLowerCase()] = StringOf(v);
  const bodyText = request.bodyText;
  let bodyJson = null;
  try { bodyJson = bodyText === "" ? null : parseJson(bodyText); } catch {}
  const isJson = (headers["content-type"] || "").includes("application/json");
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const scheme = url.protocol.replace(":", "");
  const req = {
    bodyText, bodyRaw: bodyText, bodyJson, body: isJson ? bodyJson : bodyText,
    bodyBinary: encoder.encode(bodyText),
    headers, method: request.method, path: url.pathname, query, queryString: url.search.replace(/^\\?/, ""),
    scheme, host: url.hostname, port: Number(url.port || (scheme === "https" ? 443 : 80)), url: url.href,
  };
  const reply = (body, statusCode, headers) => ({ body, statusCode: statusCode ?? 200, headers: headers ?? {} });
  const res = {
    send: (body, statusCode, headers) => reply(body === undefined || body === null ? "" : StringOf(body), statusCode, headers),
    text: (body, statusCode, headers) => reply(StringOf(body), statusCode, { "content-type": "text/plain", ...headers }),
    json: (obj, statusCode, headers) => reply(stringify(obj), statusCode, { "content-type": "application/json", ...headers }),
    binary: (bytes, statusCode, headers) => reply(bytes, statusCode, { "content-type": "application/octet-stream", ...headers }),
    empty: () => reply("", 204, {}),
    redirect: (location, statusCode, headers) => reply("", statusCode ?? 301, { ...headers, location: StringOf(location) }),
  };
  const log = (...parts) => console.info(...parts);
  const error = (...parts) => console.error(...parts);
  return { req, res, log, error, env: { ...env } };
}

/** An HTTP request to the Appwrite handler, answered as a Response. */
async function appwriteResponse(request, env) {
  const headers = {};
  for (const [k, v] of request.headers) if (k !== "edgefn-call-id") headers[k] = v;
  const bodyText = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
  const context = appwriteContext({ method: request.method, url: request.url, headers, bodyText }, env);
  if (globalThis.process && globalThis.process.env) Object.assign(globalThis.process.env, context.env);
  const out = await user.default(context);
  if (!out || typeof out !== "object" || !("statusCode" in out)) {
    throw new ResultError("The Appwrite handler must return one of res.send/json/text/binary/empty/redirect", "no_response");
  }
  const answer = {};
  for (const [k, v] of entriesOf(out.headers || {})) answer[k.toLowerCase()] = StringOf(v);
  const status = Number(out.statusCode) || 200;
  const empty = status === 204 || status === 304 || request.method === "HEAD";
  return new ResponseBase(empty ? null : out.body, { status, headers: answer });
}

/** The module's answer to an HTTP request: its Appwrite handler's or its fetch handler's. */
const serve = (request, env, ctx) => (isAppwrite ? appwriteResponse(request, env) : user.default.fetch(request, env, ctx));

/** The entry module's request for an invoke (see above): what the adapter may read an envelope from. */
const isInvoke = (request) =>
  request.url === INVOKE_URL && request.method === "POST" && !request.headers.has("edgefn-call-id");

export default {
  async fetch(request, env, ctx) {
    if (!isInvoke(request)) return serve(request, env, ctx);
    const text = await request.text();
    let args = null;
    try { args = text === "" ? null : parseJson(text); } catch {}
    const given = args && typeof args === "object" && !isArray(args) && hasOwn(args, ENVELOPE) ? args[ENVELOPE] : undefined;
    if (!given) {
      // A plain invoke: the args are the body (none: an Appwrite handler sees an empty body, as Appwrite gives it).
      const body = isAppwrite && args === null ? undefined : text;
      return serve(new RequestBase(INVOKE_URL, { method: "POST", headers: request.headers, body }), env, ctx);
    }
    const method = StringOf(given.method || "POST").toUpperCase();
    const hasBody = method !== "GET" && method !== "HEAD";
    const response = await serve(new RequestBase(new URLBase(StringOf(given.path || "/"), "https://function.invalid").href, {
      method,
      headers: given.headers || {},
      body: hasBody && typeof given.body === "string" ? given.body : undefined,
    }), env, ctx);
    const headers = {};
    for (const [k, v] of response.headers) headers[k] = v;
    const whole = { [ENVELOPE]: { statusCode: response.status, headers, body: await response.text() } };
    return new ResponseBase(stringify(whole), { headers: { "content-type": "application/json" } });
  },
};
`;
}
