/**
 * The log stores and the host bridge of a Python isolate's entry module (JavaScript, part of pythonEntrySource):
 * one store per call in progress, and HOST, through which the glue writes log lines and reaches ctx.client.
 */
export const ENTRY_BRIDGE = `
// --- Logs: one store per call in progress, by key (the call id); Python writes into it through the bridge --------
const live = new Map();
const clients = new Map();
let keys = 0;

function newStore() {
  return { logs: [], bytes: 0, truncated: false, closed: false };
}

function capture(store, level, text) {
  if (!store || store.closed || store.truncated) return;
  let message = StringOf(text);
  if (message.length > MAX_LINE) message = message.slice(0, MAX_LINE) + "…";
  const size = utf8Length(message) + CONFIG.lineOverhead;
  if (store.logs.length + 1 >= CONFIG.maxLogLines || store.bytes + size > CONFIG.maxLogBytes) {
    store.truncated = true;
    store.logs.push({ timestamp: now(), level: "warn", message: "[edgefn] log output truncated at " + CONFIG.maxLogLines + " lines or " + CONFIG.maxLogBytes + " bytes" });
    return;
  }
  store.bytes += size;
  store.logs.push({ timestamp: now(), level, message });
}

// Console output of the runtime itself (Pyodide's warnings) is dropped, as is any output outside a call.
for (const name of Object.keys(console)) if (typeof console[name] === "function") console[name] = () => {};

/** The bridge Python's glue calls: log lines and ctx.client, by call key. Strings only cross it. */
const HOST = {
  log(key, level, text) {
    capture(live.get(StringOf(key)), StringOf(level), text);
  },
  invoke(key, fn, argsJson) {
    return useClient(StringOf(key), (handle) => handle.invoke(StringOf(fn), parseJson(StringOf(argsJson)) ?? null));
  },
  calls(key, limit) {
    return useClient(StringOf(key), (handle) => handle.calls(NumberOf(limit ?? 20)));
  },
  /** Cognite's function_call_info from the host (JSON); None in Python when the isolate runs without the host's client. */
  async callInfo(key) {
    const entry = clients.get(StringOf(key));
    if (!entry || !entry.handle) return undefined;
    return useClient(StringOf(key), (handle) => handle.cogniteCallInfo());
  },
};

async function useClient(key, act) {
  const entry = clients.get(key);
  const ended = () => {
    const message = "ctx.client can act only while the call that uses it runs";
    return { ok: false, error: "ClientError: " + message, errorDetail: { name: "ClientError", message, code: "unauthorized" } };
  };
  if (!entry) return stringify(ended());
  if (!entry.handle) throw new ErrorBase("ctx.client is not available here");
  try {
    return stringify((await act(entry.handle)) ?? null);
  } catch (err) {
    if (entry.store.closed) return stringify(ended());
    throw err;
  }
}

`;
