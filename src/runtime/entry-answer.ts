/**
 * Part of the generated entry module (./entry.ts): an HTTP call's answer carries the call's logs when its body is
 * complete when the handler returns it, so the host records the call without asking the isolate again.
 *
 * The entry cannot read a body to learn whether it is complete (that costs more than the call), so it learns it from
 * how the answer was made: `new Response(body)` with no body, a string, bytes, a Blob, FormData or URLSearchParams,
 * and `Response.json()` / `Response.redirect()`, are complete; any other (a stream, a subrequest's answer, a clone)
 * may still be written to, and its logs are taken by the host at its end. `Response` stays the runtime's class for
 * everything user code can observe (`instanceof`, its prototype, subclasses): only its construction is watched.
 *
 * Plain JavaScript, run before any user code, with its own copies of the intrinsics it uses. Whatever user code does
 * to these (or to the answer) costs it at most its own logs: the host checks what the header says and strips it.
 */

/** The header an answer's logs ride in, from the entry to the host (never to the caller). */
export const CALL_LOGS_HEADER = "edgefn-call-logs";

/** Logs whose header would be larger than this are taken from the isolate after the answer, as for a stream. */
export const MAX_CARRIED_LOG_CHARS = 48 * 1024;

export const ANSWER_SOURCE = `const CALL_LOGS_HEADER = ${JSON.stringify(CALL_LOGS_HEADER)};
const MAX_CARRIED = ${MAX_CARRIED_LOG_CHARS};
const construct = Reflect.construct;
const getOf = Reflect.get;
const ProxyBase = Proxy;
const completeAnswers = new WeakSet();
const weakAdd = WeakSet.prototype.add;
const weakHas = WeakSet.prototype.has;
const isView = ArrayBuffer.isView;
const bodyKinds = [ArrayBuffer, globalThis.Blob, globalThis.FormData, globalThis.URLSearchParams]
  .filter((kind) => typeof kind === "function")
  .map((kind) => kind.prototype);
const responseJson = ResponseBase.json;
const responseRedirect = ResponseBase.redirect;
// The runtime's own getters: what user code does to Response.prototype (or to an answer) changes nothing here.
const getterOf = (name) => {
  // Found along the prototype chain as it is now, before user code (\`body\` is the runtime's Body's).
  for (let proto = ResponseBase.prototype; proto !== null; proto = Object.getPrototypeOf(proto)) {
    const found = Object.getOwnPropertyDescriptor(proto, name);
    if (found) return found.get;
  }
};
const getters = { headers: getterOf("headers"), body: getterOf("body"), status: getterOf("status"), webSocket: getterOf("webSocket") };
const read = (response, name) => (getters[name] ? apply(getters[name], response, []) : response[name]);
const headersHas = Headers.prototype.has;
const headersSet = Headers.prototype.set;
const headersDelete = Headers.prototype.delete;
const charCodeAt = String.prototype.charCodeAt;
const numberToString = Number.prototype.toString;

function completeBody(body) {
  if (body === undefined || body === null || typeof body === "string") return true;
  if (typeof body !== "object") return false;
  try {
    if (isView(body)) return true;
    // Indexed, not iterated: user code can replace Array.prototype's iterator.
    for (let i = 0; i < bodyKinds.length; i++) if (apply(isPrototypeOf, bodyKinds[i], [body])) return true;
  } catch {}
  return false;
}

const markComplete = (response) => {
  apply(weakAdd, completeAnswers, [response]);
  return response;
};
const statics = {
  json: function json(...args) {
    return markComplete(apply(responseJson, ResponseBase, args));
  },
  redirect: function redirect(...args) {
    return markComplete(apply(responseRedirect, ResponseBase, args));
  },
};
globalThis.Response = new ProxyBase(ResponseBase, {
  construct(target, args, newTarget) {
    const response = construct(target, args, newTarget);
    return completeBody(args[0]) ? markComplete(response) : response;
  },
  get(target, key) {
    return key === "json" || key === "redirect" ? statics[key] : getOf(target, key);
  },
});

/** The call's logs as an ASCII header value (JSON with every other character escaped), or null past the cap. */
function carriedLogs(store) {
  const json = stringify({ logs: store.logs, logsTruncated: store.truncated });
  if (typeof json !== "string" || json.length > MAX_CARRIED) return null;
  let out = "";
  let from = 0;
  for (let i = 0; i < json.length; i++) {
    const code = apply(charCodeAt, json, [i]);
    if (code >= 0x20 && code < 0x7f) continue;
    out += slice(json, from, i) + "\\\\u" + slice("000" + apply(numberToString, code, [16]), -4);
    from = i + 1;
  }
  out = from === 0 ? json : out + slice(json, from);
  return out.length > MAX_CARRIED ? null : out;
}

/**
 * The answer as it goes to the host: a complete one with the call's logs (the call is over: its log store closes);
 * any other as it is, less a header of that name (only the entry writes it), its logs left for the host to take.
 */
function answerWithLogs(response, store, callId) {
  let headers;
  try {
    headers = read(response, "headers");
  } catch {
    return response; // Not a Response: the runtime refuses it as an answer.
  }
  const upgrade = read(response, "webSocket") || read(response, "status") === 101;
  if (callId && !upgrade && apply(weakHas, completeAnswers, [response])) {
    const logs = carriedLogs(store);
    if (logs !== null) {
      const copy = new ResponseBase(read(response, "body"), response);
      try {
        apply(headersSet, read(copy, "headers"), [CALL_LOGS_HEADER, logs]);
        store.closed = true;
        apply(mapDelete, live, [callId]);
        return copy;
      } catch {}
    }
  }
  if (!apply(headersHas, headers, [CALL_LOGS_HEADER])) return response;
  const copy = new ResponseBase(read(response, "body"), response);
  apply(headersDelete, read(copy, "headers"), [CALL_LOGS_HEADER]);
  return copy;
}
`;
